"""`ip link`: show, set, add, delete (iplink.c, link_veth.c, iplink_bridge.c, iplink_vxlan.c)."""
from __future__ import annotations

from netlab.net import rtnl_link as K
from netlab.net.device import Bridge, Dummy
from netlab.net.rtnl import RtnlError
from netlab.shell.ip.addr import list_or_flush
from netlab.shell.ip.common import (Args, IpExit, IpOptions, duparg, duparg2, find_dev, get_addr, get_u32, invarg,
                                    ll_addr, matches, nodev, require_dev, unknown_command)

USAGE = """Usage: ip link add [link DEV | parentdev NAME] [ name ] NAME
		    [ txqueuelen PACKETS ]
		    [ address LLADDR ]
		    [ broadcast LLADDR ]
		    [ mtu MTU ] [index IDX ]
		    [ numtxqueues QUEUE_COUNT ]
		    [ numrxqueues QUEUE_COUNT ]
		    [ netns { PID | NETNSNAME | NETNSFILE } ]
		    type TYPE [ ARGS ]

	ip link delete { DEVICE | dev DEVICE | group DEVGROUP } type TYPE [ ARGS ]

	ip link { set | change } { DEVICE | dev DEVICE | group DEVGROUP }
			[ { up | down } ]
			[ type TYPE ARGS ]
		[ arp { on | off } ]
		[ dynamic { on | off } ]
		[ multicast { on | off } ]
		[ allmulticast { on | off } ]
		[ promisc { on | off } ]
		[ trailers { on | off } ]
		[ carrier { on | off } ]
		[ txqueuelen PACKETS ]
		[ name NEWNAME ]
		[ address LLADDR ]
		[ broadcast LLADDR ]
		[ mtu MTU ]
		[ netns { PID | NETNSNAME | NETNSFILE } ]
		[ link-netns NAME | link-netnsid ID ]
		[ alias NAME ]
		[ master DEVICE ][ vrf NAME ]
		[ nomaster ]
		[ addrgenmode { eui64 | none | stable_secret | random } ]
		[ protodown { on | off } ]

	ip link show [ DEVICE | group GROUP ] [up] [master DEV] [vrf NAME] [type TYPE]
		[nomaster]

	ip link help [ TYPE ]

TYPE := { amt | bareudp | bond | bond_slave | bridge | bridge_slave |
	  dsa | dummy | erspan | geneve | gre | gretap | gtp | ifb |
	  ip6erspan | ip6gre | ip6gretap | ip6tnl |
	  ipip | ipoib | ipvlan | ipvtap |
	  macsec | macvlan | macvtap |
	  netdevsim | nlmon | rmnet | sit | team | team_slave |
	  vcan | veth | vlan | vrf | vti | vxcan | vxlan | wwan |
	  xfrm }"""
ON_OFF = ("multicast", "allmulticast", "trailers", "dynamic", "carrier", "protodown")
VXLAN_PORT_WARNING = ("vxlan: destination port not specified\n"
                      "Will use Linux kernel default (non-standard value)\n"
                      "Use 'dstport 4789' to get the IANA assigned value\n"
                      "Use 'dstport 0' to get default and quiet this message")


def usage():
    raise IpExit(USAGE, 255)


def on_off(what: str, value: str) -> bool:
    if value == "on":
        return True
    if value == "off":
        return False
    raise IpExit(f'Error: argument of "{what}" must be "on" or "off", not "{value}"', 1)


class Parsed:
    """iplink_parse's result: generic link attributes, the device, the kind and its args."""

    def __init__(self) -> None:
        self.change = K.LinkChange()
        self.dev: str | None = None
        self.name: str | None = None
        self.kind: str | None = None
        self.kind_args: list[str] = []
        self.netns_name: str | None = None
        self.alias: str | None = None


def resolve_netns(opts: IpOptions, name: str):
    from netlab.shell.ip.netns import named_netns

    target = named_netns(opts).get(name)
    if target is None:
        invarg('Invalid "netns" value\n', name)
    return target


