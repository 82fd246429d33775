"""VXLAN VTEPs: FDB to remote VTEPs, real outer headers, decapsulation, learning,
and the two ways flannel programs them (>= 0.9 static; < 0.9 on L3 misses)."""
from __future__ import annotations

from netbuild import hops, ip, ping_once, vxlan_pair
from netlab import Lab
from netlab.net import neigh as N
from netlab.net.packet import IPPROTO_UDP, VXLAN, VXLAN_OVERHEAD, IPv4


def static_pair():
    """flannel >= 0.9 style: no flood list; a PERMANENT neighbour and an FDB entry per peer."""
    net = vxlan_pair(default_fdb=False)
    net.h1.neigh.update(net.vx1, ip("10.42.0.2"), net.vx2.mac, N.PERMANENT)
    net.h2.neigh.update(net.vx2, ip("10.42.0.1"), net.vx1.mac, N.PERMANENT)
    net.vx1.fdb_add(net.vx2.mac, ip("192.0.2.2"))
    net.vx2.fdb_add(net.vx1.mac, ip("192.0.2.1"))
    return net


def test_fdb_lookup_by_inner_destination_mac():
    net = static_pair()
    out = ping_once(net.h1, ip("10.42.0.2"))
    assert out.kind == "reply"
    (encap,) = hops(out.traces[0], "encap")
    assert encap.text.startswith(f"vxlan vxlan0: FDB {net.vx2.mac} → dst 192.0.2.2; encapsulate in UDP 192.0.2.1:")
    assert encap.detail == {"vni": 42, "remote": ip("192.0.2.2")}
    assert not [h for h in hops(out.traces[0], "arp", ns="h1") if h.dev == "vxlan0"]  # the neighbour is PERMANENT


def test_outer_headers_are_real_udp_8472_with_the_vni_and_50_bytes_of_overhead():
    net = static_pair()
    out = ping_once(net.h1, ip("10.42.0.2"), size=1000)
    (encap,) = hops(out.traces[0], "encap")
    outer: IPv4 = encap.frame
    inner = outer.l4.payload.inner
    assert (outer.src, outer.dst, outer.proto) == (ip("192.0.2.1"), ip("192.0.2.2"), IPPROTO_UDP)
    assert outer.l4.dport == 8472 and 32768 <= outer.l4.sport <= 60999
    assert isinstance(outer.l4.payload, VXLAN) and outer.l4.payload.vni == 42
    assert (inner.src, inner.dst) == (net.vx1.mac, net.vx2.mac)
    assert inner.payload.dst == ip("10.42.0.2")
    assert outer.length - inner.payload.length == VXLAN_OVERHEAD == 50
    assert outer.df is False  # vxlan's outer header does not set DF by default
    # The same flow hashes to the same source port (the kernel's udp_flow_src_port).
    again = ping_once(net.h1, ip("10.42.0.2"), size=1000, ident=out.traces[0].packet.l4.id)
    assert hops(again.traces[0], "encap")[0].frame.l4.sport == outer.l4.sport


def test_the_far_vtep_decapsulates_and_its_stack_answers():
    net = static_pair()
    out = ping_once(net.h1, ip("10.42.0.2"))
    request = out.traces[0]
    (decap,) = hops(request, "decap")
    assert (decap.ns, decap.dev) == ("h2", "vxlan0")
    assert decap.text.startswith("vxlan vxlan0: UDP :8472 VNI 42 from 192.0.2.1: decapsulate")
    assert [h.text for h in hops(request, "local", ns="h2")] == ["UDP :8472 delivered to vxlan"]
    assert request.verdict.ns == "h2" and request.delivered
    assert out.traces[1].label == "echo reply" and out.traces[1].delivered


def test_default_all_zeros_entry_carries_unknown_and_broadcast_destinations():
    net = vxlan_pair()
    out = ping_once(net.h1, ip("10.42.0.2"))
    assert out.kind == "reply"
    first = hops(out.traces[0], "encap")[0]
    assert "default FDB entry 00:00:00:00:00:00 ff:ff:ff:ff:ff:ff → dst 192.0.2.2" in first.text  # the ARP request


