"""`ip route`: show, get, add/del/replace and their errors, against the kernel captures."""
from __future__ import annotations

import pytest

from shellref import N2, capture, capture_command, error_cases, normalize, out, sh

ROUTE_CAPTURES = ["n1_ip_route.txt", "n1_ip_route_show.txt", "n1_ip_route_show_table_local.txt",
                  "n1_ip_-d_route.txt", "n1_ip_route_show_dev_eth0.txt", "n1_ip_route_show_dev_flannel.1.txt",
                  "n1_ip_route_show_172.30.9.0_24.txt"]


@pytest.mark.parametrize("name", ROUTE_CAPTURES)
def test_route_listing_matches_the_kernel_byte_for_byte(klab, name):
    assert out(klab, capture_command(name)) == capture(name)


def test_second_node_and_pod_routes_match(klab):
    sh(klab, "ip route replace default via 192.168.0.1 dev eth0 metric 100", on=N2)
    assert out(klab, "ip route", on=N2) == capture("n2_ip_route.txt")
    assert out(klab, "ip route", on="p1") == capture("p1_ip_route.txt")


def test_table_all_lists_main_then_local_then_ipv6(klab):
    got = out(klab, "ip route show table all").splitlines(keepends=True)
    want = capture("n1_ip_route_show_table_all.txt").splitlines(keepends=True)
    ipv4 = [line for line in want if "pref medium" not in line]
    assert got[:len(ipv4)] == ipv4
    # IPv6: the same lines (devices are numbered in a different order here, and every
    # pod's veth gives the same line), with no trailing space
    assert sorted(set(normalize("".join(got[len(ipv4):])).splitlines())) == \
        sorted(set(normalize("".join(want[len(ipv4):])).splitlines()))


GETS = ["172.30.9.2", "172.30.76.2", "172.30.76.1", "172.30.76.0", "192.168.0.22", "192.168.0.21", "8.8.8.8",
        "127.0.0.1", "172.30.9.2 from 172.30.76.2 iif docker0", "172.30.76.3 from 172.30.76.2 iif docker0",
        "172.30.76.2 from 172.30.9.2 iif flannel.1", "10.99.99.99 from 172.30.76.2 iif docker0"]


@pytest.mark.parametrize("args", GETS)
def test_route_get_matches_the_kernel(klab, args):
    name = "n1_ip_route_get_" + args.replace(" ", "_") + ".txt"
    assert out(klab, f"ip route get {args}") == capture(name)


def test_route_get_in_a_pod(klab):
    assert out(klab, "ip route get 172.30.9.2", on="p1") == capture("p1_ip_route_get_172.30.9.2.txt")
    assert out(klab, "ip route get 172.30.76.3", on="p1") == capture("p1_ip_route_get_172.30.76.3.txt")


def test_route_get_without_a_route_is_network_unreachable(klab):
    sh(klab, "ip route del default", on="p1")
    r = sh(klab, "ip route get 10.99.99.99", on="p1")
    assert (r.output, r.exit_code) == (capture("pscratch_ip_route_get_10.99.99.99.txt"), 2)


def test_route_get_input_path_follows_ip_forward(klab):
    sh(klab, "sysctl -w net.ipv4.ip_forward=0")
    r = sh(klab, "ip route get 172.30.9.2 from 172.30.76.2 iif docker0")
    assert (r.output, r.exit_code) == ("RTNETLINK answers: No route to host\n", 2)
    assert out(klab, "ip route get 172.30.76.1 from 172.30.76.2 iif docker0") == \
        "local 172.30.76.1 from 172.30.76.2 dev lo \n    cache <local> iif docker0 \n"


def test_route_get_broadcast_and_martians(klab):
    assert out(klab, "ip route get 172.30.76.255") == \
        "broadcast 172.30.76.255 dev docker0 src 172.30.76.1 uid 0 \n    cache <local,brd> \n"
    r = sh(klab, "ip route get 172.30.9.2 from 172.30.76.1 iif docker0")  # our own address arriving
    assert (r.output, r.exit_code) == ("RTNETLINK answers: Invalid argument\n", 2)
    r = sh(klab, "ip route get 10.0.0.0/8")
    assert r.exit_code == 2 and r.output == "Error: ipv4: Invalid values in header for get route request.\n"
    assert out(klab, "ip route get fibmatch 8.8.8.8") == "default via 192.168.0.1 dev eth0 metric 100 \n"


def test_route_get_oif_assumes_on_link_when_no_route_uses_it(klab):
    r = sh(klab, "ip route get 172.30.9.2 oif docker0")
    assert r.output == "172.30.9.2 dev docker0 src 172.30.76.1 uid 0 \n    cache \n"


