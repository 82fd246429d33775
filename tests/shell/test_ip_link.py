"""`ip link`: formats against the kernel captures, and add/set/del with the kernel's checks."""
from __future__ import annotations

import re

import pytest

from shellref import N1, capture, capture_command, normalize, out, records, sh

# Values that legitimately differ from the capture run: the bridge's gc timer and the veth's
# queue count (the number of CPUs of the machine that made the capture).
VOLATILE = [(re.compile(r"gc_timer +[\d.]+"), "gc_timer T"), (re.compile(r"numtxqueues \d+ numrxqueues \d+"), "QUEUES")]


def same(text: str) -> str:
    text = normalize(text)
    for pattern, repl in VOLATILE:
        text = pattern.sub(repl, text)
    return text


def device_records(text: str) -> dict[str, str]:
    return records(same(text))


# eth0 of the capture is a veth to a switch namespace; netlab's node NIC is a real NIC.
LINK_CAPTURES = ["n1_ip_link.txt", "n1_ip_-o_link.txt", "n1_ip_link_show_master_docker0.txt",
                 "n1_ip_-d_link_show_flannel.1.txt", "n1_ip_-d_link_show_docker0.txt"]


@pytest.mark.parametrize("name", LINK_CAPTURES)
def test_link_records_match_the_kernel(klab, name):
    got = device_records(out(klab, capture_command(name)))
    want = device_records(capture(name))
    want.pop("eth0", None)
    for dev, text in want.items():
        assert got[dev] == text, dev


def test_veth_port_details_match(klab):
    veth = next(d for d in klab.cluster.nodes[N1].ns.devices if d.startswith("veth"))
    got = same(out(klab, f"ip -d link show {veth}"))
    assert got == same(capture("n1_ip_-d_link_show_veth1a2b3c4d.txt"))


def test_pod_sees_its_veth_peer_by_netnsid(klab):
    text = out(klab, "ip link", on="p1")
    assert text.splitlines()[2] == "2: eth0@if5: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 qdisc noqueue state UP " \
                                   "mode DEFAULT group default qlen 1000"
    assert text.splitlines()[3].endswith(" brd ff:ff:ff:ff:ff:ff link-netnsid 0")
    assert same(text) == same(capture("p1_ip_link.txt")).replace("link-netns NETNS", "link-netnsid 0")


def test_brief_and_stats(klab):
    lines = out(klab, "ip -br link").splitlines()
    assert lines[0] == "lo               UNKNOWN        00:00:00:00:00:00 <LOOPBACK,UP,LOWER_UP> "
    assert re.fullmatch(r"flannel\.1        UNKNOWN        [0-9a-f:]{17} <BROADCAST,MULTICAST,UP,LOWER_UP> ", lines[2])
    stats = out(klab, "ip -s link show docker0").splitlines()
    assert stats[2] == "    RX:  bytes packets errors dropped  missed   mcast           "
    assert stats[4] == "    TX:  bytes packets errors dropped carrier collsns           "
    assert re.fullmatch(r"    +\d+ +\d+ +0 +\d+ +0 +0 ", stats[3])
    dev = klab.cluster.nodes[N1].ns.devices["docker0"]
    assert stats[5] == f"    {dev.stats.tx_bytes:>10} {dev.stats.tx_packets:>7} {0:>6} {dev.stats.tx_dropped:>7} {0:>7} {0:>7} "


def test_show_errors(klab):
    r = sh(klab, "ip link show nosuchdev")
    assert (r.output, r.exit_code) == ('Device "nosuchdev" does not exist.\n', 1)
    r = sh(klab, "ip link set nosuchdev up")
    assert (r.output, r.exit_code) == ('Cannot find device "nosuchdev"\n', 1)
    r = sh(klab, "ip link foo")
    assert (r.output, r.exit_code) == ('Command "foo" is unknown, try "ip link help".\n', 255)
    r = sh(klab, "ip foo")
    assert (r.output, r.exit_code) == ('Object "foo" is unknown, try "ip help".\n', 1)
    r = sh(klab, "ip link set up")
    assert r.exit_code == 255
    r = sh(klab, "ip link set eth0 master nosuchdev")
    assert (r.output, r.exit_code) == ('Error: argument "nosuchdev" is wrong: Device does not exist\n\n', 255)
    r = sh(klab, "ip -x link")
    assert (r.output, r.exit_code) == ('Option "-x" is unknown, try "ip -help".\n', 255)
    assert out(klab, "ip -V") == "ip utility, iproute2-6.1.0, libbpf 1.1.2\n"


