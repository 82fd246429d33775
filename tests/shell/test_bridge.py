"""`bridge fdb` and `bridge link`: formats against the kernel captures, and what FDB changes do."""
from __future__ import annotations

from shellref import N1, N2, capture, normalize, out, sh


def test_fdb_show_matches_the_kernel(klab):
    got = set(normalize(out(klab, "bridge fdb show")).splitlines())
    want = set(normalize(capture("n1_bridge_fdb_show.txt")).splitlines())
    # The capture's docker0 took its first port's MAC (a bridge without a MAC of its own does);
    # netlab's docker0 has its own, as dockerd sets one, so its local entry names docker0.
    got.discard("MAC dev docker0 master docker0 permanent")
    assert sorted(got) == sorted(want)
    br = normalize(out(klab, "bridge fdb show br docker0")).splitlines()
    assert br[:5] == normalize(capture("n1_bridge_fdb_show_br_docker0.txt")).splitlines()[:5]
    assert br[5] == "MAC dev docker0 master docker0 permanent"


def test_vxlan_fdb_matches_on_both_nodes(klab):
    peer_mac = klab.cluster.nodes[N2].ns.devices["flannel.1"].mac
    want = capture("n1_bridge_fdb_show_dev_flannel.1.txt")
    assert out(klab, "bridge fdb show dev flannel.1") == normalize(want).replace("MAC", peer_mac)
    mac1 = klab.cluster.nodes[N1].ns.devices["flannel.1"].mac
    assert out(klab, "bridge fdb show dev flannel.1", on=N2) == f"{mac1} dst 192.168.0.21 self permanent\n"
    # the seed article's spelling (no `dev`): every device, each line naming its device
    assert f"{peer_mac} dev flannel.1 dst 192.168.0.22 self permanent\n" in out(klab, "bridge fdb show flannel.1")


def test_learned_and_local_port_entries(klab):
    ns = klab.cluster.nodes[N1].ns
    p1_eth0 = klab.cluster.pod_ns["default/p1"].devices["eth0"]
    veth = p1_eth0.peer
    text = out(klab, f"bridge fdb show dev {veth.name}")
    assert text.splitlines()[0] == f"{p1_eth0.mac} master docker0 "
    assert text.splitlines()[1] == f"{veth.mac} master docker0 permanent"
    assert ns.devices["docker0"].fdb[p1_eth0.mac].port is veth


def test_fdb_errors(klab):
    r = sh(klab, "bridge fdb add aa:bb:cc:dd:ee:ff dev nosuchdev")
    assert (r.output, r.exit_code) == ('Cannot find device "nosuchdev"\n', 255)
    r = sh(klab, "bridge fdb del aa:bb:cc:dd:ee:ff dev flannel.1 dst 192.168.0.99")
    assert (r.output, r.exit_code) == ("RTNETLINK answers: No such file or directory\n", 255)
    r = sh(klab, "bridge fdb add zz dev flannel.1")
    assert (r.output, r.exit_code) == ("Invalid mac address zz\n", 255)
    r = sh(klab, "bridge fdb add aa:bb:cc:dd:ee:ff")
    assert (r.output, r.exit_code) == ("Device and address are required arguments.\n", 255)
    r = sh(klab, "bridge fdb show br nosuch")
    assert (r.output, r.exit_code) == ('Cannot find bridge device "nosuch"\n', 255)
    r = sh(klab, "bridge foo")
    assert (r.output, r.exit_code) == ('Object "foo" is unknown, try "bridge help".\n', 255)
    r = sh(klab, "bridge fdb add aa:bb:cc:dd:ee:ff dev docker0 master")
    assert (r.output, r.exit_code) == ("RTNETLINK answers: Operation not supported\n", 255)


def test_deleting_the_vtep_entry_breaks_cross_node_traffic_and_append_restores_it(klab):
    peer_mac = klab.cluster.nodes[N2].ns.devices["flannel.1"].mac
    assert sh(klab, "ping -c 1 -W 1 172.30.9.2", on="p1").exit_code == 0
    out(klab, f"bridge fdb del {peer_mac} dev flannel.1 dst 192.168.0.22")
    assert out(klab, "bridge fdb show dev flannel.1") == ""
    assert sh(klab, "ping -c 1 -W 1 172.30.9.2", on="p1").exit_code == 1
    out(klab, f"bridge fdb append {peer_mac} dev flannel.1 dst 192.168.0.22")
    assert out(klab, "bridge fdb show dev flannel.1") == f"{peer_mac} dst 192.168.0.22 self permanent\n"
    assert sh(klab, "ping -c 1 -W 1 172.30.9.2", on="p1").exit_code == 0