def test_route_get_with_a_source(klab):
    assert out(klab, "ip route get 8.8.8.8 from 192.168.0.21") == \
        "8.8.8.8 from 192.168.0.21 via 192.168.0.1 dev eth0 uid 0 \n    cache \n"
    assert out(klab, "ip route get 8.8.8.8 from 172.30.76.1") == \
        "8.8.8.8 from 172.30.76.1 via 192.168.0.1 dev eth0 uid 0 \n    cache \n"
    r = sh(klab, "ip route get 8.8.8.8 from 1.2.3.4")  # not one of ours
    assert (r.output, r.exit_code) == ("RTNETLINK answers: Network is unreachable\n", 2)


def _shown(command: str) -> str:
    """capture.sh ran a few lines inside `unshare ... # shown: CMD`; the shown command is the one."""
    return command.split("# shown: ", 1)[1] if "# shown: " in command else command


ROUTE_ERRORS = [(_shown(c), o, x) for c, o, x in error_cases()
                if _shown(c).startswith(("ip ", "route ", "bridge ", "sysctl ", "arp ", "cat "))]


def test_error_sequence_matches_the_kernel(klab):
    """errors.txt replayed in order on the first node: every message and exit code, and the
    state changes the successful lines make (the listings in between show them)."""
    for command, want, code in ROUTE_ERRORS:
        r = sh(klab, command)
        assert (command, r.output, r.exit_code) == (command, want, code)


def test_failed_commands_change_nothing(klab):
    before = [out(klab, c) for c in ("ip route show table all", "ip neigh", "ip addr", "bridge fdb show")]
    for bad in ("ip route add 172.30.9.0/24 via 172.30.9.0 dev flannel.1", "ip route add 10.1.0.0/16 via 10.9.9.9",
                "ip route add nonsense", "ip route add 10.2.0.0/16 dev nosuchdev", "ip route del 10.77.0.0/16",
                "ip route add 10.0.0.1/8 dev eth0", "ip route add 10.5.0.0/16 via 192.168.0.1 src 1.2.3.4",
                "ip route add blackhole 10.6.0.0/16 dev eth0", "ip route change 10.7.0.0/16 dev eth0",
                "ip addr add 192.168.0.21/24 dev eth0", "ip link set flannel.1 mtu 99999",
                "ip link add docker0 type bridge", "ip link set eth0 master flannel.1 mtu 1400",
                "ip neigh add 172.30.9.0 lladdr aa:bb:cc:dd:ee:ff dev flannel.1",
                "bridge fdb add aa:bb:cc:dd:ee:ff dev docker0 master"):
        r = sh(klab, bad)
        assert r.exit_code != 0, bad
    after = [out(klab, c) for c in ("ip route show table all", "ip neigh", "ip addr", "bridge fdb show")]
    assert after == before


def test_deleting_the_flannel_route_breaks_cross_node_ping_and_adding_it_back_restores_it(klab):
    assert sh(klab, "ping -c 1 -W 1 172.30.9.2", on="p1").exit_code == 0
    out(klab, "ip route del 172.30.9.0/24")
    assert sh(klab, "ping -c 1 -W 1 172.30.9.2", on="p1").exit_code != 0
    out(klab, "ip route add 172.30.9.0/24 via 172.30.9.0 dev flannel.1 onlink")
    assert out(klab, "ip route show 172.30.9.0/24") == capture("n1_ip_route_show_172.30.9.0_24.txt")
    assert sh(klab, "ping -c 1 -W 1 172.30.9.2", on="p1").exit_code == 0


def test_blackhole_route_drops_and_shows(klab):
    out(klab, "ip route add blackhole 172.30.9.2/32")
    assert "blackhole 172.30.9.2 \n" in out(klab, "ip route")
    assert sh(klab, "ping -c 1 -W 1 172.30.9.2", on="p1").exit_code == 1
    r = sh(klab, "ip route get 172.30.9.2")
    assert (r.output, r.exit_code) == ("RTNETLINK answers: Invalid argument\n", 2)


