"""Ping reachability (and the reply's TTL) in netlab against the real kernel, on the
intact labs and after each way a level breaks them."""
from __future__ import annotations

import pytest

from netlab import Lab

from oracle_breaks import BREAKS, NotApplicable
from oracle_compare import (compare_neighbours, compare_pings, compare_route_get_text, compare_route_gets,
                            compare_show_text)
from oracle_labs import LABS

pytestmark = pytest.mark.oracle


def test_ping_reachability_agrees(built):
    name, lab, kw = built
    n, diffs = compare_pings(lab, kw)
    assert n >= 20
    assert not diffs, f"{len(diffs)} of {n} pings disagree:\n" + "\n".join(diffs)
    n, diffs = compare_neighbours(lab, kw)
    assert not diffs, f"after the pings, {len(diffs)} of {n} neighbour entries differ:\n" + "\n".join(diffs)


@pytest.mark.parametrize("brk", BREAKS, ids=[b.id for b in BREAKS])
@pytest.mark.parametrize("lab_name", sorted(LABS))
def test_broken_lab_agrees(lab_name, brk, kernel_world):
    lab = Lab.load(LABS[lab_name])
    kw = kernel_world(lab)
    try:
        what = brk.apply(lab, kw)
    except NotApplicable as why:
        pytest.skip(f"{brk.id} does not apply to the {lab_name} lab: {why}")
    kw.settle(lab.world)
    n_show, show_diffs = compare_show_text(lab, kw)  # before traffic: neighbour states still agree
    n_routes, route_diffs = compare_route_gets(lab, kw)
    n_text, text_diffs = compare_route_get_text(lab, kw, kinds=("node",))  # incl. forwarding decisions
    n_pings, ping_diffs = compare_pings(lab, kw)
    diffs = show_diffs + route_diffs + text_diffs + ping_diffs
    n = n_show + n_routes + n_text + n_pings
    assert not diffs, f"after `{what}`: {len(diffs)} of {n} disagree:\n" + "\n".join(diffs)
