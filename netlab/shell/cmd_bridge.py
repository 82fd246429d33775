"""`bridge` (iproute2): `fdb` show/add/append/replace/del and `link` show/set.

`bridge fdb show` lists every device's forwarding entries in ifindex order, as the kernel's
dump does: a bridge port's entries in its bridge, a VXLAN device's remote VTEPs, and for
every other ethernet device its own unicast/multicast addresses (`self permanent`).
Every error exits 255, as `bridge` does.
"""
from __future__ import annotations

from netlab.net import link_text as L
from netlab.net.addr import fmt_ip
from netlab.net.device import Bridge
from netlab.net.rtnl import RtnlError
from netlab.net.rtnl_neigh import fdb_add, fdb_del, uc_list
from netlab.net.vxlan import Vxlan
from netlab.shell.ip.common import Args, IpExit, duparg, duparg2, find_dev, get_addr, get_u32, invarg, matches
from netlab.shell.registry import Invocation, command

VERSION = "bridge utility, iproute2-6.1.0"
USAGE = """Usage: bridge [ OPTIONS ] OBJECT { COMMAND | help }
       bridge [ -force ] -batch filename
where	OBJECT := { link | fdb | mdb | vlan | vni | monitor }
	OPTIONS := { -V[ersion] | -s[tatistics] | -d[etails] |
		     -o[neline] | -t[imestamp] | -n[etns] name |
		     -com[pressvlans] -c[olor] -p[retty] -j[son] }"""
FDB_USAGE = """Usage: bridge fdb { add | append | del | replace } ADDR dev DEV
              [ self ] [ master ] [ use ] [ router ] [ extern_learn ]
              [ sticky ] [ local | static | dynamic ] [ vlan VID ]
              { [ dst IPADDR ] [ port PORT] [ vni VNI ] | [ nhid NHID ] }
	       [ via DEV ] [ src_vni VNI ]
       bridge fdb [ show [ br BRDEV ] [ brport DEV ] [ vlan VID ]
              [ state STATE ] [ dynamic ] ]
       bridge fdb get [ to ] LLADDR [ br BRDEV ] { brport | dev } DEV
              [ vlan VID ] [ vni VNI ] [ self ] [ master ] [ dynamic ]
       bridge fdb flush dev DEV [ brport DEV ] [ vlan VID ]
              [ self ] [ master ] [ [no]permanent | [no]static | [no]dynamic ]
              [ [no]added_by_user ] [ [no]extern_learn ] [ [no]sticky ]
              [ [no]offloaded ]"""
LINK_USAGE = """Usage: bridge link set dev DEV [ cost COST ] [ priority PRIO ] [ state STATE ]
                               [ guard {on | off} ]
                               [ hairpin {on | off} ]
                               [ fastleave {on | off} ]
                               [ root_block {on | off} ]
                               [ learning {on | off} ]
                               [ learning_sync {on | off} ]
                               [ flood {on | off} ]
                               [ mcast_flood {on | off} ]
                               [ bcast_flood {on | off} ]
                               [ mcast_to_unicast {on | off} ]
                               [ neigh_suppress {on | off} ]
                               [ vlan_tunnel {on | off} ]
                               [ isolated {on | off} ]
                               [ locked {on | off} ]
                               [ hwmode {vepa | veb} ]
                               [ backup_port DEVICE ] [ nobackup_port ]
                               [ self ] [ master ]
       bridge link show [dev DEV]"""
PORT_STATES = ("disabled", "listening", "learning", "forwarding", "blocking")


class BridgeOptions:
    def __init__(self, inv: Invocation) -> None:
        self.inv = inv
        self.ns = inv.ns
        self.stats = 0
        self.details = 0
        self.out: list[str] = []

    def emit(self, text: str) -> None:
        self.out.append(text + "\n")


def fail(message: str):
    raise IpExit(message, 255)


def nodev(name: str):
    fail(f'Cannot find device "{name}"')


