"""netlab's routing answers against the real kernel's, on the same topology."""
from __future__ import annotations

import pytest

from oracle_compare import TALLY, compare_link_state, compare_route_gets, netlab_kernel_routes, real_kernel_routes

pytestmark = pytest.mark.oracle


def test_builder_reproduces_devices_macs_mtus_addresses_and_link_state(built):
    name, lab, kw = built
    diffs = [d for ns in lab.world.namespaces for d in compare_link_state(lab, kw, ns)]
    n = sum(len(ns.devices) for ns in lab.world.namespaces.values())
    TALLY.add("devices (MAC, MTU, addresses, flags)", n, n - len(diffs))
    assert not diffs, "\n".join(diffs)


def test_routes_the_kernel_makes_itself_match_netlab(built):
    """Connected, local and broadcast routes (proto kernel) are not copied: each side made its own."""
    name, lab, kw = built
    diffs = []
    n = 0
    for ns_name, ns in lab.world.namespaces.items():
        want, got = real_kernel_routes(kw, ns_name), netlab_kernel_routes(ns)
        n += len(want | got)
        for r in sorted(want - got, key=str):
            diffs.append(f"{ns_name}: only the kernel has {r}")
        for r in sorted(got - want, key=str):
            diffs.append(f"{ns_name}: only netlab has {r}")
    TALLY.add("proto kernel routes", n, n - len(diffs))
    assert not diffs, "\n".join(diffs)


def test_ip_route_get_agrees_everywhere(built):
    name, lab, kw = built
    n, diffs = compare_route_gets(lab, kw)
    assert n > 100
    assert not diffs, f"{len(diffs)} of {n} disagree:\n" + "\n".join(diffs)
