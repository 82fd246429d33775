"""A small IPVS topology: client ── node (kube-ipvs0 holds the VIP) ── rs1, rs2.

    client 10.0.1.2/24 ── 10.0.1.1 node 10.0.2.1 ── 10.0.2.2 rs1
                                        10.0.3.1 ── 10.0.3.2 rs2
    node: kube-ipvs0 (dummy, DOWN, as kube-proxy leaves it) with the VIP 10.96.0.10/32
"""
from __future__ import annotations

from netlab.net.addr import parse_ip, random_mac
from netlab.net.device import Dummy
from netlab.net.ipvs import Ipvs
from netlab.net.packet import IPPROTO_UDP, UDP, IPv4
from netlab.net.socket import Socket
from netlab.net.tcp import Listener
from netlab.net.topology import add_default_route, veth_pair
from netlab.net.world import Dataplane

VIP = "10.96.0.10"


def link(a, an, aip, b, bn, bip, plen=24):
    da, db = veth_pair(a, an, b, bn)
    for ns, dev, ip in ((a, da, aip), (b, db, bip)):
        ns.set_link(dev, up=True)
        ns.addr_add(dev, parse_ip(ip), plen)
    return da, db


class Topo:
    def __init__(self, seed: int = 1, n_rs: int = 2) -> None:
        self.world = w = Dataplane(seed)
        self.client = w.add_netns("client")
        self.node = w.add_netns("node")
        self.node.sysctl["net.ipv4.ip_forward"] = "1"
        _, cdev = link(self.node, "eth-c", "10.0.1.1", self.client, "eth0", "10.0.1.2")
        add_default_route(self.client, parse_ip("10.0.1.1"), cdev)
        self.rs = []
        for i in range(n_rs):
            rs = w.add_netns(f"rs{i + 1}")
            _, rdev = link(self.node, f"eth-r{i + 1}", f"10.0.{i + 2}.1", rs, "eth0", f"10.0.{i + 2}.2")
            add_default_route(rs, parse_ip(f"10.0.{i + 2}.1"), rdev)
            Listener(rs, 80, lambda req, conn, name=rs.name: f"hello from {name}", owner="web")
            rs.bind(Socket(IPPROTO_UDP, 53, on_data=_udp_echo(rs), owner="dns"))
            self.rs.append(rs)
        dummy = Dummy("kube-ipvs0", random_mac(w.rng))
        self.node.add_device(dummy)
        self.node.addr_add(dummy, parse_ip(VIP), 32)
        self.ipvs = Ipvs.of(self.node)


def _udp_echo(ns):
    def answer(ns_, pkt, dev, trace):
        reply = IPv4(pkt.dst, pkt.src, IPPROTO_UDP, UDP(pkt.l4.dport, pkt.l4.sport, f"answer from {ns.name}", 20))
        rtrace = ns.world.new_trace("udp answer", ns.name, reply, "udp reply")
        rtrace.t = trace.t
        ns.ip_local_out(reply, rtrace)
    return answer
