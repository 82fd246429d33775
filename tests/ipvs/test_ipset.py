"""ipset: semantics of the set types kube-proxy's ipvs mode uses, the packet match iptables
calls, and the CLI's words — each expected text was printed by ipset v7.17 in a real
network namespace on this machine."""
from __future__ import annotations

import pytest

from netlab import Lab
from netlab.net import ipset as S
from netlab.net.addr import parse_ip
from netlab.net.packet import ICMP, TCP, UDP, IPv4
from netlab.net.world import Dataplane


@pytest.fixture
def ns():
    return Dataplane(3).add_netns("node")


@pytest.fixture(scope="module")
def lab():
    return Lab.default()


def sh(lab, cmd):
    r = lab.sh(cmd)
    return r.exit_code, r.output


def pkt(src, dst, sport=40000, dport=80, proto="tcp"):
    l4 = TCP(sport, dport) if proto == "tcp" else UDP(sport, dport)
    return IPv4(parse_ip(src), parse_ip(dst), 6 if proto == "tcp" else 17, l4)


def test_hash_ip_port_matches_protocol_and_port(ns):
    s = S.create(ns, "KUBE-CLUSTER-IP", "hash:ip,port")
    s.add("10.96.0.1,tcp:443")
    s.add("10.96.0.10,udp:53")
    assert s.test(pkt("10.244.1.5", "10.96.0.1", dport=443), ("dst", "dst"))
    assert not s.test(pkt("10.244.1.5", "10.96.0.1", dport=443, proto="udp"), ("dst", "dst"))
    assert s.test(pkt("10.244.1.5", "10.96.0.10", dport=53, proto="udp"), ("dst", "dst"))
    assert not s.test(pkt("10.96.0.1", "10.244.1.5", sport=443), ("dst", "dst"))
    assert s.test(pkt("10.96.0.1", "10.244.1.5", sport=443), ("src", "src"))
    assert not s.test(IPv4(1, parse_ip("10.96.0.1"), 1, ICMP(8)), ("dst", "dst"))


def test_hash_ip_port_ip_is_kube_loop_back(ns):
    s = S.create(ns, "KUBE-LOOP-BACK", "hash:ip,port,ip")
    s.add("10.244.1.5,tcp:80,10.244.1.5")
    hairpin = pkt("10.244.1.5", "10.244.1.5", dport=80)
    assert s.test(hairpin, ("dst", "dst", "src"))
    assert not s.test(pkt("10.244.1.6", "10.244.1.5", dport=80), ("dst", "dst", "src"))


def test_hash_ip_port_net_and_hash_net_match_the_most_specific_member(ns):
    s = S.create(ns, "KUBE-LOAD-BALANCER-SOURCE-CIDR", "hash:ip,port,net")
    s.add("10.96.0.5,tcp:80,10.1.0.0/16")
    assert s.test(pkt("10.1.2.3", "10.96.0.5"), ("dst", "dst", "src"))
    assert not s.test(pkt("10.2.2.3", "10.96.0.5"), ("dst", "dst", "src"))
    n = S.create(ns, "N", "hash:net")
    n.add("10.0.0.0/8")
    n.add("192.168.1.0/24")
    assert n.test(pkt("10.200.1.1", "1.1.1.1"), ("src",))
    assert not n.test(pkt("192.168.2.1", "1.1.1.1"), ("src",))
    assert n.test_text("10.1.1.1") and n.test_text("10.0.0.0/8") and not n.test_text("10.0.0.0/16")


def test_bitmap_port_is_kube_node_port_tcp(ns):
    s = S.create(ns, "KUBE-NODE-PORT-TCP", "bitmap:port", range_=(0, 65535))
    s.add("30080")
    s.add("tcp:30081")
    assert s.test(pkt("1.1.1.1", "192.168.0.21", dport=30081), ("dst",))
    assert not s.test(pkt("1.1.1.1", "192.168.0.21", dport=30082), ("dst",))
    assert s.listing().splitlines()[4] == "Size in memory: 8264"