def test_add_veth_pair_bridge_it_and_bring_it_up(klab):
    out(klab, "ip link add vA type veth peer name vB")
    text = out(klab, "ip link show type veth")
    a = records(text)["vA"].splitlines()[0]
    assert re.fullmatch(r"\d+: vA@vB: <BROADCAST,MULTICAST,M-DOWN> mtu 1500 qdisc noop state DOWN mode DEFAULT "
                        r"group default qlen 1000", a)
    out(klab, "ip link set vA master docker0 up")
    a = records(out(klab, "ip link show vA"))["vA"].splitlines()[0]
    assert re.fullmatch(r"\d+: vA@vB: <NO-CARRIER,BROADCAST,MULTICAST,UP,M-DOWN> mtu 1500 qdisc noqueue master "
                        r"docker0 state LOWERLAYERDOWN mode DEFAULT group default qlen 1000", a)
    out(klab, "ip link set vB up")
    assert " state UP " in out(klab, "ip link show vA")
    assert "vA" in out(klab, "bridge link")
    r = sh(klab, "ip link add vA type veth peer name vC")
    assert (r.output, r.exit_code) == ("RTNETLINK answers: File exists\n", 2)
    out(klab, "ip link del vB")  # takes its peer with it
    assert "vA" not in out(klab, "ip link")


def test_new_veth_into_a_pod_namespace_and_address_it(klab):
    node_ns = klab.cluster.nodes[N1].ns
    pod_ns = klab.cluster.pod_ns["default/p1"]
    out(klab, f"ip link add vx0 type veth peer name net1 netns {pod_ns.netns_name}")
    assert "net1" in pod_ns.devices and "vx0" in node_ns.devices
    text = out(klab, "ip link show net1", on="p1")
    assert re.search(r"net1@if\d+: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN", text)
    out(klab, "ip addr add 10.50.0.2/24 dev net1", on="p1")
    out(klab, "ip link set net1 up", on="p1")
    out(klab, "ip addr add 10.50.0.1/24 dev vx0")
    out(klab, "ip link set vx0 up")
    assert sh(klab, "ping -c 1 -W 1 10.50.0.2").exit_code == 0


def test_mtu_checks(klab):
    r = sh(klab, "ip link set flannel.1 mtu 99999")
    assert (r.output, r.exit_code) == ("Error: mtu greater than device maximum.\n", 2)
    r = sh(klab, "ip link set flannel.1 mtu 1500")  # the outer headers no longer fit in eth0's 1500
    assert (r.output, r.exit_code) == ("RTNETLINK answers: Invalid argument\n", 2)
    r = sh(klab, "ip link set docker0 mtu 40")
    assert (r.output, r.exit_code) == ("Error: mtu less than device minimum.\n", 2)
    r = sh(klab, "ip link set docker0 mtu abc")
    assert (r.output, r.exit_code) == ('Error: argument "abc" is wrong: Invalid "mtu" value\n\n', 255)
    out(klab, "ip link set flannel.1 mtu 1400")
    assert " mtu 1400 " in out(klab, "ip link show flannel.1")


def test_mtu_too_small_breaks_big_pings(klab):
    assert sh(klab, "ping -c 1 -s 1400 -M do 172.30.76.3", on="p1").exit_code == 0
    pod_ns = klab.cluster.pod_ns["default/p2"]
    out(klab, "ip link set eth0 mtu 1000", on="p2")
    assert pod_ns.devices["eth0"].mtu == 1000
    assert sh(klab, "ping -c 1 -s 1400 -M do 172.30.9.2", on="p2").exit_code != 0