def test_several_default_entries_replicate_to_each_remote():
    net = vxlan_pair()
    net.vx1.fdb_add("00:00:00:00:00:00", ip("192.0.2.77"), append=True)
    out = ping_once(net.h1, ip("10.42.0.2"))
    remotes = [h.detail["remote"] for h in hops(out.traces[0], "encap")[:2]]
    assert remotes == [ip("192.0.2.2"), ip("192.0.2.77")]


def test_no_fdb_entry_drops_the_frame():
    net = vxlan_pair(default_fdb=False)
    net.h1.neigh.update(net.vx1, ip("10.42.0.2"), net.vx2.mac, N.PERMANENT)
    out = ping_once(net.h1, ip("10.42.0.2"))
    (verdict,) = out.traces[0].ends
    assert verdict.reason == f"vxlan vxlan0: no FDB entry for {net.vx2.mac} (which remote VTEP has this MAC?)"
    assert net.vx1.stats.tx_dropped == 1


def test_nolearning_vtep_learns_nothing_from_what_it_receives():
    net = vxlan_pair(learning=False)
    ping_once(net.h1, ip("10.42.0.2"))
    assert set(net.vx2.fdb) == {"00:00:00:00:00:00"}


def test_learning_vtep_learns_inner_source_mac_to_outer_source_ip():
    net = vxlan_pair(learning=True)
    ping_once(net.h1, ip("10.42.0.2"))
    (learned,) = net.vx2.fdb[net.vx1.mac]
    assert (learned.dst, learned.permanent) == (ip("192.0.2.1"), False)
    # ...and the reply then leaves by that entry, not by the flood list.
    out = ping_once(net.h2, ip("10.42.0.1"))
    assert hops(out.traces[0], "encap")[0].text.startswith(f"vxlan vxlan0: FDB {net.vx1.mac} → dst 192.0.2.1")


def test_a_learned_entry_migrates_when_the_mac_shows_up_behind_another_vtep():
    net = vxlan_pair(learning=True)
    from netlab.net.vxlan import VxlanFdb

    net.vx2.fdb[net.vx1.mac] = [VxlanFdb(net.vx1.mac, ip("192.0.2.99"), permanent=False)]
    assert ping_once(net.h1, ip("10.42.0.2")).kind == "reply"
    assert [e.dst for e in net.vx2.fdb[net.vx1.mac]] == [ip("192.0.2.1")]


def test_a_static_entry_is_not_migrated_and_the_packet_is_dropped():
    """vxlan_snoop: "Don't migrate static entries, drop packets"."""
    net = vxlan_pair(learning=True)
    net.vx2.fdb_add(net.vx1.mac, ip("192.0.2.99"))
    out = ping_once(net.h1, ip("10.42.0.2"))
    assert [e.dst for e in net.vx2.fdb[net.vx1.mac]] == [ip("192.0.2.99")]
    # h1's ARP request was the packet dropped at h2, so h1's neighbour entry FAILED.
    assert any(f"{net.vx1.mac} arrived from 192.0.2.1 but a static FDB entry says 192.0.2.99" in h.text
               for h in hops(out.traces[0], "drop", ns="h2"))
    assert (out.kind, out.reply.l4.code) == ("error", 1)


def test_l2miss_notifies_the_agent_and_drops_the_frame_that_missed():
    net = vxlan_pair(default_fdb=False)
    net.vx1.l2miss = True
    net.h1.neigh.update(net.vx1, ip("10.42.0.2"), net.vx2.mac, N.PERMANENT)
    net.h2.neigh.update(net.vx2, ip("10.42.0.1"), net.vx1.mac, N.PERMANENT)
    net.vx2.fdb_add(net.vx1.mac, ip("192.0.2.1"))
    misses = []

    def agent(vtep, mac):
        misses.append(mac)
        vtep.fdb_add(mac, ip("192.0.2.2"))

    net.vx1.on_l2miss = agent
    first = ping_once(net.h1, ip("10.42.0.2"))
    assert misses == [net.vx2.mac] and first.kind == "timeout"
    assert ping_once(net.h1, ip("10.42.0.2")).kind == "reply"


