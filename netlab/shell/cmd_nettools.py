"""net-tools: `route`, `ifconfig`, `arp` — the ioctl-era tools, with net-tools 2.10's output.

They read the same tables `ip` does (the main routing table, the devices, the ARP table) and
change them through the same kernel paths (netlab.net.rtnl_*), reporting failures the way
the ioctls do: `SIOCADDRT: Network is unreachable`.
"""
from __future__ import annotations

from netlab.net import link_text as L
from netlab.net import neigh as N
from netlab.net.addr import fmt_ip, mask
from netlab.net.fib import (BLACKHOLE, PROHIBIT, RT_TABLE_MAIN, SCOPE_HOST, SCOPE_LINK, SCOPE_UNIVERSE, UNICAST,
                            UNREACHABLE)
from netlab.net.rtnl import RtnlError
from netlab.net.rtnl_addr import AddrSpec, addr_del, addr_new
from netlab.net.rtnl_link import LinkChange, apply_change
from netlab.net.rtnl_neigh import neigh_del, neigh_new
from netlab.net.rtnl_route import RouteSpec, fib_lookup, route_del, route_new
from netlab.shell.ip.common import find_dev, parse_ipv4
from netlab.shell.registry import Invocation, command

E_OPTERR, E_USAGE, E_SOCK = 3, 4, 7
DEFAULT_NETWORKS = "default\t\t0.0.0.0\nloopback\t127.0.0.0\nlink-local\t169.254.0.0\n"
ROUTE_USAGE = """Usage: route [-nNvee] [-FC] [<AF>]           List kernel routing tables
       route [-v] [-FC] {add|del|flush} ...  Modify routing table for AF.

       route {-h|--help} [<AF>]              Detailed usage syntax for specified AF.
       route {-V|--version}                  Display version/author and exit.

        -v, --verbose            be verbose
        -n, --numeric            don't resolve names
        -e, --extend             display other/more information
        -F, --fib                display Forwarding Information Base (default)
        -C, --cache              display routing cache instead of FIB

  <AF>=Use -4, -6, '-A <af>' or '--<af>'; default: inet
  List of possible address families (which support routing):
    inet (DARPA Internet) inet6 (IPv6) ax25 (AMPR AX.25) 
    netrom (AMPR NET/ROM) rose (AMPR ROSE) ipx (Novell IPX) 
    ddp (Appletalk DDP) x25 (CCITT X.25) """
INET_USAGE = """Usage: inet_route [-vF] del {-host|-net} Target[/prefix] [gw Gw] [metric M] [[dev] If]
       inet_route [-vF] add {-host|-net} Target[/prefix] [gw Gw] [metric M]
                              [netmask N] [mss Mss] [window W] [irtt I]
                              [mod] [dyn] [reinstate] [[dev] If]
       inet_route [-vF] add {-host|-net} Target[/prefix] [metric M] reject
       inet_route [-FC] flush      NOT supported"""


# -- name lookups (what gethostbyaddr / getnetbyaddr find in this host's files) -----------------
def host_name(ns, ip: int) -> str | None:
    for line in (ns.read_file("/etc/hosts") or "").splitlines():
        words = line.split("#", 1)[0].split()
        if len(words) >= 2 and parse_ipv4(words[0]) == ip and words[0].count(".") == 3:
            return words[1]
    return None


def net_name(ns, ip: int) -> str | None:
    for line in (ns.read_file("/etc/networks") or DEFAULT_NETWORKS).splitlines():
        words = line.split("#", 1)[0].split()
        if len(words) >= 2 and parse_ipv4(words[1]) == ip:
            return words[0]
    return None


# -- route -----------------------------------------------------------------------------------------
def route_flags(route) -> str:
    if route.type in (UNREACHABLE, PROHIBIT):
        return "!"
    flags = "U"
    if route.gateway is not None:
        flags += "G"
    if route.plen == 32:
        flags += "H"
    return flags


