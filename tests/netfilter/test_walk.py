"""Chain traversal, counters, the Trace's rule counts, and the indexed walk against a linear one."""
from hypothesis import given, settings
from hypothesis import strategies as st

from netlab.net import netfilter as nf
from netlab.net.netfilter.matches import Ctx
from netlab.net.netfilter.walk import walk
from netlab.net.packet import ICMP, TCP, UDP, IPv4
from netlab.net.trace import Trace

VIPS = [0x0AFE0000 + i for i in range(1, 6)]
PORTS = [53, 80, 443]


def pkt(dst=VIPS[0], dport=80, proto=6, src=0x0A000002, mark=0):
    l4 = TCP(40000, dport) if proto == 6 else (UDP(40000, dport) if proto == 17 else ICMP(8, 0, 1, 1))
    return IPv4(src, dst, proto, l4, mark=mark)


def run(host, hook, p, table="filter", in_dev=None, out_dev=None, indexed=True):
    trace = Trace("t", "node")
    cx = Ctx(host.nf, hook, in_dev or host.eth0, out_dev, trace)
    verdict, out = walk(host.nf, host.nf.tables[table], hook, p, cx, trace, indexed=indexed)
    return verdict, out, trace


def test_jump_goto_return_and_policy(host):
    host.restore("""*filter
:INPUT DROP [0:0]
:A - [0:0]
:B - [0:0]
:C - [0:0]
-A INPUT -j A
-A INPUT -p tcp --dport 80 -j ACCEPT
-A A -p tcp --dport 80 -j RETURN
-A A -p tcp --dport 443 -g B
-A A -p tcp --dport 53 -j C
-A B -j RETURN
-A C -j ACCEPT
COMMIT
""")
    assert run(host, "INPUT", pkt(dport=80))[0] == "ACCEPT"  # A returns, then rule 2
    assert run(host, "INPUT", pkt(dport=443))[0] == "DROP"  # goto B, B returns to INPUT's caller: the policy
    assert run(host, "INPUT", pkt(dport=53))[0] == "ACCEPT"
    assert run(host, "INPUT", pkt(dport=22))[0] == "DROP"
    chains = host.nf.tables["filter"].chains
    assert (chains["INPUT"].rules[0].pkts, chains["INPUT"].rules[1].pkts) == (4, 1)
    assert chains["INPUT"].pkts == 2 and chains["INPUT"].bytes == 2 * pkt().length
    listing, _ = host.sh("iptables -L INPUT -n -v")
    assert listing.splitlines()[0] == "Chain INPUT (policy DROP 2 packets, 80 bytes)"


def test_trace_reports_rules_compared(host):
    rules = [nf.Rule(dst=(v, 32), proto=6, matches=[nf.Tcp(dport=80)], target=nf.Jump("HIT")) for v in VIPS]
    host.nf.replace_table("nat", {"PREROUTING": rules + [nf.Rule(target=nf.ACCEPT)], "HIT": [nf.Rule(target=nf.RETURN)]})
    verdict, _, trace = run(host, "PREROUTING", pkt(dst=VIPS[3]), table="nat")
    hops = [h.detail for h in trace.hops]
    assert [(h["chain"], h["rule"], h["compared"]) for h in hops] == [("PREROUTING", 4, 4), ("HIT", 1, 1),
                                                                     ("PREROUTING", 6, 2)]
    assert trace.rules_compared() == 7
    assert hops[0]["text"] == f"-A PREROUTING -d 10.254.0.4/32 -p tcp -m tcp --dport 80 -j HIT"


def test_statistic_random_follows_the_seeded_rng(host):
    host.sh("iptables -A INPUT -m statistic --mode random --probability 0.3333333333 -j ACCEPT")
    host.sh("iptables -A INPUT -j DROP")
    hits = sum(run(host, "INPUT", pkt())[0] == "ACCEPT" for _ in range(3000))
    assert 900 < hits < 1100


def test_statistic_nth(host):
    host.sh("iptables -A INPUT -m statistic --mode nth --every 3 --packet 0 -j ACCEPT")
    host.sh("iptables -A INPUT -j DROP")
    # xt_statistic counts from 0 and tests the *incremented* counter: the 3rd, 6th... packet
    assert [run(host, "INPUT", pkt())[0] for _ in range(6)] == ["DROP", "DROP", "ACCEPT"] * 2


def test_mark_match_and_target(host):
    host.restore("*mangle\n-A PREROUTING -j MARK --or-mark 0x4000\n-A PREROUTING -m mark --mark 0x4000/0x4000 "
                 "-j MARK --xor-mark 0x4000\n-A PREROUTING -m mark --mark 0x0/0xff -j MARK --set-xmark 0x10/0xff\nCOMMIT\n")
    _, out, _ = run(host, "PREROUTING", pkt(mark=0x100), table="mangle")
    assert out.mark == 0x110