def test_address_rename_and_master_checks(klab):
    r = sh(klab, "ip link set docker0 address 01:00:5e:00:00:01")
    assert (r.output, r.exit_code) == ("RTNETLINK answers: Cannot assign requested address\n", 2)
    r = sh(klab, "ip link set docker0 address zz")
    assert (r.output, r.exit_code) == ('"zz" is invalid lladdr.\n', 1)
    r = sh(klab, "ip link set docker0 name br0")
    assert (r.output, r.exit_code) == ("RTNETLINK answers: Device or resource busy\n", 2)
    r = sh(klab, "ip link set flannel.1 master eth0")
    assert (r.output, r.exit_code) == ("RTNETLINK answers: Operation not supported\n", 2)
    r = sh(klab, "ip link set docker0 master docker0")
    assert (r.output, r.exit_code) == ("Error: Can not enslave a bridge to a bridge.\n", 2)
    r = sh(klab, "ip link del eth0")
    assert (r.output, r.exit_code) == ("RTNETLINK answers: Operation not supported\n", 2)
    r = sh(klab, "ip link del nosuchdev")
    assert (r.output, r.exit_code) == ('Cannot find device "nosuchdev"\n', 1)
    out(klab, "ip link set docker0 address 02:42:ac:11:00:01")
    assert "link/ether 02:42:ac:11:00:01 " in out(klab, "ip link show docker0")
    assert "02:42:ac:11:00:01 dev docker0 master docker0 permanent" in out(klab, "bridge fdb show br docker0")


def test_down_interface_drops_routes_and_traffic(klab):
    veth = klab.cluster.pod_ns["default/p1"].devices["eth0"].peer.name
    out(klab, f"ip link set {veth} down")
    assert f"{veth}@if2: <BROADCAST,MULTICAST> mtu 1450 qdisc noqueue master docker0 state DOWN " in out(klab, "ip link")
    assert re.search(r"eth0@if\d+: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1450 qdisc noqueue state LOWERLAYERDOWN",
                     out(klab, "ip link", on="p1"))
    assert "linkdown" in out(klab, "ip route", on="p1")
    assert sh(klab, "ping -c 1 -W 1 172.30.76.3", on="p1").exit_code != 0
    out(klab, f"ip link set {veth} up")
    assert sh(klab, "ping -c 1 -W 1 172.30.76.3", on="p1").exit_code == 0


def test_add_bridge_vxlan_dummy(klab):
    out(klab, "ip link add br9 type bridge")
    assert "br9: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN" in out(klab, "ip link show br9")
    r = sh(klab, "ip link add vx9 type vxlan id 9 local 192.168.0.21 dev eth0")
    assert r.exit_code == 0 and r.output.startswith("vxlan: destination port not specified\n")
    assert "vxlan id 9 local 192.168.0.21 dev eth0 srcport 0 0 dstport 8472 ttl auto ageing 300 " in \
        out(klab, "ip -d link show vx9")
    r = sh(klab, "ip link add vx10 type vxlan id 1 dstport 8472")
    assert (r.output, r.exit_code) == ("Error: A VXLAN device with the specified VNI already exists.\n", 2)
    r = sh(klab, "ip link add vx11 type vxlan dstport 4789")
    assert (r.output, r.exit_code) == ("vxlan: missing virtual network identifier\n", 1)
    out(klab, "ip link add kube-ipvs0 type dummy")
    assert "kube-ipvs0: <BROADCAST,NOARP> mtu 1500 qdisc noop state DOWN" in out(klab, "ip link")
    r = sh(klab, "ip link add x0 type macvlan")
    assert (r.output, r.exit_code) == ("Error: Unknown device type.\n", 2)
    r = sh(klab, "ip link add x0")
    assert (r.output, r.exit_code) == ('Not enough information: "type" argument is required\n', 1)
    out(klab, "ip link del vx9")
    out(klab, "ip link del br9")
    assert "vx9" not in out(klab, "ip link") and "br9" not in out(klab, "ip link")


