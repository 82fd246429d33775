"""Link and address text as iproute2's print_linkinfo / print_addrinfo write it: the one
formatter for `ip link`, `ip addr` (full, -o, -br, -d, -s) and `bridge link`.

Also the facts those outputs show that the device model keeps implicitly: the operational
state, the flag words, the IPv6 link-local address every up ethernet device gets (EUI-64 of
its MAC), the multicast addresses it joins, and netns ids.
"""
from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

from netlab.net.addr import fmt_ip
from netlab.net.fib import SCOPE_NAMES

if TYPE_CHECKING:
    from netlab.net.device import Device, IfAddr
    from netlab.net.netns import NetNS

BROADCAST_MAC = "ff:ff:ff:ff:ff:ff"
IFF = {"UP": 0x1, "BROADCAST": 0x2, "LOOPBACK": 0x8, "RUNNING": 0x40, "NOARP": 0x80, "PROMISC": 0x100,
       "MULTICAST": 0x1000}
LINK_KINDS = ("veth", "bridge", "vxlan", "dummy")  # IFLA_INFO_KIND; lo and NICs have none


# -- device state as the kernel reports it -----------------------------------------------
def has_flag_multicast(dev: Device) -> bool:
    return dev.kind not in ("loopback", "dummy")


def peer_down(dev: Device) -> bool:
    """M-DOWN: a veth whose peer, in this same namespace, is down (print_name_and_link)."""
    peer = getattr(dev, "peer", None)
    return peer is not None and peer.ns is dev.ns and not peer.admin_up


def flags_text(dev: Device, mdown: bool | None = None) -> str:
    words = ",".join(link_flags(dev))
    if peer_down(dev) if mdown is None else mdown:
        words += ",M-DOWN"
    return f"<{words}>"


def link_flags(dev: Device) -> list[str]:
    """The words between < > in iproute2's order (print_link_flags)."""
    out = []
    up, lower_up = dev.admin_up, dev.admin_up and dev.carrier
    if up and not lower_up:
        out.append("NO-CARRIER")
    if dev.kind == "loopback":
        out.append("LOOPBACK")
    elif dev.broadcast_capable:
        out.append("BROADCAST")
    if has_flag_multicast(dev):
        out.append("MULTICAST")
    if not dev.arp and dev.kind != "loopback":
        out.append("NOARP")
    if getattr(dev, "promisc", False):
        out.append("PROMISC")
    if up:
        out.append("UP")
    if lower_up:
        out.append("LOWER_UP")
    return out


def ifflags_value(dev: Device) -> tuple[int, list[str]]:
    """SIOCGIFFLAGS as ifconfig prints it: the number and the names, in net-tools' order."""
    names = []
    if dev.admin_up:
        names.append("UP")
    if dev.kind != "loopback" and dev.broadcast_capable:
        names.append("BROADCAST")
    if dev.kind == "loopback":
        names.append("LOOPBACK")
    if dev.admin_up and dev.carrier:
        names.append("RUNNING")
    if not dev.arp and dev.kind != "loopback":
        names.append("NOARP")
    if getattr(dev, "promisc", False):
        names.append("PROMISC")
    if has_flag_multicast(dev):
        names.append("MULTICAST")
    return sum(IFF[n] for n in names), names


def operstate(dev: Device) -> str:
    if not dev.admin_up:
        return "DOWN"
    if dev.kind in ("loopback", "vxlan", "dummy"):
        return "UNKNOWN"  # these drivers never report an operational state
    if dev.carrier:
        return "UP"
    return "LOWERLAYERDOWN" if dev.kind == "veth" else "DOWN"


def link_kind(dev: Device) -> str | None:
    return dev.kind if dev.kind in LINK_KINDS else None


def ipv6_link_local(dev: Device) -> str | None:
    """The fe80::/64 EUI-64 address addrconf gives an ethernet device once it is up with carrier."""
    if dev.kind == "loopback" or not (dev.admin_up and dev.carrier):
        return None
    octets = [int(x, 16) for x in dev.mac.split(":")]
    octets[0] ^= 0x02
    eui = octets[:3] + [0xFF, 0xFE] + octets[3:]
    value = (0xFE80 << 112) | int.from_bytes(bytes(eui), "big")
    return str(ipaddress.IPv6Address(value))


