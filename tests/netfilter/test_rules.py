"""Parsing and printing: what iptables-save prints back for what was written."""
import pytest

from netlab.net import netfilter as nf
from netlab.net.netfilter.matches import Statistic, probability_fixed
from netlab.net.netfilter.parse import parse_args


def spec(args: str) -> str:
    import shlex

    return parse_args(["-A", "X", *shlex.split(args)]).rule.spec()


@pytest.mark.parametrize("written,shown", [
    ("0.3333333333", "0.33333333349"),  # kube-proxy's %0.10f of 1/3
    ("0.33333", "0.33332999982"),  # the seed article's older kube-proxy
    ("0.5000000000", "0.50000000000"),
    ("0.25", "0.25000000000"),
    ("1", "1.00000000000"),
])
def test_probability_is_printed_from_31_bit_fixed_point(written, shown):
    assert spec(f"-m statistic --mode random --probability {written} -j ACCEPT") == \
        f"-m statistic --mode random --probability {shown} -j ACCEPT"
    assert Statistic(probability=float(written)).probability == probability_fixed(float(written))


@pytest.mark.parametrize("written,shown", [
    ("-p tcp --dport 53 -d 10.254.0.2", "-d 10.254.0.2/32 -p tcp -m tcp --dport 53"),
    ("-p tcp -m comment --comment x --dport 80", "-p tcp -m comment --comment x -m tcp --dport 80"),
    ("-j MARK --or-mark 0x4000", "-j MARK --set-xmark 0x4000/0x4000"),
    ("-j MARK --xor-mark 0x4000", "-j MARK --set-xmark 0x4000/0x0"),
    ("-j MARK --set-mark 0x10", "-j MARK --set-xmark 0x10/0xffffffff"),
    ("-j MARK --and-mark 0x10", "-j MARK --set-xmark 0x0/0xffffffef"),
    ("-m recent --set --name X", "-m recent --set --name X --mask 255.255.255.255 --rsource"),
    ("-m comment --comment 'a b' -j ACCEPT", '-m comment --comment "a b" -j ACCEPT'),
    ("-m comment --comment plain -j ACCEPT", "-m comment --comment plain -j ACCEPT"),
    ("-s 10.1.2.3/8 -j ACCEPT", "-s 10.0.0.0/8 -j ACCEPT"),
    ("-m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT", "-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"),
    ("-j REJECT", "-j REJECT --reject-with icmp-port-unreachable"),
    ("-p icmp --icmp-type echo-request -j ACCEPT", "-p icmp -m icmp --icmp-type 8 -j ACCEPT"),
    ("-j LOG --log-level 4 --log-prefix 'x: '", '-j LOG --log-prefix "x: "'),
    ("-m state --state NEW -j ACCEPT", "-m conntrack --ctstate NEW -j ACCEPT"),
])
def test_canonical_save_form(written, shown):
    assert spec(written) == shown


def test_structured_rule_prints_like_parsed_one():
    r = nf.Rule(dst="10.254.116.224/32", proto="tcp",
                matches=[nf.Comment("default/data-product:data-product cluster IP"), nf.Tcp(dport=50051)],
                target=nf.Jump("KUBE-SVC-45TXGSBX3LGQQRTB"))
    assert r.spec() == spec('-d 10.254.116.224/32 -p tcp -m comment --comment '
                            '"default/data-product:data-product cluster IP" -m tcp --dport 50051 '
                            '-j KUBE-SVC-45TXGSBX3LGQQRTB')


@pytest.mark.parametrize("line,message,code", [
    ("-A NOPE -j ACCEPT", "iptables: No chain/target/match by that name.\n", 1),
    ("-D INPUT -s 1.2.3.4 -j ACCEPT", "iptables: Bad rule (does a matching rule exist in that chain?).\n", 1),
    ("-A INPUT -j FOO", "iptables v1.8.9 (nf_tables): Chain 'FOO' does not exist\n"
                        "Try `iptables -h' or 'iptables --help' for more information.\n", 2),
    ("-N KUBE-X", "iptables: Chain already exists.\n", 1),
    ("-X KUBE-X", "iptables v1.8.9 (nf_tables):  CHAIN_DEL failed (Device or resource busy): chain KUBE-X\n", 4),
    ("-P KUBE-X DROP", "iptables: Bad built-in chain name.\n", 1),
    ("-t foo -L", "iptables v1.8.9 (nf_tables): table 'foo' does not exist\n"
                  "Perhaps iptables or your kernel needs to be upgraded.\n", 3),
])
def test_error_messages(host, line, message, code):
    host.restore("*filter\n:KUBE-X - [0:0]\n-A INPUT -j KUBE-X\nCOMMIT\n")
    if line.startswith("-N"):
        pass
    assert host.sh("iptables " + line) == (message, code)


