"""IPVS in the packet path: requests to a VIP reach the chosen real server, replies come
back from the VIP, and the connection table keeps the kernel's states, counters and
timers on the simulated clock."""
from __future__ import annotations

from ipvstopo import VIP, Topo

from netlab.apps.probe import udp_probe
from netlab.net.addr import fmt_ip, parse_ip
from netlab.net.ipvs_text import list_conns
from netlab.net.packet import ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, IPPROTO_TCP, TCP, TH_SYN, IPv4
from netlab.net.tcp import exchange

RS1, RS2 = "10.0.2.2", "10.0.3.2"


def rr_topo(proto: str = "tcp", port: int = 80, **kw) -> Topo:
    t = Topo()
    t.ipvs.add_service(proto, VIP, port, scheduler="rr", **kw)
    t.ipvs.add_dest(proto, VIP, port, rip=RS1)
    t.ipvs.add_dest(proto, VIP, port, rip=RS2)
    return t


def syn(t: Topo, sport: int) -> list:
    """A bare SYN from the client (nothing answers the SYN-ACK)."""
    pkt = IPv4(parse_ip("10.0.1.2"), parse_ip(VIP), IPPROTO_TCP, TCP(sport, 80, TH_SYN, 1))
    start = len(t.world.traces)
    t.client.ip_local_out(pkt, t.world.new_trace("syn", "client", pkt, "syn"))
    t.world.run()
    return t.world.traces[start:]


def dest(t: Topo, rip: str):
    return t.ipvs.find("tcp", VIP, 80).dest(parse_ip(rip), 80)


def test_tcp_to_the_vip_reaches_the_chosen_server_and_the_reply_comes_from_the_vip():
    t = rr_topo()
    answers = [exchange(t.client, parse_ip(VIP), 80, "GET /").response for _ in range(4)]
    assert answers == ["hello from rs2", "hello from rs1", "hello from rs2", "hello from rs1"]
    ex = exchange(t.client, parse_ip(VIP), 80, "GET /")
    synack = next(tr for tr in ex.traces if tr.label == "SYN-ACK")
    delivered = [h for h in synack.hops if h.ns == "client" and h.kind == "rx"][0]
    assert fmt_ip(delivered.frame.payload.src) == VIP  # un-NATed on the node (ip_vs_out at FORWARD)
    ipvs_hops = [h for tr in ex.traces for h in tr.hops if h.kind == "ipvs"]
    assert ipvs_hops and all(h.detail["compared"] == 1 for h in ipvs_hops)


def test_the_request_is_dnatted_at_local_in_and_skips_forward():
    t = rr_topo()
    tr = syn(t, 40001)[0]
    kinds = [(h.ns, h.kind) for h in tr.hops]
    assert ("node", "ipvs") in kinds and ("node", "forward") not in kinds
    hop = next(h for h in tr.hops if h.kind == "ipvs")
    assert hop.detail["service"] == f"TCP {VIP}:80" and hop.detail["scheduler"] == "rr"
    assert hop.detail["chosen"] == f"{RS2}:80" and hop.detail["why"] == "rr: first in list"
    rx = next(h for h in tr.hops if h.ns == "rs2" and h.kind == "rx")
    assert fmt_ip(rx.frame.payload.dst) == RS2 and rx.frame.payload.ttl == 63  # ip_vs decrements the TTL


def test_udp_reaches_the_server_and_the_answer_comes_from_the_vip():
    t = rr_topo("udp", 53)
    out = udp_probe(t.client, parse_ip(VIP), 53)
    assert out.kind == "reply" and out.source == VIP and out.reply.l4.sport == 53
    assert out.reply.l4.payload == "answer from rs2"
    entry = t.ipvs.entries()[0]
    assert t.ipvs.state_name(entry) == "UDP" and entry.expires - t.world.clock == 300


def test_service_without_real_servers_answers_port_unreachable():
    t = Topo()
    t.ipvs.add_service("tcp", VIP, 80, scheduler="rr")
    ex = exchange(t.client, parse_ip(VIP), 80, "GET /")
    assert ex.kind == "unreachable" and ex.errno_text == "Connection refused"
    first = ex.traces[0]
    assert first.verdict.reason.startswith(f"IPVS: no real server available for TCP {VIP}:80")