def iplink_parse(opts: IpOptions, args: Args) -> Parsed:
    p = Parsed()
    c = p.change
    while args:
        a = args.cur
        if a == "up":
            c.up = True
        elif a == "down":
            c.up = False
        elif a == "name":
            name = args.next()
            if not K.valid_ifname(name):
                invarg('"name" not a valid ifname', name)
            p.name = name
        elif a == "index":
            args.next()
        elif matches(a, "link"):
            args.next()
        elif matches(a, "address"):
            c.mac = ll_addr(args.next())
        elif matches(a, "broadcast") or a == "brd":
            ll_addr(args.next())
        elif matches(a, "txqueuelen") or a == "qlen" or matches(a, "txqlen"):
            if c.txqlen is not None:
                duparg("txqueuelen", args.next())
            c.txqlen = args.next_u32('Invalid "txqueuelen" value\n')
        elif a == "mtu":
            if c.mtu is not None:
                duparg("mtu", args.next())
            c.mtu = args.next_u32('Invalid "mtu" value\n')
        elif a == "netns":
            p.netns_name = args.next()
            c.netns = resolve_netns(opts, p.netns_name)
        elif a in ON_OFF:
            on_off(a, args.next())
        elif a == "promisc":
            c.promisc = on_off("promisc", args.next())
        elif a == "arp":
            c.arp = on_off("arp", args.next())
        elif matches(a, "master"):
            name = args.next()
            master = find_dev(opts.ns, name)
            if master is None:
                invarg("Device does not exist\n", name)
            c.master = master
        elif matches(a, "nomaster"):
            c.nomaster = True
        elif matches(a, "type"):
            p.kind = args.next()
            args.advance()
            p.kind_args = args.rest()
            break
        elif matches(a, "alias"):
            p.alias = args.next()
        elif a in ("group", "mode", "state", "numtxqueues", "numrxqueues", "addrgenmode", "link-netnsid",
                   "link-netns", "gso_max_size", "gso_max_segs", "xdp", "vf"):
            args.next()
        else:
            if a == "dev":
                a = args.next()
            elif matches(a, "help"):
                usage()
            if p.dev is not None:
                duparg2("dev", a)
            if not K.valid_ifname(a):
                invarg('"dev" not a valid ifname', a)
            p.dev = a
        args.advance()
    return p


def parse_for_device(opts: IpOptions, argv: list[str]):
    """iplink_modify without NLM_F_CREATE: the arguments, and the device they name."""
    p = iplink_parse(opts, Args(argv))
    if p.dev is None:
        raise IpExit('Not enough information: "dev" argument is required.', 255)
    return p, require_dev(opts.ns, p.dev)


def set_link(opts: IpOptions, argv: list[str]) -> int:
    p, dev = parse_for_device(opts, argv)
    p.change.name = p.name
    kind_values = parse_set_type(dev, p.kind, p.kind_args) if p.kind is not None else {}
    K.apply_change(opts.ns, dev, p.change)
    if p.alias is not None:
        dev.alias = p.alias or None
    for attr, value in kind_values.items():
        setattr(dev, attr, value)
    return 0


def garbage(word: str):
    raise IpExit(f'Garbage instead of arguments "{word} ...". Try "ip link help".', 1)


def parse_bridge_slave_options(argv: list[str]) -> dict:
    """bridge_slave_parse_opt, for the port attributes netlab's bridge models."""
    args = Args(argv)
    values: dict = {}
    while args:
        a = args.cur
        if a in ("hairpin", "learning"):
            values[a] = on_off(a, args.next())
        elif a in ("guard", "root_block", "fastleave", "flood", "mcast_flood", "bcast_flood", "proxy_arp",
                   "neigh_suppress", "isolated", "vlan_tunnel", "mcast_to_unicast"):
            on_off(a, args.next())
        elif a in ("state", "priority", "cost", "mcast_router", "group_fwd_mask"):
            args.next()
        else:
            garbage(a)
        args.advance()
    return values


