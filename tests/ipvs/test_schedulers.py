"""Each IPVS scheduler against choices worked out by hand from the kernel's C code
(net/netfilter/ipvs/ip_vs_{rr,wrr,lc,wlc,sed,nq,sh,dh}.c).

A detail every expectation below depends on: `ipvsadm -a` links a new real server at the
*head* of the service's list, so servers added A, B, C are scanned C, B, A."""
from __future__ import annotations

import pytest

from netlab.net.addr import parse_ip
from netlab.net.ipvs import Ipvs
from netlab.net.packet import TCP, IPv4
from netlab.net.world import Dataplane

VIP = "10.96.0.10"


def make(sched: str, servers: list[tuple[str, int]], **kw):
    """A service whose real servers are added in the order given (so scanned reversed)."""
    ns = Dataplane(0).add_netns("node")
    vs = Ipvs.of(ns)
    svc = vs.add_service("tcp", VIP, 80, scheduler=sched, **kw)
    for name, weight in servers:
        vs.add_dest("tcp", VIP, 80, rip=name, weight=weight)
    return vs, svc


def pick(svc, src: str = "10.0.1.2", sport: int = 40000, dst: str = VIP) -> str | None:
    pkt = IPv4(parse_ip(src), parse_ip(dst), 6, TCP(sport, 80))
    d, _why = svc.scheduler.schedule(svc, pkt)
    return None if d is None else d.label.split(":")[0]


def load(svc, **conns: tuple[int, int]) -> None:
    """Set (active, inactive) connection counts per real server, by last octet: a1=(1, 0)."""
    for d in svc.dests:
        key = "a" + d.label.split(":")[0].rsplit(".", 1)[1]
        if key in conns:
            d.activeconns, d.inactconns = conns[key]


A, B, C, D = "10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"


# -- rr ------------------------------------------------------------------------
def test_rr_starts_with_the_last_added_server_and_cycles_in_list_order():
    _, svc = make("rr", [(A, 1), (B, 1), (C, 1)])
    assert [d.label for d in svc.dests] == ["10.0.0.3:80", "10.0.0.2:80", "10.0.0.1:80"]
    assert [pick(svc) for _ in range(6)] == [C, B, A, C, B, A]


def test_rr_skips_weight_zero_and_the_cursor_can_repeat_the_only_server():
    vs, svc = make("rr", [(A, 1), (B, 1), (C, 1)])
    assert [pick(svc) for _ in range(4)] == [C, B, A, C]
    vs.edit_dest("tcp", VIP, 80, rip=B, weight=0, fwd="Masq")
    assert [pick(svc) for _ in range(4)] == [A, C, A, C]
    vs.edit_dest("tcp", VIP, 80, rip=A, weight=0, fwd="Masq")
    # Only C left: the second pass reaches the cursor itself, which is available.
    assert [pick(svc) for _ in range(2)] == [C, C]
    vs.edit_dest("tcp", VIP, 80, rip=C, weight=0, fwd="Masq")
    d, why = svc.scheduler.schedule(svc, IPv4(1, parse_ip(VIP), 6, TCP(1, 80)))
    assert d is None and why.startswith("rr: no destination available")


def test_rr_deleting_the_cursor_server_moves_the_cursor_back_one():
    vs, svc = make("rr", [(A, 1), (B, 1), (C, 1)])
    assert [pick(svc) for _ in range(2)] == [C, B]  # cursor on B (index 1)
    vs.del_dest("tcp", VIP, 80, rip=B)  # cursor → C, B's predecessor
    assert pick(svc) == A
    vs.add_dest("tcp", VIP, 80, rip=D, weight=1)  # D goes to the head: [D, C, A]
    assert [pick(svc) for _ in range(3)] == [D, C, A]


def test_rr_why_names_the_previous_choice():
    _, svc = make("rr", [(A, 1), (B, 1)])
    pkt = IPv4(1, parse_ip(VIP), 6, TCP(1, 80))
    assert svc.scheduler.schedule(svc, pkt)[1] == "rr: first in list"
    assert svc.scheduler.schedule(svc, pkt)[1] == "rr: next after 10.0.0.2:80"