def test_vxlan_add_append_replace_rules(klab):
    peer_mac = klab.cluster.nodes[N2].ns.devices["flannel.1"].mac
    r = sh(klab, f"bridge fdb add {peer_mac} dev flannel.1 dst 192.168.0.23")
    assert (r.output, r.exit_code) == ("RTNETLINK answers: File exists\n", 255)
    out(klab, f"bridge fdb append {peer_mac} dev flannel.1 dst 192.168.0.23")  # a unicast entry keeps one remote
    assert out(klab, "bridge fdb show dev flannel.1") == f"{peer_mac} dst 192.168.0.22 self permanent\n"
    out(klab, f"bridge fdb replace {peer_mac} dev flannel.1 dst 192.168.0.1")
    assert out(klab, "bridge fdb show dev flannel.1") == f"{peer_mac} dst 192.168.0.1 self permanent\n"
    assert sh(klab, "ping -c 1 -W 1 172.30.9.2", on="p1").exit_code == 1
    out(klab, "bridge fdb append 00:00:00:00:00:00 dev flannel.1 dst 192.168.0.22")
    out(klab, "bridge fdb append 00:00:00:00:00:00 dev flannel.1 dst 192.168.0.23")
    assert out(klab, "bridge fdb show dev flannel.1").splitlines()[:2] == [
        "00:00:00:00:00:00 dst 192.168.0.22 self permanent", "00:00:00:00:00:00 dst 192.168.0.23 self permanent"]
    r = sh(klab, "bridge fdb replace 00:00:00:00:00:00 dev flannel.1 dst 192.168.0.24")
    assert (r.output, r.exit_code) == ("Error: Cannot replace non-unicast FDB entries.\n", 255)


def test_bridge_master_entries_static_and_local(klab):
    veth = klab.cluster.pod_ns["default/p1"].devices["eth0"].peer
    out(klab, f"bridge fdb add 02:00:00:00:00:10 dev {veth.name} master static")
    out(klab, f"bridge fdb add 02:00:00:00:00:11 dev {veth.name} master")
    text = out(klab, f"bridge fdb show dev {veth.name}")
    assert "02:00:00:00:00:10 master docker0 static\n" in text
    assert "02:00:00:00:00:11 master docker0 permanent\n" in text
    r = sh(klab, f"bridge fdb add 02:00:00:00:00:10 dev {veth.name} master static")
    assert (r.output, r.exit_code) == ("RTNETLINK answers: File exists\n", 255)
    out(klab, f"bridge fdb del 02:00:00:00:00:10 dev {veth.name} master")
    assert "02:00:00:00:00:10" not in out(klab, "bridge fdb show")
    out(klab, f"bridge fdb add 02:00:00:00:00:12 dev {veth.name}")  # self: the port's own address list
    assert f"02:00:00:00:00:12 dev {veth.name} self permanent\n" in out(klab, "bridge fdb show")


def test_bridge_link_show_and_hairpin(klab):
    want = normalize(capture("n1_bridge_link.txt")).splitlines()
    got = normalize(out(klab, "bridge link")).splitlines()
    assert sorted(set(got)) == sorted(set(want))
    assert out(klab, "bridge link show") == out(klab, "bridge link")
    veth = klab.cluster.pod_ns["default/p1"].devices["eth0"].peer
    assert out(klab, f"bridge -d link show dev {veth.name}").splitlines()[1].startswith("    hairpin off ")
    out(klab, f"bridge link set dev {veth.name} hairpin on")
    assert veth.hairpin
    assert "hairpin on" in out(klab, f"ip -d link show {veth.name}")
    r = sh(klab, "bridge link set dev docker0 hairpin on")
    assert (r.output, r.exit_code) == ("RTNETLINK answers: Operation not supported\n", 255)
    r = sh(klab, "bridge link set hairpin on")
    assert (r.output, r.exit_code) == ("Device is a required argument.\n", 255)
    out(klab, f"ip link set {veth.name} type bridge_slave hairpin off learning off")
    assert not veth.hairpin and not veth.learning
