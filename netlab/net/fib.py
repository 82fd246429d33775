"""The routing tables (FIB) and the policy rules that order them.

Lookup is longest-prefix match as the kernel's fib_trie answers it: the longest
prefix that has a usable route wins; among routes for the same prefix the lowest
metric wins. Route types blackhole/unreachable/prohibit stop the lookup with an
error, exactly where Linux stops it.
"""
from __future__ import annotations

from bisect import insort
from dataclasses import dataclass, field
from operator import attrgetter

from netlab.net.addr import mask
from netlab.net.errors import EEXIST, ESRCH, NetError

RT_TABLE_MAIN = 254
RT_TABLE_LOCAL = 255
RT_TABLE_DEFAULT = 253
TABLE_NAMES = {RT_TABLE_MAIN: "main", RT_TABLE_LOCAL: "local", RT_TABLE_DEFAULT: "default"}
TABLE_IDS = {v: k for k, v in TABLE_NAMES.items()}

SCOPE_UNIVERSE = 0
SCOPE_LINK = 253
SCOPE_HOST = 254
SCOPE_NAMES = {SCOPE_UNIVERSE: "global", SCOPE_LINK: "link", SCOPE_HOST: "host", 200: "site", 255: "nowhere"}
SCOPE_IDS = {"global": 0, "universe": 0, "link": 253, "host": 254, "site": 200, "nowhere": 255}

UNICAST, LOCAL, BROADCAST, BLACKHOLE, UNREACHABLE, PROHIBIT, THROW = (
    "unicast", "local", "broadcast", "blackhole", "unreachable", "prohibit", "throw")
ROUTE_TYPES = (UNICAST, LOCAL, BROADCAST, BLACKHOLE, UNREACHABLE, PROHIBIT, THROW, "anycast", "multicast", "nat")
ERROR_TYPES = (BLACKHOLE, UNREACHABLE, PROHIBIT)

PROTO_NAMES = {0: "unspec", 1: "redirect", 2: "kernel", 3: "boot", 4: "static", 16: "dhcp"}


@dataclass(slots=True, eq=False)
class Route:
    dst: int
    plen: int
    type: str = UNICAST
    dev: object = None  # Device or None (error routes)
    gateway: int | None = None
    metric: int = 0
    table: int = RT_TABLE_MAIN
    proto: str = "boot"
    scope: int = SCOPE_UNIVERSE
    src: int | None = None
    onlink: bool = False
    mtu: int = 0

    def key(self) -> tuple:
        # What makes two routes "the same" for add/replace/del (fib_find_alias).
        return (self.table, self.dst, self.plen, self.metric)

    def describe(self) -> str:
        """Compact one-line form used by traces: the `ip route` text without table noise."""
        from netlab.net.route_text import format_route

        return format_route(self, show_table=self.table not in (RT_TABLE_MAIN,)).strip()


_metric = attrgetter("metric")


@dataclass
class Table:
    id: int
    # plen -> {network: [routes sorted by metric]}
    by_plen: dict[int, dict[int, list[Route]]] = field(default_factory=dict)
    plens: list[int] = field(default_factory=list)  # descending, only non-empty

    def insert(self, route: Route) -> None:
        """Place `route` after every route for its prefix with a metric <= its own (the
        kernel's alias order: priority, then insertion)."""
        bucket = self.by_plen.get(route.plen)
        if bucket is None:
            bucket = self.by_plen[route.plen] = {}
            self.plens.append(route.plen)
            self.plens.sort(reverse=True)
        routes = bucket.get(route.dst)
        if routes is None:
            bucket[route.dst] = [route]
        else:
            insort(routes, route, key=_metric)

    def replace(self, old: Route, new: Route) -> None:
        """Put `new` in `old`'s place (same prefix and metric): NLM_F_REPLACE keeps the position."""
        routes = self.by_plen[old.plen][old.dst]
        routes[routes.index(old)] = new

    def remove(self, route: Route) -> None:
        bucket = self.by_plen[route.plen]
        routes = bucket[route.dst]
        routes.remove(route)
        if not routes:
            del bucket[route.dst]
            if not bucket:
                del self.by_plen[route.plen]
                self.plens.remove(route.plen)

    def find(self, dst: int, plen: int, metric: int | None = None) -> list[Route]:
        routes = self.by_plen.get(plen, {}).get(dst, [])
        if metric is None:
            return list(routes)
        return [r for r in routes if r.metric == metric]

    def lookup(self, addr: int, oif=None) -> Route | None:
        """Longest usable prefix containing addr (optionally only routes out of `oif`)."""
        for plen in self.plens:
            routes = self.by_plen[plen].get(addr & mask(plen) if plen else 0)
            if routes:
                for route in routes:
                    if nexthop_dead(route):
                        continue  # RTNH_F_DEAD: fib_trie tries the next alias, then backtracks
                    if oif is not None and route.type == UNICAST and route.dev is not oif:
                        continue
                    return route
        return None

    def routes(self) -> list[Route]:
        """All routes in the order `ip route show` dumps them (key ascending, longer prefix first)."""
        out = []
        for plen, bucket in self.by_plen.items():
            for routes in bucket.values():
                out.extend(routes)
        out.sort(key=lambda r: (r.dst, -r.plen, r.metric))
        return out

    def __len__(self) -> int:
        return sum(len(rs) for b in self.by_plen.values() for rs in b.values())