def test_icmp_error_from_a_real_server_is_translated_back_to_the_vip():
    t = rr_topo("udp", 5353)  # nothing listens on 5353 on the real servers
    out = udp_probe(t.client, parse_ip(VIP), 5353)
    assert out.kind == "error" and out.source == VIP
    icmp = out.reply.l4
    assert (icmp.type, icmp.code) == (ICMP_DEST_UNREACH, ICMP_PORT_UNREACH)
    assert fmt_ip(icmp.quoted.dst) == VIP and icmp.quoted.l4.dport == 5353


def test_syn_only_connection_is_inactive_then_expires_after_syn_recv_timeout():
    t = rr_topo()
    syn(t, 40001)
    d = dest(t, RS2)
    assert (d.activeconns, d.inactconns) == (0, 1)
    assert "TCP 01:00  SYN_RECV    10.0.1.2:40001     10.96.0.10:80      10.0.3.2:80" in list_conns(t.ipvs, numeric=True)
    t.world.advance(59)
    assert len(t.ipvs.entries()) == 1
    t.world.advance(1)
    assert t.ipvs.entries() == [] and d.inactconns == 0


def test_established_connection_is_active_and_closing_makes_it_inactive():
    t = rr_topo()
    ex = exchange(t.client, parse_ip(VIP), 80, "GET /", connect_only=True)
    assert ex.kind == "ok"
    d = dest(t, RS2)
    # client FIN (ESTABLISHED → CLOSE_WAIT), server FIN-ACK (→ TIME_WAIT): inactive, 2 minutes
    cp = t.ipvs.entries()[0]
    assert cp.state == "TIME_WAIT" and (d.activeconns, d.inactconns) == (0, 1)
    assert cp.expires - t.world.clock == 120


def test_established_counts_as_active_with_the_15_minute_timeout():
    t = rr_topo()
    vs = t.ipvs
    svc = vs.find("tcp", VIP, 80)
    cp, _ = vs.schedule(svc, IPv4(parse_ip("10.0.1.2"), parse_ip(VIP), 6, TCP(40000, 80, TH_SYN)))
    d = cp.dest
    assert (d.activeconns, d.inactconns) == (0, 1)  # new connections start inactive
    vs._state_transition(cp, "INPUT", IPv4(1, 2, 6, TCP(40000, 80, TH_SYN)))
    vs._state_transition(cp, "OUTPUT", IPv4(2, 1, 6, TCP(80, 40000, TH_SYN | 0x10)))
    vs._state_transition(cp, "INPUT", IPv4(1, 2, 6, TCP(40000, 80, 0x10)))
    assert cp.state == "ESTABLISHED" and (d.activeconns, d.inactconns) == (1, 0)
    assert cp.timeout == 900
    assert d.overhead == 256


def test_wlc_counts_follow_real_connections():
    t = Topo()
    t.ipvs.add_service("tcp", VIP, 80, scheduler="wlc")
    t.ipvs.add_dest("tcp", VIP, 80, rip=RS1)
    t.ipvs.add_dest("tcp", VIP, 80, rip=RS2)
    # Each bare SYN leaves one inactive entry: wlc alternates as overheads grow 1 by 1.
    chosen = []
    for port in range(41000, 41004):
        tr = syn(t, port)[0]
        chosen.append(next(h for h in tr.hops if h.kind == "ipvs").detail["chosen"])
    assert chosen == [f"{RS2}:80", f"{RS1}:80", f"{RS2}:80", f"{RS1}:80"]


def test_persistence_sends_a_client_to_the_same_server_and_keeps_a_template():
    t = rr_topo(persistent=60)
    answers = {exchange(t.client, parse_ip(VIP), 80, "GET /").response for _ in range(3)}
    assert answers == {"hello from rs2"}
    templates = [cp for cp in t.ipvs.entries() if cp.template]
    assert len(templates) == 1
    tmpl = templates[0]
    assert (tmpl.cport, tmpl.vport, fmt_ip(tmpl.daddr), tmpl.dport) == (0, 80, RS2, 80)
    assert t.ipvs.state_name(tmpl) == "ASSURED"  # a controlled connection reached ESTABLISHED
    assert dest(t, RS2).persistconns == 1
    listing = list_conns(t.ipvs, numeric=True)
    assert "TCP 01:00  ASSURED     10.0.1.2:0         10.96.0.10:80      10.0.3.2:80" in listing


