"""`ip address` (and the listing `ip link show` shares with it: ipaddr_list_flush_or_save)."""
from __future__ import annotations

from dataclasses import dataclass

from netlab.net import link_text as L
from netlab.net.addr import broadcast as bcast_of
from netlab.net.addr import fmt_ip, in_prefix, network
from netlab.net.fib import SCOPE_IDS
from netlab.net.rtnl_addr import AddrSpec, addr_del, addr_new
from netlab.shell.ip.common import (Args, IpExit, IpOptions, duparg, duparg2, find_dev, flush_report, get_addr,
                                    get_prefix, get_u32, invarg, matches, nodev, records, unknown_command)

USAGE = """Usage: ip address {add|change|replace} IFADDR dev IFNAME [ LIFETIME ]
                                                      [ CONFFLAG-LIST ]
       ip address del IFADDR dev IFNAME [mngtmpaddr]
       ip address {save|flush} [ dev IFNAME ] [ scope SCOPE-ID ]
                            [ to PREFIX ] [ FLAG-LIST ] [ label LABEL ] [up]
       ip address [ show [ dev IFNAME ] [ scope SCOPE-ID ] [ master DEVICE ]
                         [ nomaster ]
                         [ type TYPE ] [ to PREFIX ] [ FLAG-LIST ]
                         [ label LABEL ] [up] [ vrf NAME ]
                         [ proto ADDRPROTO ] ]
       ip address {showdump|restore}
IFADDR := PREFIX | ADDR peer PREFIX
          [ broadcast ADDR ] [ anycast ADDR ]
          [ label IFNAME ] [ scope SCOPE-ID ] [ metric METRIC ]
          [ proto ADDRPROTO ]
SCOPE-ID := [ host | link | global | NUMBER ]
FLAG-LIST := [ FLAG-LIST ] FLAG
FLAG  := [ permanent | dynamic | secondary | primary |
           [-]tentative | [-]deprecated | [-]dadfailed | temporary |
           CONFFLAG-LIST ]
CONFFLAG-LIST := [ CONFFLAG-LIST ] CONFFLAG
CONFFLAG  := [ home | nodad | mngtmpaddr | noprefixroute | autojoin ]
LIFETIME := [ valid_lft LFT ] [ preferred_lft LFT ]
LFT := forever | SECONDS
ADDRPROTO := [ NAME | NUMBER ]"""
FLAG_WORDS = ("secondary", "temporary", "primary", "permanent", "dynamic", "tentative", "-tentative", "deprecated",
              "-deprecated", "dadfailed", "-dadfailed", "home", "nodad", "mngtmpaddr", "noprefixroute", "autojoin")


def usage():
    raise IpExit(USAGE, 255)


def scope_arg(text: str, msg: str) -> int:
    if text in SCOPE_IDS:
        return SCOPE_IDS[text]
    value = get_u32(text)
    if value is None or value > 255:
        invarg(msg, text)
    return value


@dataclass
class Filter:
    dev: str | None = None
    pfx: tuple[int, int] | None = None
    scope: int | None = None
    up: bool = False
    label: str | None = None
    master: object = None
    kind: str | None = None
    slave_kind: str | None = None
    secondary: bool | None = None  # True: only secondary, False: only primary
    noprefixroute: bool = False


def parse_filter(opts: IpOptions, args: Args) -> Filter:
    f = Filter()
    while args:
        a = args.cur
        if a == "to":
            f.pfx = get_prefix(args.next(), opts.family)[:2]
        elif a == "scope":
            text = args.next()
            f.scope = None if text == "all" else scope_arg(text, 'invalid "scope"\n')
        elif a == "up":
            f.up = True
        elif a in FLAG_WORDS:
            if a in ("secondary", "temporary"):
                f.secondary = True
            elif a == "primary":
                f.secondary = False
            elif a == "noprefixroute":
                f.noprefixroute = True
        elif a == "label":
            f.label = args.next()
        elif a == "group":
            args.next()
        elif a == "master":
            name = args.next()
            f.master = find_dev(opts.ns, name)
            if f.master is None:
                invarg("Device does not exist\n", name)
        elif a == "type":
            kind = args.next()
            if kind.endswith("_slave"):
                f.slave_kind = kind[:-len("_slave")]
            else:
                f.kind = kind
        else:
            if a == "dev":
                a = args.next()
            elif matches(a, "help"):
                usage()
            if f.dev is not None:
                duparg2("dev", a)
            f.dev = a
        args.advance()
    return f


