"""`ip route`: list, flush, add/change/replace/prepend/append/test/delete, get (iproute.c)."""
from __future__ import annotations

from dataclasses import dataclass

from netlab.net import route_text as RT
from netlab.net import rtnl_route as R
from netlab.net.addr import mask
from netlab.net.fib import (RT_TABLE_LOCAL, RT_TABLE_MAIN, SCOPE_HOST, SCOPE_IDS, SCOPE_LINK, SCOPE_UNIVERSE,
                            TABLE_IDS, UNICAST)
from netlab.net.rtnl import RtnlError
from netlab.shell.ip.common import (Args, IpExit, IpOptions, duparg2, find_dev, flush_report, get_addr, get_prefix,
                                    get_u32, invarg, matches, nodev, records, unknown_command)
from netlab.shell.ip.route_usage import USAGE

PROTOS = {"unspec": 0, "redirect": 1, "kernel": 2, "boot": 3, "static": 4, "gated": 8, "ra": 9, "mrt": 10,
          "zebra": 11, "bird": 12, "dnrouted": 13, "xorp": 14, "ntk": 15, "dhcp": 16, "keepalived": 18,
          "babel": 42, "openr": 99, "bgp": 186, "isis": 187, "ospf": 188, "rip": 189, "eigrp": 192}
PROTO_BY_ID = {v: k for k, v in PROTOS.items()}
LOCAL_TABLE_TYPES = ("local", "broadcast", "nat", "anycast")
METRIC_WORDS = ("advmss", "rtt", "rttvar", "reordering", "window", "cwnd", "initcwnd", "initrwnd", "ssthresh",
                "hoplimit", "rto_min", "quickack", "congctl", "features", "fastopen_no_cookie")


def usage():
    raise IpExit(USAGE, 255)


def route_type(word: str) -> str | None:
    """rtnl_rtntype_a2n, by name only."""
    if word in ("local", "nat", "throw"):
        return word
    if word == "brd":
        return "broadcast"
    for name in ("broadcast", "anycast", "multicast", "prohibit", "unreachable", "blackhole", "unicast"):
        if matches(word, name):
            return name
    return None


def table_id(text: str) -> int | None:
    if text in TABLE_IDS:
        return TABLE_IDS[text]
    if text == "unspec":
        return 0
    return get_u32(text)


def proto_name(text: str) -> str | None:
    if text in PROTOS:
        return text
    value = get_u32(text)
    if value is None or value > 255:
        return None
    return PROTO_BY_ID.get(value, str(value))


def scope_id(text: str) -> int | None:
    if text in SCOPE_IDS:
        return SCOPE_IDS[text]
    value = get_u32(text)
    return value if value is not None and value <= 255 else None


# -- add / change / replace / prepend / append / test / delete ---------------------------------
FLAGS = {"add": dict(create=True, excl=True), "change": dict(create=False, excl=False, replace=True),
         "replace": dict(create=True, replace=True, excl=False), "prepend": dict(create=True, excl=False),
         "append": dict(create=True, excl=False, append=True), "test": dict(create=False, excl=True)}


