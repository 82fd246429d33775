"""Behaviour the kernel oracle found netlab getting wrong, pinned without a kernel.

Each test names what the real kernel did in real namespaces (see test_oracle_*.py)."""
from __future__ import annotations

from netlab import Lab
from netlab.apps.probe import ping_once
from netlab.net import topology
from netlab.net.addr import fmt_ip, parse_ip
from netlab.net.world import Dataplane

from oracle_labs import VXLAN_TWO_NODE


def test_lo_is_loopback_not_noarp():
    # Kernel: `1: lo: <LOOPBACK,UP,LOWER_UP>` (IFF_NOARP is never set on lo).
    ns = Dataplane().add_netns("a")
    assert ns.devices["lo"].flags() == ["LOOPBACK", "UP", "LOWER_UP"]


def test_local_route_uses_its_preferred_source():
    # Kernel: `ip route get 127.0.0.5` → `local 127.0.0.5 dev lo src 127.0.0.1`: the source
    # of a local route's answer is the route's prefsrc, not the destination.
    ns = Dataplane().add_netns("a")
    res = ns.route_output(parse_ip("127.0.0.5"))
    assert (res.type, res.dev.name, fmt_ip(res.src)) == ("local", "lo", "127.0.0.1")
    res = ns.route_output(parse_ip("127.0.0.1"))
    assert fmt_ip(res.src) == "127.0.0.1"


def _pair():
    world = Dataplane()
    a, b = world.add_netns("a"), world.add_netns("b")
    va, vb = topology.veth_pair(a, "eth0", b, "eth0")
    for ns, dev, ip in ((a, va, "10.0.0.1"), (b, vb, "10.0.0.2")):
        ns.set_link(dev, up=True)
        ns.addr_add(dev, parse_ip(ip), 24)
    return world, a, b


def test_packet_from_own_address_arriving_from_outside_is_martian():
    # Kernel (fib_validate_source, accept_local=0): a packet received on eth0 whose source is
    # one of the receiver's own addresses is dropped, never answered.
    world, a, b = _pair()
    out = ping_once(a, parse_ip("10.0.0.2"), src=parse_ip("10.0.0.2"))
    assert out.kind == "timeout"
    request = next(t for t in out.traces if t.label == "echo request")
    assert request.verdict.ns == "b" and "martian source 10.0.0.2" in request.verdict.reason
    assert ping_once(a, parse_ip("10.0.0.2")).kind == "reply"  # an ordinary source is answered


def test_accept_local_lets_own_source_in():
    world, a, b = _pair()
    b.sysctl["net.ipv4.conf.all.accept_local"] = "1"
    out = ping_once(a, parse_ip("10.0.0.2"), src=parse_ip("10.0.0.2"))
    request = next(t for t in out.traces if t.label == "echo request")
    assert request.delivered


def test_local_address_answers_over_lo_without_martian_check():
    world, a, b = _pair()
    assert ping_once(b, parse_ip("10.0.0.2")).kind == "reply"


def _vxlan_lab_with_fdb_pointing_at_self():
    lab = Lab.load(VXLAN_TWO_NODE)
    node = lab.cluster.nodes["node-a"]
    vtep = node.ns.devices["flannel.1"]
    entry = vtep.fdb_entries()[0]
    vtep.fdb_add(entry.mac, node.spec.ip, replace=True)
    pods = {ns.devices["eth0"].addrs[0].ip: ns for ns in lab.world.namespaces.values() if ns.kind == "pod"}
    local_pod = next(ns for ip, ns in pods.items() if ns.devices["eth0"].peer.ns is node.ns)
    remote_ip = next(ip for ip, ns in pods.items() if ns.devices["eth0"].peer.ns is not node.ns)
    return lab, local_pod, remote_ip


def test_vxlan_fdb_entry_at_own_ip_loops_pod_traffic_until_ttl_expires():
    # Kernel (vxlan encap_bypass_if_local): a remote that is a local address is not encapsulated;
    # the frame re-enters this node's stack on flannel.1 as PACKET_HOST, is routed out again, and
    # comes back each time one TTL lower: `From 10.244.0.1 icmp_seq=1 Time to live exceeded`.
    lab, pod, remote_ip = _vxlan_lab_with_fdb_pointing_at_self()
    r = lab.sh(f"ping -c 1 {fmt_ip(remote_ip)}", on=pod.name)
    assert r.exit_code == 1
    assert "From 10.244.0.1 icmp_seq=1 Time to live exceeded" in r.output
    request = next(t for t in r.traces if t.label == "echo request")
    assert any("is a local address: not encapsulated" in h.text for h in request.hops)


def test_vxlan_fdb_entry_at_own_ip_drops_the_nodes_own_packets_as_martian():
    # The node's own echo request comes back in with the node's own source address: martian.
    lab, pod, remote_ip = _vxlan_lab_with_fdb_pointing_at_self()
    r = lab.sh(f"ping -c 1 {fmt_ip(remote_ip)}", on="node-a")
    assert r.exit_code == 1
    assert "From " not in r.output
    request = next(t for t in r.traces if t.label == "echo request")
    assert "martian source 10.244.0.0" in request.verdict.reason

