"""Building blocks that do what `ip link add` and a cable do: hosts on segments, veth pairs."""
from __future__ import annotations

from netlab.net.addr import broadcast, random_mac
from netlab.net.device import Bridge, Nic, Veth
from netlab.net.fib import SCOPE_UNIVERSE, Route
from netlab.net.netns import NetNS
from netlab.net.segment import Segment
from netlab.net.vxlan import Vxlan, vxlan_socket
from netlab.net.socket import Socket
from netlab.net.packet import IPPROTO_UDP


def attach_nic(ns: NetNS, segment: Segment, ip: int, plen: int, *, name: str = "eth0", mac: str | None = None,
               metric: int = 0, mtu: int = 1500) -> Nic:
    nic = Nic(name, mac or random_mac(ns.world.rng, "00:15:5d"), mtu)
    ns.add_device(nic)
    segment.plug(nic)
    ns.set_link(nic, up=True)
    ns.addr_add(nic, ip, plen, metric=metric, broadcast_addr=broadcast(ip, plen))  # as DHCP/netplan set it
    return nic


def add_default_route(ns: NetNS, gateway: int, dev, *, metric: int = 0, proto: str = "boot") -> None:
    ns.fib.add(Route(0, 0, gateway=gateway, dev=dev, metric=metric, proto=proto, scope=SCOPE_UNIVERSE))


def veth_pair(ns_a: NetNS, name_a: str, ns_b: NetNS, name_b: str, *, mtu: int = 1500,
              mac_a: str | None = None, mac_b: str | None = None) -> tuple[Veth, Veth]:
    rng = ns_a.world.rng
    a = Veth(name_a, mac_a or random_mac(rng), mtu)
    b = Veth(name_b, mac_b or random_mac(rng), mtu)
    a.peer, b.peer = b, a
    ns_a.add_device(a)
    ns_b.add_device(b)
    return a, b


def add_bridge(ns: NetNS, name: str, *, mac: str | None = None, mtu: int = 1500) -> Bridge:
    br = Bridge(name, mac or random_mac(ns.world.rng), mtu)
    ns.add_device(br)
    return br


def add_vxlan(ns: NetNS, name: str, vni: int, *, local: int, lower, dstport: int = 8472, learning: bool = False,
              mtu: int = 1450, mac: str | None = None, proxy: bool = False, l2miss: bool = False,
              l3miss: bool = False) -> Vxlan:
    dev = Vxlan(name, mac or random_mac(ns.world.rng), vni, local=local, dstport=dstport, lower=lower,
                learning=learning, mtu=mtu, proxy=proxy, l2miss=l2miss, l3miss=l3miss)
    ns.add_device(dev)
    if (IPPROTO_UDP, dstport) not in ns.sockets:
        ns.bind(Socket(IPPROTO_UDP, dstport, vxlan_socket(ns, dstport), owner="vxlan"))
    return dev