def parse_modify(opts: IpOptions, argv: list[str], *, delete: bool) -> R.RouteSpec:
    """iproute_modify's parser: the route as the request would carry it."""
    args = Args(argv)
    family = opts.family
    spec = R.RouteSpec(0, 0, type=None if delete else UNICAST, proto=None if delete else "boot",
                       scope=None if delete else SCOPE_UNIVERSE)
    dev_name = None
    dst_ok = gw_ok = scope_ok = table_ok = False
    while args:
        a = args.cur
        if a == "src":
            spec.src = get_addr(args.next(), family)
            family = "inet"
        elif a == "via":
            if gw_ok:
                invarg("use nexthop syntax to specify multiple via\n", a)
            gw_ok = True
            text = args.next()
            if text in ("inet", "inet6"):
                text = args.next()
            spec.gateway = get_addr(text, family)
            family = "inet"
        elif a == "from":
            get_prefix(args.next(), family)
            raise RtnlError("EINVAL")
        elif a == "tos" or matches(a, "dsfield"):
            args.next_u32('"tos" value is invalid\n', 256)
        elif a == "expires":
            args.next_u32('"expires" value is invalid\n')
        elif matches(a, "metric") or matches(a, "priority") or a == "preference":
            spec.metric = args.next_u32('"metric" value is invalid\n')
        elif a == "scope":
            text = args.next()
            spec.scope = scope_id(text)
            if spec.scope is None:
                invarg('invalid "scope" value\n', text)
            scope_ok = True
        elif a == "mtu":
            text = args.next()
            if text == "lock":
                text = args.next()
            value = get_u32(text)
            if value is None:
                invarg('"mtu" value is invalid\n', text)
            spec.mtu = value
        elif a in METRIC_WORDS or matches(a, "reordering") or matches(a, "window"):
            text = args.next()
            if text == "lock":
                text = args.next()
        elif matches(a, "realms") or matches(a, "pref") or a in ("encap", "ttl-propagate", "as"):
            args.next()
        elif a == "onlink":
            spec.onlink = True
        elif a == "pervasive":
            pass
        elif a in ("nexthop", "nhid"):
            raise IpExit("netlab does not model multipath routes or nexthop objects", 2)
        elif matches(a, "protocol"):
            text = args.next()
            spec.proto = proto_name(text)
            if spec.proto is None:
                invarg('"protocol" value is invalid\n', text)
        elif matches(a, "table"):
            text = args.next()
            tid = table_id(text)
            if tid is None:
                invarg('"table" value is invalid\n', text)
            spec.table = tid or RT_TABLE_MAIN
            table_ok = True
        elif matches(a, "vrf"):
            invarg("Invalid VRF\n", args.next())
        elif a in ("dev", "oif"):
            dev_name = args.next()
        else:
            if a == "to":
                a = args.next()
            if not a[:1].isdigit() and route_type(a) is not None:
                spec.type = route_type(a)
                a = args.next()
            if matches(a, "help"):
                usage()
            if dst_ok:
                duparg2("to", a)
            spec.dst, spec.plen, _ = get_prefix(a, family)
            family = family or "inet"
            dst_ok = True
        args.advance()
    if not dst_ok:
        usage()
    if dev_name is not None:
        spec.dev = find_dev(opts.ns, dev_name)
        if spec.dev is None:
            nodev(dev_name)
    if not table_ok and spec.type in LOCAL_TABLE_TYPES:
        spec.table = RT_TABLE_LOCAL
    if not scope_ok:
        if spec.type in ("local", "nat"):
            spec.scope = SCOPE_HOST
        elif spec.type in ("broadcast", "multicast", "anycast"):
            spec.scope = SCOPE_LINK
        elif spec.type in (UNICAST, None):
            spec.scope = None if delete else (SCOPE_LINK if not gw_ok else SCOPE_UNIVERSE)
    return spec


def modify(opts: IpOptions, argv: list[str], cmd: str) -> int:
    if cmd == "delete":
        R.route_del(opts.ns, parse_modify(opts, argv, delete=True))
    else:
        R.route_new(opts.ns, parse_modify(opts, argv, delete=False), **FLAGS[cmd])
    return 0


# -- list / flush ------------------------------------------------------------------------------
@dataclass
class Pfx:
    ip: int
    bitlen: int
    family_set: bool  # get_prefix set the family (a real address, not "default")


@dataclass
class Filter:
    tb: int = RT_TABLE_MAIN
    cloned: bool = False
    proto: str | None = None
    scope: int | None = None
    scope_all: bool = False
    proto_all: bool = False
    types: set | None = None
    rdst: Pfx | None = None
    mdst: Pfx | None = None
    rvia: Pfx | None = None
    rprefsrc: Pfx | None = None
    oif: object = None
    iif: object = None
    metric: int | None = None
    from_nonzero: bool = False


def _pfx(text: str, family) -> Pfx:
    ip, plen, _ = get_prefix(text, family)
    return Pfx(ip, plen, text not in ("default", "any", "all"))


