"""RTM_NEWROUTE / RTM_DELROUTE / RTM_GETROUTE: the kernel's side of `ip route` and `route`.

`route_new` is fib_table_insert with fib_create_info's checks in the kernel's order (the
prefix, the route type and scope, the nexthop, the preferred source), then the NLM_F_*
flags decide between "File exists", replace, append and prepend. `route_del` is
fib_table_delete's matching. `route_get` and `route_get_input` answer `ip route get` for
the output path (NetNS.route_output, as every locally sent packet) and for the input path
(ip_route_input_slow, as NetNS.ip_rcv decides for a packet arriving on `iif`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from netlab.net.addr import mask
from netlab.net.fib import (BLACKHOLE, BROADCAST, LOCAL, PROHIBIT, RT_TABLE_LOCAL, RT_TABLE_MAIN, SCOPE_HOST,
                            SCOPE_LINK, SCOPE_UNIVERSE, THROW, UNICAST, UNREACHABLE, Route)
from netlab.net.rtnl import ERRNO_OF_TEXT, RtnlError

if TYPE_CHECKING:
    from netlab.net.device import Device
    from netlab.net.netns import NetNS

MULTICAST, ANYCAST, NAT = "multicast", "anycast", "nat"
ERROR_TYPES = {BLACKHOLE: "EINVAL", UNREACHABLE: "EHOSTUNREACH", PROHIBIT: "EACCES", THROW: "EAGAIN"}
# fib_props[type].scope: the narrowest scope a route of this type may have.
MIN_SCOPE = {LOCAL: SCOPE_HOST, NAT: SCOPE_HOST, BROADCAST: SCOPE_LINK, ANYCAST: SCOPE_LINK}
SCOPE_NOWHERE = 255
LBCAST = 0xFFFFFFFF


def is_multicast(ip: int) -> bool:
    return ip >> 28 == 0xE


def is_zeronet(ip: int) -> bool:
    return ip >> 24 == 0


def is_loopback(ip: int) -> bool:
    return ip >> 24 == 127


@dataclass
class RouteSpec:
    """An rtmsg and its attributes as a tool sends them. None means "not given": for a
    delete that matches anything (RTN_UNSPEC, RT_SCOPE_NOWHERE, protocol 0, no RTA_*)."""
    dst: int
    plen: int
    type: str | None = UNICAST
    table: int = RT_TABLE_MAIN
    proto: str | None = "boot"
    scope: int | None = SCOPE_UNIVERSE
    gateway: int | None = None
    dev: Device | None = None
    src: int | None = None
    metric: int | None = None
    onlink: bool = False
    mtu: int = 0


def check_prefix(dst: int, plen: int) -> None:
    """fib_valid_key_len."""
    if plen > 32:
        raise RtnlError("EINVAL", "Invalid prefix length")
    if dst & ~mask(plen) & 0xFFFFFFFF:
        raise RtnlError("EINVAL", "Invalid prefix for given prefix length")


# -- lookups with the kernel's filters ----------------------------------------------------
def fib_lookup(ns: NetNS, addr: int, *, oif: Device | None = None, min_scope: int = SCOPE_UNIVERSE,
               table: int | None = None) -> Route | None:
    """fib_lookup with a flowi4: rules in order (or one table), longest prefix first with
    backtracking, routes narrower than `min_scope` passed over, nexthops not through `oif`
    passed over. An error route (blackhole, ...) is returned: the caller turns it into its
    errno. A `throw` route sends the lookup on to the next rule."""
    fib = ns.fib
    tables = [table] if table is not None else [rule.table for rule in fib.rules]
    for table_id in tables:
        t = fib.table(table_id)
        if t is None:
            continue
        found = _table_lookup(t, addr, oif, min_scope)
        if found is not None:
            if found.type == THROW and table is None:
                continue
            return found
    return None


def _table_lookup(t, addr: int, oif, min_scope: int) -> Route | None:
    for plen in t.plens:
        routes = t.by_plen[plen].get(addr & mask(plen))
        for route in routes or ():
            if route.scope < min_scope:
                continue
            if route.type in ERROR_TYPES:
                return route
            dev = route.dev
            if dev is not None and not dev.admin_up and route.scope != SCOPE_HOST:
                continue  # RTNH_F_DEAD
            if oif is not None and dev is not oif:
                continue
            return route
    return None


def addr_type(ns: NetNS, addr: int, table: int = RT_TABLE_LOCAL) -> str:
    """inet_addr_type_table: what the local table says an address is."""
    if is_zeronet(addr) or addr == LBCAST:
        return BROADCAST
    if is_multicast(addr):
        return MULTICAST
    t = ns.fib.table(table if table != RT_TABLE_MAIN else RT_TABLE_LOCAL)
    route = _table_lookup(t, addr, None, SCOPE_UNIVERSE) if t is not None else None
    if route is None and table not in (RT_TABLE_MAIN, RT_TABLE_LOCAL):
        route = _table_lookup(ns.fib.table(RT_TABLE_LOCAL), addr, None, SCOPE_UNIVERSE)
    return route.type if route is not None and route.type in (LOCAL, BROADCAST) else UNICAST


# -- RTM_NEWROUTE -------------------------------------------------------------------------
def check_nexthop(ns: NetNS, spec: RouteSpec) -> Device | None:
    """fib_create_info's nexthop checks (fib_check_nh). Returns the nexthop's device."""
    if spec.gateway is None:
        if spec.onlink:
            raise RtnlError("EINVAL", "Invalid flags for nexthop - PERVASIVE and ONLINK can not be set")
        if spec.dev is None:
            raise RtnlError("ENODEV")
        if not spec.dev.admin_up:
            raise RtnlError("ENETDOWN", "Device for nexthop is not up")
        return spec.dev
    if spec.onlink:
        if spec.scope >= SCOPE_LINK:
            raise RtnlError("EINVAL", "Nexthop has invalid scope")
        if spec.dev is None:
            raise RtnlError("ENODEV", "Nexthop device required for onlink")
        if not spec.dev.admin_up:
            raise RtnlError("ENETDOWN", "Nexthop device is not up")
        if addr_type(ns, spec.gateway) != UNICAST:
            raise RtnlError("EINVAL", "Nexthop has invalid gateway")
        return spec.dev
    min_scope = max(spec.scope + 1, SCOPE_LINK)
    found = None
    if spec.table not in (RT_TABLE_MAIN,) and ns.fib.table(spec.table) is not None:
        found = fib_lookup(ns, spec.gateway, oif=spec.dev, min_scope=min_scope, table=spec.table)
        if found is not None and found.type in ERROR_TYPES:
            found = None
    if found is None:
        found = fib_lookup(ns, spec.gateway, oif=spec.dev, min_scope=min_scope)
    if found is None:
        raise RtnlError("ENETUNREACH", "Nexthop has invalid gateway")
    if found.type not in (UNICAST, LOCAL):
        raise RtnlError("EINVAL" if found.type not in ERROR_TYPES else ERROR_TYPES[found.type],
                        "Nexthop has invalid gateway")
    dev = found.dev
    if dev is None:
        raise RtnlError("EINVAL", "No egress device for nexthop gateway")
    if not dev.admin_up:
        raise RtnlError("ENETDOWN")
    return dev


def valid_prefsrc(ns: NetNS, spec: RouteSpec) -> bool:
    """fib_valid_prefsrc: a preferred source must be one of our addresses."""
    if spec.type == LOCAL and spec.dst and spec.src == spec.dst:
        return True
    return addr_type(ns, spec.src, spec.table) == LOCAL or addr_type(ns, spec.src) == LOCAL


def build_route(ns: NetNS, spec: RouteSpec) -> Route:
    """fib_create_info: validate everything, return the Route to insert (nothing changes yet)."""
    check_prefix(spec.dst, spec.plen)
    rtype, scope = spec.type, spec.scope
    if scope < MIN_SCOPE.get(rtype, SCOPE_UNIVERSE):
        raise RtnlError("EINVAL", "Invalid scope")
    dev = spec.dev
    if rtype in ERROR_TYPES:
        if spec.gateway is not None or spec.dev is not None:
            raise RtnlError("EINVAL", "Gateway, device and multipath can not be specified for this route type")
    else:
        if rtype not in (UNICAST, LOCAL, BROADCAST, ANYCAST, MULTICAST):
            raise RtnlError("EINVAL", "Invalid route type")
        if scope > SCOPE_HOST:
            raise RtnlError("EINVAL", "Invalid scope")
        if scope == SCOPE_HOST:
            if spec.gateway is not None:
                raise RtnlError("EINVAL", "Route with host scope can not have a gateway")
            if dev is None:
                raise RtnlError("ENODEV")
        else:
            dev = check_nexthop(ns, spec)
    if spec.src is not None and not valid_prefsrc(ns, spec):
        raise RtnlError("EINVAL", "Invalid prefsrc address")
    return Route(spec.dst, spec.plen, rtype, dev if rtype not in ERROR_TYPES else None, spec.gateway,
                 spec.metric or 0, spec.table, spec.proto or "boot", scope, spec.src, spec.onlink, spec.mtu)


def same_info(a: Route, b: Route) -> bool:
    """Would the kernel share one fib_info between these (fa_info == fi)?"""
    return (a.type, a.gateway, a.dev, a.src, a.proto, a.scope, a.onlink, a.mtu) == \
           (b.type, b.gateway, b.dev, b.src, b.proto, b.scope, b.onlink, b.mtu)


def route_new(ns: NetNS, spec: RouteSpec, *, create: bool = True, excl: bool = True, replace: bool = False,
              append: bool = False) -> Route:
    """fib_table_insert with the NLM_F_* flags `ip route add|change|replace|prepend|append|test` send."""
    route = build_route(ns, spec)
    fib = ns.fib
    table = fib.table(route.table)
    same = table.find(route.dst, route.plen, route.metric) if table is not None else []
    if same:
        if excl:
            raise RtnlError("EEXIST")
        match = next((r for r in same if same_info(r, route)), None)
        if replace:
            if match is not None:
                if match is same[0]:
                    return match
                raise RtnlError("EEXIST")
            _insert_at(fib, route, same[0])
            fib.remove(same[0])
            return route
        if match is not None:
            raise RtnlError("EEXIST")
        if not create:
            raise RtnlError("ENOENT")
        _insert_at(fib, route, None if append else same[0])
        return route
    if not create:
        raise RtnlError("ENOENT")
    fib.add(route, append=True)
    return route


def _insert_at(fib, route: Route, before: Route | None) -> None:
    """Insert among routes of the same prefix: before `before`, or after all (NLM_F_APPEND)."""
    fib.add(route, append=True)
    if before is not None:
        routes = fib.table(route.table).by_plen[route.plen][route.dst]
        routes.remove(route)
        routes.insert(routes.index(before), route)


# -- RTM_DELROUTE -------------------------------------------------------------------------
def route_matches(route: Route, spec: RouteSpec) -> bool:
    """fib_table_delete's test of one alias (and fib_nh_match)."""
    return ((spec.type is None or route.type == spec.type)
            and (spec.scope is None or route.scope == spec.scope)
            and (spec.src is None or route.src == spec.src)
            and (spec.proto is None or route.proto == spec.proto)
            and (not spec.metric or route.metric == spec.metric)
            and (spec.dev is None or route.dev is spec.dev)
            and (spec.gateway is None or route.gateway == spec.gateway))