def route_table(ns, *, numeric: bool, extended: int) -> list[str]:
    """rprint_fib: /proc/net/route (the main table's unicast and error routes)."""
    out = ["Kernel IP routing table"]
    if extended >= 2:
        out.append("Destination     Gateway         Genmask         Flags Metric Ref    Use Iface    MSS   Window irtt")
    elif extended == 1:
        out.append("Destination     Gateway         Genmask         Flags Metric Ref    Use Iface")
    for route in ns.fib.table(RT_TABLE_MAIN).routes():
        if route.type not in (UNICAST, BLACKHOLE, UNREACHABLE, PROHIBIT):
            continue
        if numeric:
            dst = fmt_ip(route.dst)
            gw = fmt_ip(route.gateway or 0)
        else:
            if route.dst == 0 and route.plen == 0:
                dst = "default"
            elif route.plen == 32:
                dst = host_name(ns, route.dst) or fmt_ip(route.dst)
            else:
                dst = net_name(ns, route.dst) or fmt_ip(route.dst)
            gw = (host_name(ns, route.gateway) or fmt_ip(route.gateway)) if route.gateway else "0.0.0.0"
        dst, gw, genmask = dst[:15], gw[:15], fmt_ip(mask(route.plen))
        flags = route_flags(route)
        iface = route.dev.name if route.dev is not None else "*"
        if flags == "!":
            row = f"{dst:<15} -               {genmask:<15} {flags:<5} {route.metric:<6} -  {0:>7} -"
            if extended >= 2:
                row += "        -     -      -"
        elif extended >= 2:
            row = f"{dst:<15} {gw:<15} {genmask:<15} {flags:<5} {route.metric:<6} {0:<3} {0:>6} {iface[:6]:<6}   {0:<5} {0:<6} 0"
        else:
            row = f"{dst:<15} {gw:<15} {genmask:<15} {flags:<5} {route.metric:<6} {0:<2} {0:>7} {iface}"
        out.append(row)
    return out


def parse_route_change(ns, args: list[str], cmd: str) -> RouteSpec:
    """inet_setroute: `route add|del [-net|-host] target [netmask M] [gw G] [metric N] [reject] [[dev] If]`."""
    xflag = None
    if args and args[0] in ("-net", "-host"):
        xflag, args = args[0], args[1:]
    if not args:
        raise _Usage()
    target, args = args[0], args[1:]
    plen = None
    if target == "default":
        ip, plen = 0, 0
    else:
        text, slash, p = target.partition("/")
        ip = parse_ipv4(text) if text.count(".") == 3 or slash else None
        if ip is None:
            ip = _resolve(ns, text)
        if slash:
            if not p.isdigit() or int(p) > 32:
                raise _Fail(f"route: bogus netmask {p}", E_OPTERR)
            plen = int(p)
    spec = RouteSpec(ip, 32 if xflag == "-host" else (plen if plen is not None else 32),
                     type=UNICAST, proto="boot" if cmd == "add" else None, scope=None)
    netmask_given = False
    i = 0
    while i < len(args):
        a = args[i]
        value = args[i + 1] if i + 1 < len(args) else None
        if a in ("netmask", "genmask"):
            if value is None:
                raise _Usage()
            m = parse_ipv4(value)
            if m is None or mask(bin(m).count("1")) != m:
                raise _Fail(f"route: bogus netmask {value}", E_OPTERR)
            if xflag == "-host":
                raise _Fail(f"route: netmask {m:08x} doesn't make sense with host route", E_OPTERR)
            spec.plen, netmask_given = bin(m).count("1"), True
            i += 2
        elif a in ("gw", "gateway"):
            if value is None:
                raise _Usage()
            spec.gateway = parse_ipv4(value) if value.count(".") == 3 else _resolve(ns, value)
            i += 2
        elif a == "metric":
            if value is None or not value.isdigit():
                raise _Usage()
            spec.metric = int(value)
            i += 2
        elif a in ("mss", "window", "irtt"):
            i += 2
        elif a == "reject":
            spec.type = UNREACHABLE
            i += 1
        elif a in ("mod", "dyn", "reinstate"):
            i += 1
        elif a == "dev":
            if value is None:
                raise _Usage()
            spec.dev = _dev(ns, value, cmd)
            i += 2
        elif i == len(args) - 1:
            spec.dev = _dev(ns, a, cmd)
            i += 1
        else:
            raise _Usage()
    if xflag == "-net" and plen is None and not netmask_given and target != "default":
        spec.plen = 32 if ip & 0xFF else (24 if ip & 0xFF00 else (16 if ip & 0xFF0000 else 8))
    if spec.dst & ~mask(spec.plen) & 0xFFFFFFFF:
        raise _Fail("route: netmask doesn't match route address", E_OPTERR, usage=True)
    if cmd == "add":
        if spec.type == UNREACHABLE:
            spec.scope = SCOPE_HOST
        else:
            spec.scope = SCOPE_UNIVERSE if spec.gateway is not None and spec.gateway and not ns.is_local(spec.gateway) \
                else SCOPE_LINK
    return spec


class _Fail(Exception):
    def __init__(self, message: str, code: int, usage: bool = False) -> None:
        super().__init__(message)
        self.message, self.code, self.usage = message, code, usage


