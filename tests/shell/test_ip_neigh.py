"""`ip neigh` and `arp`: formats against the kernel captures, and the neighbour table's rules."""
from __future__ import annotations

import re

from shellref import N1, capture, normalize, out, sh


def lines_of(text: str) -> list[str]:
    return sorted(normalize(text).splitlines())


def test_node_neighbours_match_the_kernel(klab):
    assert lines_of(out(klab, "ip neigh")) == lines_of(capture("n1_ip_neigh.txt"))
    assert out(klab, "ip neigh show dev flannel.1") == normalize(capture("n1_ip_neigh_show_dev_flannel.1.txt")) \
        .replace("MAC", klab.cluster.nodes["192.168.0.22"].ns.devices["flannel.1"].mac)
    assert lines_of(out(klab, "arp -n")) == lines_of(capture("n1_arp_-n.txt"))


def test_stale_after_seventy_seconds(klab):
    klab.world.advance(70)
    assert lines_of(out(klab, "ip neigh")) == lines_of(capture("n1_ip_neigh_after_70s.txt"))
    assert lines_of(out(klab, "arp -n")) == lines_of(capture("n1_arp_-n_after_70s.txt"))


def test_stats_line_has_iproute2_6_1_spacing(klab):
    text = out(klab, "ip -s neigh")
    assert re.search(r"^172\.30\.9\.0 dev flannel\.1 lladdr [0-9a-f:]{17}  used \d+/\d+/\d+probes 0 PERMANENT $",
                     text, re.M)
    assert re.search(r"^172\.30\.76\.2 dev docker0 lladdr [0-9a-f:]{17}  ref 1 used \d+/\d+/\d+probes 4 REACHABLE $",
                     text, re.M)


def test_failed_neighbours_in_a_pod(klab):
    sh(klab, "ping -c 1 -W 1 172.30.76.99", on="p1")
    text = out(klab, "ip neigh", on="p1")
    assert "172.30.76.99 dev eth0 FAILED \n" in text
    arp = out(klab, "arp -n", on="p1")
    assert "172.30.76.99                     (incomplete)                              eth0\n" in arp
    assert arp.splitlines()[0] == "Address                  HWtype  HWaddress           Flags Mask            Iface"
    assert "? (172.30.76.99) at <incomplete> on eth0\n" in out(klab, "arp -an", on="p1")


def test_add_change_replace_delete(klab):
    r = sh(klab, "ip neigh add 172.30.9.9 lladdr zz dev flannel.1")
    assert (r.output, r.exit_code) == ('"zz" is invalid lladdr.\n', 1)
    r = sh(klab, "ip neigh add 172.30.9.0 lladdr aa:bb:cc:dd:ee:ff dev flannel.1")
    assert (r.output, r.exit_code) == ("RTNETLINK answers: File exists\n", 2)
    r = sh(klab, "ip neigh add 1.1.1.1 lladdr aa:bb:cc:dd:ee:ff dev nosuchdev")
    assert (r.output, r.exit_code) == ('Cannot find device "nosuchdev"\n', 1)
    r = sh(klab, "ip neigh add 1.1.1.1 lladdr aa:bb:cc:dd:ee:ff")
    assert (r.output, r.exit_code) == ("Device and destination are required arguments.\n", 255)
    r = sh(klab, "ip neigh change 172.30.76.50 lladdr aa:bb:cc:dd:ee:ff dev docker0")
    assert (r.output, r.exit_code) == ("RTNETLINK answers: No such file or directory\n", 2)
    r = sh(klab, "ip neigh add 172.30.76.50 dev docker0")
    assert (r.output, r.exit_code) == ("Error: No link layer address given.\n", 2)
    r = sh(klab, "ip neigh add 172.30.76.50 lladdr aa:bb:cc:dd:ee:ff dev docker0 nud bogus")
    assert (r.output, r.exit_code) == ('Error: argument "bogus" is wrong: nud state is bad\n', 255)
    out(klab, "ip neigh add 172.30.76.50 lladdr aa:bb:cc:dd:ee:ff dev docker0")
    assert "172.30.76.50 lladdr aa:bb:cc:dd:ee:ff PERMANENT \n" in out(klab, "ip neigh show dev docker0")
    out(klab, "ip neigh replace 172.30.76.50 lladdr aa:bb:cc:dd:ee:01 dev docker0 nud reachable")
    assert "172.30.76.50 dev docker0 lladdr aa:bb:cc:dd:ee:01 REACHABLE \n" in out(klab, "ip neigh")
    out(klab, "ip neigh change 172.30.76.50 dev docker0 nud noarp")
    assert "172.30.76.50" not in out(klab, "ip neigh")  # NOARP entries are not listed by default
    assert "172.30.76.50 dev docker0 lladdr aa:bb:cc:dd:ee:01 NOARP \n" in out(klab, "ip neigh show nud all")
    out(klab, "ip neigh del 172.30.76.50 dev docker0")
    r = sh(klab, "ip neigh del 172.30.76.50 dev docker0")
    assert (r.output, r.exit_code) == ("RTNETLINK answers: No such file or directory\n", 2)


