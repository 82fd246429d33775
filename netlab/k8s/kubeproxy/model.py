"""What kube-proxy knows about a Service port and its endpoints (proxy.ServicePort /
proxy.Endpoint), built from the API objects."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

from netlab.net.addr import parse_ip

_B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_B32_PAIRS = [a + b for a in _B32 for b in _B32]  # every 10-bit group as its two base32 characters


def _hash16(text: str, _sha256=hashlib.sha256, _from_bytes=int.from_bytes, _p=_B32_PAIRS) -> str:
    """First 16 characters of base32(sha256(text)). 16 characters are 80 bits: the first 10
    bytes of the digest, encoded here in one go (base64.b32encode takes twice as long, and a
    sync at 20,000 Services names ~80,000 chains)."""
    n = _from_bytes(_sha256(text.encode()).digest()[:10], "big")
    return "".join((_p[n >> 70], _p[n >> 60 & 1023], _p[n >> 50 & 1023], _p[n >> 40 & 1023],
                    _p[n >> 30 & 1023], _p[n >> 20 & 1023], _p[n >> 10 & 1023], _p[n & 1023]))


@lru_cache(maxsize=1 << 17)
def port_proto_hash(service_port_name: str, protocol: str) -> str:
    """First 16 characters of base32(sha256(name + protocol)): kube-proxy's chain suffix."""
    return _hash16(service_port_name + protocol)


def endpoint_chain(service_port_name: str, protocol: str, endpoint: str) -> str:
    # Not cached: a sync asks once per endpoint of a Service whose rules it builds, and
    # reuses the rules of every other Service.
    return "KUBE-SEP-" + _hash16(service_port_name + protocol + endpoint)


class Endpoint(NamedTuple):  # a tuple: three times cheaper to make than a frozen dataclass
    ip: str
    port: int
    node: str | None
    ready: bool = True

    @property
    def text(self) -> str:
        return f"{self.ip}:{self.port}"

    @property
    def ip_int(self) -> int:
        return parse_ip(self.ip)


@dataclass(slots=True)
class ServicePort:
    namespace: str
    name: str
    port_name: str
    protocol: str  # lowercase, as kube-proxy writes it
    cluster_ip: str
    port: int
    node_port: int = 0
    external_ips: tuple[str, ...] = ()
    lb_ips: tuple[str, ...] = ()
    lb_source_ranges: tuple[str, ...] = ()
    affinity_seconds: int = 0  # >0: sessionAffinity ClientIP
    external_local: bool = False
    internal_local: bool = False
    health_check_node_port: int = 0
    scheduler: str = ""
    endpoints: list[Endpoint] = field(default_factory=list)  # sorted by text ("ip:port"), as ports_of makes it
    # A ServicePort is not changed after service_ports() built it, so what is derived from
    # its fields is computed once, on first use (slots: a sync at 20,000 Services makes
    # 20,000 of these, and an instance dict each would be 20,000 more objects).
    _name: str | None = field(default=None, init=False, repr=False, compare=False)
    _hash: str | None = field(default=None, init=False, repr=False, compare=False)
    _key: tuple | None = field(default=None, init=False, repr=False, compare=False)
    ipvs_cache: tuple | None = field(default=None, init=False, repr=False, compare=False)  # ipvs_mode's, per node

    @property
    def name_string(self) -> str:
        name = self._name
        if name is None:
            base = f"{self.namespace}/{self.name}"
            name = self._name = f"{base}:{self.port_name}" if self.port_name else base
        return name

    @property
    def sort_key(self) -> str:
        """KUBE-SERVICES order: by service port name, then protocol."""
        return self.name_string + "/" + self.protocol

    @property
    def hash(self) -> str:
        h = self._hash
        if h is None:
            h = self._hash = port_proto_hash(self.name_string, self.protocol)
        return h

    @property
    def cluster_ip_int(self) -> int:
        return parse_ip(self.cluster_ip)

    @property
    def externally_accessible(self) -> bool:
        return bool(self.node_port or self.external_ips or self.lb_ips)

    def sep(self, ep: Endpoint) -> str:
        return endpoint_chain(self.name_string, self.protocol, ep.text)

    def key(self) -> tuple:
        """Everything the rules depend on, hashable: equal keys give identical rules."""
        k = self._key
        if k is None:
            k = self._key = (
                self.namespace, self.name, self.port_name, self.protocol, self.cluster_ip, self.port, self.node_port,
                self.external_ips, self.lb_ips, self.lb_source_ranges, self.affinity_seconds,
                self.external_local, self.internal_local, self.health_check_node_port, self.scheduler,
                tuple(self.endpoints))
        return k


