"""net-tools `arp`: /proc/net/arp's table, and SIOCSARP/SIOCDARP changes."""
from __future__ import annotations

from netlab.net import neigh as N
from netlab.net.addr import fmt_ip
from netlab.net.fib import SCOPE_LINK
from netlab.net.rtnl import RtnlError
from netlab.net.rtnl_neigh import neigh_del, neigh_new
from netlab.net.rtnl_route import fib_lookup
from netlab.shell.ip.common import find_dev, parse_ipv4
from netlab.shell.nettools.common import E_USAGE, ToolError, host_name, resolve
from netlab.shell.registry import Invocation, command


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
            return inv.fail("SIOCGIFINDEX: No such device", 255)
    if action == "d":
        return arp_delete(inv, rest, dev)
    if action == "s":
        return arp_set(inv, rest, dev)
    host = None
    if rest:
        host = parse_ipv4(rest[0]) if rest[0].count(".") == 3 else None
        if host is None:
            try:
                host = resolve(ns, rest[0])
            except ToolError:
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
        return inv.fail("arp: invalid hardware address", 255)
    out_dev = _arp_dev(ns, ip, dev)
    if out_dev is None:
        return inv.fail("SIOCSARP: Network is unreachable", 255)
    state = N.REACHABLE if "temp" in rest[2:] else N.PERMANENT
    neigh_new(ns, out_dev, ip, mac, state, create=True, excl=False)
    return 0