def test_range_add_stops_at_the_first_member_already_there(ns):
    s = S.create(ns, "S1", "hash:ip")
    s.add("10.0.0.1")
    with pytest.raises(S.IpsetError, match="it's already added"):
        s.add("10.0.0.0/30")
    assert s.member_lines() == ["10.0.0.1", "10.0.0.0"]


def test_memory_sizes_follow_the_kernel_for_small_sets(ns):
    # measured: hash:ip 216 + 40 per member, hash:ip,port +48, hash:ip,port,ip 208 + 56,
    # hash:net 456 + 48; comment sets use wider slots and store the strings
    cases = [("hash:ip", "10.0.0.{}", 216, 40), ("hash:ip,port", "10.0.0.{},tcp:80", 216, 48),
             ("hash:ip,port,ip", "10.0.0.{},tcp:80,10.1.1.1", 208, 56), ("hash:net", "10.0.{}.0/24", 456, 48)]
    for i, (t, pat, base, step) in enumerate(cases):
        s = S.create(ns, f"M{i}", t)
        assert s.memsize() == base
        for n in range(1, 4):
            s.add(pat.format(n))
            assert s.memsize() == base + n * step
    c = S.create(ns, "C", "hash:ip,port", comment=True)
    c.add("10.96.0.1,tcp:443", comment="default/kubernetes:https")
    assert c.memsize() == 321
    assert S.create(ns, "P", "bitmap:port", range_=(30000, 32767)).memsize() == 424


def test_swap_trades_contents_and_keeps_names(ns):
    a = S.create(ns, "A", "hash:ip,port")
    b = S.create(ns, "B", "hash:ip,port")
    b.add("1.2.3.4,udp:1")
    S.swap(ns, "A", "B")
    assert a.member_lines() == ["1.2.3.4,udp:1"] and b.member_lines() == []
    S.create(ns, "C", "hash:ip")
    with pytest.raises(S.IpsetError, match="their type does not match"):
        S.swap(ns, "A", "C")
    with pytest.raises(S.IpsetError, match="the second set does not exist"):
        S.swap(ns, "A", "NOPE")


def test_cli_list_format(lab):
    sh(lab, "ipset destroy")
    assert sh(lab, "ipset create KUBE-CLUSTER-IP hash:ip,port") == (0, "")
    assert sh(lab, "ipset add KUBE-CLUSTER-IP 10.96.0.1,tcp:443") == (0, "")
    code, out = sh(lab, "ipset list KUBE-CLUSTER-IP")
    lines = out.splitlines()
    assert code == 0
    assert lines[:3] == ["Name: KUBE-CLUSTER-IP", "Type: hash:ip,port", "Revision: 7"]
    assert lines[3].startswith("Header: family inet hashsize 1024 maxelem 65536 bucketsize 12 initval 0x")
    assert lines[4:] == ["Size in memory: 264", "References: 0", "Number of entries: 1", "Members:",
                         "10.96.0.1,tcp:443"]
    code, out = sh(lab, "ipset save")
    assert out.splitlines()[1] == "add KUBE-CLUSTER-IP 10.96.0.1,tcp:443"
    assert out.startswith("create KUBE-CLUSTER-IP hash:ip,port family inet hashsize 1024 maxelem 65536 bucketsize 12")


