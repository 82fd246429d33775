"""Small topologies for dataplane tests, built the way `ip` and a cable would build them.

Each builder returns a `Net`: the Dataplane plus its namespaces and devices by name, so a
test reads `net.a`, `net.r.dev("eth1")`. Addresses come from the documentation ranges.
"""
from __future__ import annotations

from types import SimpleNamespace

from netlab.apps.probe import ping_once, udp_probe
from netlab.net import topology
from netlab.net.addr import parse_ip
from netlab.net.fib import SCOPE_LINK, Route
from netlab.net.world import Dataplane

__all__ = ["ip", "routed", "bridged", "vxlan_pair", "route", "ping_once", "udp_probe", "ends", "hops", "Route"]


def ip(text: str) -> int:
    return parse_ip(text)


def route(prefix: str, *, via: str | None = None, dev=None, metric: int = 0, type: str = "unicast",
          table: int = 254, scope: int | None = None, onlink: bool = False) -> Route:
    """A Route from `ip route` words: route("10.0.0.0/8", via="192.0.2.1", dev=eth0)."""
    net, _, plen = prefix.partition("/")
    if net == "default":
        net, plen = "0.0.0.0", "0"
    gw = ip(via) if via else None
    if scope is None:
        scope = 0 if gw is not None or type != "unicast" else SCOPE_LINK
    return Route(ip(net), int(plen or 32), type, dev, gw, metric, table, "boot", scope, onlink=onlink)


def routed(*, forward: bool = True) -> SimpleNamespace:
    """a (192.0.2.10/24) — seg1 — r (.1 | .1) — seg2 — b (198.51.100.10/24); defaults via r."""
    w = Dataplane(seed=7)
    seg1, seg2 = w.add_segment("seg1"), w.add_segment("seg2")
    a, r, b = w.add_netns("a"), w.add_netns("r", kind="router"), w.add_netns("b")
    a_eth0 = topology.attach_nic(a, seg1, ip("192.0.2.10"), 24)
    b_eth0 = topology.attach_nic(b, seg2, ip("198.51.100.10"), 24)
    r_eth0 = topology.attach_nic(r, seg1, ip("192.0.2.1"), 24, name="eth0")
    r_eth1 = topology.attach_nic(r, seg2, ip("198.51.100.1"), 24, name="eth1")
    topology.add_default_route(a, ip("192.0.2.1"), a_eth0)
    topology.add_default_route(b, ip("198.51.100.1"), b_eth0)
    if forward:
        r.sysctl["net.ipv4.ip_forward"] = "1"
    return SimpleNamespace(world=w, a=a, r=r, b=b, seg1=seg1, seg2=seg2)


def bridged(n_pods: int = 3, *, bridge_ip: str = "10.0.0.1") -> SimpleNamespace:
    """A host with bridge br0 (10.0.0.1/24) and n pods p1..pn (10.0.0.2..) on veth ports."""
    w = Dataplane(seed=3)
    host = w.add_netns("host")
    br = topology.add_bridge(host, "br0")
    host.addr_add(br, ip(bridge_ip), 24)
    host.set_link(br, up=True)
    pods, ports = [], []
    for i in range(1, n_pods + 1):
        pod = w.add_netns(f"p{i}", kind="pod")
        eth0, port = topology.veth_pair(pod, "eth0", host, f"veth{i}")
        br.add_port(port)
        host.set_link(port, up=True)
        pod.set_link(eth0, up=True)
        pod.addr_add(eth0, ip(f"10.0.0.{i + 1}"), 24)
        topology.add_default_route(pod, ip(bridge_ip), eth0)
        pods.append(pod)
        ports.append(port)
    return SimpleNamespace(world=w, host=host, br=br, pods=pods, ports=ports)


def vxlan_pair(*, learning: bool = False, vni: int = 42, default_fdb: bool = True) -> SimpleNamespace:
    """Hosts h1 (192.0.2.1) and h2 (192.0.2.2) on one underlay, each with vxlan0 (VNI 42,
    dstport 8472) holding 10.42.0.{1,2}/24; with default_fdb, each VTEP floods to the other
    through a 00:00:00:00:00:00 entry (a static flood list, as `bridge fdb append` makes)."""
    w = Dataplane(seed=5)
    seg = w.add_segment("underlay")
    hosts, vteps = [], []
    for i in (1, 2):
        h = w.add_netns(f"h{i}")
        eth0 = topology.attach_nic(h, seg, ip(f"192.0.2.{i}"), 24)
        vx = topology.add_vxlan(h, "vxlan0", vni, local=ip(f"192.0.2.{i}"), lower=eth0, learning=learning)
        h.addr_add(vx, ip(f"10.42.0.{i}"), 24)
        h.set_link(vx, up=True)
        hosts.append(h)
        vteps.append(vx)
    if default_fdb:
        vteps[0].fdb_add("00:00:00:00:00:00", ip("192.0.2.2"), append=True)
        vteps[1].fdb_add("00:00:00:00:00:00", ip("192.0.2.1"), append=True)
    return SimpleNamespace(world=w, h1=hosts[0], h2=hosts[1], vx1=vteps[0], vx2=vteps[1])


def ends(trace) -> list:
    """The non-quiet verdicts of a trace (what decided it)."""
    return list(trace.ends)


def hops(trace, kind: str | None = None, ns: str | None = None) -> list:
    return [h for h in trace.hops if (kind is None or h.kind == kind) and (ns is None or h.ns == ns)]