# -- wrr -----------------------------------------------------------------------
def test_wrr_weights_3_2_1_give_the_kernel_sequence():
    # list order A(3), B(2), C(1): added C, B, A. The service was created empty, so
    # init_service left cw = 0; the first add set cw = mw = 1 and later adds keep it (cw is
    # only reset when above the new maximum or zero). So the first round takes everyone
    # at weight ≥ 1, and only then does the 3, 2, 1 stepping begin.
    _, svc = make("wrr", [(C, 1), (B, 2), (A, 3)])
    assert [pick(svc) for _ in range(15)] == [A, B, C] + [A, A, B, A, B, C] * 2


def test_wrr_steps_by_the_gcd_of_the_weights():
    _, svc = make("wrr", [(B, 2), (A, 4)])  # list A(4), B(2): gcd 2, mw = 4 - (2-1) = 3
    assert (svc.scheduler.di, svc.scheduler.mw, svc.scheduler.cw) == (2, 3, 1)  # cw = (1//2)*2 + 1
    assert [pick(svc) for _ in range(8)] == [A, B, A, A, B, A, A, B]


def test_wrr_weight_zero_is_never_chosen_and_all_zero_means_none():
    vs, svc = make("wrr", [(B, 1), (A, 0)])
    assert [pick(svc) for _ in range(3)] == [B, B, B]
    vs.edit_dest("tcp", VIP, 80, rip=B, weight=0, fwd="Masq")
    assert pick(svc) is None


def test_wrr_weight_change_resets_the_position_to_the_head():
    vs, svc = make("wrr", [(C, 1), (B, 2), (A, 3)])
    assert [pick(svc) for _ in range(5)] == [A, B, C, A, A]  # now on A with cw = 2
    vs.edit_dest("tcp", VIP, 80, rip=C, weight=1, fwd="Masq")  # same weights, but cl → head
    assert [pick(svc) for _ in range(3)] == [A, B, A]  # untouched it would have gone B, A, B


# -- lc / wlc ------------------------------------------------------------------
def test_lc_overhead_is_active_times_256_plus_inactive_and_ties_keep_list_order():
    _, svc = make("lc", [(C, 1), (B, 1), (A, 1)])  # list A, B, C
    load(svc, a1=(1, 0), a2=(0, 3), a3=(0, 3))  # 256, 3, 3
    assert pick(svc) == B
    load(svc, a2=(0, 255), a3=(0, 256), a1=(1, 0))  # 256 vs 255: B; C = 256 ties with A, A stays before C
    assert pick(svc) == B
    load(svc, a2=(1, 0), a1=(0, 256), a3=(0, 256))
    assert pick(svc) == A


def test_lc_ignores_weight_except_zero():
    vs, svc = make("lc", [(B, 1), (A, 100)])  # list A, B
    load(svc, a1=(0, 1), a2=(0, 0))
    assert pick(svc) == B
    vs.edit_dest("tcp", VIP, 80, rip=B, weight=0, fwd="Masq")
    assert pick(svc) == A


def test_wlc_compares_cross_products_and_a_tie_keeps_the_earlier_server():
    _, svc = make("wlc", [(B, 2), (A, 1)])  # list A(w1), B(w2)
    load(svc, a1=(1, 0), a2=(2, 0))  # 256×2 = 512 vs 512×1: tie, A stays
    assert pick(svc) == A
    load(svc, a1=(1, 0), a2=(1, 255))  # 256×2 = 512 > 511×1: B
    assert pick(svc) == B
    pkt = IPv4(1, parse_ip(VIP), 6, TCP(1, 80))
    assert "511×1 < 256×2" in svc.scheduler.schedule(svc, pkt)[1]


def test_wlc_starts_from_the_first_server_with_weight_and_never_picks_weight_zero():
    vs, svc = make("wlc", [(B, 1), (A, 0)])  # list A(w0, idle), B(w1, busy)
    load(svc, a1=(0, 0), a2=(5, 5))
    assert pick(svc) == B
    vs2, svc2 = make("wlc", [(B, 0), (A, 1)])  # list A(w1), B(w0, idle)
    load(svc2, a1=(3, 0), a2=(0, 0))
    assert pick(svc2) == A


# -- sed / nq ------------------------------------------------------------------
def test_sed_counts_the_incoming_job_and_only_active_connections():
    _, svc = make("sed", [(B, 3), (A, 1)])  # list A(w1), B(w3)
    load(svc, a1=(0, 50), a2=(1, 0))  # A: (0+1)×3 = 3 > (1+1)×1 = 2 → B
    assert pick(svc) == B
    load(svc, a1=(0, 0), a2=(2, 0))  # 1×3 = 3 = 3×1: tie, A stays
    assert pick(svc) == A


