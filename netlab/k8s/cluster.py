"""A cluster built from a LabSpec: the underlay, the nodes, the control plane and
the agents on each node, wired to one API store."""
from __future__ import annotations

from dataclasses import dataclass

from netlab.k8s.api import ADDED, DELETED, MODIFIED, ApiError, ApiStore, Event
from netlab.k8s.cni import BridgeCni
from netlab.k8s.flannel import Flanneld, Lease
from netlab.k8s.kubelet import Kubelet
from netlab.k8s.runtime import ContainerRuntime, NullRuntime
from netlab.k8s.services import EndpointsController, ServiceRegistry
from netlab.k8s.workloads import DeploymentController, Scheduler
from netlab.net import topology
from netlab.net.addr import fmt_ip, fmt_prefix
from netlab.net.netns import NetNS
from netlab.net.world import Dataplane
from netlab.spec import LabSpec, NodeSpec

KUBE_VERSION = "v1.26.15"
OS_IMAGE = "Ubuntu 22.04.4 LTS"
KERNEL = "5.15.0-105-generic"
RUNTIME = "containerd://1.7.12"
SYSTEM_NAMESPACES = ("default", "kube-node-lease", "kube-public", "kube-system")


@dataclass
class NodeState:
    spec: NodeSpec
    ns: NetNS
    eth0: object
    cni: BridgeCni
    flannel: Flanneld | None
    kubelet: Kubelet


