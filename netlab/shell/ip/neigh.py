"""`ip neigh`: show, flush, add/change/replace/delete (ipneigh.c)."""
from __future__ import annotations

from netlab.net import neigh as N
from netlab.net.addr import fmt_ip, in_prefix, network
from netlab.net.rtnl_neigh import NUD_NAMES, neigh_del, neigh_new
from netlab.shell.ip.common import (Args, IpExit, IpOptions, duparg, duparg2, find_dev, flush_report, get_addr,
                                    get_prefix, invarg, ll_addr, matches, nodev, unknown_command)

USAGE = """Usage: ip neigh { add | del | change | replace }
                { ADDR [ lladdr LLADDR ] [ nud STATE ] proxy ADDR }
                [ dev DEV ] [ router ] [ use ] [ managed ] [ extern_learn ]
                [ protocol PROTO ]

	ip neigh { show | flush } [ proxy ] [ to PREFIX ] [ dev DEV ] [ nud STATE ]
				  [ vrf NAME ] [ nomaster ]
	ip neigh get { ADDR | proxy ADDR } dev DEV

STATE := { delay | failed | incomplete | noarp | none |
           permanent | probe | reachable | stale }"""
ORDER = (N.INCOMPLETE, N.REACHABLE, N.STALE, N.DELAY, N.PROBE, N.FAILED, N.NOARP, N.PERMANENT)
DEFAULT_SHOW = frozenset(ORDER) - {N.NOARP}


def usage():
    raise IpExit(USAGE, 255)


def nud_state(text: str) -> str | None:
    """nud_state_a2n (names; matches() for permanent, reachable and failed)."""
    for word in ("permanent", "reachable", "failed"):
        if matches(text, word):
            return NUD_NAMES[word]
    return NUD_NAMES.get(text)


# -- add / change / replace / delete ----------------------------------------------------------
def modify(opts: IpOptions, argv: list[str], cmd: str) -> int:
    args = Args(argv)
    dst = lladdr = dev_name = None
    state = N.PERMANENT
    while args:
        a = args.cur
        if matches(a, "lladdr"):
            value = args.next()
            if lladdr is not None:
                duparg("lladdr", value)
            lladdr = value
        elif a == "nud":
            text = args.next()
            state = nud_state(text)
            if state is None:
                invarg("nud state is bad", text)
        elif matches(a, "proxy"):
            raise IpExit("netlab does not model proxy neighbour entries", 2)
        elif matches(a, "router") or matches(a, "use") or matches(a, "managed") or matches(a, "extern_learn"):
            pass
        elif matches(a, "protocol"):
            args.next()
        elif a == "dev":
            dev_name = args.next()
        else:
            if a == "to":
                a = args.next()
            if matches(a, "help"):
                usage()
            if dst is not None:
                duparg2("to", a)
            dst = get_addr(a, opts.family)
        args.advance()
    if dev_name is None or dst is None:
        raise IpExit("Device and destination are required arguments.", 255)
    mac = ll_addr(lladdr) if lladdr is not None and lladdr != "null" else None
    dev = find_dev(opts.ns, dev_name)
    if dev is None:
        nodev(dev_name)
    if mac is not None and len(mac.split(":")) != 6:
        from netlab.net.rtnl import RtnlError
        raise RtnlError("EINVAL", "Invalid link address")
    if cmd == "delete":
        neigh_del(opts.ns, dev, dst)
    else:
        flags = {"add": dict(create=True, excl=True), "change": dict(create=False, excl=False),
                 "replace": dict(create=True, excl=False)}[cmd]
        neigh_new(opts.ns, dev, dst, mac, state, **flags)
    return 0


# -- show / flush -------------------------------------------------------------------------------
def neigh_line(entry, ns, *, with_dev: bool, stats: bool) -> str:
    """print_neigh (iproute2 6.1 spacing: every field is followed by one space)."""
    text = f"{fmt_ip(entry.ip)} "
    if with_dev:
        text += f"dev {entry.dev.name} "
    if entry.lladdr is not None and entry.state not in (N.INCOMPLETE, N.FAILED):
        text += f"lladdr {entry.lladdr} "
    if entry.router:
        text += "router "
    if stats:
        age = int(ns.world.clock - entry.confirmed)
        if entry.state in (N.REACHABLE, N.STALE, N.DELAY, N.PROBE):
            text += " ref 1"
        text += f" used {age}/{age}/{age}"
        text += f"probes {0 if entry.state in (N.PERMANENT, N.NOARP) else (6 if entry.state == N.FAILED else 4)} "
    return text + f"{entry.state} "