def test_persistence_template_outlives_its_connections_then_expires():
    t = rr_topo(persistent=60)
    exchange(t.client, parse_ip(VIP), 80, "GET /")  # leaves a TIME_WAIT entry for 120 s
    vs = t.ipvs
    t.world.advance(61)  # the template is due but still controls a connection: 60 s more
    tmpl = next(cp for cp in vs.entries() if cp.template)
    assert tmpl.n_control == 1 and round(tmpl.expires - t.world.clock) == 59
    t.world.advance(59)  # t=120: the connection expires; the template's timer, due too, is rearmed
    assert [cp.template for cp in vs.entries()] == [True]
    t.world.advance(60)
    assert vs.entries() == []
    assert dest(t, RS2).persistconns == 0


def test_deleted_server_keeps_its_connections_and_gets_them_back_when_readded():
    t = rr_topo()
    syn(t, 40001)
    vs = t.ipvs
    vs.del_dest("tcp", VIP, 80, rip=RS2)
    assert len(vs.entries()) == 1
    d = vs.add_dest("tcp", VIP, 80, rip=RS2)
    assert d.inactconns == 1  # ip_vs_trash_get_dest: the same dest, counters and all


def test_template_to_a_deleted_server_is_invalidated():
    t = rr_topo(persistent=300)
    exchange(t.client, parse_ip(VIP), 80, "GET /")
    t.ipvs.del_dest("tcp", VIP, 80, rip=RS2)
    assert exchange(t.client, parse_ip(VIP), 80, "GET /").response == "hello from rs1"
    old = next(cp for cp in t.ipvs.entries() if cp.template and cp.daddr == parse_ip(RS2))
    assert (old.vport, old.dport) == (0xFFFF, 0xFFFF)


def test_node_local_client_reaches_the_vip_through_local_out():
    t = rr_topo()
    ex = exchange(t.node, parse_ip(VIP), 80, "GET /")
    assert ex.kind == "ok" and ex.response == "hello from rs2"


MASQ_RULES = """*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A POSTROUTING -d 10.0.2.0/24 -j MASQUERADE
COMMIT
"""


def _masq_topo(vs_conntrack: str) -> Topo:
    from netlab.net import netfilter

    t = Topo()
    t.node.sysctl["net.ipv4.vs.conntrack"] = vs_conntrack
    netfilter.load(t.node).restore(MASQ_RULES)
    t.ipvs.add_service("tcp", VIP, 80, scheduler="rr")
    t.ipvs.add_dest("tcp", VIP, 80, rip=RS1)
    return t


def _seen_by_rs1(ex) -> IPv4:
    return next(h for h in ex.traces[0].hops if h.ns == "rs1" and h.kind == "rx").frame.payload


def test_with_vs_conntrack_1_masquerade_in_postrouting_applies_to_ipvs_traffic():
    t = _masq_topo("1")
    ex = exchange(t.client, parse_ip(VIP), 80, "GET /")
    assert ex.kind == "ok" and ex.response == "hello from rs1"
    assert fmt_ip(_seen_by_rs1(ex).src) == "10.0.2.1"  # masqueraded to the node's address
    synack = next(tr for tr in ex.traces if tr.label == "SYN-ACK")
    kinds = [h.kind for h in synack.hops if h.ns == "node"]
    assert kinds.index("nat") < kinds.index("ipvs")  # conntrack un-SNATs, then ip_vs_out un-DNATs


def test_with_vs_conntrack_0_the_packet_is_untracked_and_masquerade_never_sees_it():
    t = _masq_topo("0")
    ex = exchange(t.client, parse_ip(VIP), 80, "GET /")
    assert ex.kind == "ok"
    assert fmt_ip(_seen_by_rs1(ex).src) == "10.0.1.2"
