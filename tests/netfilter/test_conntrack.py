"""Conntrack and NAT on the packet path: client — router — server in three namespaces.

The router DNATs 10.0.9.9:80 to the server's 10.0.2.2:8080 and masquerades out of eth1,
the shape of a Service reached from outside the cluster."""
import pytest

from netlab.apps.probe import ping_once, tcp_syn, udp_probe
from netlab.net import netfilter as nf
from netlab.net.addr import parse_ip
from netlab.net.conntrack import ASSURED, SEEN_REPLY, Conn, Tuple, tcp_next
from netlab.net.netfilter.cli import iptables
from netlab.net.packet import TH_ACK, TH_FIN, TH_RST, TH_SYN
from netlab.net.topology import add_default_route, veth_pair
from netlab.net.world import Dataplane
from netlab.shell.cmd_conntrack import cmd_conntrack
from netlab.shell.registry import Invocation

RULES = """*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -d 10.0.9.9/32 -p tcp -m tcp --dport 80 -j DNAT --to-destination 10.0.2.2:8080
-A PREROUTING -d 10.0.9.9/32 -p udp -m udp --dport 53 -j DNAT --to-destination 10.0.2.2:5353
-A PREROUTING -d 10.0.9.9/32 -p icmp -j DNAT --to-destination 10.0.2.2
-A POSTROUTING -o eth1 -j MASQUERADE
COMMIT
"""


class Net:
    def __init__(self) -> None:
        w = self.world = Dataplane(seed=3)
        self.c, self.r, self.s = (w.add_netns(n) for n in ("client", "router", "server"))
        ca, ra = veth_pair(self.c, "eth0", self.r, "eth0")
        rb, sb = veth_pair(self.r, "eth1", self.s, "eth0")
        for ns, dev, ip in ((self.c, ca, "10.0.1.2"), (self.r, ra, "10.0.1.1"), (self.r, rb, "10.0.2.1"),
                            (self.s, sb, "10.0.2.2")):
            ns.set_link(dev, up=True)
            ns.addr_add(dev, parse_ip(ip), 24)
        add_default_route(self.c, parse_ip("10.0.1.1"), ca)
        add_default_route(self.s, parse_ip("10.0.2.1"), sb)
        self.r.sysctl["net.ipv4.ip_forward"] = "1"
        self.nf = nf.load(self.r)
        self.nf.restore(RULES)

    def conntrack(self, *args: str) -> str:
        from types import SimpleNamespace

        inv = Invocation(["conntrack", *args], SimpleNamespace(ns=self.r), None)  # type: ignore[arg-type]
        code = cmd_conntrack(inv)
        return "".join(inv.out) + f"exit={code}\n"


@pytest.fixture
def net():
    return Net()


def test_dnat_and_masquerade_are_undone_on_the_reply(net):
    out = tcp_syn(net.c, parse_ip("10.0.9.9"), 80)
    assert out.kind == "refused"  # nothing listens on 8080: the server's RST comes back...
    assert (out.reply.src, out.reply.l4.sport) == (parse_ip("10.0.9.9"), 80)  # ...from the VIP, un-NATed
    [conn] = net.nf.ct.entries()
    assert conn.orig == Tuple(parse_ip("10.0.1.2"), parse_ip("10.0.9.9"), 6, conn.orig.a, 80)
    assert conn.reply.src == parse_ip("10.0.2.2") and conn.reply.a == 8080
    assert conn.reply.dst == parse_ip("10.0.2.1")  # masqueraded behind eth1's address
    kinds = [h.text.split(":")[0] for t in out.traces for h in t.hops if h.kind == "nat"]
    assert kinds == ["DNAT", "SNAT", "reply un-SNAT (destination restored)", "reply un-DNAT (source restored)"]
    line = net.conntrack("-L").splitlines()[0]
    assert line == (f"tcp      6 9 CLOSE src=10.0.1.2 dst=10.0.9.9 sport={conn.orig.a} dport=80 "
                    f"src=10.0.2.2 dst=10.0.2.1 sport=8080 dport={conn.orig.a} mark=0 use=1")


