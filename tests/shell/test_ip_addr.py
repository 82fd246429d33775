"""`ip address`: formats against the kernel captures, add/del/flush and their errors."""
from __future__ import annotations

from shellref import N1, capture, capture_command, normalize, out, records, sh


def test_addr_records_match_the_kernel(klab):
    for name in ("n1_ip_addr.txt", "n1_ip_-4_addr.txt", "n1_ip_addr_show_dev_flannel.1.txt"):
        got = records(normalize(out(klab, capture_command(name))))
        want = records(normalize(capture(name)))
        want.pop("eth0", None)  # the capture's eth0 is a veth; a node's is a NIC
        for dev, text in want.items():
            assert got[dev] == text, (name, dev)


def test_oneline_and_brief_lines_match(klab):
    got = normalize(out(klab, "ip -o addr")).splitlines()
    want = normalize(capture("n1_ip_-o_addr.txt")).splitlines()
    assert sorted(set(got)) == sorted(set(want))  # every pod's veth gives the same line
    got = normalize(out(klab, "ip -4 -o addr")).splitlines()
    assert sorted(got) == sorted(normalize(capture("n1_ip_-4_-o_addr.txt")).splitlines())
    lines = out(klab, "ip -br addr").splitlines()
    assert lines[0] == "lo               UNKNOWN        127.0.0.1/8 ::1/128 "
    assert lines[1].startswith("eth0             UP             192.168.0.21/24 metric 100 fe80::")
    assert "docker0          UP             172.30.76.1/24 fe80::" in out(klab, "ip -br addr")


def test_pod_addr_and_ipv4_only_moves_link_netns_up(klab):
    text = out(klab, "ip addr", on="p1")
    assert normalize(text) == normalize(capture("p1_ip_addr.txt")).replace("link-netns NETNS", "link-netnsid 0")
    assert out(klab, "ip -4 addr show eth0", on="p1") == (
        "2: eth0@if5: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 qdisc noqueue state UP group default qlen 1000 "
        "link-netnsid 0\n    inet 172.30.76.2/24 brd 172.30.76.255 scope global eth0\n       valid_lft forever preferred_lft forever\n")


def test_brd_plus_and_a_second_subnet(klab):
    pscratch = capture("pscratch_ip_addr_brd_plus.txt")
    out(klab, "ip addr del 172.30.76.2/24 dev eth0", on="p1")
    out(klab, "ip addr add 172.30.76.2/24 brd + dev eth0", on="p1")
    out(klab, "ip addr add 10.0.0.5/24 dev eth0", on="p1")
    got = out(klab, "ip addr show dev eth0", on="p1").splitlines()
    assert got[2:6] == pscratch.replace("172.30.76.4", "172.30.76.2").splitlines()[2:6]
    local = out(klab, "ip route show table local", on="p1")
    assert local == capture("pscratch_ip_route_show_table_local.txt").replace("172.30.76.4", "172.30.76.2")


def test_secondary_addresses_and_promotion(klab):
    out(klab, "ip addr add 172.30.76.100/24 dev docker0")
    text = out(klab, "ip addr show docker0")
    assert "    inet 172.30.76.100/24 scope global secondary docker0\n" in text
    assert out(klab, "ip addr show docker0 secondary").count("inet ") == 1
    out(klab, "ip addr del 172.30.76.1/24 dev docker0")
    text = out(klab, "ip addr show docker0")
    assert "    inet 172.30.76.100/24 scope global docker0\n" in text
    assert "172.30.76.0/24 dev docker0 proto kernel scope link src 172.30.76.100 \n" in out(klab, "ip route")


def test_add_del_errors(klab):
    before = out(klab, "ip addr")
    r = sh(klab, "ip addr add 1.2.3.4/24 dev nosuchdev")
    assert (r.output, r.exit_code) == ('Cannot find device "nosuchdev"\n', 1)
    r = sh(klab, "ip addr add 192.168.0.21/24 dev eth0")
    assert (r.output, r.exit_code) == ("Error: ipv4: Address already assigned.\n", 2)
    r = sh(klab, "ip addr del 9.9.9.9/24 dev eth0")
    assert (r.output, r.exit_code) == ("Error: ipv4: Address not found.\n", 2)
    r = sh(klab, "ip addr add 10.0.0.1/24")
    assert (r.output, r.exit_code) == ('Not enough information: "dev" argument is required.\n', 1)
    r = sh(klab, "ip addr add 10.0.0.1/33 dev eth0")
    assert (r.output, r.exit_code) == ('Error: any valid prefix is expected rather than "10.0.0.1/33".\n', 1)
    r = sh(klab, "ip addr foo")
    assert (r.output, r.exit_code) == ('Command "foo" is unknown, try "ip address help".\n', 255)
    r = sh(klab, "ip addr add 10.0.0.1/24 dev eth0 label foo")
    assert (r.output, r.exit_code) == ('"label" (foo) must match "dev" (eth0) or be prefixed by "dev" with a colon.\n', 1)
    r = sh(klab, "ip addr flush")
    assert (r.output, r.exit_code) == ("Flush requires arguments.\n", 1)
    r = sh(klab, "ip addr show dev nosuch")
    assert (r.output, r.exit_code) == ('Device "nosuch" does not exist.\n', 1)
    assert out(klab, "ip addr") == before


def test_metric_label_and_wildcard_delete(klab):
    out(klab, "ip addr add 10.9.0.1/24 dev docker0 metric 50 label docker0:1")
    assert "    inet 10.9.0.1/24 metric 50 scope global docker0:1\n" in out(klab, "ip addr show docker0")
    assert "10.9.0.0/24 dev docker0 proto kernel scope link src 10.9.0.1 metric 50 \n" in out(klab, "ip route")
    r = sh(klab, "ip addr del 10.9.0.1 dev docker0")
    assert r.exit_code == 0 and r.output.startswith("Warning: Executing wildcard deletion")
    assert "10.9.0.1" not in out(klab, "ip addr")


def test_flush_removes_addresses_and_their_routes(klab):
    out(klab, "ip addr flush dev docker0")
    assert "inet " not in out(klab, "ip addr show docker0")
    assert "docker0" not in out(klab, "ip route")
    assert sh(klab, "ping -c 1 -W 1 172.30.76.1", on="p1").exit_code != 0
    out(klab, "ip addr add 172.30.76.1/24 dev docker0")
    assert out(klab, "ip route", on=N1) == capture("n1_ip_route.txt")
    assert sh(klab, "ping -c 1 -W 1 172.30.76.1", on="p1").exit_code == 0
