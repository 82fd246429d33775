"""net-tools `route`, `ifconfig`, `arp`: formats against the kernel captures, and changes."""
from __future__ import annotations

import re

from shellref import N1, capture, normalize, out, sh


def test_route_n_matches_the_kernel(klab):
    assert out(klab, "route -n") == capture("n1_route_-n.txt")
    assert out(klab, "route -n", on="p1") == capture("p1_route_-n.txt")
    assert out(klab, "route -en") == capture("n1_netstat_-rn.txt")  # -e: netstat -r's columns


def test_route_names_from_etc_hosts_and_networks(klab):
    # The capture's host had no names for its addresses; a node's /etc/hosts names its gateway,
    # as in the seed article (`default gateway 0.0.0.0 UG 100 0 0 eth0`).
    assert out(klab, "route") == capture("n1_route.txt").replace("default         192.168.0.1    ",
                                                                 "default         gateway        ")
    out(klab, "ip route add 169.254.0.0/16 dev eth0 metric 1000")
    assert "link-local      0.0.0.0         255.255.0.0     U     1000   0        0 eth0\n" in out(klab, "route")


def test_route_add_del_and_errors(klab):
    r = sh(klab, "route add -net 10.5.0.0 netmask 255.255.0.0 dev nosuchdev")
    assert (r.output, r.exit_code) == ("SIOCADDRT: No such device\n", 7)
    r = sh(klab, "route add -net 10.5.0.0 netmask 255.255.0.0 gw 10.9.9.9")
    assert (r.output, r.exit_code) == ("SIOCADDRT: Network is unreachable\n", 7)
    r = sh(klab, "route del -net 10.77.0.0 netmask 255.255.0.0")
    assert (r.output, r.exit_code) == ("SIOCDELRT: No such process\n", 7)
    out(klab, "route add -net 10.5.0.0 netmask 255.255.0.0 gw 192.168.0.22")
    assert "10.5.0.0/16 via 192.168.0.22 dev eth0 \n" in out(klab, "ip route")
    r = sh(klab, "route add -net 10.5.0.0 netmask 255.255.0.0 gw 192.168.0.22")
    assert (r.output, r.exit_code) == ("SIOCADDRT: File exists\n", 7)
    out(klab, "route add -host 10.6.0.1 dev docker0 metric 5")
    assert "10.6.0.1        0.0.0.0         255.255.255.255 UH    5      0        0 docker0\n" in out(klab, "route -n")
    assert "10.6.0.1 dev docker0 scope link metric 5 \n" in out(klab, "ip route")
    out(klab, "route add -net 10.7.0.0/16 reject")
    assert "10.7.0.0        -               255.255.0.0     !     0      -        0 -\n" in out(klab, "route -n")
    out(klab, "route del -net 10.5.0.0 netmask 255.255.0.0")
    out(klab, "route del -host 10.6.0.1")
    assert "10.5.0.0" not in out(klab, "route -n") and "10.6.0.1" not in out(klab, "route -n")
    r = sh(klab, "route add -net 10.5.0.1 netmask 255.255.0.0 dev eth0")
    assert r.exit_code == 3 and r.output.startswith("route: netmask doesn't match route address\n")


def test_default_route_via_route_command_restores_egress(klab):
    out(klab, "route del default", on="p1")
    assert sh(klab, "ping -c 1 -W 1 172.30.9.2", on="p1").exit_code == 2
    out(klab, "route add default gw 172.30.76.1", on="p1")
    assert out(klab, "route -n", on="p1") == capture("p1_route_-n.txt")
    assert sh(klab, "ping -c 1 -W 1 172.30.9.2", on="p1").exit_code == 0


def block(text: str, name: str) -> str:
    blocks = text.split("\n\n")
    return next(b for b in blocks if b.startswith(name + ":")) + "\n"