def parse_bridge_options(argv: list[str]) -> dict:
    """bridge_parse_opt: ageing_time (centiseconds) and stp_state change the model."""
    args = Args(argv)
    values: dict = {}
    while args:
        a = args.cur
        if a == "ageing_time":
            values["ageing_time"] = args.next_u32('Invalid "ageing_time" value\n') / 100
        elif a == "stp_state":
            values["stp"] = bool(args.next_u32('Invalid "stp_state" value\n'))
        elif a in ("forward_delay", "hello_time", "max_age", "priority", "vlan_filtering", "mcast_snooping",
                   "nf_call_iptables", "group_fwd_mask"):
            args.next()
        else:
            garbage(a)
        args.advance()
    return values


def parse_set_type(dev, kind: str, argv: list[str]) -> dict:
    """`ip link set DEV type KIND ARGS`: the attributes to change on DEV."""
    if kind == "bridge_slave":
        if dev.master is None or dev.master.kind != "bridge":
            raise RtnlError("EOPNOTSUPP")
        return parse_bridge_slave_options(argv)
    if kind != dev.kind:
        raise RtnlError("EOPNOTSUPP")
    if kind == "bridge":
        return parse_bridge_options(argv)
    if argv:
        garbage(argv[0])
    return {}


# -- add ------------------------------------------------------------------------------------------
def add_link(opts: IpOptions, argv: list[str]) -> int:
    """iplink_modify(RTM_NEWLINK, NLM_F_CREATE|NLM_F_EXCL): the kind's options are parsed and the
    master checked before the device exists, so a refused request leaves nothing behind."""
    p = iplink_parse(opts, Args(argv))
    name = p.name or p.dev
    if p.kind is None:
        raise IpExit('Not enough information: "type" argument is required', 1)
    if name is None:
        raise RtnlError("EINVAL")
    c = p.change
    target = c.netns or opts.ns
    if c.master is not None:
        if c.netns is not None and c.netns is not opts.ns:
            raise RtnlError("ENODEV")
        K.check_master((Bridge if p.kind == "bridge" else Dummy)(name, "00:00:00:00:00:01"), c.master)
    if p.kind == "veth":
        peer = parse_veth_peer(opts, p.kind_args)
        pc = peer.change
        peer_name = peer.name or peer.dev
        dev, _ = K.add_veth(target, name, peer_name, peer_ns=pc.netns or target, mtu=c.mtu, mac=c.mac,
                            peer_mac=pc.mac, peer_mtu=pc.mtu)
    elif p.kind == "bridge":
        kind_values = parse_bridge_options(p.kind_args)
        dev = K.add_bridge(target, name, mtu=c.mtu, mac=c.mac)
        for attr, value in kind_values.items():
            setattr(dev, attr, value)
    elif p.kind == "vxlan":
        dev = K.add_vxlan(target, name, parse_vxlan(opts, p.kind_args), mtu=c.mtu, mac=c.mac)
    elif p.kind == "dummy":
        if p.kind_args:
            garbage(p.kind_args[0])
        dev = K.add_dummy(target, name, mtu=c.mtu, mac=c.mac)
    else:
        if name in target.devices:
            raise RtnlError("EEXIST")
        raise RtnlError("EOPNOTSUPP", "Unknown device type")
    if c.txqlen is not None:
        dev.txqlen = c.txqlen
    if p.alias:
        dev.alias = p.alias
    if c.master is not None:
        c.master.add_port(dev)
        K.follow_ports(c.master)
    if c.up:
        K.set_up(target, dev, True)
    return 0


