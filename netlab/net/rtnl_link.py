"""RTM_NEWLINK / RTM_DELLINK / RTM_SETLINK: the kernel's side of `ip link` and `bridge link`.

Every request is checked completely before anything changes (the kernel's do_setlink
applies attributes one by one and can stop half way; netlab refuses up front instead, so a
failed command changes nothing). The checks and their words are the kernel's:
dev_validate_mtu, vxlan_change_mtu, eth_prepare_mac_addr_change, dev_change_name,
do_set_master/br_add_if and __dev_change_net_namespace.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from netlab.net.addr import is_multicast_mac, random_mac
from netlab.net.device import Bridge, Device, Dummy, FdbEntry, Veth
from netlab.net.link_text import min_max_mtu
from netlab.net.packet import IPPROTO_UDP
from netlab.net.rtnl import RtnlError
from netlab.net.vxlan import Vxlan

if TYPE_CHECKING:
    from netlab.net.netns import NetNS

IFNAMSIZ = 16
VXLAN_HEADROOM = 50
DEFAULT_VXLAN_PORT = 8472  # the Linux default; IANA's 4789 must be asked for


def valid_ifname(name: str) -> bool:
    """dev_valid_name (iproute2's check_ifname is the same test)."""
    return 0 < len(name) < IFNAMSIZ and name not in (".", "..") and not any(c in name for c in "/: \t\n")


def _free_name(ns: NetNS, name: str) -> None:
    if name in ns.devices:
        raise RtnlError("EEXIST")


def _next_name(ns: NetNS, pattern: str) -> str:
    """dev_alloc_name: the first free `veth%d`."""
    i = 0
    while pattern % i in ns.devices:
        i += 1
    return pattern % i


# -- RTM_NEWLINK (create) ---------------------------------------------------------------------
def add_veth(ns: NetNS, name: str, peer_name: str | None = None, *, peer_ns: NetNS | None = None,
             mtu: int | None = None, mac: str | None = None, peer_mac: str | None = None,
             peer_mtu: int | None = None) -> tuple[Veth, Veth]:
    peer_ns = peer_ns or ns
    _free_name(ns, name)
    peer_name = peer_name or _next_name(peer_ns, "veth%d")
    _free_name(peer_ns, peer_name)
    if peer_ns is ns and peer_name == name:
        raise RtnlError("EEXIST")
    for m in (mac, peer_mac):
        if m is not None:
            check_mac(m)
    for m in (mtu, peer_mtu):
        if m is not None:
            check_mtu(Veth(name, "00:00:00:00:00:01"), m)
    rng = ns.world.rng
    a = Veth(name, mac or random_mac(rng), mtu or 1500)
    b = Veth(peer_name, peer_mac or random_mac(rng), peer_mtu or mtu or 1500)
    a.peer, b.peer = b, a
    ns.add_device(a)
    peer_ns.add_device(b)
    ns.world.version += 1
    return a, b


def add_bridge(ns: NetNS, name: str, *, mtu: int | None = None, mac: str | None = None) -> Bridge:
    _free_name(ns, name)
    if mac is not None:
        check_mac(mac)
    if mtu is not None:
        check_mtu(Bridge(name, "00:00:00:00:00:01"), mtu)
    br = Bridge(name, mac or random_mac(ns.world.rng), mtu or 1500)
    br.mac_from_ports = mac is None  # NET_ADDR_RANDOM: it will take its lowest port MAC
    ns.add_device(br)
    ns.world.version += 1
    return br


def follow_ports(br: Device | None) -> None:
    """br_stp_recalculate_bridge_id: a bridge whose MAC nobody set takes the numerically
    lowest MAC among its ports (its local FDB entry moves with it)."""
    if not isinstance(br, Bridge) or not getattr(br, "mac_from_ports", False) or not br.ports:
        return
    lowest = min(p.mac for p in br.ports)
    if lowest == br.mac:
        return
    old = br.fdb.get(br.mac)
    if old is not None and old.port is br:
        del br.fdb[br.mac]
    br.mac = lowest
    br.fdb.setdefault(lowest, FdbEntry(lowest, br, local=True))


def add_dummy(ns: NetNS, name: str, *, mtu: int | None = None, mac: str | None = None) -> Dummy:
    _free_name(ns, name)
    if mac is not None:
        check_mac(mac)
    dev = Dummy(name, mac or random_mac(ns.world.rng), mtu or 1500)
    ns.add_device(dev)
    ns.world.version += 1
    return dev


@dataclass
class VxlanSpec:
    vni: int
    local: int | None = None
    lower: Device | None = None
    dstport: int = DEFAULT_VXLAN_PORT
    learning: bool = True
    proxy: bool = False
    l2miss: bool = False
    l3miss: bool = False
    ttl: int = 0
    ageing: int = 300


def add_vxlan(ns: NetNS, name: str, spec: VxlanSpec, *, mtu: int | None = None, mac: str | None = None) -> Vxlan:
    """vxlan_newlink: one device per (VNI, port) in a namespace; the MTU leaves room for the
    50 bytes of outer headers on the lower device."""
    from netlab.net.socket import Socket
    from netlab.net.vxlan import vxlan_socket

    _free_name(ns, name)
    if mac is not None:
        check_mac(mac)
    if not 0 <= spec.vni < 1 << 24:
        raise RtnlError("ERANGE", "VXLAN ID out of range")
    if any(isinstance(d, Vxlan) and d.vni == spec.vni and d.dstport == spec.dstport for d in ns.devices.values()):
        raise RtnlError("EEXIST", "A VXLAN device with the specified VNI already exists")
    max_mtu = spec.lower.mtu - VXLAN_HEADROOM if spec.lower is not None else 65535 - VXLAN_HEADROOM
    if mtu is not None and mtu > max_mtu:
        raise RtnlError("EINVAL")
    dev = Vxlan(name, mac or random_mac(ns.world.rng), spec.vni, local=spec.local, dstport=spec.dstport,
                lower=spec.lower, learning=spec.learning, proxy=spec.proxy, l2miss=spec.l2miss,
                l3miss=spec.l3miss, mtu=mtu or min(1500, max_mtu), ttl=spec.ttl)
    dev.ageing = spec.ageing
    ns.add_device(dev)
    if (IPPROTO_UDP, spec.dstport) not in ns.sockets:
        ns.bind(Socket(IPPROTO_UDP, spec.dstport, vxlan_socket(ns, spec.dstport), owner="vxlan"))
    ns.world.version += 1
    return dev


# -- RTM_DELLINK -----------------------------------------------------------------------------
def delete(ns: NetNS, dev: Device) -> None:
    """rtnl_dellink: the driver decides; lo and physical NICs cannot be deleted. A veth takes
    its peer with it, wherever the peer lives; a bridge releases its ports."""
    if dev.kind in ("loopback", "ether"):
        raise RtnlError("EOPNOTSUPP")
    masters = [dev.master]
    if dev.admin_up:
        ns.set_link(dev, up=False)
    ns.remove_device(dev)
    peer = getattr(dev, "peer", None)
    if peer is not None and peer.ns is not None:
        peer_ns = peer.ns
        masters.append(peer.master)
        if peer.admin_up:
            peer_ns.set_link(peer, up=False)
        peer_ns.remove_device(peer)
    for br in masters:
        follow_ports(br)
    if isinstance(dev, Vxlan) and not any(isinstance(d, Vxlan) and d.dstport == dev.dstport for d in ns.devices.values()):
        sock = ns.sockets.get((IPPROTO_UDP, dev.dstport))
        if sock is not None and sock.owner == "vxlan":
            ns.unbind(sock)
    ns.world.version += 1


# -- RTM_SETLINK ------------------------------------------------------------------------------
def check_mtu(dev: Device, mtu: int) -> None:
    lo, hi = min_max_mtu(dev)
    if mtu < 0 or mtu < lo:
        raise RtnlError("EINVAL", "mtu less than device minimum")
    if hi and mtu > hi:
        raise RtnlError("EINVAL", "mtu greater than device maximum")
    lower = getattr(dev, "lower", None)
    if isinstance(dev, Vxlan) and lower is not None and mtu > lower.mtu - VXLAN_HEADROOM:
        raise RtnlError("EINVAL")  # vxlan_change_mtu: the outer headers must still fit


def check_mac(mac: str) -> None:
    """eth_prepare_mac_addr_change: only a valid unicast address (not zero, not multicast)."""
    if mac == "00:00:00:00:00:00" or is_multicast_mac(mac):
        raise RtnlError("EADDRNOTAVAIL")


def check_master(dev: Device, master: Device) -> None:
    """do_set_master → br_add_if's refusals."""
    if master is dev.master:
        return
    if not isinstance(master, Bridge):
        raise RtnlError("EOPNOTSUPP")
    if dev.kind == "loopback":
        raise RtnlError("EINVAL")
    if isinstance(dev, Bridge):
        raise RtnlError("ELOOP", "Can not enslave a bridge to a bridge")


@dataclass
class LinkChange:
    """The attributes of one RTM_SETLINK (None: leave as is)."""
    up: bool | None = None
    mtu: int | None = None
    mac: str | None = None
    name: str | None = None
    master: Device | None = None
    nomaster: bool = False
    netns: NetNS | None = None
    txqlen: int | None = None
    arp: bool | None = None
    promisc: bool | None = None


def check_change(ns: NetNS, dev: Device, change: LinkChange) -> None:
    if change.netns is not None and change.netns is not ns:
        if dev.kind in ("loopback", "bridge", "vxlan"):
            raise RtnlError("EINVAL")  # NETIF_F_NETNS_LOCAL
        if (change.name or dev.name) in change.netns.devices:
            raise RtnlError("EEXIST")
    if change.mac is not None:
        if dev.kind == "loopback":
            raise RtnlError("EOPNOTSUPP")
        check_mac(change.mac)
    if change.mtu is not None:
        check_mtu(dev, change.mtu)
    if change.name is not None and change.name != dev.name:
        if dev.admin_up and change.netns is None:
            raise RtnlError("EBUSY")
        if change.netns is None and change.name in ns.devices:
            raise RtnlError("EEXIST")
    if change.master is not None and change.netns is None:
        check_master(dev, change.master)


def apply_change(ns: NetNS, dev: Device, change: LinkChange) -> None:
    """Check the whole change, then make it, in do_setlink's order."""
    check_change(ns, dev, change)
    if change.netns is not None and change.netns is not ns:
        move_to_netns(ns, dev, change.netns, change.name)
        ns.world.version += 1
        return
    if change.mac is not None and change.mac != dev.mac:
        set_mac(dev, change.mac)
    if change.mtu is not None:
        dev.mtu = change.mtu
    if change.name is not None and change.name != dev.name:
        ns.rename_device(dev, change.name)
    if change.txqlen is not None:
        dev.txqlen = change.txqlen
    if change.arp is not None:
        dev.arp = change.arp
    if change.promisc is not None:
        dev.promisc = change.promisc
    if change.up is not None:
        set_up(ns, dev, change.up)
    old_master = dev.master
    if change.nomaster and dev.master is not None:
        dev.master.remove_port(dev)
    if change.master is not None and change.master is not dev.master:
        if dev.master is not None:
            dev.master.remove_port(dev)
        change.master.add_port(dev)
    for br in (old_master, dev.master):
        follow_ports(br)
    ns.world.version += 1


def set_up(ns: NetNS, dev: Device, up: bool) -> None:
    """dev_change_flags(IFF_UP). A device that has been up keeps its qdisc (link_text.qdisc)."""
    if up or dev.admin_up:
        dev.been_up = True
    ns.set_link(dev, up=up)


def set_mac(dev: Device, mac: str) -> None:
    """dev_set_mac_address: a bridge port's (or the bridge's own) local FDB entry follows it."""
    old = dev.mac
    dev.mac = mac
    if isinstance(dev, Bridge):
        dev.mac_from_ports = False  # NET_ADDR_SET: from now on it keeps this one
    bridges = [b for b in (dev.master, dev if isinstance(dev, Bridge) else None) if isinstance(b, Bridge)]
    for br in bridges:
        entry = br.fdb.get(old)
        port = dev
        if entry is not None and entry.local and entry.port is port:
            del br.fdb[old]
        br.fdb[mac] = FdbEntry(mac, port, local=True)


def move_to_netns(ns: NetNS, dev: Device, target: NetNS, name: str | None = None) -> None:
    """__dev_change_net_namespace: down, out of its bridge, addresses, routes and neighbours
    gone; in the new namespace it keeps its ifindex when that number is free there."""
    if dev.admin_up:
        ns.set_link(dev, up=False)
    for a in list(dev.addrs):
        ns.addr_del(dev, a.ip, a.plen)
    ns.remove_device(dev)
    if name is not None:
        dev.name = name
    target.add_device(dev, dev.ifindex)
