"""The neighbour table: ARP as real packets, NUD states and their timers on the
simulated clock, static entries, and what happens when nobody answers."""
from __future__ import annotations

from netbuild import bridged, hops, ip, ping_once, routed
from netlab.net import neigh as N
from netlab.net.neigh import NeighTable
from netlab.net.world import Dataplane


def state(ns, dev_name: str, addr: str) -> str | None:
    dev = ns.dev(dev_name)
    for e in ns.neigh.for_dev(dev):
        if e.ip == ip(addr):
            return e.state
    return None


def test_ping_resolves_both_ends_with_real_arp_packets():
    net = bridged(2)
    p1, p2 = net.pods
    out = ping_once(p1, ip("10.0.0.3"))
    assert out.kind == "reply"
    request = out.traces[0]
    arp = hops(request, "arp")
    assert arp[0].ns == "p1" and arp[0].text == "ARP who-has 10.0.0.3 tell 10.0.0.2"
    assert arp[0].frame.dst == "ff:ff:ff:ff:ff:ff" and arp[0].frame.payload.op == 1
    assert any(h.ns == "p2" and "reply is-at" in h.text for h in arp)
    # The asker learned from the reply (REACHABLE); the target learned from the request (STALE),
    # then used that entry for its echo reply (DELAY).
    assert state(p1, "eth0", "10.0.0.3") == N.REACHABLE
    assert state(p2, "eth0", "10.0.0.2") == N.DELAY
    assert p1.neigh.get(p1.dev("eth0"), ip("10.0.0.3")).lladdr == p2.dev("eth0").mac


def test_reachable_turns_stale_after_base_reachable_time():
    net = bridged(2)
    p1 = net.pods[0]
    ping_once(p1, ip("10.0.0.3"))
    net.world.advance(29.9)
    assert state(p1, "eth0", "10.0.0.3") == N.REACHABLE
    net.world.advance(0.2)
    assert state(p1, "eth0", "10.0.0.3") == N.STALE


def test_using_a_stale_entry_sends_at_once_and_moves_it_to_delay_then_reachable():
    net = bridged(2)
    p1 = net.pods[0]
    ping_once(p1, ip("10.0.0.3"))
    net.world.advance(60)
    assert state(p1, "eth0", "10.0.0.3") == N.STALE
    out = ping_once(p1, ip("10.0.0.3"))
    assert out.kind == "reply"
    assert not hops(out.traces[0], "arp", ns="p1")  # no new broadcast: the STALE address is used
    assert state(p1, "eth0", "10.0.0.3") == N.DELAY
    net.world.advance(5.1)  # delay_first_probe_time: the unicast probe is answered
    assert state(p1, "eth0", "10.0.0.3") == N.REACHABLE


def test_an_arp_request_from_a_reachable_neighbour_does_not_demote_it():
    """neigh_update: a valid entry whose address is unchanged keeps its state when the
    news is only STALE (an ARP request does not assert reachability, nor deny it)."""
    net = bridged(2)
    p1, p2 = net.pods
    ping_once(p1, ip("10.0.0.3"))          # p1: 10.0.0.3 REACHABLE
    p2.neigh.delete(p2.dev("eth0"), ip("10.0.0.2"))
    ping_once(p2, ip("10.0.0.2"))          # p2 ARPs for p1: a request p1 sees
    assert state(p1, "eth0", "10.0.0.3") == N.REACHABLE


def test_an_arp_request_with_a_new_address_updates_a_valid_entry_to_stale():
    net = bridged(2)
    p1, p2 = net.pods
    ping_once(p1, ip("10.0.0.3"))
    p1.neigh.update(p1.dev("eth0"), ip("10.0.0.3"), "02:00:00:00:00:99", N.REACHABLE)
    p2.neigh.delete(p2.dev("eth0"), ip("10.0.0.2"))
    out = ping_once(p2, ip("10.0.0.2"))
    entry = p1.neigh.get(p1.dev("eth0"), ip("10.0.0.3"))
    # STALE with the new address, then used at once for the echo reply: DELAY.
    assert (entry.lladdr, entry.state) == (p2.dev("eth0").mac, N.DELAY)
    assert out.kind == "reply"