class _Usage(Exception):
    pass


def _resolve(ns, name: str) -> int:
    for line in (ns.read_file("/etc/hosts") or "").splitlines():
        words = line.split("#", 1)[0].split()
        if len(words) >= 2 and name in words[1:]:
            ip = parse_ipv4(words[0])
            if ip is not None:
                return ip
    net = None
    for line in (ns.read_file("/etc/networks") or DEFAULT_NETWORKS).splitlines():
        words = line.split("#", 1)[0].split()
        if len(words) >= 2 and words[0] == name:
            net = parse_ipv4(words[1])
    if net is not None:
        return net
    raise _Fail(f"{name}: Unknown host", E_LOOKUP)


E_LOOKUP = 6


def _dev(ns, name: str, cmd: str):
    dev = find_dev(ns, name)
    if dev is None:
        raise _Fail(f"SIOC{'ADD' if cmd == 'add' else 'DEL'}RT: No such device", E_SOCK)
    return dev


@command("route", summary="show or change the IP routing table (net-tools)")
def route(inv: Invocation) -> int:
    args = inv.argv[1:]
    numeric, extended = False, 1
    while args and args[0].startswith("-") and args[0] not in ("-net", "-host"):
        opt = args.pop(0)
        if opt in ("-h", "--help"):
            return inv.fail(ROUTE_USAGE, E_USAGE)
        if opt in ("-V", "--version"):
            inv.print("net-tools 2.10")
            return 0
        for ch in opt.lstrip("-") if not opt.startswith("--") else ():
            if ch == "n":
                numeric = True
            elif ch == "e":
                extended += 1
            elif ch in "vNFC4":
                pass
            elif ch == "A" and args:
                args.pop(0)
            else:
                return inv.fail(f"route: invalid option -- '{ch}'\n{ROUTE_USAGE}", E_USAGE)
        if opt == "--numeric":
            numeric = True
    if not args:
        for line in route_table(inv.ns, numeric=numeric, extended=extended):
            inv.print(line)
        return 0
    cmd = args[0]
    if cmd not in ("add", "del", "delete"):
        return inv.fail(ROUTE_USAGE, E_USAGE)
    cmd = "add" if cmd == "add" else "del"
    try:
        spec = parse_route_change(inv.ns, args[1:], cmd)
        if cmd == "add":
            route_new(inv.ns, spec, create=True, excl=False)
        else:
            spec.type = UNICAST
            route_del(inv.ns, spec)
    except _Usage:
        return inv.fail(INET_USAGE, E_USAGE)
    except _Fail as err:
        return inv.fail(err.message + (f"\n{INET_USAGE}" if err.usage else ""), err.code)
    except RtnlError as err:
        return inv.fail(f"SIOC{'ADD' if cmd == 'add' else 'DEL'}RT: {err.strerror}", E_SOCK)
    return 0


# -- ifconfig -------------------------------------------------------------------------------------------
def scaled(n: int) -> str:
    """print_bytes_scaled: one decimal, truncated, binary units."""
    units = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")
    i = 0
    while i < len(units) - 1 and n >= 1024 ** (i + 1):
        i += 1
    d = 1024 ** i
    return f"{n // d}.{(n % d) * 10 // d} {units[i]}"


def ifconfig_block(dev) -> list[str]:
    value, names = L.ifflags_value(dev)
    lines = [f"{dev.name}: flags={value}<{','.join(names)}>  mtu {dev.mtu}"]
    primary = next((a for a in L.ordered_addrs(dev) if not a.label or a.label == dev.name), None)
    if primary is not None:
        line = f"        inet {fmt_ip(primary.ip)}  netmask {fmt_ip(mask(primary.plen))}"
        if dev.broadcast_capable and dev.kind != "loopback":
            line += f"  broadcast {fmt_ip(primary.broadcast or 0)}"
        lines.append(line)
    for addr, plen, scope in L.ipv6_addrs(dev):
        scopeid = "0x10<host>" if scope == "host" else "0x20<link>"
        lines.append(f"        inet6 {addr}  prefixlen {plen}  scopeid {scopeid}")
    if dev.kind == "loopback":
        lines.append(f"        loop  txqueuelen {dev.txqlen}  (Local Loopback)")
    else:
        lines.append(f"        ether {dev.mac}  txqueuelen {dev.txqlen}  (Ethernet)")
    s = dev.stats
    lines += [f"        RX packets {s.rx_packets}  bytes {s.rx_bytes} ({scaled(s.rx_bytes)})",
              f"        RX errors {s.rx_errors}  dropped {s.rx_dropped}  overruns 0  frame 0",
              f"        TX packets {s.tx_packets}  bytes {s.tx_bytes} ({scaled(s.tx_bytes)})",
              f"        TX errors {s.tx_errors}  dropped {s.tx_dropped} overruns 0  carrier 0  collisions 0", ""]
    return lines