def same_route(a: Route, b: Route) -> bool:
    """Same key and same fib_info (type, nexthop, source, protocol, scope): the "perfect
    match" that makes even `ip route append` answer File exists."""
    return (a.key() == b.key() and a.type == b.type and a.dev is b.dev and a.gateway == b.gateway and a.src == b.src
            and a.proto == b.proto and a.scope == b.scope and a.onlink == b.onlink and a.mtu == b.mtu)


def nexthop_dead(route: Route) -> bool:
    """Is the route's nexthop dead (RTNH_F_DEAD), so that lookups pass over it?

    Only an administratively down device kills a nexthop (fib_sync_down_dev on NETDEV_DOWN),
    and never a host-scope one: the `local` route of an address on a down link still answers.
    Losing carrier only marks the nexthop `linkdown`, and with the default
    net.ipv4.conf.*.ignore_routes_with_linkdown=0 such routes are still used."""
    dev = route.dev
    return dev is not None and not dev.admin_up and route.scope != SCOPE_HOST


@dataclass(slots=True)
class Rule:
    priority: int
    table: int


class Fib:
    """Tables plus the policy rules (`ip rule`) that say in which order to ask them."""

    def __init__(self) -> None:
        self.tables: dict[int, Table] = {RT_TABLE_LOCAL: Table(RT_TABLE_LOCAL), RT_TABLE_MAIN: Table(RT_TABLE_MAIN)}
        self.rules = [Rule(0, RT_TABLE_LOCAL), Rule(32766, RT_TABLE_MAIN), Rule(32767, RT_TABLE_DEFAULT)]
        self.version = 0  # bumped on every change; callers cache on it

    def table(self, table_id: int, create: bool = False) -> Table | None:
        t = self.tables.get(table_id)
        if t is None and create:
            t = self.tables[table_id] = Table(table_id)
        return t

    def add(self, route: Route, *, replace: bool = False, append: bool = False) -> None:
        """fib_table_insert. Plain add (NLM_F_EXCL) fails if a route with the same key exists;
        append goes after the routes with the same key and fails only for an identical one;
        replace takes the place of the first route with the same key, or adds."""
        table = self.table(route.table, create=True)
        same = table.find(route.dst, route.plen, route.metric)
        if same:
            if replace:
                if not same_route(same[0], route):
                    table.replace(same[0], route)
                    self.version += 1
                return
            if not append or any(same_route(old, route) for old in same):
                raise NetError(EEXIST)
        table.insert(route)
        self.version += 1

    def delete(self, match) -> Route:
        """Delete the first route `match(route)` accepts, or fail as `ip route del` does."""
        for table in self.tables.values():
            for route in table.routes():
                if match(route):
                    table.remove(route)
                    self.version += 1
                    return route
        raise NetError(ESRCH)

    def remove(self, route: Route) -> None:
        self.tables[route.table].remove(route)
        self.version += 1

    def flush_dev(self, dev) -> list[Route]:
        """Drop every route through `dev` (the kernel does this when a link goes down)."""
        gone = [r for t in self.tables.values() for r in t.routes() if r.dev is dev]
        for route in gone:
            self.tables[route.table].remove(route)
        if gone:
            self.version += 1
        return gone

    def lookup(self, addr: int, oif=None) -> Route | None:
        """fib_lookup: ask the tables in rule order; the first answer (of any type) wins."""
        for rule in self.rules:
            table = self.tables.get(rule.table)
            if table is None:
                continue
            route = table.lookup(addr, oif)
            if route is not None:
                if route.type == THROW:
                    continue
                return route
        return None

    def all_routes(self) -> list[Route]:
        return [r for t in self.tables.values() for r in t.routes()]