def ipv6_addrs(dev: Device) -> list[tuple[str, int, str]]:
    """(address, prefix length, scope) of the IPv6 addresses the device shows."""
    if dev.kind == "loopback":
        return [("::1", 128, "host")] if dev.admin_up else []
    ll = ipv6_link_local(dev)
    return [(ll, 64, "link")] if ll else []


def multicast_macs(dev: Device) -> list[str]:
    """dev->mc: the groups an up device has joined (all-nodes, all-hosts, the link-local's
    solicited-node address; a bridge also the multicast-router-discovery groups)."""
    if dev.kind == "loopback" or not dev.admin_up:
        return []
    out = ["33:33:00:00:00:01"]
    if dev.kind == "bridge":
        out += ["01:00:5e:00:00:6a", "33:33:00:00:00:6a"]
    out.append("01:00:5e:00:00:01")
    ll = ipv6_link_local(dev)
    if ll:
        tail = ipaddress.IPv6Address(ll).packed[-3:]
        out.append("33:33:ff:" + ":".join(f"{b:02x}" for b in tail))
    return out


def netns_ids(ns: NetNS) -> dict:
    """peernet2id: the id this namespace has given each namespace it is linked to by a veth,
    numbered from 0 in the order of the local ends' ifindexes."""
    ids: dict = {}
    for dev in sorted(ns.devices.values(), key=lambda d: d.ifindex):
        peer = getattr(dev, "peer", None)
        if peer is not None and peer.ns is not None and peer.ns is not ns and peer.ns not in ids:
            ids[peer.ns] = len(ids)
    return ids


def visible_netns(ns: NetNS) -> dict[str, NetNS]:
    """Namespaces with a name under /var/run/netns as seen from `ns` (a node sees its pods')."""
    if ns.kind == "pod":
        return {}
    out = {}
    for dev in ns.devices.values():
        peer = getattr(dev, "peer", None)
        if peer is not None and peer.ns is not None and peer.ns is not ns and peer.ns.netns_name:
            out[peer.ns.netns_name] = peer.ns
    return out


def link_netns_text(dev: Device, ns: NetNS) -> str:
    """` link-netns NAME` / ` link-netnsid N` for a veth whose peer lives in another namespace."""
    peer = getattr(dev, "peer", None)
    if peer is None or peer.ns is None or peer.ns is ns:
        return ""
    if ns.kind != "pod" and peer.ns.netns_name:
        return f" link-netns {peer.ns.netns_name}"
    return f" link-netnsid {netns_ids(ns).get(peer.ns, 0)}"


def display_name(dev: Device) -> str:
    return dev.name + dev.link_suffix()


# -- ip link -----------------------------------------------------------------------------
def link_header(dev: Device, *, do_link: bool) -> str:
    parts = [f"{dev.ifindex}: {display_name(dev)}: {flags_text(dev)} mtu {dev.mtu} qdisc {qdisc(dev)} "]
    if dev.master is not None:
        parts.append(f"master {dev.master.name} ")
    parts.append(f"state {operstate(dev)} ")
    if do_link:
        parts.append("mode DEFAULT ")
    parts.append("group default ")
    if dev.txqlen:
        parts.append(f"qlen {dev.txqlen}")
    return "".join(parts)


def qdisc(dev: Device) -> str:
    """A device gets its default qdisc when first brought up and keeps it when taken down;
    one never up (a fresh `ip link add`, kube-ipvs0) shows noop."""
    if dev.admin_up or dev.kind == "loopback" or getattr(dev, "been_up", False):
        return dev.qdisc
    return "noop"


def link_layer(dev: Device) -> str:
    if dev.kind == "loopback":
        return "    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00"
    return f"    link/ether {dev.mac} brd {BROADCAST_MAC}"


def min_max_mtu(dev: Device) -> tuple[int, int]:
    return (0, 0) if dev.kind == "loopback" else (68, 65535)