@command("ifconfig", summary="show or configure network interfaces (net-tools)")
def ifconfig(inv: Invocation) -> int:
    args = inv.argv[1:]
    show_all = False
    while args and args[0] in ("-a", "-s", "-v"):
        show_all = show_all or args[0] == "-a"
        args = args[1:]
    ns = inv.ns
    if not args:
        for dev in sorted(ns.devices.values(), key=lambda d: d.name):
            if show_all or dev.admin_up:
                for line in ifconfig_block(dev):
                    inv.print(line)
        return 0
    name, rest = args[0], args[1:]
    dev = find_dev(ns, name) if name != "-a" else None
    if not rest:
        if dev is None:
            return inv.fail(f"{name}: error fetching interface information: Device not found", 1)
        for line in ifconfig_block(dev):
            inv.print(line)
        return 0
    if dev is None:
        return inv.fail(f"SIOCSIFFLAGS: No such device" if rest[-1] in ("up", "down") else
                        f"SIOCSIFADDR: No such device", 255)
    return ifconfig_set(inv, dev, rest)


def ifconfig_set(inv: Invocation, dev, args: list[str]) -> int:
    """`ifconfig DEV [ADDR] [netmask M] [broadcast B] [mtu N] [hw ether MAC] [up|down] [-]promisc [-]arp`."""
    ns = inv.ns
    change = LinkChange()
    addr = None
    netmask = bcast = None
    i = 0
    while i < len(args):
        a = args[i]
        value = args[i + 1] if i + 1 < len(args) else None
        if a == "up":
            change.up = True
        elif a == "down":
            change.up = False
        elif a in ("promisc", "-promisc"):
            change.promisc = a == "promisc"
        elif a in ("arp", "-arp"):
            change.arp = a == "arp"
        elif a == "mtu" and value is not None:
            if not value.isdigit():
                return inv.fail(f"SIOCSIFMTU: Invalid argument", 255)
            change.mtu = int(value)
            i += 1
        elif a == "netmask" and value is not None:
            netmask = parse_ipv4(value)
            if netmask is None or mask(bin(netmask).count("1")) != netmask:
                return inv.fail(f"SIOCSIFNETMASK: Invalid argument", 255)
            i += 1
        elif a == "broadcast" and value is not None:
            bcast = parse_ipv4(value)
            i += 1
        elif a == "hw" and value == "ether" and i + 2 < len(args):
            change.mac = args[i + 2].lower()
            i += 2
        elif parse_ipv4(a) is not None and addr is None:
            addr = parse_ipv4(a)
        else:
            return inv.fail(f"{a}: Unknown host\nifconfig: `--help' gives usage information.", 1)
        i += 1
    try:
        if addr is not None or netmask is not None:
            primary = next((x for x in L.ordered_addrs(dev) if not x.secondary), None)
            ip = addr if addr is not None else (primary.ip if primary is not None else None)
            if ip is None:
                return inv.fail("SIOCSIFNETMASK: Cannot assign requested address", 255)
            plen = bin(netmask).count("1") if netmask is not None else (
                primary.plen if primary is not None and addr is None else _classful(ip))
            if primary is not None:
                addr_del(ns, dev, primary.ip, primary.plen)
            addr_new(ns, dev, AddrSpec(ip, plen, bcast if bcast is not None else
                                       ((ip | ~mask(plen)) & 0xFFFFFFFF if plen < 31 else None)))
        if change.up is None and addr is not None:
            change.up = True  # SIOCSIFADDR brings the interface up
        apply_change(ns, dev, change)
    except RtnlError as err:
        return inv.fail(f"SIOCSIFFLAGS: {err.strerror}", 255)
    return 0


def _classful(ip: int) -> int:
    first = ip >> 24
    return 8 if first < 128 else (16 if first < 192 else 24)


# -- arp ------------------------------------------------------------------------------------------------
def arp_entries(ns) -> list:
    """/proc/net/arp: every neighbour but the NOARP ones (NEIGH_SEQ_SKIP_NOARP)."""
    return [e for e in ns.neigh.for_dev() if e.state != N.NOARP]