# -- fdb show ------------------------------------------------------------------------------------
def fdb_lines(opts: BridgeOptions, dev, *, show_dev: bool) -> list[str]:
    """The entries the kernel dumps for one device (rtnl_fdb_dump), as print_fdb writes them."""
    now = opts.ns.world.clock
    on = f"dev {dev.name} " if show_dev else ""
    lines = []

    def used(age: float) -> str:
        return f"used {int(age)}/{int(age)} " if opts.stats else ""

    if dev.master is not None and isinstance(dev.master, Bridge):
        br = dev.master
        for e in reversed(br.fdb_entries()):
            if e.port is dev:
                lines.append(f"{e.mac} {on}{used(now - e.updated)}master {br.name} {fdb_state(e)}")
    if isinstance(dev, Vxlan):
        for remotes in reversed(list(dev.fdb.values())):
            for r in remotes:
                dst = f"dst {fmt_ip(r.dst)} " if r.dst else ""
                lines.append(f"{r.mac} {on}{dst}{used(now - r.updated)}self {'permanent' if r.permanent else ''}")
        return lines
    if dev.kind == "loopback":
        return lines
    for mac in uc_list(dev) + L.multicast_macs(dev):
        lines.append(f"{mac} {on}self permanent")
    if isinstance(dev, Bridge):
        for e in reversed(dev.fdb_entries()):
            if e.port is dev:
                lines.append(f"{e.mac} {on}{used(now - e.updated)}master {dev.name} {fdb_state(e)}")
    return lines


def fdb_state(e) -> str:
    return "permanent" if e.local else ("static" if e.static else "")


def fdb_show(opts: BridgeOptions, argv: list[str]) -> int:
    args = Args(argv)
    dev_name = br_name = None
    while args:
        a = args.cur
        if a in ("brport", "dev"):
            dev_name = args.next()
        elif a == "br":
            br_name = args.next()
        elif a == "vlan":
            value = args.next()
            get_u32(value)
        elif a == "state":
            args.next()
        elif a == "dynamic":
            pass
        elif matches(a, "help"):
            fail(FDB_USAGE)
        args.advance()
    ns = opts.ns
    br = None
    if br_name is not None:
        br = find_dev(ns, br_name)
        if br is None:
            fail(f'Cannot find bridge device "{br_name}"')
    devices = sorted(ns.devices.values(), key=lambda d: d.ifindex)
    if dev_name is not None:
        one = find_dev(ns, dev_name)
        if one is None:
            nodev(dev_name)
        devices = [one]
    if br is not None:
        devices = [d for d in devices if d is br or d.master is br]
    for dev in devices:
        for line in fdb_lines(opts, dev, show_dev=dev_name is None):
            opts.emit(line)
    return 0


def fdb_modify(opts: BridgeOptions, argv: list[str], cmd: str) -> int:
    """fdb_modify: parse as iproute2 does, then ask the kernel (rtnl_fdb_add / rtnl_fdb_del)."""
    args = Args(argv)
    dev_name = addr = None
    dst = None
    self_ = master = False
    state = "permanent"
    state_words: set[str] = set()
    while args:
        a = args.cur
        if a == "dev":
            dev_name = args.next()
        elif a == "dst":
            value = args.next()
            if dst is not None:
                duparg2("dst", value)
            dst = get_addr(value)
        elif a in ("port", "vni", "src_vni", "nhid"):
            value = args.next()
            if get_u32(value) is None:
                invarg(f"invalid {a}\n", value)
        elif a == "via":
            name = args.next()
            if find_dev(opts.ns, name) is None:
                nodev(name)
        elif a == "self":
            self_ = True
        elif matches(a, "master"):
            master = True
        elif matches(a, "router") or matches(a, "use") or matches(a, "extern_learn") or matches(a, "sticky"):
            pass
        elif matches(a, "local") or matches(a, "permanent"):
            state_words.add("permanent")
        elif matches(a, "temp") or matches(a, "static"):
            state_words.add("static")
        elif matches(a, "dynamic"):
            state_words.add("dynamic")
        elif matches(a, "vlan"):
            value = args.next()
            if get_u32(value) is None:
                invarg("invalid VLAN\n", value)
        else:
            if a == "to":
                a = args.next()
            if matches(a, "help"):
                fail(FDB_USAGE)
            if addr is not None:
                duparg2("to", a)
            addr = a
        args.advance()
    if dev_name is None or addr is None:
        fail("Device and address are required arguments.")
    octets = addr.split(":")
    try:
        values = [int(o, 16) for o in octets]
    except ValueError:
        values = []
    if len(values) != 6 or any(not 0 <= v <= 255 or not 1 <= len(o) <= 2 for v, o in zip(values, octets)):
        fail(f"Invalid mac address {addr}")
    mac = ":".join(f"{v:02x}" for v in values)
    if "dynamic" in state_words and "permanent" not in state_words:
        state = "dynamic"
    elif "static" in state_words and "permanent" not in state_words:
        state = "static"
    dev = find_dev(opts.ns, dev_name)
    if dev is None:
        nodev(dev_name)
    if cmd == "del":
        fdb_del(opts.ns, dev, mac, self_=self_, master=master, dst=dst)
    else:
        flags = {"add": dict(create=True, excl=True), "append": dict(create=True, excl=False, append=True),
                 "replace": dict(create=True, excl=False, replace=True)}[cmd]
        fdb_add(opts.ns, dev, mac, self_=self_, master=master, state=state, dst=dst, **flags)
    return 0