def test_the_50_byte_overhead_is_why_the_vtep_mtu_is_1450():
    net = static_pair()
    fits = ping_once(net.h1, ip("10.42.0.2"), size=1450 - 28)  # 1450-byte inner IP packet
    assert fits.kind == "reply"
    outer = hops(fits.traces[0], "encap")[0].frame
    assert outer.length == 1500 and not any("fragmented" in h.text for h in fits.traces[0].hops)
    too_big = ping_once(net.h1, ip("10.42.0.2"), size=1451 - 28)
    assert too_big.kind == "local-error" and too_big.errno_text == "Message too long"
    # With the VTEP's MTU raised to eth0's, the inner packet fits but the outer one does not:
    # the outer packet (DF clear) is fragmented on eth0.
    net.vx1.mtu = 1500
    frag = ping_once(net.h1, ip("10.42.0.2"), size=1472)
    assert frag.kind == "reply"
    assert any(h.ns == "h1" and h.dev == "eth0" and "1550 bytes exceed eth0 MTU 1500: fragmented" in h.text
               for h in frag.traces[0].hops)


LEGACY_POD = "business-manager-5c459c947d-94vzf"  # on 192.168.0.22 in the default lab


def pods_on(lab, node):
    return [k.split("/", 1)[1] for k, ns in lab.cluster.pod_ns.items()
            if k.startswith("default/") and lab.cluster.api.get("Pod", "default", k.split("/", 1)[1])["spec"]["nodeName"] == node]


def test_legacy_flannel_learns_remote_pod_neighbours_on_l3miss():
    lab = Lab.default()  # flannel 0.7.1: 172.30.0.0/16 dev flannel.1, proxy + l2miss + l3miss
    node = lab.cluster.nodes["192.168.0.21"]
    vtep = node.ns.dev("flannel.1")
    remote = lab.cluster.nodes["192.168.0.22"].ns.dev("flannel.1")
    src = lab.cluster.pod_ns["default/" + pods_on(lab, "192.168.0.21")[0]]
    assert node.ns.neigh.get(vtep, ip("172.30.9.2")) is None
    out = ping_once(src, ip("172.30.9.2"))
    assert out.kind == "reply"
    request = out.traces[0]
    assert any(h.text == "vxlan flannel.1: no neighbour for 172.30.9.2: L3MISS sent to the agent"
               for h in hops(request, "neigh", ns="192.168.0.21"))
    entry = node.ns.neigh.get(vtep, ip("172.30.9.2"))
    assert (entry.lladdr, entry.state) == (remote.mac, N.REACHABLE)
    (encap,) = hops(request, "encap")
    assert encap.detail == {"vni": 1, "remote": ip("192.168.0.22")}


MODERN = """
apiVersion: netlab/v1
kind: Lab
metadata: {name: modern}
spec:
  podCIDR: 10.244.0.0/16
  cni: {plugin: flannel, backend: vxlan}
  underlay: {cidr: 192.168.0.0/24, gateway: 192.168.0.1}
  nodes:
  - {name: a, ip: 192.168.0.21, podCIDR: 10.244.0.0/24}
  - {name: b, ip: 192.168.0.22, podCIDR: 10.244.1.0/24}
---
apiVersion: v1
kind: Pod
metadata: {name: pa}
spec: {nodeName: a, containers: [{name: c, image: x}]}
---
apiVersion: v1
kind: Pod
metadata: {name: pb}
spec: {nodeName: b, containers: [{name: c, image: x}]}
"""


def test_modern_flannel_needs_no_arp_on_the_vtep():
    lab = Lab.load(MODERN)
    a = lab.cluster.nodes["a"].ns
    vtep = a.dev("flannel.1")
    remote = lab.cluster.nodes["b"].ns.dev("flannel.1")
    (rt,) = [r for r in a.fib.all_routes() if r.dev is vtep and r.plen == 24]
    assert rt.describe() == "10.244.1.0/24 via 10.244.1.0 dev flannel.1 onlink"
    neigh = a.neigh.get(vtep, ip("10.244.1.0"))
    assert (neigh.lladdr, neigh.state) == (remote.mac, N.PERMANENT)
    assert [e.dst for e in vtep.fdb[remote.mac]] == [ip("192.168.0.22")]
    out = ping_once(lab.cluster.pod_ns["default/pa"], ip("10.244.1.2"))
    assert out.kind == "reply"
    assert not [h for h in out.traces[0].hops if h.kind == "arp" and h.dev == "flannel.1"]
    assert [h.text for h in hops(out.traces[0], "neigh", ns="a") if h.dev == "flannel.1"] == [
        f"neighbour 10.244.1.0 lladdr {remote.mac} PERMANENT"]