def test_permanent_entries_are_not_touched_by_arp():
    net = bridged(2)
    p1, p2 = net.pods
    fake = "02:00:00:00:00:99"
    p2.neigh.update(p2.dev("eth0"), ip("10.0.0.2"), fake, N.PERMANENT)
    out = ping_once(p1, ip("10.0.0.3"))  # p2 sees p1's request, then answers to the fake address
    entry = p2.neigh.get(p2.dev("eth0"), ip("10.0.0.2"))
    assert (entry.lladdr, entry.state) == (fake, N.PERMANENT)
    assert out.kind == "timeout"  # the echo reply went to a MAC nobody has
    net.world.advance(3600)
    assert state(p2, "eth0", "10.0.0.2") == N.PERMANENT


def test_an_unsolicited_arp_reply_creates_nothing():
    net = bridged(2)
    p1, p2 = net.pods
    from netlab.net.packet import ARP, ARP_REPLY, ETH_P_ARP, Frame

    eth0 = p2.dev("eth0")
    reply = Frame(eth0.mac, p1.dev("eth0").mac, ETH_P_ARP, ARP(ARP_REPLY, eth0.mac, ip("10.0.0.3"), p1.dev("eth0").mac, ip("10.0.0.2")))
    trace = net.world.new_trace("gratuitous", "p2")
    eth0.xmit(reply, trace)
    net.world.run()
    assert p1.neigh.get(p1.dev("eth0"), ip("10.0.0.3")) is None
    assert "unsolicited ARP reply" in trace.verdict.reason


def test_no_arp_reply_fails_the_entry_drops_the_packet_and_reports_host_unreachable():
    net = bridged(2)
    p1 = net.pods[0]
    out = ping_once(p1, ip("10.0.0.98"))
    assert state(p1, "eth0", "10.0.0.98") == N.FAILED
    # ping prints "From 10.0.0.2 icmp_seq=1 Destination Host Unreachable": a local error from our own address.
    assert out.kind == "error"
    assert (out.reply.src, out.reply.l4.type, out.reply.l4.code) == (ip("10.0.0.2"), 3, 1)
    (verdict,) = out.traces[0].ends
    assert verdict.kind == "dropped" and "unreachable: no ARP reply (FAILED)" in verdict.reason


def test_a_router_that_gets_no_arp_reply_sends_host_unreachable_to_the_source():
    net = routed()
    out = ping_once(net.a, ip("198.51.100.77"))
    assert out.kind == "error"
    assert (out.reply.src, out.reply.l4.type, out.reply.l4.code) == (ip("192.0.2.1"), 3, 1)
    assert state(net.r, "eth1", "198.51.100.77") == N.FAILED


def test_a_failed_entry_is_retried_on_the_next_packet():
    net = bridged(2)
    p1 = net.pods[0]
    ping_once(p1, ip("10.0.0.98"))
    out = ping_once(p1, ip("10.0.0.98"))
    assert hops(out.traces[0], "arp", ns="p1"), "a FAILED entry sends a fresh ARP request"


def test_table_states_are_computed_from_the_clock_when_read():
    clock = [0.0]
    table = NeighTable(lambda: clock[0])

    class Dev:
        ifindex = 7

    dev = Dev()
    table.update(dev, ip("10.0.0.5"), "02:00:00:00:00:05", N.REACHABLE)
    clock[0] = 30.0
    assert table.for_dev(dev)[0].state == N.REACHABLE  # not after *more* than 30 s
    clock[0] = 30.5
    assert table.for_dev(dev)[0].state == N.STALE
    assert table.lookup_valid(dev, ip("10.0.0.5")) is not None  # STALE is still usable


def test_ping_to_an_absent_pod_address_prints_destination_host_unreachable():
    """Kernel capture p1_ping_-c_3_172.30.76.98: the pod's own address reports it, once per echo."""
    from netlab import Lab

    lab = Lab.default()
    pod = next(k.split("/", 1)[1] for k, ns in lab.cluster.pod_ns.items()
               if ns.dev("eth0").addrs[0].ip == ip("172.30.76.2"))
    r = lab.sh("ping -c 3 172.30.76.98", on=pod)
    lines = [ln for ln in r.output.splitlines() if ln.startswith("From ")]
    assert lines == [f"From 172.30.76.2 icmp_seq={i} Destination Host Unreachable" for i in (1, 2, 3)]
    assert "3 packets transmitted, 0 received, +3 errors, 100% packet loss" in r.output
    assert r.exit_code == 1
