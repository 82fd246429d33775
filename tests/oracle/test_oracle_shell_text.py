"""netlab's `ip` and `bridge` commands against the real tools, byte for byte, on the same
topology. Only output that does not depend on the builder's stand-ins is compared: the
node NIC is a veth in a switch namespace here, and IPv6 is off, so `ip addr`, `ip link`
and a full `bridge fdb show` legitimately differ (tests/kernel_reference/ pins those)."""
from __future__ import annotations

import pytest

from oracle_compare import compare_route_get_text, compare_show_text

pytestmark = pytest.mark.oracle


def test_listings_match_the_real_tools(built):
    name, lab, kw = built
    n, diffs = compare_show_text(lab, kw)
    assert n >= 10
    assert not diffs, f"{len(diffs)} of {n} listings differ:\n" + "\n".join(diffs)


def test_ip_route_get_text_matches_output_and_forwarding_routes(built):
    name, lab, kw = built
    n, diffs = compare_route_get_text(lab, kw)
    assert n > 100
    assert not diffs, f"{len(diffs)} of {n} answers differ:\n" + "\n".join(diffs)