def route_del(ns: NetNS, spec: RouteSpec) -> Route:
    table = ns.fib.table(spec.table)
    if table is None:
        raise RtnlError("ESRCH", "FIB table does not exist")
    check_prefix(spec.dst, spec.plen)
    for route in table.find(spec.dst, spec.plen):
        if route_matches(route, spec):
            ns.fib.remove(route)
            return route
    raise RtnlError("ESRCH")


# -- RTM_GETROUTE ---------------------------------------------------------------------------
@dataclass
class RouteAnswer:
    """The cloned route `ip route get` prints (rt_fill_info)."""
    type: str
    dst: int
    dev: Device
    gateway: int | None = None
    src: int | None = None  # RTA_PREFSRC (output routes only)
    from_: int | None = None  # the source asked about (RTA_SRC)
    iif: Device | None = None
    flags: list[str] = field(default_factory=list)  # cache flags: local, brd, mc, redirect
    uid: int | None = None
    route: Route | None = None  # the FIB entry that decided (for `fibmatch`)


def _raise_route_error(err) -> None:
    raise RtnlError(ERRNO_OF_TEXT.get(err.errno_text, "ENETUNREACH")) from None


def route_get(ns: NetNS, dst: int, *, src: int = 0, oif: Device | None = None, uid: int = 0) -> RouteAnswer:
    """ip_route_output_key_hash as inet_rtm_getroute calls it: the checks on the source and the
    output device, then the lookup every locally generated packet makes (NetNS.route_output)."""
    from netlab.net.netns import RouteError

    if src:
        if is_multicast(src) or src == LBCAST or is_zeronet(src):
            raise RtnlError("EINVAL")
        if not ns.has_addr(src):
            raise RtnlError("ENETUNREACH")
    lo = ns.devices["lo"]
    if oif is not None and not oif.admin_up:
        raise RtnlError("ENETUNREACH")
    if dst == 0:  # no destination: the loopback, from the source or 127.0.0.1
        return RouteAnswer(LOCAL, dst, lo, src=src or 0x7F000001, from_=src or None, flags=["local"], uid=uid)
    if oif is not None and (dst == LBCAST or dst >> 8 == 0xE00000):  # limited broadcast, local multicast
        return _special_output(ns, dst, oif, src or ns.select_src(oif, dst, SCOPE_LINK), src, uid, None)
    if oif is None:
        try:
            res = ns.route_output(dst, src)
        except RouteError as err:
            _raise_route_error(err)
        route, dev, psrc, rtype = res.route, res.dev, res.src, res.type
    else:
        route = fib_lookup(ns, dst, oif=oif)
        if route is None or route.type in ERROR_TYPES:
            # "Apparently, routing tables are wrong. Assume, that the destination is on link."
            psrc = src or ns.select_src(oif, dst, SCOPE_LINK)
            return RouteAnswer(UNICAST, dst, oif, src=psrc if psrc != src else None, from_=src or None, uid=uid)
        rtype, dev = route.type, (lo if route.type == LOCAL else route.dev)
        nexthop = route.gateway if route.gateway is not None else dst
        psrc = src or (route.src if route.src is not None else
                       (dst if rtype == LOCAL else ns.select_src(dev, nexthop, route.scope if route.gateway is None else SCOPE_LINK)))
    if dst == LBCAST or is_multicast(dst):
        return _special_output(ns, dst, dev, psrc, src, uid, route)
    flags = ["local"] if rtype == LOCAL else (["local", "brd"] if rtype == BROADCAST else [])
    gateway = route.gateway if rtype == UNICAST and route.gateway is not None and not ns.is_local(route.gateway) else None
    return RouteAnswer(rtype, dst, dev, gateway, psrc if psrc != src else None, src or None, flags=flags, uid=uid,
                       route=route)


