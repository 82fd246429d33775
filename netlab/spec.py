"""The lab file: `kind: Lab` (apiVersion netlab/v1) followed by Kubernetes manifests.

Text → `load_lab_spec` → frozen dataclasses → `Lab` builds a running world from them
(the description/running split Mininet makes between topo and net).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from importlib import resources

from netlab.net.addr import AddrError, in_prefix, network, parse_ip, parse_prefix
from netlab.yamlsrc import Doc, SourceError, load_documents

API_VERSION = "netlab/v1"


@dataclass(frozen=True)
class Subnet:
    name: str
    cidr: tuple[int, int]
    gateway: int


@dataclass(frozen=True)
class NodeSpec:
    name: str
    ip: int
    pod_cidr: tuple[int, int]
    labels: tuple[tuple[str, str], ...] = ()
    subnet: str = ""


@dataclass(frozen=True)
class CniSpec:
    plugin: str = "flannel"
    backend: str = "vxlan"
    bridge: str = "cni0"
    vni: int = 1
    port: int = 8472
    flannel_version: str = "0.26.1"

    @property
    def legacy_vxlan(self) -> bool:
        """flannel before 0.9 routed the whole pod network to flannel.1 and learned
        neighbours on L3 misses; from 0.9 it writes one onlink route per remote subnet."""
        major, _, rest = self.flannel_version.partition(".")
        minor = rest.partition(".")[0]
        return (int(major), int(minor or 0)) < (0, 9)

    @property
    def flannel(self) -> bool:
        """Pod networking by flanneld. `calico` reuses it too: calico's own BGP/IPIP routing is
        out of scope, only its policy enforcement is modelled."""
        return self.plugin in ("flannel", "calico", "canal")

    @property
    def enforces_policy(self) -> bool:
        """Plain flannel (and the bare bridge plugin) store NetworkPolicies and ignore them."""
        return self.plugin in ("calico", "canal")


@dataclass(frozen=True)
class KubeProxySpec:
    mode: str = "iptables"
    paused: bool = False
    style: str = "modern"
    scheduler: str = "rr"


@dataclass(frozen=True)
class IngressSpec:
    """`spec.ingress`: the ingress-nginx add-on and how it is exposed."""

    controller: str = "nginx"
    service: str = "NodePort"  # the ingress-nginx-controller Service's type: NodePort or LoadBalancer
    http_node_port: int | None = None
    https_node_port: int | None = None
    replicas: int = 1
    default_class: bool = False  # annotate the nginx IngressClass as the cluster's default


@dataclass(frozen=True)
class LabSpec:
    name: str
    source: str
    cluster_domain: str
    pod_cidr: tuple[int, int]
    service_cidr: tuple[int, int]
    cluster_dns: int
    cni: CniSpec
    kube_proxy: KubeProxySpec
    subnets: tuple[Subnet, ...]
    nodes: tuple[NodeSpec, ...]
    seed: int = 0
    workstation: str = ""
    dns_replicas: int = 2
    ingress: IngressSpec | None = None
    manifests: tuple[Doc, ...] = field(default=(), compare=False)


NODE_KEYS = {"name", "ip", "podCIDR", "labels"}
SPEC_KEYS = {"clusterDomain", "podCIDR", "serviceCIDR", "clusterDNS", "cni", "kubeProxy", "underlay", "nodes",
             "seed", "workstation", "dns", "ingress"}
CNI_KEYS = {"plugin", "backend", "bridge", "vni", "port", "flannelVersion"}
KUBE_PROXY_KEYS = {"mode", "paused", "style", "scheduler"}
UNDERLAY_KEYS = {"name", "cidr", "gateway"}


def default_lab_text() -> str:
    return resources.files("netlab.data").joinpath("default-lab.yaml").read_text()


def load_lab_spec(path_or_text: str) -> LabSpec:
    """A path to a lab file, or the YAML text itself."""
    if "\n" not in path_or_text and (os.path.exists(path_or_text) or path_or_text.endswith((".yaml", ".yml"))):
        try:
            with open(path_or_text, encoding="utf-8") as fh:
                text = fh.read()
        except OSError as err:
            raise SourceError(path_or_text, None, err.strerror or str(err)) from None
        source = path_or_text
    else:
        text, source = path_or_text, "<lab>"
    docs = load_documents(text, source)
    if not docs:
        raise SourceError(source, None, "empty lab file: the first document must be `kind: Lab`")
    return parse_lab(docs[0], tuple(docs[1:]))


def _check_keys(doc: Doc, path: str, value: dict, allowed: set[str]) -> None:
    for key in value:
        if key not in allowed:
            sub = f"{path}.{key}" if path else str(key)
            raise doc.error(sub, f"unknown field \"{key}\" (expected one of: {', '.join(sorted(allowed))})")


def _mapping(doc: Doc, path: str, value, *, required: bool = False) -> dict:
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise doc.error(path, f"must be a mapping, got {type(value).__name__}")
    return value


def _cidr(doc: Doc, path: str, value) -> tuple[int, int]:
    try:
        ip, plen = parse_prefix(str(value), default_plen=-1)
        if plen < 0:
            raise AddrError(value)
    except AddrError:
        raise doc.error(path, f"\"{value}\" is not a CIDR like 10.244.0.0/16") from None
    if network(ip, plen) != ip:
        raise doc.error(path, f"\"{value}\" has host bits set (did you mean the network address?)")
    return ip, plen


def _ip(doc: Doc, path: str, value) -> int:
    try:
        return parse_ip(str(value))
    except AddrError:
        raise doc.error(path, f"\"{value}\" is not an IPv4 address") from None


def _choice(doc: Doc, path: str, value, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise doc.error(path, f"\"{value}\" is not one of: {', '.join(choices)}")
    return value


def parse_lab(doc: Doc, manifests: tuple[Doc, ...] = ()) -> LabSpec:
    data = doc.data
    if not isinstance(data, dict) or data.get("kind") != "Lab":
        raise doc.error("kind", "the first document must be `kind: Lab`")
    if data.get("apiVersion") != API_VERSION:
        raise doc.error("apiVersion", f"must be {API_VERSION}, got \"{data.get('apiVersion')}\"")
    _check_keys(doc, "", data, {"apiVersion", "kind", "metadata", "spec"})
    meta = _mapping(doc, "metadata", data.get("metadata"))
    spec = _mapping(doc, "spec", data.get("spec"), required=True)
    _check_keys(doc, "spec", spec, SPEC_KEYS)

    pod_cidr = _cidr(doc, "spec.podCIDR", spec.get("podCIDR", "10.244.0.0/16"))
    service_cidr = _cidr(doc, "spec.serviceCIDR", spec.get("serviceCIDR", "10.96.0.0/12"))
    dns_default = service_cidr[0] + 10
    cluster_dns = _ip(doc, "spec.clusterDNS", spec.get("clusterDNS")) if "clusterDNS" in spec else dns_default
    if not in_prefix(cluster_dns, *service_cidr):
        raise doc.error("spec.clusterDNS", "must be inside spec.serviceCIDR")

    cni_raw = _mapping(doc, "spec.cni", spec.get("cni"))
    _check_keys(doc, "spec.cni", cni_raw, CNI_KEYS)
    plugin = _choice(doc, "spec.cni.plugin", cni_raw.get("plugin", "flannel"), ("flannel", "bridge", "calico", "canal"))
    backend = _choice(doc, "spec.cni.backend", cni_raw.get("backend", "vxlan"), ("vxlan", "host-gw"))
    if plugin == "canal" and backend != "vxlan":
        raise doc.error("spec.cni.backend", "canal is flannel vxlan plus calico's policy agent: use backend vxlan")
    cni = CniSpec(
        plugin=plugin,
        backend=backend,
        bridge=str(cni_raw.get("bridge", "cni0")),
        vni=int(cni_raw.get("vni", 1)),
        port=int(cni_raw.get("port", 8472)),
        flannel_version=str(cni_raw.get("flannelVersion", "0.26.1")),
    )
    try:
        cni.legacy_vxlan
    except ValueError:
        raise doc.error("spec.cni.flannelVersion", f"\"{cni.flannel_version}\" is not a version like 0.26.1") from None

    kp_raw = _mapping(doc, "spec.kubeProxy", spec.get("kubeProxy"))
    _check_keys(doc, "spec.kubeProxy", kp_raw, KUBE_PROXY_KEYS)
    kube_proxy = KubeProxySpec(
        mode=_choice(doc, "spec.kubeProxy.mode", kp_raw.get("mode", "iptables"), ("iptables", "ipvs")),
        paused=bool(kp_raw.get("paused", False)),
        style=_choice(doc, "spec.kubeProxy.style", kp_raw.get("style", "modern"), ("modern", "legacy")),
        scheduler=str(kp_raw.get("scheduler", "rr")),
    )

    underlay_raw = spec.get("underlay", {"cidr": "192.168.0.0/24", "gateway": "192.168.0.1"})
    if isinstance(underlay_raw, dict):
        underlay_items = [("spec.underlay", underlay_raw)]
    elif isinstance(underlay_raw, list):
        underlay_items = [(f"spec.underlay[{i}]", u) for i, u in enumerate(underlay_raw)]
    else:
        raise doc.error("spec.underlay", "must be a mapping or a list of mappings")
    subnets = []
    for path, raw in underlay_items:
        raw = _mapping(doc, path, raw, required=True)
        _check_keys(doc, path, raw, UNDERLAY_KEYS)
        if "cidr" not in raw:
            raise doc.error(path, "missing required field \"cidr\"")
        cidr = _cidr(doc, f"{path}.cidr", raw["cidr"])
        gw = _ip(doc, f"{path}.gateway", raw["gateway"]) if "gateway" in raw else cidr[0] + 1
        if not in_prefix(gw, *cidr):
            raise doc.error(f"{path}.gateway", "must be inside the subnet's cidr")
        subnets.append(Subnet(str(raw.get("name", f"net{len(subnets)}" if len(underlay_items) > 1 else "underlay")), cidr, gw))

    nodes_raw = spec.get("nodes")
    if not isinstance(nodes_raw, list) or not nodes_raw:
        raise doc.error("spec.nodes", "must list at least one node")
    nodes: list[NodeSpec] = []
    seen_names, seen_ips, seen_cidrs = set(), set(), []
    for i, raw in enumerate(nodes_raw):
        path = f"spec.nodes[{i}]"
        raw = _mapping(doc, path, raw, required=True)
        _check_keys(doc, path, raw, NODE_KEYS)
        for req in ("name", "ip", "podCIDR"):
            if req not in raw:
                raise doc.error(path, f"missing required field \"{req}\"")
        name = str(raw["name"])
        ip = _ip(doc, f"{path}.ip", raw["ip"])
        node_cidr = _cidr(doc, f"{path}.podCIDR", raw["podCIDR"])
        if not (node_cidr[1] >= pod_cidr[1] and in_prefix(node_cidr[0], *pod_cidr)):
            raise doc.error(f"{path}.podCIDR", "must be inside spec.podCIDR")
        if name in seen_names:
            raise doc.error(f"{path}.name", f"duplicate node name \"{name}\"")
        if ip in seen_ips:
            raise doc.error(f"{path}.ip", "duplicate node IP")
        for other in seen_cidrs:
            small = min(other[1], node_cidr[1])
            if network(other[0], small) == network(node_cidr[0], small):
                raise doc.error(f"{path}.podCIDR", "overlaps another node's podCIDR")
        subnet = next((s for s in subnets if in_prefix(ip, *s.cidr)), None)
        if subnet is None:
            raise doc.error(f"{path}.ip", "is in no spec.underlay subnet")
        labels = _mapping(doc, f"{path}.labels", raw.get("labels"))
        seen_names.add(name)
        seen_ips.add(ip)
        seen_cidrs.append(node_cidr)
        nodes.append(NodeSpec(name, ip, node_cidr, tuple((str(k), str(v)) for k, v in labels.items()), subnet.name))

    workstation = str(spec.get("workstation", nodes[0].name))
    if workstation not in seen_names:
        raise doc.error("spec.workstation", f"\"{workstation}\" is not a node of this lab")
    dns_raw = _mapping(doc, "spec.dns", spec.get("dns"))
    _check_keys(doc, "spec.dns", dns_raw, {"replicas"})
    dns_replicas = dns_raw.get("replicas", 2)
    if not isinstance(dns_replicas, int) or dns_replicas < 0:
        raise doc.error("spec.dns.replicas", "must be a whole number of CoreDNS pods (0: no cluster DNS)")
    ingress = _ingress(doc, spec.get("ingress")) if "ingress" in spec else None
    for m in manifests:
        if not isinstance(m.data, dict) or "kind" not in m.data:
            raise m.error("kind", "a manifest must be a mapping with `kind`")
    from netlab.repeat import expand

    manifests = expand(manifests)  # `kind: Repeat` documents become their copies
    return LabSpec(
        name=str(meta.get("name", "lab")), source=doc.source,
        cluster_domain=str(spec.get("clusterDomain", "cluster.local")),
        pod_cidr=pod_cidr, service_cidr=service_cidr, cluster_dns=cluster_dns,
        cni=cni, kube_proxy=kube_proxy, subnets=tuple(subnets), nodes=tuple(nodes),
        seed=int(spec.get("seed", 0)), workstation=workstation, dns_replicas=dns_replicas, ingress=ingress, manifests=manifests,
    )


def _ingress(doc: Doc, raw) -> IngressSpec:
    """`ingress: {controller: nginx, service: NodePort, nodePorts: {http: 30799, https: 31522}}`."""
    raw = _mapping(doc, "spec.ingress", raw)
    _check_keys(doc, "spec.ingress", raw, {"controller", "service", "nodePorts", "replicas", "defaultClass"})
    controller = _choice(doc, "spec.ingress.controller", raw.get("controller", "nginx"), ("nginx",))
    service = _choice(doc, "spec.ingress.service", raw.get("service", "NodePort"), ("NodePort", "LoadBalancer"))
    ports = _mapping(doc, "spec.ingress.nodePorts", raw.get("nodePorts"))
    _check_keys(doc, "spec.ingress.nodePorts", ports, {"http", "https"})
    pinned = {}
    for name in ("http", "https"):
        value = ports.get(name)
        if value is not None and (not isinstance(value, int) or not 30000 <= value <= 32767):
            raise doc.error(f"spec.ingress.nodePorts.{name}", "must be a port in the NodePort range 30000-32767")
        pinned[name] = value
    replicas = raw.get("replicas", 1)
    if not isinstance(replicas, int) or replicas < 1:
        raise doc.error("spec.ingress.replicas", "must be a whole number of controller pods (at least 1)")
    return IngressSpec(controller, service, pinned["http"], pinned["https"], replicas, bool(raw.get("defaultClass", False)))