@pytest.mark.parametrize("text,message,code", [
    ("*filter\n:INPUT ACCEPT [0:0]\n-A NOPE -j ACCEPT\nCOMMIT\n",
     "iptables-restore: line 3 failed: No chain/target/match by that name.\n", 1),
    ("*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j NOPE\nCOMMIT\n",
     "iptables-restore v1.8.9 (nf_tables): Chain 'NOPE' does not exist\nError occurred at line: 4\n"
     "Try `iptables-restore -h' or 'iptables-restore --help' for more information.\n", 2),
    ("*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j ACCEPT\n", "iptables-restore: COMMIT expected at line 4\n", 1),
    ("garbage\n", "iptables-restore: line 1 failed\n", 1),
    ("*filter\n:INPUT FOO [0:0]\nCOMMIT\n", "iptables-restore: line 2 failed: Bad policy name.\n", 1),
])
def test_restore_errors_change_nothing(host, text, message, code):
    from netlab.net.netfilter.cli import iptables_restore

    before = host.nf.save()
    assert iptables_restore(host.nf, [], text) == (message, code)
    assert host.nf.save() == before


def test_restore_noflush_and_table_selection(host):
    host.restore("*nat\n:FOO - [0:0]\n-A FOO -j ACCEPT\nCOMMIT\n")
    host.restore("*nat\n:BAR - [0:0]\n-A BAR -j ACCEPT\nCOMMIT\n", noflush=True)
    assert "-A FOO -j ACCEPT" in host.nf.save("nat") and "-A BAR -j ACCEPT" in host.nf.save("nat")
    host.restore("*nat\n:BAR - [0:0]\nCOMMIT\n", noflush=True)  # a declared chain starts empty
    assert "-A BAR" not in host.nf.save("nat")
    host.restore("*filter\n-A INPUT -j DROP\nCOMMIT\n*nat\n-A PREROUTING -j ACCEPT\nCOMMIT\n", table="nat")
    assert "*filter" not in host.nf.save() and "-A PREROUTING -j ACCEPT" in host.nf.save()
    # a full restore deletes chains it does not name and resets unnamed policies
    host.restore("*nat\n-A POSTROUTING -j ACCEPT\nCOMMIT\n")
    assert ":FOO" not in host.nf.save("nat")


def test_tables_are_saved_in_nf_tables_order_and_only_when_they_exist(host):
    assert host.nf.save() == ""
    host.sh("iptables -t nat -A POSTROUTING -j ACCEPT")
    host.sh("iptables -t raw -A OUTPUT -j ACCEPT")
    host.sh("iptables -A INPUT -j ACCEPT")
    host.sh("iptables -t mangle -A INPUT -j ACCEPT")
    text = host.nf.save()
    assert [l for l in text.splitlines() if l.startswith("*")] == ["*mangle", "*raw", "*filter", "*nat"]
    assert text.startswith("# Generated by iptables-save v1.8.9 (nf_tables) on Mon Jan  1 09:00:00 2024\n")


def test_structured_api_is_atomic(host):
    good = {"KUBE-A": [nf.Rule(target=nf.ACCEPT)], "PREROUTING": [nf.Rule(target=nf.Jump("KUBE-A"))]}
    host.nf.replace_table("nat", good)
    bad = {"PREROUTING": [nf.Rule(target=nf.Jump("KUBE-MISSING"))]}
    with pytest.raises(nf.IptablesError, match="Chain 'KUBE-MISSING' does not exist"):
        host.nf.replace_chains("nat", bad)
    assert "-A PREROUTING -j KUBE-A" in host.nf.save("nat")
    host.nf.replace_chains("nat", {"KUBE-B": [nf.Rule(target=nf.RETURN)]})
    assert ":KUBE-A - [0:0]" in host.nf.save("nat") and "-A KUBE-B -j RETURN" in host.nf.save("nat")
    with pytest.raises(nf.IptablesError):
        host.nf.replace_chains("nat", {}, delete=["KUBE-NONE"])
    host.nf.replace_chains("nat", {"PREROUTING": []}, delete=["KUBE-A"])
    assert ":KUBE-A" not in host.nf.save("nat")