def _special_output(ns, dst, dev, psrc, src, uid, route) -> RouteAnswer:
    """__mkroute_output for the limited broadcast and multicast: no gateway, local flags."""
    if dst == LBCAST:
        return RouteAnswer(BROADCAST, dst, dev, None, psrc if psrc != src else None, src or None,
                           flags=["local", "brd"], uid=uid, route=route)
    joined = dst == 0xE0000001  # every host is in 224.0.0.1
    return RouteAnswer(MULTICAST, dst, dev, None, psrc if psrc != src else None, src or None,
                       flags=["local", "mc"] if joined else ["mc"], uid=uid, route=route)


def route_get_input(ns: NetNS, dst: int, src: int, iif: Device) -> RouteAnswer:
    """ip_route_input_slow for a packet from `src` to `dst` arriving on `iif`: the decisions
    NetNS.ip_rcv makes (local delivery, ip_forward, the FIB) plus the kernel's martian checks."""
    lo = ns.devices["lo"]

    def martian_source():
        raise RtnlError("EINVAL")

    if is_multicast(src) or src == LBCAST:
        martian_source()
    if dst == LBCAST or (src == 0 and dst == 0):
        return _brd_input(ns, dst, src, iif, lo)
    if is_zeronet(src) or is_zeronet(dst) or is_loopback(dst) or is_loopback(src):
        raise RtnlError("EINVAL")
    forwarding = ns.sysctl.get("net.ipv4.ip_forward") == "1"
    route = fib_lookup(ns, dst)
    if route is None or route.type in ERROR_TYPES:
        raise RtnlError("EHOSTUNREACH" if not forwarding else
                        (ERROR_TYPES[route.type] if route is not None else "ENETUNREACH"))
    if route.type == BROADCAST:
        return _brd_input(ns, dst, src, iif, lo, route)
    if route.type == LOCAL:
        if _source_is_local(ns, src):
            martian_source()
        return RouteAnswer(LOCAL, dst, lo, from_=src, iif=iif, flags=["local"], route=route)
    if not forwarding:
        raise RtnlError("EHOSTUNREACH")
    if route.type != UNICAST:
        raise RtnlError("EINVAL")
    if _source_is_local(ns, src):
        martian_source()
    out = route.dev
    flags = []
    if out is iif:
        back = fib_lookup(ns, src)
        if back is not None and back.type == UNICAST and back.dev is iif and back.gateway is None:
            flags.append("redirect")  # the source could reach the next hop directly
    gateway = route.gateway if route.gateway is not None and not ns.is_local(route.gateway) else None
    return RouteAnswer(UNICAST, dst, out, gateway, None, src, iif, flags, route=route)


def _source_is_local(ns: NetNS, src: int) -> bool:
    """fib_validate_source: a packet from outside claiming one of our addresses is martian."""
    return ns.sysctl.get("net.ipv4.conf.all.accept_local", "0") != "1" and \
        ns.has_addr(src)


def _brd_input(ns, dst, src, iif, lo, route=None) -> RouteAnswer:
    if src and _source_is_local(ns, src):
        raise RtnlError("EINVAL")
    return RouteAnswer(BROADCAST, dst, lo, from_=src or None, iif=iif, flags=["local", "brd"], route=route)