def addr_matches(dev, a, f: Filter) -> bool:
    return ((f.scope is None or a.scope == f.scope)
            and (f.secondary is None or a.secondary == f.secondary)
            and (not f.noprefixroute or a.noprefixroute)
            and (f.label is None or _label_match(f.label, a.label or dev.name))
            and (f.pfx is None or in_prefix(a.ip, network(*f.pfx), f.pfx[1])))


def _label_match(pattern: str, label: str) -> bool:
    from fnmatch import fnmatchcase

    return fnmatchcase(label, pattern)


def list_or_flush(opts: IpOptions, argv: list[str], *, do_link: bool, flush: bool = False) -> int:
    ns = opts.ns
    family = "link" if do_link else opts.family
    if flush and not argv:
        raise IpExit("Flush requires arguments.", 1)
    f = parse_filter(opts, Args(argv))
    devices = sorted(ns.devices.values(), key=lambda d: d.ifindex)
    if f.dev is not None:
        one = find_dev(ns, f.dev)
        if one is None:
            raise IpExit(f'Device "{f.dev}" does not exist.', 1)
        devices = [one]
    if flush:
        return flush_addrs(opts, devices, f)
    for dev in devices:
        if f.up and not dev.admin_up:
            continue
        if f.master is not None and dev.master is not f.master:
            continue
        if f.kind is not None and L.link_kind(dev) != f.kind:
            continue
        if f.slave_kind is not None and (dev.master is None or dev.master.kind != f.slave_kind):
            continue
        shown = [] if family == "link" else selected(dev, family, f)
        if family != "link" and not shown and (family is not None or dev.addrs or L.ipv6_addrs(dev)):
            continue  # ipaddr_filter: no matching address (a device with none at all stays)
        print_device(opts, dev, shown, do_link=do_link, family=family)
    return 0


def selected(dev, family: str | None, f: Filter) -> list[tuple[object, tuple[str, str]]]:
    """The addresses print_addrinfo would print: (IfAddr or IPv6 text, its two lines)."""
    out = []
    if family in (None, "inet"):
        out += [(a, L.inet_line(dev, a)) for a in L.ordered_addrs(dev) if addr_matches(dev, a, f)]
    if family in (None, "inet6") and f.pfx is None and f.secondary is not True and not f.noprefixroute:
        for addr, plen, scope in L.ipv6_addrs(dev):
            if (f.scope is None or SCOPE_IDS.get(scope) == f.scope) and (f.label is None or _label_match(f.label, dev.name)):
                out.append((f"{addr}/{plen}", L.inet6_line(addr, plen, scope)))
    return out


def print_device(opts: IpOptions, dev, shown, *, do_link: bool, family: str | None) -> None:
    if opts.brief:
        opts.emit(L.link_brief(dev) if do_link else L.addr_brief(dev, [_brief_word(a) for a, _ in shown]))
        return
    if opts.oneline and not do_link:
        for _, (text, lft) in shown:
            opts.emit(f"{dev.ifindex}: {dev.name}{text}\\{lft}")
        return
    lines = L.link_record(dev, opts.ns, do_link=do_link, family=family, details=bool(opts.details),
                          stats=bool(opts.stats))
    for _, (text, lft) in shown:
        lines += [text, lft]
    if not do_link and opts.stats:
        lines += L.stats_lines(dev)
    records(opts, lines)


def _brief_word(a) -> str:
    if isinstance(a, str):
        return f"{a} "
    return f"{fmt_ip(a.ip)}/{a.plen} " + (f"metric {a.metric} " if a.metric else "")


def flush_addrs(opts: IpOptions, devices, f: Filter) -> int:
    ns = opts.ns
    if opts.family == "link":
        raise IpExit("Cannot flush link addresses.", 1)
    gone = 0
    for dev in devices:
        if f.up and not dev.admin_up:
            continue
        for a in [a for a in L.ordered_addrs(dev) if addr_matches(dev, a, f)]:
            if a in dev.addrs:
                ns.addr_del(dev, a.ip, a.plen)
                gone += 1
    flush_report(opts, gone, "addresses")
    return 0