def test_later_packets_reuse_the_binding_without_the_nat_table(net):
    ping_once(net.c, parse_ip("10.0.9.9"), seq=1, ident=77)
    ping_once(net.c, parse_ip("10.0.9.9"), seq=2, ident=77)
    rule = net.nf.tables["nat"].chains["PREROUTING"].rules[2]
    assert rule.pkts == 1  # only the first packet of the flow walked the nat table
    out = net.conntrack("-L")
    assert "icmp     1 29 src=10.0.1.2 dst=10.0.9.9 type=8 code=0 id=77 src=10.0.2.2 dst=10.0.2.1 type=0 code=0 id=77" \
        " mark=0 use=1" in out
    assert out.endswith("conntrack v1.4.7 (conntrack-tools): 1 flow entries have been shown.\nexit=0\n")


def test_icmp_error_is_related_and_translated(net):
    out = udp_probe(net.c, parse_ip("10.0.9.9"), 53)
    assert out.kind == "error"
    err = out.reply
    assert err.src == parse_ip("10.0.9.9") and err.dst == parse_ip("10.0.1.2")
    quoted = err.l4.quoted
    assert (quoted.dst, quoted.l4.dport, quoted.src) == (parse_ip("10.0.9.9"), 53, parse_ip("10.0.1.2"))
    assert any(h.kind == "conntrack" and "RELATED" in h.text for t in out.traces for h in t.hops)


def test_ctstate_in_filter(net):
    net.nf.restore("*filter\n:FORWARD DROP [0:0]\n-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n"
                   "-A FORWARD -m conntrack --ctstate NEW -m conntrack --ctstate DNAT -p icmp -j ACCEPT\nCOMMIT\n")
    assert ping_once(net.c, parse_ip("10.0.9.9")).kind == "reply"
    assert ping_once(net.c, parse_ip("10.0.2.2")).kind == "timeout"  # NEW but not DNATed: dropped
    rules = net.nf.tables["filter"].chains["FORWARD"].rules
    assert (rules[0].pkts, rules[1].pkts) == (1, 1)
    assert net.nf.tables["filter"].chains["FORWARD"].pkts == 1


def test_reject_sends_icmp_and_tcp_reset(net):
    iptables(net.nf, ["-A", "FORWARD", "-p", "udp", "-j", "REJECT"])
    iptables(net.nf, ["-A", "FORWARD", "-p", "tcp", "-j", "REJECT", "--reject-with", "tcp-reset"])
    iptables(net.nf, ["-A", "FORWARD", "-p", "icmp", "-j", "REJECT", "--reject-with", "icmp-admin-prohibited"])
    u = udp_probe(net.c, parse_ip("10.0.9.9"), 53)
    assert u.kind == "error" and (u.reply.l4.type, u.reply.l4.code) == (3, 3) and u.reply.src == parse_ip("10.0.9.9")
    t = tcp_syn(net.c, parse_ip("10.0.9.9"), 80)
    assert t.kind == "refused" and t.reply.src == parse_ip("10.0.9.9") and t.reply.l4.sport == 80
    p = ping_once(net.c, parse_ip("10.0.2.2"))
    assert p.kind == "error" and p.reply.l4.code == 13
    drop = [h for h in t.traces[0].hops if h.kind == "drop"][0]
    assert drop.text == "rejected by filter FORWARD rule 2: TCP RST sent"


def test_notrack_leaves_packets_untracked(net):
    net.nf.restore("*raw\n-A PREROUTING -p icmp -j CT --notrack\nCOMMIT\n", noflush=True)
    net.nf.restore("*filter\n-A FORWARD -m conntrack --ctstate UNTRACKED -j ACCEPT\nCOMMIT\n")
    ping_once(net.c, parse_ip("10.0.2.2"))
    assert len(net.nf.ct) == 0
    assert net.nf.tables["filter"].chains["FORWARD"].rules[0].pkts == 2  # the request and the (untracked) reply


