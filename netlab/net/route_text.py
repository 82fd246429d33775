"""Route text exactly as iproute2's print_route writes it: one formatter for `ip route`,
`ip route get` and the Trace."""
from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

from netlab.net.addr import fmt_ip
from netlab.net.fib import (RT_TABLE_LOCAL, RT_TABLE_MAIN, SCOPE_HOST, SCOPE_NAMES, SCOPE_UNIVERSE, TABLE_NAMES,
                            UNICAST, Route)

if TYPE_CHECKING:
    from netlab.net.netns import NetNS
    from netlab.net.rtnl_route import RouteAnswer

CACHE_FLAG_ORDER = ("local", "reject", "mc", "brd", "dst-nat", "src-nat", "masq", "dst-direct", "src-direct",
                    "redirected", "redirect", "fastroute", "notify", "proxy")


def fmt_dst(route: Route) -> str:
    if route.plen == 0 and route.dst == 0:
        return "default"
    if route.plen == 32:
        return fmt_ip(route.dst)
    return f"{fmt_ip(route.dst)}/{route.plen}"


def table_name(table: int) -> str:
    return TABLE_NAMES.get(table, str(table))


def format_route(route: Route, *, show_table: bool = False, details: bool = False,
                 omit: frozenset = frozenset()) -> str:
    """One line of `ip route show` (with iproute2's trailing space).

    `show_table` is what `ip route show table all` does (filter.tb == 0): the table is named
    unless it is main (and even then under -d). `omit` names the fields the show filter
    already fixes (`dev` for `ip route show dev eth0`, and via, src, proto, scope, metric)."""
    parts = []
    if route.type != UNICAST or details:
        parts.append(route.type)
    parts.append(fmt_dst(route))
    if route.gateway is not None and "via" not in omit:
        parts.append(f"via {fmt_ip(route.gateway)}")
    if route.dev is not None and "dev" not in omit:
        parts.append(f"dev {route.dev.name}")
    if show_table and (route.table != RT_TABLE_MAIN or details):
        parts.append(f"table {table_name(route.table)}")
    if (route.proto != "boot" or details) and "proto" not in omit:
        parts.append(f"proto {route.proto}")
    if (route.scope != SCOPE_UNIVERSE or details) and "scope" not in omit:
        parts.append(f"scope {SCOPE_NAMES.get(route.scope, route.scope)}")
    if route.src is not None and "src" not in omit:
        parts.append(f"src {fmt_ip(route.src)}")
    if route.metric and "metric" not in omit:
        parts.append(f"metric {route.metric}")
    if route.onlink:
        parts.append("onlink")
    if route.dev is not None and route.scope != SCOPE_HOST and not route.dev.carrier:
        parts.append("linkdown")  # RTNH_F_LINKDOWN is never set on host-scope (local) nexthops
    if route.mtu:
        parts.append(f"mtu {route.mtu}")
    return " ".join(parts) + " "


def format_route_get(answer: RouteAnswer) -> list[str]:
    """`ip route get`: the cloned route rt_fill_info reports, and its `cache` line."""
    parts = []
    if answer.type != UNICAST:
        parts.append(answer.type)
    parts.append(fmt_ip(answer.dst))
    if answer.from_ is not None:
        parts.append(f"from {fmt_ip(answer.from_)}")
    if answer.gateway is not None:
        parts.append(f"via {fmt_ip(answer.gateway)}")
    parts.append(f"dev {answer.dev.name}")
    if answer.src is not None:
        parts.append(f"src {fmt_ip(answer.src)}")
    if answer.uid is not None and answer.iif is None:
        parts.append(f"uid {answer.uid}")
    cache = "    cache "
    flags = sorted(answer.flags, key=CACHE_FLAG_ORDER.index)
    if flags:
        cache += "<" + ",".join(flags) + "> "
    if answer.iif is not None:
        cache += f"iif {answer.iif.name} "
    return [" ".join(parts) + " ", cache]


def ipv6_route_lines(ns: NetNS, *, table: int = 0, dev=None) -> list[str]:
    """The IPv6 routes the kernel keeps for each device's link-local address (IPv6 route lines
    have no trailing space): fe80::/64 in main; ::1, each link-local and ff00::/8 in local."""
    from netlab.net.link_text import ipv6_addrs

    devices = sorted(ns.devices.values(), key=lambda d: d.ifindex)
    show_table = table == 0
    where = " table local" if show_table else ""
    main, local_addrs, mcast = [], [], []
    for d in devices:
        if dev is not None and d is not dev:
            continue
        name = "" if dev is not None else f" dev {d.name}"
        for addr, plen, scope in ipv6_addrs(d):
            if scope == "link":
                main.append(f"fe80::/64{name} proto kernel metric 256 pref medium")
                mcast.append(f"multicast ff00::/8{name}{where} proto kernel metric 256 pref medium")
            local_addrs.append((addr != "::1", int(ipaddress.IPv6Address(addr)),
                                f"local {addr}{name}{where} proto kernel metric 0 pref medium"))
    out = []
    if table in (0, RT_TABLE_MAIN):
        out += main
    if table in (0, RT_TABLE_LOCAL):
        out += [line for *_, line in sorted(local_addrs)] + mcast
    return out