def test_netns_list_exec_and_add(klab):
    lines = out(klab, "ip netns").splitlines()
    pods = [klab.cluster.pod_ns[k].netns_name for k in ("default/p2", "default/p1")]
    assert [line for line in lines if line.split()[0] in pods] == [f"{pods[0]} (id: 1)", f"{pods[1]} (id: 0)"]
    assert len(lines) == sum(1 for d in klab.cluster.nodes[N1].ns.devices if d.startswith("veth"))
    assert out(klab, "ip netns list") == out(klab, "ip netns")
    assert out(klab, "ip netns", on="p1") == ""
    assert out(klab, f"ip netns exec {pods[1]} ip route") == capture("p1_ip_route.txt")
    assert out(klab, f"ip -n {pods[1]} route") == capture("p1_ip_route.txt")
    r = sh(klab, "ip netns exec nlref-doesnotexist true")
    assert (r.output, r.exit_code) == (
        'Cannot open network namespace "nlref-doesnotexist": No such file or directory\n', 255)
    out(klab, "ip netns add red")
    r = sh(klab, "ip netns add red")
    assert (r.output, r.exit_code) == ('Cannot create namespace file "/var/run/netns/red": File exists\n', 1)
    out(klab, "ip link add veth-red type veth peer name eth0 netns red")
    assert out(klab, "ip netns").splitlines()[0] == f"red (id: {len(lines)})"
    out(klab, "ip -n red link set lo up")
    out(klab, "ip -n red addr add 10.60.0.2/24 dev eth0")
    out(klab, "ip -n red link set eth0 up")
    out(klab, "ip addr add 10.60.0.1/24 dev veth-red")
    out(klab, "ip link set veth-red up")
    assert sh(klab, "ip netns exec red ping -c 1 -W 1 10.60.0.1").exit_code == 0
    assert out(klab, "ip netns exec red ip netns identify") == "red\n"
    out(klab, "ip netns del red")
    assert "veth-red" not in out(klab, "ip link")


def test_rules(klab):
    assert out(klab, "ip rule") == "0:\tfrom all lookup local\n32766:\tfrom all lookup main\n32767:\tfrom all lookup default\n"
    out(klab, "ip route add 10.70.0.0/16 via 192.168.0.22 table 100")
    assert out(klab, "ip route show table 100") == "10.70.0.0/16 via 192.168.0.22 dev eth0 \n"
    assert sh(klab, "ip route get 10.70.1.1").output == \
        "10.70.1.1 via 192.168.0.1 dev eth0 src 192.168.0.21 uid 0 \n    cache \n"
    out(klab, "ip rule add lookup 100 priority 100")
    assert out(klab, "ip rule").splitlines()[1] == "100:\tfrom all lookup 100"
    assert sh(klab, "ip route get 10.70.1.1").output == \
        "10.70.1.1 via 192.168.0.22 dev eth0 src 192.168.0.21 uid 0 \n    cache \n"
    out(klab, "ip rule del priority 100")
    r = sh(klab, "ip rule del priority 100")
    assert (r.output, r.exit_code) == ("RTNETLINK answers: No such file or directory\n", 2)


def test_a_bridge_without_its_own_mac_takes_its_lowest_port_mac(klab):
    out(klab, "ip link add br7 type bridge")
    out(klab, "ip link add va type veth peer name vb")
    out(klab, "ip link add vc type veth peer name vd")
    ns = klab.cluster.nodes[N1].ns
    out(klab, "ip link set va master br7")
    out(klab, "ip link set vc master br7")
    lowest = min(ns.devices["va"].mac, ns.devices["vc"].mac)
    assert ns.devices["br7"].mac == lowest
    assert f"{lowest} dev " in out(klab, "bridge fdb show br br7")
    out(klab, "ip link set br7 address 02:00:00:00:00:07")
    out(klab, "ip link set vc nomaster")
    assert ns.devices["br7"].mac == "02:00:00:00:00:07"