def parse_veth_peer(opts: IpOptions, argv: list[str]) -> Parsed:
    if not argv:
        return Parsed()
    if argv[0] != "peer":
        raise IpExit("Usage: ip link <options> type veth [peer <options>]\n"
                     "To get <options> type 'ip link add help'", 1)
    peer = iplink_parse(opts, Args(argv[1:]))
    if peer.kind is not None:
        duparg("type", peer.kind)
    return peer


def parse_vxlan(opts: IpOptions, argv: list[str]) -> K.VxlanSpec:
    """vxlan_parse_opt."""
    args = Args(argv)
    vni = None
    spec = K.VxlanSpec(0)
    port_given = False
    while args:
        a = args.cur
        if a in ("id", "vni"):
            vni = args.next_u32("invalid id", 1 << 24)
        elif a in ("group", "remote"):
            get_addr(args.next(), "inet")
            raise IpExit("netlab's VXLAN devices take remote VTEPs from FDB entries (bridge fdb append ... dst IP)", 1)
        elif a == "local":
            spec.local = get_addr(args.next(), "inet")
        elif a == "dev":
            name = args.next()
            spec.lower = find_dev(opts.ns, name)
            if spec.lower is None:
                nodev(name)
        elif a == "dstport":
            spec.dstport, port_given = args.next_u32("dstport", 1 << 16) or K.DEFAULT_VXLAN_PORT, True
        elif a == "nolearning":
            spec.learning = False
        elif a == "learning":
            spec.learning = True
        elif a in ("proxy", "l2miss", "l3miss"):
            setattr(spec, a, True)
        elif a in ("noproxy", "nol2miss", "nol3miss"):
            setattr(spec, a[2:], False)
        elif a in ("ttl", "hoplimit"):
            text = args.next()
            if text not in ("auto", "inherit"):
                value = get_u32(text)
                if value is None or value > 255:
                    invarg('invalid TTL\n', text)
                spec.ttl = value
        elif a == "ageing":
            spec.ageing = args.next_u32("ageing")
        elif a in ("port", "srcport"):
            args.next()
            args.next()
        elif a in ("tos", "df", "flowlabel", "maxaddress", "label"):
            args.next()
        elif a in ("udpcsum", "noudpcsum", "udp6zerocsumtx", "noudp6zerocsumtx", "udp6zerocsumrx",
                   "noudp6zerocsumrx", "rsc", "norsc", "external", "noexternal", "gbp", "gpe"):
            pass
        elif matches(a, "help"):
            raise IpExit("Usage: ... vxlan id VNI [ { group | remote } IP_ADDRESS ] [ local ADDR ] [ dev PHYS_DEV ] "
                         "[ dstport PORT ] [ [no]learning ] [ [no]proxy ] [ [no]l2miss ] [ [no]l3miss ] "
                         "[ ttl TTL ] [ ageing SECONDS ]", 255)
        else:
            raise IpExit(f'vxlan: unknown command "{a}"?', 1)
        args.advance()
    if vni is None:
        raise IpExit("vxlan: missing virtual network identifier", 1)
    if not port_given:
        opts.emit(VXLAN_PORT_WARNING)
    spec.vni = vni
    return spec


# -- delete -----------------------------------------------------------------------------------------
def del_link(opts: IpOptions, argv: list[str]) -> int:
    _, dev = parse_for_device(opts, argv)
    K.delete(opts.ns, dev)
    return 0


def do_iplink(opts: IpOptions, argv: list[str]) -> int:
    if not argv:
        return list_or_flush(opts, [], do_link=True)
    word, rest = argv[0], argv[1:]
    if matches(word, "add"):
        return add_link(opts, rest)
    if matches(word, "set") or matches(word, "change"):
        return set_link(opts, rest)
    if matches(word, "replace"):
        return set_link(opts, rest)
    if matches(word, "delete"):
        return del_link(opts, rest)
    if matches(word, "show") or matches(word, "lst") or matches(word, "list"):
        return list_or_flush(opts, rest, do_link=True)
    if matches(word, "help"):
        usage()
    unknown_command(word, "link")


__all__ = ["do_iplink"]