def do_fdb(opts: BridgeOptions, argv: list[str]) -> int:
    if not argv:
        return fdb_show(opts, [])
    word, rest = argv[0], argv[1:]
    if matches(word, "add"):
        return fdb_modify(opts, rest, "add")
    if matches(word, "append"):
        return fdb_modify(opts, rest, "append")
    if matches(word, "replace"):
        return fdb_modify(opts, rest, "replace")
    if matches(word, "delete"):
        return fdb_modify(opts, rest, "del")
    if matches(word, "show") or matches(word, "lst") or matches(word, "list"):
        return fdb_show(opts, rest)
    if matches(word, "help"):
        fail(FDB_USAGE)
    fail(f'Command "{word}" is unknown, try "bridge fdb help".')


# -- link --------------------------------------------------------------------------------------------
def link_line(dev, ns) -> list[str]:
    """print_linkinfo for a port (PF_BRIDGE dump). The @peer is iproute2's quirk: the peer's
    ifindex is looked up in this namespace."""
    name = dev.name
    peer = getattr(dev, "peer", None)
    mdown = False
    if peer is not None:
        local = ns.by_index.get(peer.ifindex) if peer.ns is not ns else peer
        name += f"@{local.name}" if local is not None else f"@if{peer.ifindex}"
        mdown = local is not None and not local.admin_up
    text = (f"{dev.ifindex}: {name}: {L.flags_text(dev, mdown)} mtu {dev.mtu} master {dev.master.name} "
            f"state {dev.port_state} priority 32 cost 2 ")
    return [text]


def link_details(dev) -> str:
    return (f"    hairpin {L.onoff(dev.hairpin)} guard off root_block off fastleave off learning {L.onoff(dev.learning)} "
            "flood on mcast_flood on bcast_flood on mcast_router 1 mcast_to_unicast off neigh_suppress off "
            "vlan_tunnel off isolated off locked off ")


def link_show(opts: BridgeOptions, argv: list[str]) -> int:
    args = Args(argv)
    dev = None
    while args:
        if args.cur == "dev":
            value = args.next()
            if dev is not None:
                duparg("dev", value)
            dev = find_dev(opts.ns, value)
            if dev is None:
                nodev(value)
        args.advance()
    for d in sorted(opts.ns.devices.values(), key=lambda d: d.ifindex):
        if d.master is None or not isinstance(d.master, Bridge) or (dev is not None and d is not dev):
            continue
        lines = link_line(d, opts.ns)
        if opts.details:
            lines.append(link_details(d))
        opts.emit("\n".join(lines))
    return 0