def test_conntrack_delete_flush_count(net):
    ping_once(net.c, parse_ip("10.0.9.9"))
    tcp_syn(net.c, parse_ip("10.0.9.9"), 80)
    assert net.conntrack("-C") == "2\nexit=0\n"
    assert net.conntrack("-D", "-p", "sctp") == \
        "conntrack v1.4.7 (conntrack-tools): 0 flow entries have been deleted.\nexit=1\n"
    out = net.conntrack("-D", "-p", "tcp", "--orig-dst", "10.0.9.9")
    assert out.startswith("tcp      6 ") and "1 flow entries have been deleted." in out
    assert net.conntrack("-F") == "conntrack v1.4.7 (conntrack-tools): connection tracking table has been emptied.\nexit=0\n"
    assert net.conntrack("-L", "-p", "foo").startswith("conntrack v1.4.7 (conntrack-tools): `foo' unsupported protocol")


def test_timeouts_run_on_the_simulated_clock(net):
    ping_once(net.c, parse_ip("10.0.9.9"))
    net.world.advance(29)
    assert len(net.nf.ct) == 1
    net.world.advance(2)
    assert len(net.nf.ct) == 0


def test_tcp_state_progression():
    conn = Conn(None, Tuple(1, 2, 6, 1000, 80), 0.0)  # type: ignore[arg-type]
    steps = [(0, TH_SYN, "SYN_SENT"), (1, TH_SYN | TH_ACK, "SYN_RECV"), (0, TH_ACK, "ESTABLISHED"),
             (0, TH_FIN | TH_ACK, "FIN_WAIT"), (1, TH_ACK, "CLOSE_WAIT"), (1, TH_FIN | TH_ACK, "LAST_ACK"),
             (0, TH_ACK, "TIME_WAIT")]
    for direction, flags, want in steps:
        conn.state = tcp_next(conn, direction, flags)
        assert conn.state == want
    assert tcp_next(conn, 0, TH_RST) == "CLOSE"


def test_tcp_entry_becomes_assured_and_gets_the_established_timeout(net):
    from netlab.net.packet import TCP, IPv4

    ct = net.nf.ct
    c, v = parse_ip("10.0.1.2"), parse_ip("10.0.9.9")
    conn = ct.new(Tuple(c, v, 6, 5555, 80))
    ct.confirm(conn)
    for direction, flags in ((0, TH_SYN), (1, TH_SYN | TH_ACK), (0, TH_ACK)):
        p = IPv4(c, v, 6, TCP(5555, 80, flags)) if direction == 0 else IPv4(v, c, 6, TCP(80, 5555, flags))
        ct.refresh(conn, p, direction)
    assert conn.state == "ESTABLISHED" and conn.status & ASSURED and conn.status & SEEN_REPLY
    assert ct.format(conn).startswith("tcp      6 431999 ESTABLISHED src=10.0.1.2 dst=10.0.9.9 sport=5555 dport=80 ")
    assert ct.format(conn).endswith(" [ASSURED] mark=0 use=1")


def test_ipvs_binding_api(net):
    """IPVS (net.ipv4.vs.conntrack=1) tells conntrack where it sent a connection."""
    from netlab.net.packet import TCP, IPv4, evolve

    assert net.r.conntrack is net.nf
    ct = net.nf.ct
    pkt = IPv4(parse_ip("10.0.1.2"), parse_ip("10.0.1.1"), 6, TCP(4000, 80))
    conn = ct.new(Tuple(pkt.src, pkt.dst, 6, 4000, 80))
    ct.refresh(conn, pkt, 0)
    ct.confirm(conn)
    after = evolve(pkt, dst=parse_ip("10.0.2.2"), l4=TCP(4000, 8080))
    net.nf.ipvs_update(pkt, after, reply=False)
    assert conn.reply.src == parse_ip("10.0.2.2") and conn.reply.a == 8080 and not conn.confirmed
