"""TTL and path-MTU probes: who answers `Time to live exceeded` from which address, and
where a DF packet is too big — in netlab and in the real kernel. A module of its own, so
its ICMP errors start with fresh per-peer rate-limit buckets in fresh namespaces."""
from __future__ import annotations

import pytest

from oracle_compare import compare_pings, probe_jobs

pytestmark = pytest.mark.oracle

@pytest.mark.parametrize("kind", ["ttl", "df-fits", "df-too-big"])
def test_ttl_and_df_probes_agree(built, kind):
    name, lab, kw = built
    n, diffs = compare_pings(lab, kw, probe_jobs(lab, kind), kind=f"ping probes ({kind})")
    assert n >= 4
    assert not diffs, f"{len(diffs)} of {n} probes disagree:\n" + "\n".join(diffs)