def parse_filter(opts: IpOptions, argv: list[str]) -> Filter:
    f = Filter()
    args = Args(argv)
    family = opts.family
    od = id_ = None
    while args:
        a = args.cur
        if matches(a, "table"):
            text = args.next()
            tid = table_id(text)
            if tid is None:
                if text == "all":
                    f.tb = 0
                elif text == "cache":
                    f.cloned = True
                elif text == "help":
                    usage()
                else:
                    invarg("table id value is invalid\n", text)
            else:
                f.tb = tid
        elif matches(a, "vrf"):
            invarg("Invalid VRF\n", args.next())
        elif matches(a, "cached") or matches(a, "cloned"):
            f.cloned = True
        elif a == "tos" or matches(a, "dsfield"):
            args.next_u32("TOS value is invalid\n")
        elif matches(a, "protocol"):
            text = args.next()
            f.proto = proto_name(text)
            if f.proto is None:
                if text != "all":
                    invarg('invalid "protocol"\n', text)
                f.proto_all = True
        elif matches(a, "scope"):
            text = args.next()
            f.scope = scope_id(text)
            if f.scope is None:
                if text != "all":
                    invarg('invalid "scope"\n', text)
                f.scope_all = True
        elif matches(a, "type"):
            text = args.next()
            t = route_type(text)
            if t is None:
                invarg("node type value is invalid\n", text)
            f.types = (f.types or set()) | {t}
        elif a in ("dev", "oif"):
            od = args.next()
        elif a == "iif":
            id_ = args.next()
        elif a == "mark":
            args.next_u32("invalid mark value")
        elif matches(a, "metric") or matches(a, "priority") or a == "preference":
            f.metric = args.next_u32('"metric" value is invalid\n')
        elif a == "via":
            text = args.next()
            if text in ("inet", "inet6"):
                text = args.next()
            f.rvia = _pfx(text, family)
        elif a == "src":
            f.rprefsrc = _pfx(args.next(), family)
        elif matches(a, "realms"):
            args.next()
        elif matches(a, "from"):
            text = args.next()
            if matches(text, "root") or matches(text, "match") or matches(text, "exact"):
                text = args.next()
            f.from_nonzero = _pfx(text, family).bitlen > 0
        else:
            if matches(a, "to"):
                a = args.next()
            if matches(a, "root"):
                f.rdst = _pfx(args.next(), family)
            elif matches(a, "match"):
                f.mdst = _pfx(args.next(), family)
            else:
                if matches(a, "exact"):
                    a = args.next()
                elif matches(a, "help"):
                    usage()
                f.mdst = f.rdst = _pfx(a, family)
        args.advance()
    if id_ is not None:
        f.iif = find_dev(opts.ns, id_) or nodev(id_)
    if od is not None:
        f.oif = find_dev(opts.ns, od) or nodev(od)
    return f


def _match(route_ip: int, pfx: Pfx, bits: int) -> bool:
    return (route_ip ^ pfx.ip) & mask(bits) == 0


def keep(route, f: Filter) -> bool:
    """filter_nlmsg for one IPv4 route."""
    if f.cloned or f.iif is not None or f.from_nonzero:
        return False
    if f.tb and route.table != f.tb:
        return False
    if f.proto is not None and route.proto != f.proto:
        return False
    if f.scope is not None and route.scope != f.scope:
        return False
    if f.types is not None and route.type not in f.types:
        return False
    if f.rdst is not None and (f.rdst.bitlen > route.plen or not _match(route.dst, f.rdst, f.rdst.bitlen)):
        return False
    if f.mdst is not None and (f.mdst.bitlen < route.plen or not _match(route.dst, f.mdst, route.plen)):
        return False
    if f.rvia is not None and (route.gateway is None or not _match(route.gateway, f.rvia, f.rvia.bitlen)):
        return False
    if f.rprefsrc is not None and (route.src is None or not _match(route.src, f.rprefsrc, f.rprefsrc.bitlen)):
        return False
    if f.oif is not None and route.dev is not f.oif:
        return False
    if f.metric is not None and route.metric != f.metric:
        return False
    return True


def omitted(f: Filter) -> frozenset:
    """What print_route leaves out because the filter already says it."""
    out = set()
    if f.oif is not None:
        out.add("dev")
    if f.rvia is not None and f.rvia.bitlen == 32:
        out.add("via")
    if f.rprefsrc is not None and f.rprefsrc.bitlen == 32:
        out.add("src")
    if f.proto is not None:
        out.add("proto")
    if f.scope is not None:
        out.add("scope")
    if f.metric is not None:
        out.add("metric")
    return frozenset(out)


def ordered_routes(ns, f: Filter) -> list:
    """The dump: main table, then local, then any other, each in key order."""
    fib = ns.fib
    ids = [RT_TABLE_MAIN, RT_TABLE_LOCAL] + sorted(t for t in fib.tables if t not in (RT_TABLE_MAIN, RT_TABLE_LOCAL))
    if f.tb:
        ids = [f.tb] if f.tb in fib.tables else []
    return [r for t in ids for r in fib.tables[t].routes() if keep(r, f)]