def test_a_wrong_permanent_neighbour_breaks_the_pod_and_flush_fixes_it(klab):
    assert sh(klab, "ping -c 1 -W 1 172.30.76.2").exit_code == 0
    out(klab, "ip neigh replace 172.30.76.2 lladdr 02:00:00:00:00:99 dev docker0 nud reachable")
    assert sh(klab, "ping -c 1 -W 1 172.30.76.2").exit_code == 1
    out(klab, "ip neigh flush dev docker0")
    assert out(klab, "ip neigh show dev docker0") == ""
    assert sh(klab, "ping -c 1 -W 1 172.30.76.2").exit_code == 0
    r = sh(klab, "ip neigh flush")
    assert (r.output, r.exit_code) == ("Flush requires arguments.\n", 1)
    before = out(klab, "ip neigh show dev flannel.1")
    out(klab, "ip neigh flush dev flannel.1")  # permanent entries survive a flush
    assert out(klab, "ip neigh show dev flannel.1") == before


def test_arp_delete_and_set(klab):
    r = sh(klab, "arp -d 1.1.1.1")
    assert (r.output, r.exit_code) == ("SIOCDARP(dontpub): Network is unreachable\n", 255)
    r = sh(klab, "arp -d 172.30.76.50")
    assert (r.output, r.exit_code) == ("No ARP entry for 172.30.76.50\n", 255)
    out(klab, "arp -s 172.30.76.50 aa:bb:cc:dd:ee:ff")
    assert "172.30.76.50             ether   aa:bb:cc:dd:ee:ff   CM                    docker0\n" in out(klab, "arp -n")
    out(klab, "arp -d 172.30.76.50")
    assert "172.30.76.50" not in out(klab, "arp -n")
    assert "gateway                  ether   " in out(klab, "arp")  # /etc/hosts names 192.168.0.1


def test_neigh_get_and_filters(klab):
    assert re.fullmatch(r"172\.30\.76\.2 dev docker0 lladdr [0-9a-f:]{17} REACHABLE \n",
                        out(klab, "ip neigh get 172.30.76.2 dev docker0"))
    r = sh(klab, "ip neigh get 172.30.76.77 dev docker0")
    assert (r.output, r.exit_code) == ("RTNETLINK answers: No such file or directory\n", 2)
    assert out(klab, "ip neigh show 172.30.76.0/24").count("\n") == 2
    assert out(klab, "ip neigh show nud permanent").startswith("172.30.9.0 dev flannel.1 lladdr ")
    r = sh(klab, "ip neigh foo")
    assert (r.output, r.exit_code) == ('Command "foo" is unknown, try "ip neigh help".\n', 255)
    assert out(klab, "ip n") == out(klab, "ip neighbour show")
    assert N1