def link_details(dev: Device, *, do_link: bool) -> list[str]:
    """The -d text after the link/ line: first a continuation of that line, then one line
    for the kind, one for the bridge-port role; queue figures close the last one."""
    lo, hi = min_max_mtu(dev)
    promisc = 1 if dev.master is not None or getattr(dev, "promisc", False) else 0
    first = f" promiscuity {promisc}  allmulti {promisc} minmtu {lo} maxmtu {hi} "
    lines = [first]
    kind = link_kind(dev)
    if kind is not None:
        lines.append(f"    {kind} " + kind_options(dev))
    if dev.master is not None and dev.master.kind == "bridge":
        lines.append("    bridge_slave " + bridge_slave_options(dev))
    tail = ("addrgenmode eui64 " if do_link else "") + \
        "numtxqueues 1 numrxqueues 1 gso_max_size 65536 gso_max_segs 65535 tso_max_size 524280 " \
        "tso_max_segs 65535 gro_max_size 65536 "
    lines[-1] += tail
    return lines


def bridge_id(br: Device, priority: int = 0x8000) -> str:
    return f"{priority:x}." + ":".join(f"{int(b, 16):x}" for b in br.mac.split(":"))


def timer(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole:4d}.{int(round((seconds - whole) * 100)) % 100:02d}"


def kind_options(dev: Device) -> str:
    if dev.kind == "vxlan":
        parts = [f"id {dev.vni}"]
        if dev.local is not None:
            parts.append(f"local {fmt_ip(dev.local)}")
        if dev.lower is not None:
            parts.append(f"dev {dev.lower.name}")
        parts += ["srcport 0 0", f"dstport {dev.dstport}"]
        if not dev.vxlan_learning:
            parts.append("nolearning")
        parts += [w for w, on in (("proxy", dev.proxy), ("l2miss", dev.l2miss), ("l3miss", dev.l3miss)) if on]
        parts.append(f"ttl {dev.ttl}" if dev.ttl else "ttl auto")
        parts.append(f"ageing {dev.ageing}")
        parts += ["udpcsum", "noudp6zerocsumtx", "noudp6zerocsumrx"]
        return " ".join(parts) + " "
    if dev.kind == "bridge":
        bid = bridge_id(dev)
        gc = dev.ageing_time - (dev.ns.world.clock % dev.ageing_time) if dev.ns is not None else 0.0
        return (f"forward_delay 1500 hello_time 200 max_age 2000 ageing_time {int(dev.ageing_time * 100)} "
                f"stp_state {1 if dev.stp else 0} priority 32768 vlan_filtering 0 bridge_id {bid} "
                f"designated_root {bid} root_port 0 root_path_cost 0 topology_change 0 topology_change_detected 0 "
                f"hello_timer {timer(0)} tcn_timer {timer(0)} topology_change_timer {timer(0)} gc_timer {timer(gc)} "
                "group_fwd_mask 0 group_address 01:80:c2:00:00:00 mcast_snooping 1 no_linklocal_learn 0 "
                "mcast_vlan_snooping 0 mcast_router 1 mcast_query_use_ifaddr 0 mcast_querier 0 "
                "mcast_hash_elasticity 16 mcast_hash_max 4096 mcast_last_member_count 2 "
                "mcast_startup_query_count 2 mcast_last_member_interval 100 mcast_membership_interval 26000 "
                "mcast_querier_interval 25500 mcast_query_interval 12500 mcast_query_response_interval 1000 "
                "mcast_startup_query_interval 3124 mcast_stats_enabled 0 mcast_igmp_version 2 mcast_mld_version 1 "
                "nf_call_iptables 0 nf_call_ip6tables 0 nf_call_arptables 0 ")
    return ""


def port_no(dev: Device) -> int:
    return dev.master.ports.index(dev) + 1 if dev.master is not None and dev in dev.master.ports else 0


def onoff(value: bool) -> str:
    return "on" if value else "off"


