"""Ways levels break a cluster, applied identically to netlab and to the real kernel.

Each break runs the real command in the kernel world and, in netlab, the same line
through `lab.sh(..., on=node)` when the shell has that command; until it does, the
same change is made directly on netlab's objects.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from netlab.net.addr import fmt_ip, fmt_prefix, in_prefix
from netlab.net.fib import RT_TABLE_MAIN
from netlab.net.vxlan import Vxlan

from oracle_compare import TALLY


class NotApplicable(Exception):
    pass


@dataclass(frozen=True)
class Break:
    id: str
    what: str
    apply: Callable  # (lab, kw) -> str: the command line applied, for messages


def netlab_do(lab, on: str, line: str, direct: Callable[[], None]) -> str:
    """Run `line` in netlab's shell on `on` if the shell has the command, else `direct()`."""
    from netlab.shell.registry import COMMANDS, load_all

    load_all()
    if line.split()[0] in COMMANDS:
        r = lab.sh(line, on=on)
        assert r.exit_code == 0, f"netlab `{line}` on {on} failed ({r.exit_code}): {r.output}"
        TALLY.add("breaks applied with netlab's shell", 1, 1)
        return "shell"
    direct()
    TALLY.add("breaks applied on netlab's objects (no shell command yet)", 1, 1)
    return "direct"


def _first_node(lab):
    return lab.cluster.nodes[next(iter(lab.cluster.nodes))]


def _remote_subnet_route(lab):
    node = _first_node(lab)
    own = node.spec.pod_cidr
    for r in node.ns.fib.table(RT_TABLE_MAIN).routes():
        if r.proto != "kernel" and r.plen and in_prefix(r.dst, *lab.spec.pod_cidr) and (r.dst, r.plen) != own:
            return node, r
    raise NotApplicable("no route to a remote pod subnet on the first node")


def _vtep_peer(lab):
    node = _first_node(lab)
    vtep = next((d for d in node.ns.devices.values() if isinstance(d, Vxlan)), None)
    if vtep is None or not vtep.fdb_entries():
        raise NotApplicable("no VXLAN FDB entries (not a vxlan lab)")
    return node, vtep, vtep.fdb_entries()[0]


def route_del(lab, kw) -> str:
    node, r = _remote_subnet_route(lab)
    cidr = fmt_prefix(r.dst, r.plen)
    line = f"ip route del {cidr}"
    kw.ip(node.spec.name, "route", "del", cidr)
    netlab_do(lab, node.spec.name, line,
              lambda: node.ns.fib.delete(lambda x: x.table == RT_TABLE_MAIN and (x.dst, x.plen) == (r.dst, r.plen)))
    return f"{node.spec.name}: {line}"


def fdb_del(lab, kw) -> str:
    node, vtep, e = _vtep_peer(lab)
    line = f"bridge fdb del {e.mac} dev {vtep.name} dst {fmt_ip(e.dst)}"
    kw.bridge(node.spec.name, "fdb", "del", e.mac, "dev", vtep.name, "dst", fmt_ip(e.dst))
    netlab_do(lab, node.spec.name, line, lambda: vtep.fdb_del(e.mac, e.dst))
    return f"{node.spec.name}: {line}"


def _fdb_point_at(lab, kw, wrong: int) -> str:
    node, vtep, e = _vtep_peer(lab)
    line = f"bridge fdb replace {e.mac} dev {vtep.name} dst {fmt_ip(wrong)}"
    kw.bridge(node.spec.name, "fdb", "replace", e.mac, "dev", vtep.name, "dst", fmt_ip(wrong))
    netlab_do(lab, node.spec.name, line, lambda: vtep.fdb_add(e.mac, wrong, replace=True))
    return f"{node.spec.name}: {line}"


def fdb_wrong_self(lab, kw) -> str:
    """The remote VTEP's MAC pointed at this node's own IP (a copy-paste slip)."""
    return _fdb_point_at(lab, kw, _first_node(lab).spec.ip)


def fdb_wrong_gateway(lab, kw) -> str:
    """...pointed at an address on the underlay that is not a node (the gateway)."""
    node = _first_node(lab)
    subnet = next(s for s in lab.spec.subnets if s.name == node.spec.subnet)
    return _fdb_point_at(lab, kw, subnet.gateway)


def vtep_neigh_del(lab, kw) -> str:
    node, vtep, e = _vtep_peer(lab)
    entry = next((n for n in node.ns.neigh.entries.values() if n.dev is vtep and n.lladdr == e.mac), None)
    if entry is None:
        raise NotApplicable("no PERMANENT neighbour for the remote VTEP")
    line = f"ip neigh del {fmt_ip(entry.ip)} dev {vtep.name}"
    kw.ip(node.spec.name, "neigh", "del", fmt_ip(entry.ip), "dev", vtep.name)
    netlab_do(lab, node.spec.name, line, lambda: node.ns.neigh.delete(vtep, entry.ip))
    return f"{node.spec.name}: {line}"


def pod_veth_down(lab, kw) -> str:
    node = _first_node(lab)
    pod = next(ns for ns in lab.world.namespaces.values()
               if ns.kind == "pod" and ns.devices["eth0"].peer.ns is node.ns)
    host_if = pod.devices["eth0"].peer
    line = f"ip link set {host_if.name} down"
    kw.ip(node.spec.name, "link", "set", host_if.name, "down")
    netlab_do(lab, node.spec.name, line, lambda: node.ns.set_link(host_if, up=False))
    return f"{node.spec.name}: {line} (the veth of {pod.name})"


def ip_forward_off(lab, kw) -> str:
    node = _first_node(lab)
    line = "sysctl -w net.ipv4.ip_forward=0"
    kw.sysctl(node.spec.name, "net.ipv4.ip_forward=0")
    netlab_do(lab, node.spec.name, line, lambda: node.ns.sysctl.__setitem__("net.ipv4.ip_forward", "0"))
    return f"{node.spec.name}: {line}"


def pod_default_route_del(lab, kw) -> str:
    pod = next(ns for ns in lab.world.namespaces.values() if ns.kind == "pod")
    line = "ip route del default"
    kw.ip(pod.name, "route", "del", "default")
    netlab_do(lab, pod.name, line,
              lambda: pod.fib.delete(lambda x: x.table == RT_TABLE_MAIN and x.plen == 0))
    return f"{pod.name}: {line}"


BREAKS = [
    Break("route-del", "delete the route to a remote pod subnet on a node", route_del),
    Break("fdb-del", "delete the VXLAN FDB entry for a remote VTEP", fdb_del),
    Break("fdb-wrong-self", "point a VXLAN FDB entry at the node's own IP", fdb_wrong_self),
    Break("fdb-wrong-gateway", "point a VXLAN FDB entry at the underlay gateway", fdb_wrong_gateway),
    Break("vtep-neigh-del", "delete the PERMANENT neighbour entry of a remote VTEP", vtep_neigh_del),
    Break("pod-veth-down", "set a pod's host-side veth down", pod_veth_down),
    Break("ip-forward-off", "net.ipv4.ip_forward=0 on a node", ip_forward_off),
    Break("pod-no-default", "delete a pod's default route", pod_default_route_del),
]