@command("arp", summary="show or change the ARP cache (net-tools)")
def arp(inv: Invocation) -> int:
    args = inv.argv[1:]
    numeric = bsd = False
    iface = None
    action = None
    rest = []
    i = 0
    while i < len(args):
        a = args[i]
        if a.startswith("-") and len(a) > 1 and not a.startswith("--"):
            for ch in a[1:]:
                if ch == "n":
                    numeric = True
                elif ch == "a":
                    bsd = True
                elif ch == "e":
                    bsd = False
                elif ch == "v":
                    pass
                elif ch == "i" and i + 1 < len(args):
                    i += 1
                    iface = args[i]
                elif ch in "ds":
                    action = ch
                else:
                    return inv.fail(f"arp: invalid option -- '{ch}'", E_USAGE)
        else:
            rest.append(a)
        i += 1
    ns = inv.ns
    dev = None
    if iface is not None:
        dev = find_dev(ns, iface)
        if dev is None:
            return inv.fail(f"SIOCGIFINDEX: No such device", 255)
    if action == "d":
        return arp_delete(inv, rest, dev)
    if action == "s":
        return arp_set(inv, rest, dev)
    host = None
    if rest:
        host = parse_ipv4(rest[0]) if rest[0].count(".") == 3 else None
        if host is None:
            try:
                host = _resolve(ns, rest[0])
            except _Fail:
                return inv.fail(f"{rest[0]}: Unknown host", 255)
    shown = 0
    for e in arp_entries(ns):
        if (dev is not None and e.dev is not dev) or (host is not None and e.ip != host):
            continue
        complete = e.state in N.VALID and e.lladdr is not None
        name = fmt_ip(e.ip) if numeric else (host_name(ns, e.ip) or (fmt_ip(e.ip) if not bsd else "?"))
        if bsd:
            hw = f"{e.lladdr} [ether] " if complete else "<incomplete> "
            perm = "PERM " if e.state == N.PERMANENT else ""
            inv.print(f"{'?' if numeric else name} ({fmt_ip(e.ip)}) at {hw}{perm}on {e.dev.name}")
        else:
            if shown == 0:
                inv.print("Address                  HWtype  HWaddress           Flags Mask            Iface")
            flags = ("C" if complete else "") + ("M" if e.state == N.PERMANENT else "")
            hw = f"{'ether':<8}{e.lladdr:<20}" if complete else f"{'':<8}{'(incomplete)':<20}"
            inv.print(f"{name[:23]:<23}  {hw}{flags:<6}{'':<15} {e.dev.name}")
        shown += 1
    if not shown and host is not None:
        inv.print(f"{rest[0]} ({fmt_ip(host)}) -- no entry")
        return 1
    if not shown and dev is not None:
        inv.print("arp: in 0 entries no match found.")
    return 0


def _arp_dev(ns, ip: int, dev):
    """arp_req_dev: the device of the link-scope route to `ip` (or the one named with -i)."""
    if dev is not None:
        return dev
    route = fib_lookup(ns, ip, min_scope=SCOPE_LINK)
    return route.dev if route is not None and route.dev is not None else None


def arp_delete(inv: Invocation, rest: list[str], dev) -> int:
    if not rest:
        return inv.fail("arp: need host name", E_USAGE)
    ns = inv.ns
    ip = parse_ipv4(rest[0]) if rest[0].count(".") == 3 else None
    if ip is None:
        return inv.fail(f"{rest[0]}: Unknown host", 255)
    out_dev = _arp_dev(ns, ip, dev)
    if out_dev is None:
        return inv.fail("SIOCDARP(dontpub): Network is unreachable", 255)
    try:
        neigh_del(ns, out_dev, ip)
    except RtnlError:
        return inv.fail(f"No ARP entry for {rest[0]}", 255)
    return 0


def arp_set(inv: Invocation, rest: list[str], dev) -> int:
    if len(rest) < 2:
        return inv.fail("arp: need host name", E_USAGE)
    ns = inv.ns
    ip = parse_ipv4(rest[0]) if rest[0].count(".") == 3 else None
    if ip is None:
        return inv.fail(f"{rest[0]}: Unknown host", 255)
    from netlab.net.addr import AddrError, parse_mac

    try:
        mac = parse_mac(rest[1])
    except AddrError:
        return inv.fail(f"arp: invalid hardware address", 255)
    out_dev = _arp_dev(ns, ip, dev)
    if out_dev is None:
        return inv.fail("SIOCSARP: Network is unreachable", 255)
    state = N.REACHABLE if "temp" in rest[2:] else N.PERMANENT
    neigh_new(ns, out_dev, ip, mac, state, create=True, excl=False)
    return 0