def mask_counters(text: str) -> str:
    text = re.sub(r"(packets|bytes|errors|dropped|overruns|frame|carrier|collisions) \d+", r"\1 N", text)
    return normalize(re.sub(r"\(\d+\.\d (B|KiB|MiB)\)", "(SIZE)", text))


def test_ifconfig_matches_the_kernel(klab):
    text = out(klab, "ifconfig")
    want = capture("n1_ifconfig.txt")
    for name in ("docker0", "flannel.1", "lo"):
        assert mask_counters(block(text, name)) == mask_counters(block(want, name)), name
    assert [b.split(":")[0] for b in text.strip().split("\n\n")][:4] == ["docker0", "eth0", "flannel.1", "lo"]
    assert out(klab, "ifconfig -a") == text  # every device is up
    assert mask_counters(out(klab, "ifconfig docker0")) == mask_counters(capture("n1_ifconfig_docker0.txt"))
    r = sh(klab, "ifconfig nosuch")
    assert (r.output, r.exit_code) == ("nosuch: error fetching interface information: Device not found\n", 1)


def test_ifconfig_counts_and_sizes(klab):
    dev = klab.cluster.nodes[N1].ns.devices["docker0"]
    text = out(klab, "ifconfig docker0")
    kib = f"{dev.stats.rx_bytes // 1024}.{(dev.stats.rx_bytes % 1024) * 10 // 1024} KiB" \
        if dev.stats.rx_bytes >= 1024 else f"{dev.stats.rx_bytes}.0 B"
    assert f"        RX packets {dev.stats.rx_packets}  bytes {dev.stats.rx_bytes} ({kib})\n" in text
    assert "        TX errors 0  dropped 0 overruns 0  carrier 0  collisions 0\n" in text


def test_ifconfig_brd_plus_and_configuration(klab):
    out(klab, "ip addr del 172.30.76.2/24 dev eth0", on="p1")
    out(klab, "ip addr add 172.30.76.2/24 brd + dev eth0", on="p1")
    text = out(klab, "ifconfig eth0", on="p1")
    assert text.splitlines()[1] == "        inet 172.30.76.2  netmask 255.255.255.0  broadcast 172.30.76.255"
    out(klab, "ifconfig eth0 172.30.76.20 netmask 255.255.255.0", on="p1")
    assert "inet 172.30.76.20/24 brd 172.30.76.255 scope global eth0" in out(klab, "ip addr show eth0", on="p1")
    out(klab, "ifconfig eth0 mtu 1400", on="p1")
    assert " mtu 1400 " in out(klab, "ip link show eth0", on="p1")
    out(klab, "ifconfig eth0 down", on="p1")
    assert "eth0" not in out(klab, "ifconfig", on="p1")
    assert out(klab, "ifconfig -a", on="p1").count("flags=4098<BROADCAST,MULTICAST>") == 1
    out(klab, "ifconfig eth0 up", on="p1")
    out(klab, "ifconfig docker0 promisc")
    assert out(klab, "ifconfig docker0").startswith("docker0: flags=4419<UP,BROADCAST,RUNNING,PROMISC,MULTICAST>")
    assert "<BROADCAST,MULTICAST,PROMISC,UP,LOWER_UP>" in out(klab, "ip link show docker0")


def test_proc_net_route_and_arp(klab):
    lines = out(klab, "cat /proc/net/route").splitlines()
    assert lines[0] == "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT" + " " * 55
    assert lines[1] == ("eth0\t00000000\t0100A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0").ljust(127)
    assert lines[2] == ("flannel.1\t00091EAC\t00091EAC\t0003\t0\t0\t0\t00FFFFFF\t0\t0\t0").ljust(127)
    arp = out(klab, "cat /proc/net/arp").splitlines()
    assert arp[0] == "IP address       HW type     Flags       HW address            Mask     Device"
    assert re.fullmatch(r"172\.30\.9\.0       0x1         0x6         [0-9a-f:]{17}     \*        flannel\.1", arp[1])