def test_nq_takes_an_idle_server_at_once_else_shortest_expected_delay():
    _, svc = make("nq", [(B, 3), (A, 1)])  # list A(w1), B(w3)
    load(svc, a1=(0, 0), a2=(1, 0))
    assert pick(svc) == A  # idle wins even though sed would pick B
    load(svc, a1=(1, 0), a2=(2, 0))  # A: 2, B: 3 → 2×3 = 6 > 3×1 → B
    assert pick(svc) == B
    load(svc, a1=(2, 0), a2=(0, 9))  # B has no *active* connections: idle
    assert pick(svc) == B


# -- sh / dh -------------------------------------------------------------------
def test_sh_bucket_is_hash_32_of_the_source_address():
    # 10.0.1.2 = 0x0A000102; × 0x61C88647 mod 2^32 = 1377260430; >> 24 = 82
    from netlab.net.ipvs_sched import SourceHashing

    assert SourceHashing.bucket(parse_ip("10.0.1.2")) == 82
    _, svc = make("sh", [(B, 1), (A, 1)])  # list A, B: even buckets A, odd B
    assert svc.scheduler.buckets[82].label == "10.0.0.1:80"
    assert pick(svc, "10.0.1.2") == A
    assert [pick(svc, "10.0.1.2", sport=p) for p in (1, 2, 3)] == [A, A, A]  # ports do not matter


def test_sh_gives_a_server_as_many_consecutive_buckets_as_its_weight():
    _, svc = make("sh", [(B, 1), (A, 2)])  # list A(2), B(1)
    labels = [d.label.split(":")[0] for d in svc.scheduler.buckets[:6]]
    assert labels == [A, A, B, A, A, B]
    counts = {A: 0, B: 0}
    for d in svc.scheduler.buckets:
        counts[d.label.split(":")[0]] += 1
    assert counts == {A: 171, B: 85}


def test_sh_weight_zero_server_keeps_its_buckets_and_refuses_them_unless_fallback():
    vs, svc = make("sh", [(B, 1), (A, 1)])
    vs.edit_dest("tcp", VIP, 80, rip=A, weight=0, fwd="Masq")  # reassign: A gets 1 bucket in turn
    assert svc.scheduler.buckets[82].label == "10.0.0.1:80"
    assert pick(svc, "10.0.1.2") is None
    vs.edit_service("tcp", VIP, 80, scheduler="sh", flags={"sh-fallback"})
    # fallback: rehash with offsets 82, 83, ...: bucket (82 + 82) & 255 = 164 is A again, 165 is B
    assert pick(svc, "10.0.1.2") == B


def test_sh_distribution_over_many_clients_is_even_and_stable():
    _, svc = make("sh", [(A, 1), (B, 1), (C, 1)])
    seen = {A: 0, B: 0, C: 0}
    for i in range(3000):
        src = f"10.{i // 250}.{i % 250}.1"
        first = pick(svc, src)
        assert pick(svc, src) == first
        seen[first] += 1
    assert all(800 < n < 1200 for n in seen.values()), seen


def test_dh_hashes_the_destination_one_bucket_per_server():
    from netlab.net.ipvs_sched import DestinationHashing

    assert DestinationHashing.bucket(parse_ip(VIP)) == 242
    vs, svc = make("dh", [(C, 1), (B, 5), (A, 1)])  # list A, B, C; weights do not matter
    assert [d.label.split(":")[0] for d in svc.scheduler.buckets[:4]] == [A, B, C, A]
    assert pick(svc, dst=VIP) == svc.scheduler.buckets[242].label.split(":")[0] == [A, B, C][242 % 3]
    assert {pick(svc, src=f"10.1.1.{i}") for i in range(1, 50)} == {[A, B, C][242 % 3]}
    vs.edit_dest("tcp", VIP, 80, rip=[A, B, C][242 % 3], weight=0, fwd="Masq")
    assert pick(svc) is None


@pytest.mark.parametrize("sched", ["rr", "wrr", "lc", "wlc", "sed", "nq", "sh", "dh"])
def test_every_scheduler_returns_none_without_servers(sched):
    _, svc = make(sched, [])
    assert pick(svc) is None