def show_or_flush(opts: IpOptions, argv: list[str], *, flush: bool) -> int:
    if flush and not argv:
        raise IpExit("Flush requires arguments.", 1)
    states = set(frozenset(ORDER) - {N.PERMANENT, N.NOARP}) if flush else set(DEFAULT_SHOW)
    given = False
    pfx = None
    dev_name = None
    args = Args(argv)
    while args:
        a = args.cur
        if a == "dev":
            value = args.next()
            if dev_name is not None:
                duparg("dev", value)
            dev_name = value
        elif a == "unused":
            pass
        elif a == "nud":
            text = args.next()
            if not given:
                states, given = set(), True
            state = nud_state(text)
            if state is None:
                if text != "all":
                    invarg("nud state is bad", text)
                states |= set(ORDER) - ({N.NOARP} if flush else set())
            elif state != "NONE":
                states.add(state)
        elif a == "proxy":
            return 0
        elif matches(a, "vrf"):
            invarg("Not a valid VRF name\n", args.next())
        elif a == "nomaster":
            pass
        else:
            if a == "to":
                a = args.next()
            if matches(a, "help"):
                usage()
            ip, plen, _ = get_prefix(a, opts.family)
            pfx = (network(ip, plen), plen)
        args.advance()
    dev = None
    if dev_name is not None:
        dev = find_dev(opts.ns, dev_name)
        if dev is None:
            nodev(dev_name)
    if flush:
        states.discard(N.FAILED)
    if opts.family == "inet6":
        return 0
    entries = [e for e in opts.ns.neigh.for_dev(dev) if e.state in states
               and (pfx is None or in_prefix(e.ip, *pfx))]
    if flush:
        for e in entries:
            opts.ns.neigh.delete(e.dev, e.ip)
        flush_report(opts, len(entries))
        return 0
    for e in entries:
        if opts.brief:
            line = f"{fmt_ip(e.ip):<39} " + (f"{e.dev.name:<16} " if dev is None else "")
            opts.emit(line + (e.lladdr if e.lladdr and e.state not in (N.INCOMPLETE, N.FAILED) else ""))
        else:
            opts.emit(neigh_line(e, opts.ns, with_dev=dev is None, stats=bool(opts.stats)))
    return 0


def do_ipneigh(opts: IpOptions, argv: list[str]) -> int:
    if not argv:
        return show_or_flush(opts, [], flush=False)
    word, rest = argv[0], argv[1:]
    if matches(word, "add"):
        return modify(opts, rest, "add")
    if matches(word, "change") or word == "chg":
        return modify(opts, rest, "change")
    if matches(word, "replace"):
        return modify(opts, rest, "replace")
    if matches(word, "delete"):
        return modify(opts, rest, "delete")
    if matches(word, "get"):
        return get_neigh(opts, rest)
    if matches(word, "show") or matches(word, "lst") or matches(word, "list"):
        return show_or_flush(opts, rest, flush=False)
    if matches(word, "flush"):
        return show_or_flush(opts, rest, flush=True)
    if matches(word, "help"):
        usage()
    unknown_command(word, "neigh")


def get_neigh(opts: IpOptions, argv: list[str]) -> int:
    """`ip neigh get ADDR dev DEV`: the one entry, or `RTNETLINK answers: No such file or directory`."""
    from netlab.net.rtnl import RtnlError

    args = Args(argv)
    dst = dev_name = None
    while args:
        a = args.cur
        if a == "dev":
            dev_name = args.next()
        elif a == "proxy":
            raise IpExit("netlab does not model proxy neighbour entries", 2)
        else:
            if a == "to":
                a = args.next()
            dst = get_addr(a, opts.family)
        args.advance()
    if dev_name is None or dst is None:
        raise IpExit("Device and address are required arguments.", 255)
    dev = find_dev(opts.ns, dev_name)
    if dev is None:
        nodev(dev_name)
    entry = opts.ns.neigh.get(dev, dst)
    if entry is None:
        raise RtnlError("ENOENT")
    opts.emit(neigh_line(entry, opts.ns, with_dev=True, stats=bool(opts.stats)))
    return 0