def test_replace_append_prepend_change_and_test(klab):
    out(klab, "ip route add 10.3.0.0/16 via 192.168.0.1 metric 100")
    r = sh(klab, "ip route test 10.3.0.0/16 via 192.168.0.22 metric 100")
    assert (r.output, r.exit_code) == ("RTNETLINK answers: File exists\n", 2)
    r = sh(klab, "ip route change 10.4.0.0/16 via 192.168.0.22")
    assert (r.output, r.exit_code) == ("RTNETLINK answers: No such file or directory\n", 2)
    out(klab, "ip route append 10.3.0.0/16 via 192.168.0.22 metric 100")
    assert out(klab, "ip route show 10.3.0.0/16") == (
        "10.3.0.0/16 via 192.168.0.1 dev eth0 metric 100 \n10.3.0.0/16 via 192.168.0.22 dev eth0 metric 100 \n")
    r = sh(klab, "ip route append 10.3.0.0/16 via 192.168.0.22 metric 100")
    assert (r.output, r.exit_code) == ("RTNETLINK answers: File exists\n", 2)
    out(klab, "ip route prepend 10.3.0.0/16 dev eth0 metric 100")
    assert out(klab, "ip route show 10.3.0.0/16").splitlines()[0] == "10.3.0.0/16 dev eth0 scope link metric 100 "
    assert out(klab, "ip route get 10.3.1.1") == "10.3.1.1 dev eth0 src 192.168.0.21 uid 0 \n    cache \n"
    out(klab, "ip route del 10.3.0.0/16 dev eth0")
    r = sh(klab, "ip route change 10.3.0.0/16 via 192.168.0.22 metric 100")  # that route exists, second
    assert (r.output, r.exit_code) == ("RTNETLINK answers: File exists\n", 2)
    out(klab, "ip route change 10.3.0.0/16 via 192.168.0.99 metric 100")  # replaces the first
    assert out(klab, "ip route show 10.3.0.0/16") == (
        "10.3.0.0/16 via 192.168.0.99 dev eth0 metric 100 \n10.3.0.0/16 via 192.168.0.22 dev eth0 metric 100 \n")


def test_show_filters(klab):
    assert out(klab, "ip route show proto kernel") == (
        "172.30.76.0/24 dev docker0 scope link src 172.30.76.1 \n"
        "192.168.0.0/24 dev eth0 scope link src 192.168.0.21 metric 100 \n")
    assert out(klab, "ip route show scope link") == (
        "172.30.76.0/24 dev docker0 proto kernel src 172.30.76.1 \n"
        "192.168.0.0/24 dev eth0 proto kernel src 192.168.0.21 metric 100 \n")
    assert out(klab, "ip route show default") == "default via 192.168.0.1 dev eth0 metric 100 \n"
    assert out(klab, "ip route show match 172.30.9.2") == (
        "default via 192.168.0.1 dev eth0 metric 100 \n172.30.9.0/24 via 172.30.9.0 dev flannel.1 onlink \n")
    assert out(klab, "ip route show root 172.30.0.0/16") == (
        "172.30.9.0/24 via 172.30.9.0 dev flannel.1 onlink \n"
        "172.30.76.0/24 dev docker0 proto kernel scope link src 172.30.76.1 \n")
    assert out(klab, "ip route show via 172.30.9.0") == "172.30.9.0/24 dev flannel.1 onlink \n"
    assert out(klab, "ip route show table main type local") == ""
    assert out(klab, "ip -4 route show table local type broadcast dev eth0") == \
        "broadcast 192.168.0.255 proto kernel scope link src 192.168.0.21 \n"
    assert out(klab, "ip route show 10.3.0.0") == ""


def test_flush(klab):
    r = sh(klab, "ip route flush")
    assert (r.output, r.exit_code) == ('"ip route flush" requires arguments.\n', 1)
    out(klab, "ip route add 10.8.0.0/16 dev docker0")
    out(klab, "ip route add 10.9.0.0/16 dev docker0")
    assert out(klab, "ip -s route flush root 10.8.0.0/15") == \
        "\n*** Round 1, deleting 2 entries ***\n*** Flush is complete after 1 round ***\n"
    assert out(klab, "ip route") == capture("n1_ip_route.txt")
    assert out(klab, "ip route flush cache") == ""


def test_usage_and_unknown_words(klab):
    r = sh(klab, "ip route add")
    assert r.exit_code == 255 and r.output.startswith("Usage: ip route { list | flush } SELECTOR\n")
    r = sh(klab, "ip route add 10.0.0.0/8 metric x dev eth0")
    assert (r.output, r.exit_code) == ('Error: argument "x" is wrong: "metric" value is invalid\n\n', 255)
    r = sh(klab, "ip route add 10.0.0.0/8 via")
    assert (r.output, r.exit_code) == ('Command line is not complete. Try option "help"\n', 255)
    r = sh(klab, "ip route add 10.0.0.0/8 10.1.0.0/16")
    assert (r.output, r.exit_code) == ('Error: either "to" is duplicate, or "10.1.0.0/16" is a garbage.\n', 255)
    r = sh(klab, "ip route add 10.0.0.0/8 via nonsense")
    assert (r.output, r.exit_code) == ('Error: inet address is expected rather than "nonsense".\n', 1)
    r = sh(klab, "ip route get")
    assert (r.output, r.exit_code) == ("need at least a destination address\n", 1)
    assert out(klab, "ip r") == out(klab, "ip route list")
    assert out(klab, "ip ro sh") == out(klab, "ip route show")