def bridge_slave_options(dev: Device) -> str:
    no = port_no(dev)
    bid = bridge_id(dev.master)
    return (f"state {dev.port_state} priority 32 cost 2 hairpin {onoff(dev.hairpin)} guard off root_block off "
            f"fastleave off learning {onoff(dev.learning)} flood on port_id 0x{0x8000 + no:x} port_no 0x{no:x} "
            f"designated_port {0x8000 + no} designated_cost 0 designated_bridge {bid} designated_root {bid} "
            f"hold_timer {timer(0)} message_age_timer {timer(0)} forward_delay_timer {timer(0)} "
            "topology_change_ack 0 config_pending 0 proxy_arp off proxy_arp_wifi off mcast_router 1 "
            "mcast_fast_leave off mcast_flood on bcast_flood on mcast_to_unicast off neigh_suppress off "
            "group_fwd_mask 0 group_fwd_mask_str 0x0 vlan_tunnel off isolated off locked off ")


def stats_lines(dev: Device) -> list[str]:
    """print_link_stats64: column widths grow to fit the largest counter."""
    s = dev.stats
    rx = [s.rx_bytes, s.rx_packets, s.rx_errors, s.rx_dropped, 0, 0]
    tx = [s.tx_bytes, s.tx_packets, s.tx_errors, s.tx_dropped, 0, 0]
    cols = [len("*X errors:"), len("packets"), len("errors"), len("dropped"), len("heartbt"), len("overrun"),
            len("compressed")]
    for values in (rx, tx):
        for i, v in enumerate(values):
            cols[i] = max(cols[i], len(str(v)))

    def header(tag: str, names: list[str]) -> str:
        return (f"    {tag}: {'bytes':>{cols[0] - 4}} {names[0]:>{cols[1]}} {names[1]:>{cols[2]}} "
                f"{names[2]:>{cols[3]}} {names[3]:>{cols[4]}} {names[4]:>{cols[5]}} {'':>{cols[6]}}")

    def row(values: list[int]) -> str:
        return "    " + "".join(f"{v:>{cols[i]}} " for i, v in enumerate(values))

    return [header("RX", ["packets", "errors", "dropped", "missed", "mcast"]), row(rx),
            header("TX", ["packets", "errors", "dropped", "carrier", "collsns"]), row(tx)]


def link_record(dev: Device, ns: NetNS, *, do_link: bool, family: str | None = None, details: bool = False,
                stats: bool = False) -> list[str]:
    """One device's lines (before any addresses). `family` None or "link" prints the link/ line."""
    lines = [link_header(dev, do_link=do_link)]
    netns = link_netns_text(dev, ns)
    if family in (None, "link") or details:
        lines.append(link_layer(dev) + netns)
    else:
        lines[0] += netns
    if details:
        detail = link_details(dev, do_link=do_link)
        lines[-1] += detail[0]
        lines += detail[1:]
    if dev.alias and (do_link or details):
        lines.append(f"    alias {dev.alias}")
    if do_link and stats:
        lines += stats_lines(dev)
    return lines


def link_brief(dev: Device) -> str:
    return f"{display_name(dev):<16} {operstate(dev):<14} {dev.mac} {flags_text(dev)} "


# -- ip addr ------------------------------------------------------------------------------
def scope_name(scope: int) -> str:
    return SCOPE_NAMES.get(scope, str(scope))


def ordered_addrs(dev: Device) -> list[IfAddr]:
    """The ifa_list order: primaries first (as added), then secondaries."""
    return [a for a in dev.addrs if not a.secondary] + [a for a in dev.addrs if a.secondary]


def inet_line(dev: Device, a: IfAddr) -> tuple[str, str]:
    """(the `inet` line, the lifetime line) of one IPv4 address."""
    text = f"    inet {fmt_ip(a.ip)}/{a.plen} "
    if a.metric:
        text += f"metric {a.metric} "
    if a.broadcast is not None:
        text += f"brd {fmt_ip(a.broadcast)} "
    text += f"scope {scope_name(a.scope)} "
    if a.secondary:
        text += "secondary "
    if a.noprefixroute:
        text += "noprefixroute "
    text += a.label or dev.name
    return text, "       valid_lft forever preferred_lft forever"


def inet6_line(addr: str, plen: int, scope: str) -> tuple[str, str]:
    return f"    inet6 {addr}/{plen} scope {scope} ", "       valid_lft forever preferred_lft forever"


def addr_brief(dev: Device, words: list[str]) -> str:
    """`ip -br addr`: name, state, then each address followed by a space."""
    return f"{display_name(dev):<16} {operstate(dev):<14} " + "".join(words)
