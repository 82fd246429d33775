"""Route text exactly as iproute2's print_route writes it: one formatter for `ip route`,
`ip route get` and the Trace."""
from __future__ import annotations

from netlab.net.addr import fmt_ip
from netlab.net.fib import RT_TABLE_MAIN, SCOPE_HOST, SCOPE_NAMES, SCOPE_UNIVERSE, TABLE_NAMES, UNICAST, Route


def fmt_dst(route: Route) -> str:
    if route.plen == 0 and route.dst == 0:
        return "default"
    if route.plen == 32:
        return fmt_ip(route.dst)
    return f"{fmt_ip(route.dst)}/{route.plen}"


def table_name(table: int) -> str:
    return TABLE_NAMES.get(table, str(table))


def format_route(route: Route, *, show_table: bool = False, details: bool = False) -> str:
    """One line of `ip route show` (with iproute2's trailing space)."""
    parts = []
    if route.type != UNICAST or details:
        parts.append(route.type)
    parts.append(fmt_dst(route))
    if route.gateway is not None:
        parts.append(f"via {fmt_ip(route.gateway)}")
    if route.dev is not None:
        parts.append(f"dev {route.dev.name}")
    if show_table and route.table != RT_TABLE_MAIN:
        parts.append(f"table {table_name(route.table)}")
    if route.proto != "boot" or details:
        parts.append(f"proto {route.proto}")
    if route.scope != SCOPE_UNIVERSE or details:
        parts.append(f"scope {SCOPE_NAMES.get(route.scope, route.scope)}")
    if route.src is not None:
        parts.append(f"src {fmt_ip(route.src)}")
    if route.metric:
        parts.append(f"metric {route.metric}")
    if route.onlink:
        parts.append("onlink")
    if route.dev is not None and route.scope != SCOPE_HOST and not route.dev.carrier:
        parts.append("linkdown")  # RTNH_F_LINKDOWN is never set on host-scope (local) nexthops
    return " ".join(parts) + " "