def service_ports(api, node_name: str, cache: dict | None = None) -> list[ServicePort]:
    """Every Service port kube-proxy programs (not headless, not ExternalName), sorted by name.

    With `cache` (kept by the caller between syncs), a Service whose object and Endpoints
    have the same resourceVersions as last time reuses last time's ServicePorts — the
    serviceChanges/endpointsChanges trackers of upstream, in one dict ("ns/name" ->
    (Service resourceVersion, Endpoints resourceVersion, ports))."""
    out: list[ServicePort] = []
    seen = {}
    for svc in api.list("Service"):
        meta = svc["metadata"]
        ns, name = meta.get("namespace", "default"), meta["name"]
        ep_obj = api.get("Endpoints", ns, name) or {}
        if cache is not None:
            svc_rv, ep_rv = meta.get("resourceVersion"), ep_obj.get("metadata", {}).get("resourceVersion")
            ident = ns + "/" + name
            hit = cache.get(ident)
            if hit is None or hit[0] != svc_rv or hit[1] != ep_rv or svc_rv is None:
                hit = (svc_rv, ep_rv, ports_of(svc, ep_obj))
            seen[ident] = hit
            out += hit[2]
        else:
            out += ports_of(svc, ep_obj)
    if cache is not None:
        cache.clear()
        cache.update(seen)
    out.sort(key=_sort_key)
    return out


def _sort_key(sp: ServicePort) -> str:
    return sp.sort_key


def ports_of(svc: dict, ep_obj: dict) -> list[ServicePort]:
    out: list[ServicePort] = []
    spec = svc.get("spec", {})
    if spec.get("type") == "ExternalName" or spec.get("clusterIP") in (None, "", "None"):
        return out
    ns, name = svc["metadata"].get("namespace", "default"), svc["metadata"]["name"]
    lb_ips = tuple(i["ip"] for i in svc.get("status", {}).get("loadBalancer", {}).get("ingress") or [] if i.get("ip"))
    affinity = 0
    if spec.get("sessionAffinity") == "ClientIP":
        affinity = int(spec.get("sessionAffinityConfig", {}).get("clientIP", {}).get("timeoutSeconds", 10800))
    # the same for every port of the Service
    cluster_ip, external_ips = spec["clusterIP"], tuple(spec.get("externalIPs") or ())
    source_ranges = tuple(spec.get("loadBalancerSourceRanges") or ())
    external_local = spec.get("externalTrafficPolicy") == "Local" and spec.get("type") in ("NodePort", "LoadBalancer")
    internal_local = spec.get("internalTrafficPolicy") == "Local"
    health_check = int(spec.get("healthCheckNodePort") or 0)
    subsets = ep_obj.get("subsets") or ()
    for p in spec.get("ports", []):
        pname = p.get("name") or ""
        proto = p.get("protocol", "TCP")
        eps: list[Endpoint] = []
        for subset in subsets:
            for port in subset.get("ports", ()):
                if (port.get("name") or "") == pname and port.get("protocol", "TCP") == proto:
                    addresses = subset.get("addresses", ())
                    if addresses:
                        number = int(port["port"])
                        eps += [Endpoint(a["ip"], number, a.get("nodeName")) for a in addresses]
                    break
        if len(eps) > 1:
            eps.sort(key=_text)  # the endpoints cache keeps them sorted by string
        out.append(ServicePort(
            ns, name, pname, proto.lower(), cluster_ip, int(p["port"]), int(p.get("nodePort") or 0),
            external_ips, lb_ips, source_ranges, affinity, external_local, internal_local, health_check,
            endpoints=eps))
    return out


def _text(ep: Endpoint) -> str:
    return ep.text