class Cluster:
    def __init__(self, world: Dataplane, spec: LabSpec, runtime: ContainerRuntime | None = None) -> None:
        self.world = world
        self.spec = spec
        self.runtime: ContainerRuntime = runtime or NullRuntime()
        self.logs: dict[str, list[str]] = {}
        self.version = KUBE_VERSION
        self.api = ApiStore(lambda: world.clock, world.stream("uids"))
        self.nodes: dict[str, NodeState] = {}
        self.pod_ns: dict[str, NetNS] = {}
        self.logs: dict[tuple[str, str], list[str]] = {}  # (ns/pod, container) -> lines, for `kubectl logs`
        self.router: NetNS | None = None
        self._build_underlay()
        self.api.admit("Namespace", _name_label)
        self.api.admit("NetworkPolicy", _default_policy_types)
        for name in SYSTEM_NAMESPACES:
            self.api.create({"apiVersion": "v1", "kind": "Namespace",
                             "metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name}}})
        for node_spec in spec.nodes:
            self._add_node(node_spec)
        for node in self.nodes.values():
            if node.flannel is not None:
                for other in self.nodes.values():
                    if other is not node and other.flannel is not None:
                        node.flannel.add_peer(other.flannel.lease)
        self.scheduler = Scheduler(self.api, [n.name for n in spec.nodes])
        self.services = ServiceRegistry(self.api, spec.service_cidr, world.stream("service-ips"))
        self.api.watch({"Pod"}, self._on_pod)  # before the endpoints controller: pods get IPs first
        self.endpoints = EndpointsController(self.api)
        self.deployments = DeploymentController(self.api, world.stream("pod-names"))
        from netlab.k8s.daemonsets import DaemonSetController

        self.daemonsets = DaemonSetController(self.api, world.stream("daemonset-pod-names"), [n.name for n in spec.nodes])
        self._add_kubernetes_service()
        from netlab.k8s.kubeproxy import KubeProxy
        from netlab.net.addr import fmt_prefix as _fp

        kp = spec.kube_proxy
        from netlab.k8s.cloud import CloudLoadBalancer

        self.cloud = CloudLoadBalancer(self.api, self.router, {n.name: n.ip for n in spec.nodes})
        self.kube_proxies = {name: KubeProxy(self.api, node.ns, name, cluster_cidr=_fp(*spec.pod_cidr), mode=kp.mode,
                                             style=kp.style, paused=kp.paused, scheduler=kp.scheduler)
                             for name, node in self.nodes.items()}
        self.policy_agents = {}
        if spec.cni.enforces_policy:  # calico/canal; plain flannel stores policies and ignores them
            from netlab.k8s.policy_agent import PolicyAgent

            self.policy_agents = {name: PolicyAgent(self.api, node.ns, name, spec.cni.bridge, self._host_veth)
                                  for name, node in self.nodes.items()}

    # -- the underlay ----------------------------------------------------------
    def _build_underlay(self) -> None:
        world = self.world
        router = world.add_netns("router", hostname="gateway", kind="router")
        router.sysctl["net.ipv4.ip_forward"] = "1"
        for i, subnet in enumerate(self.spec.subnets):
            seg = world.add_segment(subnet.name, fmt_prefix(*subnet.cidr))
            topology.attach_nic(router, seg, subnet.gateway, subnet.cidr[1], name=f"eth{i}")
        self.router = router
        from netlab.k8s.cloud import build_internet

        self.client = build_internet(world, router, len(self.spec.subnets))
        self.runtime.start_outside(self, router)

    def _add_node(self, node_spec: NodeSpec) -> NodeState:
        world = self.world
        spec = self.spec
        subnet = next(s for s in spec.subnets if s.name == node_spec.subnet)
        ns = world.add_netns(node_spec.name, hostname=_hostname(node_spec.name), kind="node")
        ns.sysctl["net.ipv4.ip_forward"] = "1"
        ns.sysctl["net.bridge.bridge-nf-call-iptables"] = "1"
        ns.sysctl["net.bridge.bridge-nf-call-ip6tables"] = "1"
        eth0 = topology.attach_nic(ns, world.segments[subnet.name], node_spec.ip, subnet.cidr[1], metric=100)
        topology.add_default_route(ns, subnet.gateway, eth0, metric=100, proto="static")
        ns.files["/etc/hostname"] = _hostname(node_spec.name) + "\n"
        ns.files["/etc/resolv.conf"] = f"nameserver {fmt_ip(subnet.gateway)}\n"
        ns.files["/etc/hosts"] = (f"127.0.0.1\tlocalhost\n{fmt_ip(node_spec.ip)}\t{_hostname(node_spec.name)}\n"
                                  f"{fmt_ip(subnet.gateway)}\tgateway\n")
        flannel = None
        mtu = eth0.mtu
        if spec.cni.flannel:
            flannel = Flanneld(ns, spec.cni, spec.pod_cidr, Lease(node_spec.name, node_spec.ip, node_spec.pod_cidr, None), eth0)
            flannel.start()
            mtu = flannel.mtu
        cni = BridgeCni(ns, spec.cni.bridge, node_spec.pod_cidr, mtu, docker_style=spec.cni.bridge == "docker0")
        cni.ensure_bridge()
        self.runtime.start_node(self, node_spec.name, ns)
        state = NodeState(node_spec, ns, eth0, cni, flannel, Kubelet(self, node_spec.name))
        self.nodes[node_spec.name] = state
        labels = {"kubernetes.io/hostname": node_spec.name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64"}
        if node_spec.name == spec.nodes[0].name:
            labels["node-role.kubernetes.io/control-plane"] = ""
        labels.update(dict(node_spec.labels))
        self.api.create({
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": node_spec.name, "labels": labels},
            "spec": {"podCIDR": fmt_prefix(*node_spec.pod_cidr), "podCIDRs": [fmt_prefix(*node_spec.pod_cidr)]},
            "status": {"addresses": [{"type": "InternalIP", "address": fmt_ip(node_spec.ip)},
                                     {"type": "Hostname", "address": _hostname(node_spec.name)}],
                       "conditions": [{"type": "Ready", "status": "True"}],
                       "nodeInfo": {"kubeletVersion": KUBE_VERSION, "osImage": OS_IMAGE, "kernelVersion": KERNEL,
                                    "containerRuntimeVersion": RUNTIME}},
        })
        return state

    def _add_kubernetes_service(self) -> None:
        """default/kubernetes: the API server, at the first ClusterIP, backed by the
        control-plane node's :6443 (an Endpoints object the API server writes itself)."""
        api_node = self.spec.nodes[0]
        self.api.create({"apiVersion": "v1", "kind": "Service",
                         "metadata": {"name": "kubernetes", "namespace": "default",
                                      "labels": {"component": "apiserver", "provider": "kubernetes"}},
                         "spec": {"ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}]}})
        self.api.create({"apiVersion": "v1", "kind": "Endpoints",
                         "metadata": {"name": "kubernetes", "namespace": "default",
                                      "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}},
                         "subsets": [{"addresses": [{"ip": fmt_ip(api_node.ip)}],
                                      "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}]}]})

    def log(self, pod_key: str, line: str) -> None:
        """Append to a pod's log (`kubectl logs`)."""
        self.logs.setdefault(pod_key, []).append(line)

    def add_dns_addon(self, replicas: int = 2) -> None:
        """CoreDNS as kubeadm installs it: the coredns ConfigMap and Deployment in kube-system,
        behind the kube-dns Service at the lab's clusterDNS address."""
        from netlab.k8s.addons import coredns_objects

        for obj in coredns_objects(self.spec, replicas):
            self.api.create(obj)

    def add_kube_proxy_addon(self) -> None:
        """kube-proxy as kubeadm installs it: the kube-proxy ConfigMap (config.conf, seeded
        from the lab's kubeProxy settings) and DaemonSet in kube-system, one pod per node.
        Each node's agent already runs; its pod adopts it, and a restarted pod restarts it
        with the ConfigMap's config (netlab/k8s/kubeproxy/config.py)."""
        from netlab.k8s.kubeproxy.config import KubeProxyPods, addon_objects

        self.kube_proxy_pods = KubeProxyPods(self)
        for obj in addon_objects(self.spec, self.version):
            self.api.create(obj)

    def tick(self) -> None:
        """What node agents do between commands: kubelet runs readiness probes and the
        endpoints controller follows any change."""
        changed = []
        for node in self.nodes.values():
            changed += node.kubelet.probe_readiness()
        if changed:
            self.endpoints.resync_pods(changed)
        if self.cloud.dirty:
            self.cloud.sync()
        now = self.world.clock
        for proxy in self.kube_proxies.values():
            if proxy.due(now):
                proxy.sync()
        for agent in self.policy_agents.values():  # after kube-proxy: its jumps go first
            if agent.due(now):
                agent.sync()

    # -- pods ------------------------------------------------------------------
    def _on_pod(self, event: Event) -> None:
        pod = event.obj
        if event.type == ADDED:
            node = self.scheduler.choose(pod)
            if node is None or node not in self.nodes:
                pod["status"] = {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False",
                                                                     "reason": "Unschedulable"}]}
                return
            self.scheduler.bind(pod, node)
            self.nodes[node].kubelet.run_pod(pod)
        elif event.type == DELETED:
            node = pod.get("spec", {}).get("nodeName")
            if node in self.nodes:
                self.nodes[node].kubelet.kill_pod(pod)

    def pod_log(self, key: str, line: str, container: str | None = None) -> None:
        """Append a line to a pod's log (`key` is "namespace/name"; the first container by default)."""
        self.logs.setdefault((key, container or self._first_container(key)), []).append(line)

    def pod_logs(self, key: str, container: str | None = None) -> list[str]:
        """What `kubectl logs` shows for one container of a pod."""
        return list(self.logs.get((key, container or self._first_container(key)), []))

    def _first_container(self, key: str) -> str:
        ns, _, name = key.partition("/")
        pod = self.api.get("Pod", ns, name) or {}
        containers = (pod.get("spec") or {}).get("containers") or [{}]
        return containers[0].get("name", "")

    def _host_veth(self, key: str) -> str | None:
        """The node end of a pod's eth0 (what the policy agent names its chains after)."""
        ns = self.pod_ns.get(key)
        eth0 = ns.dev("eth0") if ns is not None else None
        peer = getattr(eth0, "peer", None)
        return peer.name if peer is not None else None

    def pod_namespace(self, key: str) -> NetNS | None:
        return self.pod_ns.get(key)

    def apply(self, obj: dict) -> tuple[dict, str]:
        """Create or replace an object; returns it and what happened ("created"/"configured"/"unchanged")."""
        kind = obj.get("kind")
        meta = obj.get("metadata") or {}
        ns = meta.get("namespace", "default")
        existing = self.api.get(kind, ns, meta.get("name", ""))
        if existing is None:
            return self.api.create(obj), "created"
        if all(existing.get(k) == v for k, v in obj.items() if k not in ("metadata", "status")):
            return existing, "unchanged"
        merged = dict(existing)
        merged.update({k: v for k, v in obj.items() if k != "status"})
        merged["metadata"] = {**existing["metadata"], **meta}
        return self.api.update(merged), "configured"


def _name_label(ns: dict, old: dict | None) -> None:
    """The API server (1.21+) labels every namespace kubernetes.io/metadata.name=<name>, the
    label NetworkPolicy namespaceSelectors use to pick one namespace by name."""
    meta = ns.setdefault("metadata", {})
    labels = meta.get("labels") or {}
    meta["labels"] = {**labels, "kubernetes.io/metadata.name": meta.get("name", "")}


def _default_policy_types(np: dict, old: dict | None) -> None:
    """The API server stores policyTypes defaulted (Ingress; Egress too when egress rules exist)."""
    from netlab.k8s.policy import policy_types

    spec = np.get("spec")
    if isinstance(spec, dict) and not spec.get("policyTypes"):
        spec["policyTypes"] = [t.capitalize() for t in policy_types(spec)]


def _hostname(node_name: str) -> str:
    return node_name


__all__ = ["Cluster", "ApiError", "MODIFIED"]