def list_routes(opts: IpOptions, argv: list[str]) -> int:
    f = parse_filter(opts, argv)
    if opts.family != "inet6":
        skip = omitted(f)
        for route in ordered_routes(opts.ns, f):
            opts.emit(RT.format_route(route, show_table=not f.tb, details=bool(opts.details), omit=skip))
    if opts.family in (None, "inet6") and (opts.family == "inet6" or not f.tb) and f.rdst is None \
            and f.mdst is None and f.rvia is None and f.rprefsrc is None and not f.cloned and f.types is None:
        for line in RT.ipv6_route_lines(opts.ns, table=f.tb, dev=f.oif):
            opts.emit(line)
    return 0


def flush_routes(opts: IpOptions, argv: list[str]) -> int:
    if not argv:
        raise IpExit('"ip route flush" requires arguments.', 1)
    f = parse_filter(opts, argv)
    if f.cloned:
        return 0  # the IPv4 routing cache is gone since Linux 3.6; iproute2 still writes route/flush
    gone = ordered_routes(opts.ns, f)
    for route in gone:
        opts.ns.fib.remove(route)
    flush_report(opts, len(gone))
    return 0


# -- get ----------------------------------------------------------------------------------------
def get_route(opts: IpOptions, argv: list[str]) -> int:
    args = Args(argv)
    family = opts.family
    dst = src = None
    idev = odev = None
    fibmatch = False
    uid = 0
    while args:
        a = args.cur
        if a == "tos" or matches(a, "dsfield"):
            args.next_u32("TOS value is invalid\n")
        elif matches(a, "from"):
            text = args.next()
            if matches(text, "help"):
                usage()
            src = get_prefix(text, family)
            family = "inet"
        elif matches(a, "iif"):
            idev = args.next()
        elif matches(a, "mark"):
            args.next_u32("invalid mark value")
        elif matches(a, "oif") or a == "dev":
            odev = args.next()
        elif matches(a, "notify") or matches(a, "connected"):
            pass
        elif matches(a, "vrf"):
            invarg("Invalid VRF\n", args.next())
        elif matches(a, "uid"):
            uid = args.next_u32("invalid UID\n")
        elif matches(a, "fibmatch"):
            fibmatch = True
        elif a in ("ipproto", "sport", "dport", "as"):
            args.next()
        else:
            if a == "to":
                a = args.next()
            if matches(a, "help"):
                usage()
            dst = get_prefix(a, family)
            family = "inet"
        args.advance()
    if dst is None or dst[1] == 0:
        raise IpExit("need at least a destination address", 1)
    ns = opts.ns
    iif = oif = None
    if idev is not None:
        iif = find_dev(ns, idev) or nodev(idev)
    if odev is not None:
        oif = find_dev(ns, odev) or nodev(odev)
    if dst[1] != 32 or (src is not None and src[1] != 32):
        raise RtnlError("EINVAL", "ipv4: Invalid values in header for get route request")
    source = src[0] if src is not None else 0
    if iif is not None:
        answer = R.route_get_input(ns, dst[0], source, iif)
    else:
        answer = R.route_get(ns, dst[0], src=source, oif=oif, uid=uid)
    if fibmatch:
        if answer.route is None:
            raise RtnlError("ENETUNREACH")
        opts.emit(RT.format_route(answer.route, show_table=True, details=bool(opts.details)))
        return 0
    records(opts, RT.format_route_get(answer))
    return 0


def do_iproute(opts: IpOptions, argv: list[str]) -> int:
    if not argv:
        return list_routes(opts, [])
    word, rest = argv[0], argv[1:]
    for cmd in ("add", "change", "replace", "prepend", "append", "test", "delete"):
        if matches(word, cmd) or (cmd == "change" and word == "chg"):
            return modify(opts, rest, cmd)
    if matches(word, "list") or matches(word, "show") or matches(word, "lst"):
        return list_routes(opts, rest)
    if matches(word, "get"):
        return get_route(opts, rest)
    if matches(word, "flush"):
        return flush_routes(opts, rest)
    if matches(word, "save") or matches(word, "restore") or matches(word, "showdump"):
        raise IpExit("Not sending a binary stream to stdout", 1)
    if matches(word, "help"):
        usage()
    unknown_command(word, "route")


__all__ = ["do_iproute"]
