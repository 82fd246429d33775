"""net-tools `route`: /proc/net/route's table, and SIOCADDRT/SIOCDELRT changes."""
from __future__ import annotations

from netlab.net.addr import fmt_ip, mask
from netlab.net.fib import (BLACKHOLE, PROHIBIT, RT_TABLE_MAIN, SCOPE_HOST, SCOPE_LINK, SCOPE_UNIVERSE, UNICAST,
                            UNREACHABLE)
from netlab.net.rtnl import RtnlError
from netlab.net.rtnl_route import RouteSpec, route_del, route_new
from netlab.shell.ip.common import find_dev, parse_ipv4
from netlab.shell.nettools.common import E_OPTERR, E_SOCK, E_USAGE, ToolError, host_name, net_name, resolve
from netlab.shell.registry import Invocation, command

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


HEADERS = {1: "Destination     Gateway         Genmask         Flags Metric Ref    Use Iface",
           2: "Destination     Gateway         Genmask         Flags   MSS Window  irtt Iface",
           3: "Destination     Gateway         Genmask         Flags Metric Ref    Use Iface    MSS   Window irtt"}


class UsageError(Exception):
    """A malformed route add/del: net-tools prints inet_route's usage."""


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
    """rprint_fib: /proc/net/route (the main table's unicast and error routes). `extended` 1 is
    plain `route`, 2 is `route -e` (netstat -r's columns), 3 is `route -ee`."""
    out = ["Kernel IP routing table", HEADERS[min(extended, 3)]]
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
            row = {1: f"{dst:<15} -               {genmask:<15} {flags:<5} {route.metric:<6} -  {0:>7} -",
                   2: f"{dst:<15} -               {genmask:<15} {flags:<5}     - -          - -",
                   3: f"{dst:<15} -               {genmask:<15} {flags:<5} {route.metric:<6} -  {0:>7} -        -     -      -"}
        else:
            row = {1: f"{dst:<15} {gw:<15} {genmask:<15} {flags:<5} {route.metric:<6} {0:<2} {0:>7} {iface}",
                   2: f"{dst:<15} {gw:<15} {genmask:<15} {flags:<5} {0:>5} {0:<5} {0:>6} {iface}",
                   3: f"{dst:<15} {gw:<15} {genmask:<15} {flags:<5} {route.metric:<6} {0:<3} {0:>6} {iface[:6]:<6}   "
                      f"{0:<5} {0:<6} 0"}
        out.append(row[min(extended, 3)])
    return out


def parse_route_change(ns, args: list[str], cmd: str) -> RouteSpec:
    """inet_setroute: `route add|del [-net|-host] target [netmask M] [gw G] [metric N] [reject] [[dev] If]`."""
    xflag = None
    if args and args[0] in ("-net", "-host"):
        xflag, args = args[0], args[1:]
    if not args:
        raise UsageError()
    target, args = args[0], args[1:]
    plen = None
    if target == "default":
        ip, plen = 0, 0
    else:
        text, slash, p = target.partition("/")
        ip = parse_ipv4(text) if text.count(".") == 3 or slash else None
        if ip is None:
            ip = resolve(ns, text)
        if slash:
            if not p.isdigit() or int(p) > 32:
                raise ToolError(f"route: bogus netmask {p}", E_OPTERR)
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
                raise UsageError()
            m = parse_ipv4(value)
            if m is None or mask(bin(m).count("1")) != m:
                raise ToolError(f"route: bogus netmask {value}", E_OPTERR)
            if xflag == "-host":
                raise ToolError(f"route: netmask {m:08x} doesn't make sense with host route", E_OPTERR)
            spec.plen, netmask_given = bin(m).count("1"), True
            i += 2
        elif a in ("gw", "gateway"):
            if value is None:
                raise UsageError()
            spec.gateway = parse_ipv4(value) if value.count(".") == 3 else resolve(ns, value)
            i += 2
        elif a == "metric":
            if value is None or not value.isdigit():
                raise UsageError()
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
                raise UsageError()
            spec.dev = _dev(ns, value, cmd)
            i += 2
        elif i == len(args) - 1:
            spec.dev = _dev(ns, a, cmd)
            i += 1
        else:
            raise UsageError()
    if xflag == "-net" and plen is None and not netmask_given and target != "default":
        spec.plen = 32 if ip & 0xFF else (24 if ip & 0xFF00 else (16 if ip & 0xFF0000 else 8))
    if spec.dst & ~mask(spec.plen) & 0xFFFFFFFF:
        raise ToolError("route: netmask doesn't match route address", E_OPTERR, usage=True)
    if cmd == "add":
        if spec.type == UNREACHABLE:
            spec.scope = SCOPE_HOST
        else:
            spec.scope = SCOPE_UNIVERSE if spec.gateway is not None and spec.gateway and not ns.is_local(spec.gateway) \
                else SCOPE_LINK
    return spec


def _dev(ns, name: str, cmd: str):
    dev = find_dev(ns, name)
    if dev is None:
        raise ToolError(f"SIOC{'ADD' if cmd == 'add' else 'DEL'}RT: No such device", E_SOCK)
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
    except UsageError:
        return inv.fail(INET_USAGE, E_USAGE)
    except ToolError as err:
        return inv.fail(err.message + (f"\n{INET_USAGE}" if err.usage else ""), err.code)
    except RtnlError as err:
        return inv.fail(f"SIOC{'ADD' if cmd == 'add' else 'DEL'}RT: {err.strerror}", E_SOCK)
    return 0


