"""Property: Fib.lookup answers exactly what a brute-force reading of Linux's rules answers.

The reference knows nothing about Fib's data structures. It keeps every route in one list,
applies `ip route add|append|replace` by their netlink meanings, and answers a lookup by
scanning the list: ask the tables in rule order; in a table, among the routes whose prefix
contains the address and whose nexthop is not dead, the longest prefix wins, then the lowest
metric, then the route placed first; a `throw` route passes the question to the next table.
A nexthop is dead when its device is administratively down, except on host-scope routes;
a device without carrier does not kill it (ignore_routes_with_linkdown=0).
"""
from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from netlab.net.addr import mask
from netlab.net.device import Dummy, Veth
from netlab.net.errors import NetError
from netlab.net.fib import (BLACKHOLE, LOCAL, PROHIBIT, RT_TABLE_LOCAL, RT_TABLE_MAIN, SCOPE_HOST, SCOPE_LINK,
                            SCOPE_UNIVERSE, THROW, UNICAST, UNREACHABLE, Fib, Route, Rule)

TABLE_OTHER = 100
RULE_ORDER = (RT_TABLE_LOCAL, TABLE_OTHER, RT_TABLE_MAIN)

# A few anchors so that random prefixes nest and overlap instead of scattering over 2^32.
ANCHORS = [0x0A000000, 0x0A010000, 0x0A010200, 0x0A010203, 0xC0A80000, 0xC0A80015, 0xAC1E4C00, 0x00000000]


def make_devices(states: list[str]) -> list:
    devs = []
    for i, state in enumerate(states):
        if state == "nocarrier":
            dev = Veth(f"v{i}", f"02:00:00:00:00:{i:02x}")  # no peer: up but linkdown
            dev.admin_up = True
        else:
            dev = Dummy(f"d{i}", f"02:00:00:00:01:{i:02x}")
            dev.admin_up = state == "up"
        devs.append(dev)
    return devs


@st.composite
def route_ops(draw):
    states = draw(st.lists(st.sampled_from(["up", "up", "up", "down", "nocarrier"]), min_size=1, max_size=5))
    devs = make_devices(states)
    ops = []
    for _ in range(draw(st.integers(0, 40))):
        anchor = draw(st.sampled_from(ANCHORS))
        plen = draw(st.integers(0, 32))
        dst = anchor & mask(plen)
        kind = draw(st.sampled_from([UNICAST] * 6 + [LOCAL, BLACKHOLE, UNREACHABLE, PROHIBIT, THROW]))
        metric = draw(st.sampled_from([0, 0, 1, 100, 1024]))
        table = RT_TABLE_LOCAL if kind == LOCAL else draw(st.sampled_from([RT_TABLE_MAIN, RT_TABLE_MAIN, TABLE_OTHER]))
        if kind in (UNICAST, LOCAL):
            dev = draw(st.sampled_from(devs))
            scope = SCOPE_HOST if kind == LOCAL else draw(st.sampled_from([SCOPE_LINK, SCOPE_UNIVERSE]))
            gateway = draw(st.none() | st.sampled_from([0xC0000201, 0xC0000202]))
        else:
            dev, scope, gateway = None, SCOPE_UNIVERSE, None
        mode = draw(st.sampled_from(["add", "add", "append", "replace"]))
        ops.append((mode, Route(dst, plen, kind, dev, gateway, metric, table, "boot", scope)))
    return devs, ops


def addresses():
    near = st.tuples(st.sampled_from(ANCHORS), st.integers(0, 300)).map(lambda t: (t[0] + t[1]) & 0xFFFFFFFF)
    return st.lists(near | st.integers(0, 0xFFFFFFFF), min_size=1, max_size=25)


# -- the reference ---------------------------------------------------------------------------

def identical(a: Route, b: Route) -> bool:
    return ((a.table, a.dst, a.plen, a.metric, a.type, a.gateway, a.scope) == (b.table, b.dst, b.plen, b.metric, b.type, b.gateway, b.scope)
            and a.dev is b.dev)


@dataclass
class Reference:
    routes: list

    def apply(self, mode: str, route: Route) -> bool:
        """Returns False where the kernel answers EEXIST (and changes nothing)."""
        same = [i for i, r in enumerate(self.routes) if (r.table, r.dst, r.plen, r.metric) == (route.table, route.dst, route.plen, route.metric)]
        if same and mode == "add":
            return False
        if same and mode == "append" and any(identical(self.routes[i], route) for i in same):
            return False
        if same and mode == "replace":
            self.routes[same[0]] = route if not identical(self.routes[same[0]], route) else self.routes[same[0]]
            return True
        self.routes.append(route)
        return True

    def lookup(self, addr: int) -> Route | None:
        for table in RULE_ORDER:
            best, best_key = None, None
            for pos, r in enumerate(self.routes):
                if r.table != table or (addr & mask(r.plen)) != r.dst:
                    continue
                if r.dev is not None and not r.dev.admin_up and r.scope != SCOPE_HOST:
                    continue  # dead nexthop
                key = (-r.plen, r.metric, pos)
                if best_key is None or key < best_key:
                    best, best_key = r, key
            if best is not None and best.type != THROW:
                return best
        return None


@settings(max_examples=300, deadline=None)
@given(route_ops(), addresses())
def test_fib_lookup_equals_brute_force_reference(setup, addrs):
    _devs, ops = setup
    fib = Fib()
    fib.rules.insert(1, Rule(100, TABLE_OTHER))
    ref = Reference([])
    for mode, route in ops:
        expect_ok = ref.apply(mode, route)
        try:
            fib.add(route, replace=mode == "replace", append=mode == "append")
            assert expect_ok, f"{mode} {route.describe()} should have been File exists"
        except NetError:
            assert not expect_ok, f"{mode} {route.describe()} failed but the kernel would take it"
    assert sorted(map(id, fib.all_routes())) == sorted(map(id, ref.routes))
    for addr in addrs:
        assert fib.lookup(addr) is ref.lookup(addr), f"lookup {addr:#010x}"


@settings(max_examples=100, deadline=None)
@given(route_ops(), addresses())
def test_deleting_what_was_found_never_finds_it_again(setup, addrs):
    """Delete the answer, ask again: the answer is never the deleted route, and it is the
    reference's answer for the table that is left."""
    _devs, ops = setup
    fib = Fib()
    fib.rules.insert(1, Rule(100, TABLE_OTHER))
    ref = Reference([])
    for mode, route in ops:
        if ref.apply(mode, route):
            fib.add(route, replace=mode == "replace", append=mode == "append")
    for addr in addrs:
        found = fib.lookup(addr)
        if found is None:
            continue
        fib.remove(found)
        ref.routes.remove(found)
        again = fib.lookup(addr)
        assert again is not found and again is ref.lookup(addr)