def test_addrtype_local_and_limit_iface(host):
    host.sh("iptables -A INPUT -m addrtype --dst-type LOCAL --limit-iface-in -j ACCEPT")
    host.sh("iptables -A INPUT -m addrtype --dst-type LOCAL -j REJECT")
    host.sh("iptables -A INPUT -j DROP")
    assert run(host, "INPUT", pkt(dst=0xC0A80015), in_dev=host.eth0)[0] == "ACCEPT"  # eth0's own address
    r = host.nf.tables["filter"].chains["INPUT"].rules
    assert run(host, "INPUT", pkt(dst=0x0A000001), in_dev=host.eth0)[2].hops[0].detail["rule"] == 2
    assert run(host, "INPUT", pkt(dst=0x08080808))[0] == "DROP" and r[2].pkts == 1


def test_iface_wildcard_multiport_and_set(host):
    class FakeSet:
        def test(self, p, dirs):
            return dirs == ("dst", "dst") and p.dst == VIPS[1]

    host.ns.ipsets = {"KUBE-CLUSTER-IP": FakeSet()}
    host.sh("iptables -A FORWARD -i eth+ -p tcp -m multiport --dports 443,8000:8080 -j ACCEPT")
    host.sh("iptables -A FORWARD -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT")
    host.sh("iptables -P FORWARD DROP")
    assert run(host, "FORWARD", pkt(dport=8001), in_dev=host.eth1)[0] == "ACCEPT"
    assert run(host, "FORWARD", pkt(dport=80))[0] == "DROP"
    assert run(host, "FORWARD", pkt(dst=VIPS[1], dport=80))[0] == "ACCEPT"


def test_recent_set_and_rcheck_on_the_simulated_clock(host):
    host.sh("iptables -A INPUT -m recent --rcheck --seconds 10 --reap --name AFF -j ACCEPT")
    host.sh("iptables -A INPUT -m recent --set --name AFF -j DROP")
    assert run(host, "INPUT", pkt())[0] == "DROP"
    assert run(host, "INPUT", pkt())[0] == "ACCEPT"
    host.world.advance(11)
    assert run(host, "INPUT", pkt())[0] == "DROP"
    assert host.ns.read_file("/proc/net/xt_recent/AFF").startswith("src=10.0.0.2 ")


def test_log_writes_kern_log(host):
    host.sh("iptables -A INPUT -j LOG --log-prefix 'IN: '")
    run(host, "INPUT", pkt())
    line = host.ns.read_file("/var/log/kern.log")
    assert "IN: IN=eth0 OUT= SRC=10.0.0.2 DST=10.254.0.1 LEN=40 " in line and "PROTO=TCP SPT=40000 DPT=80" in line


# -- the index never changes a result ---------------------------------------------------------
rule_st = st.builds(
    lambda dst, port, proto, stat, inv, tgt: (dst, port, proto, stat, inv, tgt),
    st.sampled_from([None] + VIPS), st.sampled_from([None] + PORTS), st.sampled_from([None, 6, 17]),
    st.sampled_from([None, 0.5, "nth"]), st.booleans(), st.sampled_from(["ACCEPT", "DROP", "RETURN", "SUB", "MARK", None]))


def make_rule(spec):
    dst, port, proto, stat, inv, tgt = spec
    ms = []
    if stat == 0.5:
        ms.append(nf.Statistic(probability=0.5))
    elif stat == "nth":
        ms.append(nf.Statistic(every=2))
    if port is not None and proto is not None:
        ms.append((nf.Tcp if proto == 6 else nf.Udp)(dport=port, dport_inv=inv))
    target = {"ACCEPT": nf.ACCEPT, "DROP": nf.DROP, "RETURN": nf.RETURN, "SUB": nf.Jump("SUB"),
              "MARK": nf.MarkTarget.or_mark(1), None: None}[tgt]
    return nf.Rule(dst=(dst, 32) if dst else None, proto=proto or 0, matches=ms, target=target)


@settings(max_examples=150, deadline=None)
@given(st.lists(rule_st, min_size=0, max_size=40), st.lists(rule_st, max_size=12),
       st.lists(st.tuples(st.sampled_from(VIPS + [1]), st.sampled_from(PORTS + [22]), st.sampled_from([6, 17, 1])),
                min_size=1, max_size=8))
def test_indexed_walk_equals_linear_walk(main, sub, packets):
    from tests.netfilter.conftest import Host

    results = []
    for indexed in (True, False):
        host = Host()
        host.nf.replace_table("filter", {"INPUT": [make_rule(s) for s in main],
                                         "SUB": [make_rule(s) for s in sub if s[5] != "SUB"]})
        seen = []
        for dst, port, proto in packets:
            verdict, out, trace = run(host, "INPUT", pkt(dst=dst, dport=port, proto=proto), indexed=indexed)
            seen.append((verdict, out.mark, [(h.detail["chain"], h.detail["rule"], h.detail["compared"])
                                             for h in trace.hops], trace.rules_compared()))
        counters = [(r.pkts, r.bytes) for c in host.nf.tables["filter"].chains.values() for r in c.rules]
        results.append((seen, counters, host.world.rng.random()))
    assert results[0] == results[1]