# -- add / change / replace / del -------------------------------------------------------------
def modify(opts: IpOptions, argv: list[str], *, cmd: str) -> int:
    """ipaddr_modify."""
    args = Args(argv)
    family = opts.family
    dev_name = label = None
    local = local_arg = None  # (ip, plen, plen_given), and the word it came from
    brd: int | str | None = None
    scope = None
    metric = 0
    noprefixroute = False
    while args:
        a = args.cur
        if a in ("peer", "remote"):
            raise IpExit("netlab does not model point-to-point (peer) addresses", 1)
        elif matches(a, "broadcast") or a == "brd":
            value = args.next()
            if brd is not None:
                duparg("broadcast", value)
            brd = value if value in ("+", "-") else get_addr(value, family)
        elif a == "anycast":
            get_addr(args.next(), family)
        elif a == "scope":
            scope = scope_arg(args.next(), "invalid scope value.")
        elif a == "dev":
            dev_name = args.next()
        elif a == "label":
            label = args.next()
        elif matches(a, "metric") or matches(a, "priority") or matches(a, "preference"):
            metric = args.next_u32('"metric" value is invalid\n')
        elif matches(a, "valid_lft") or matches(a, "preferred_lft"):
            text = args.next()
            if text != "forever" and get_u32(text) is None:
                invarg(f"{'valid_lft' if matches(a, 'valid_lft') else 'preferred_lft'} value", text)
        elif a in FLAG_WORDS:
            if a == "noprefixroute":
                noprefixroute = True
            elif a in ("secondary", "temporary", "dadfailed", "deprecated", "tentative", "permanent"):
                opts.emit(f"Warning: {a} option is not mutable from userspace")
            elif a in ("nodad", "optimistic", "home", "mngtmpaddr"):
                opts.emit(f"Warning: {a} option can be set only for IPv6 addresses")
        else:
            if a == "local":
                a = args.next()
            if matches(a, "help"):
                usage()
            if local is not None:
                duparg2("local", a)
            local, local_arg = get_prefix(a, family), a
            family = family or "inet"
        args.advance()
    if dev_name is None:
        raise IpExit('Not enough information: "dev" argument is required.', 1)
    if label is not None and not (label == dev_name or label.startswith(dev_name + ":")):
        raise IpExit(f'"label" ({label}) must match "dev" ({dev_name}) or be prefixed by "dev" with a colon.', 1)
    dev = find_dev(opts.ns, dev_name)
    if dev is None:
        nodev(dev_name)
    if local is None:
        from netlab.net.rtnl import RtnlError
        raise RtnlError("EINVAL")
    ip, plen, plen_given = local
    if cmd == "del":
        if not plen_given:
            opts.emit('Warning: Executing wildcard deletion to stay compatible with old scripts.\n'
                      f'         Explicitly specify the prefix length ({local_arg}/32) to avoid this warning.\n'
                      '         This special behaviour is likely to disappear in further releases,\n'
                      '         fix your scripts!')
        addr_del(opts.ns, dev, ip, plen if plen_given else None, label)
        return 0
    if brd in ("+", "-"):
        brd = (bcast_of(ip, plen) if brd == "+" else network(ip, plen)) if plen <= 30 else None
    addr_new(opts.ns, dev, AddrSpec(ip, plen, brd, scope, label, metric, noprefixroute), replace=cmd in ("change", "replace"))
    return 0


def do_ipaddr(opts: IpOptions, argv: list[str]) -> int:
    if not argv:
        return list_or_flush(opts, [], do_link=False)
    word, rest = argv[0], argv[1:]
    if matches(word, "add"):
        return modify(opts, rest, cmd="add")
    if matches(word, "change") or word == "chg":
        return modify(opts, rest, cmd="change")
    if matches(word, "replace"):
        return modify(opts, rest, cmd="replace")
    if matches(word, "delete"):
        return modify(opts, rest, cmd="del")
    if matches(word, "list") or matches(word, "show") or matches(word, "lst"):
        return list_or_flush(opts, rest, do_link=False)
    if matches(word, "flush"):
        return list_or_flush(opts, rest, do_link=False, flush=True)
    if matches(word, "help"):
        usage()
    unknown_command(word, "address")