def test_cli_errors_are_the_real_words(lab):
    sh(lab, "ipset destroy")
    sh(lab, "ipset create A hash:ip,port")
    sh(lab, "ipset add A 10.96.0.1,tcp:443")
    v = "ipset v7.17: "
    assert sh(lab, "ipset add A 10.96.0.1,tcp:443") == (1, v + "Element cannot be added to the set: it's already added\n")
    assert sh(lab, "ipset add A 10.96.0.1,tcp:443 -exist") == (0, "")
    assert sh(lab, "ipset -exist create A hash:ip,port") == (0, "")
    assert sh(lab, "ipset create A hash:ip -exist") == (1, v + "Set cannot be created: set with the same name already exists\n")
    assert sh(lab, "ipset list NOPE") == (1, v + "The set with the given name does not exist\n")
    assert sh(lab, "ipset del A 10.96.0.9,tcp:1") == (1, v + "Element cannot be deleted from the set: it's not added\n")
    assert sh(lab, "ipset add A 10.96.0.2") == (1, v + "Syntax error: Second element is missing from 10.96.0.2.\n")
    assert sh(lab, "ipset add A 10.96.0.300,tcp:80") == \
        (1, v + "Syntax error: cannot parse 10.96.0.300: resolving to IPv4 address failed\n")
    assert sh(lab, "ipset create X hash:ipport") == (1, v + "Syntax error: typename 'hash:ipport' is unknown\n")
    assert sh(lab, "ipset create P bitmap:port") == (2, v + "Mandatory option `range' is missing\n"
                                                      "Try `ipset help' for more information.\n")
    assert sh(lab, "ipset") == (2, v + "No command specified.\nTry `ipset help' for more information.\n")
    assert sh(lab, "ipset create") == (2, v + "Missing mandatory argument to command create\n"
                                       "Try `ipset help' for more information.\n")
    assert sh(lab, "ipset add A 1.2.3.4,tcp:1 comment x") == \
        (1, v + "Comment cannot be used: set was created without comment support\n")
    assert sh(lab, "ipset test A 10.96.0.1,tcp:443") == (0, "Warning: 10.96.0.1,tcp:443 is in set A.\n")
    assert sh(lab, "ipset test A 10.96.0.9,udp:53") == (1, "10.96.0.9,udp:53 is NOT in set A.\n")
    sh(lab, "ipset create C hash:ip maxelem 2")
    sh(lab, "ipset add C 1.1.1.1")
    sh(lab, "ipset add C 1.1.1.2")
    assert sh(lab, "ipset add C 1.1.1.3") == (1, v + "Hash is full, cannot add more elements\n")


def run_ipset(ns, argv: str, stdin: str = "") -> tuple[int, str]:
    from types import SimpleNamespace

    from netlab.shell.cmd_ipset import ipset
    from netlab.shell.registry import Invocation

    inv = Invocation(["ipset"] + argv.split(), SimpleNamespace(ns=ns), None, stdin)
    code = ipset(inv)
    return code, "".join(inv.out)


def test_cli_restore_stops_at_the_first_error_and_names_the_line(ns):
    text = "create R hash:ip family inet hashsize 1024 maxelem 65536\nadd R 1.2.3.4\nadd R 1.2.3.4\n"
    assert run_ipset(ns, "restore", text) == \
        (1, "ipset v7.17: Error in line 3: Element cannot be added to the set: it's already added\n")
    assert "Number of entries: 1" in run_ipset(ns, "list R")[1]
    text = "create R hash:ip family inet hashsize 1024 maxelem 65536\nadd R 1.2.3.5\n"
    assert run_ipset(ns, "restore -exist", text) == (0, "")
    assert run_ipset(ns, "list R")[1].endswith("Members:\n1.2.3.4\n1.2.3.5\n")
    assert run_ipset(ns, "restore", "bogus R\n") == \
        (2, "ipset v7.17: No command specified: unknown argument bogus\nTry `ipset help' for more information.\n")


def test_cli_flush_and_destroy(lab):
    sh(lab, "ipset destroy")
    sh(lab, "ipset create R hash:ip")
    sh(lab, "ipset add R 1.2.3.4")
    assert sh(lab, "ipset list -n") == (0, "R\n")
    assert sh(lab, "ipset flush R") == (0, "")
    assert "Number of entries: 0" in sh(lab, "ipset list -t R")[1]
    assert sh(lab, "ipset destroy R") == (0, "")
    assert sh(lab, "ipset destroy R") == (1, "ipset v7.17: The set with the given name does not exist\n")