def link_set(opts: BridgeOptions, argv: list[str]) -> int:
    args = Args(argv)
    dev_name = None
    changes: dict = {}
    while args:
        a = args.cur
        if a == "dev":
            dev_name = args.next()
        elif a in ("hairpin", "learning"):
            value = args.next()
            if value not in ("on", "off"):
                raise IpExit(f'Error: argument of "{a}" must be "on" or "off"', 255)
            changes[a] = value == "on"
        elif a in ("guard", "fastleave", "root_block", "learning_sync", "flood", "mcast_flood", "bcast_flood",
                   "mcast_to_unicast", "neigh_suppress", "vlan_tunnel", "isolated", "locked"):
            value = args.next()
            if value not in ("on", "off"):
                raise IpExit(f'Error: argument of "{a}" must be "on" or "off"', 255)
        elif a in ("cost", "priority"):
            args.next()
        elif a == "state":
            value = args.next()
            if value.isdigit() and int(value) < len(PORT_STATES):
                changes["port_state"] = PORT_STATES[int(value)]
            elif value in PORT_STATES:
                changes["port_state"] = value
            else:
                raise IpExit("Error: invalid STP port state", 255)
        elif a == "hwmode":
            if args.next() not in ("vepa", "veb"):
                raise IpExit('Mode argument must be "vepa" or "veb".', 255)
        elif a in ("self", "master", "nobackup_port"):
            pass
        elif a == "backup_port":
            name = args.next()
            if find_dev(opts.ns, name) is None:
                raise IpExit(f"Error: device {name} does not exist", 255)
        else:
            fail(LINK_USAGE)
        args.advance()
    if dev_name is None:
        fail("Device is a required argument.")
    dev = find_dev(opts.ns, dev_name)
    if dev is None:
        fail(f'Cannot find bridge device "{dev_name}"')
    if dev.master is None or not isinstance(dev.master, Bridge):
        raise RtnlError("EOPNOTSUPP")
    for attr, value in changes.items():
        setattr(dev, attr, value)
    return 0


def do_link(opts: BridgeOptions, argv: list[str]) -> int:
    if not argv:
        return link_show(opts, [])
    word, rest = argv[0], argv[1:]
    if matches(word, "set") or matches(word, "change"):
        return link_set(opts, rest)
    if matches(word, "show") or matches(word, "lst") or matches(word, "list"):
        return link_show(opts, rest)
    if matches(word, "help"):
        fail(LINK_USAGE)
    fail(f'Command "{word}" is unknown, try "bridge link help".')


@command("bridge", summary="show and change bridge ports and forwarding databases")
def bridge(inv: Invocation) -> int:
    opts = BridgeOptions(inv)
    try:
        code = run(opts, inv.argv[1:])
    except IpExit as stop:
        code = stop.code
        opts.out.append(stop.message + "\n" if stop.message is not None else "")
    except RtnlError as err:
        code = 255
        opts.out.append(err.message + "\n")
    inv.out.extend(opts.out)
    return code


def run(opts: BridgeOptions, argv: list[str]) -> int:
    i = 0
    while i < len(argv) and argv[i].startswith("-") and argv[i] != "-":
        o = argv[i][1:] if argv[i].startswith("--") else argv[i]
        if matches(o, "-help"):
            fail(USAGE)
        elif matches(o, "-Version"):
            raise IpExit(VERSION, 0)
        elif matches(o, "-stats") or matches(o, "-statistics"):
            opts.stats += 1
        elif matches(o, "-details"):
            opts.details += 1
        elif matches(o, "-netns"):
            i += 1
            if i >= len(argv):
                fail('Command line is not complete. Try option "help"')
            from netlab.shell.ip.common import IpOptions
            from netlab.shell.ip.netns import resolve

            opts.ns = resolve(IpOptions(opts.inv, opts.ns), argv[i])
        elif matches(o, "-json") or matches(o, "-pretty"):
            raise IpExit("netlab prints iproute2's text output; -json is not modelled", 1)
        elif any(matches(o, w) for w in ("-oneline", "-timestamp", "-compressvlans", "-color", "-force", "-4", "-6")):
            pass
        else:
            fail(f'Option "{argv[i]}" is unknown, try "bridge help".')
        i += 1
    argv = argv[i:]
    if not argv:
        fail(USAGE)
    word, rest = argv[0], argv[1:]
    if matches(word, "link"):
        return do_link(opts, rest)
    if matches(word, "fdb"):
        return do_fdb(opts, rest)
    if matches(word, "help"):
        fail(USAGE)
    if word in ("mdb", "vlan", "vni", "monitor"):
        raise IpExit(f"bridge {word}: not modelled in netlab (it models link and fdb)", 1)
    fail(f'Object "{word}" is unknown, try "bridge help".')
