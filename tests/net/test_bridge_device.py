"""The Linux bridge: learning, ageing, flooding, hairpin, and its own addresses."""
from __future__ import annotations

from netbuild import bridged, hops, ip, ping_once
from netlab.net.packet import ETH_P_IP, ICMP, ICMP_ECHO, IPPROTO_ICMP, Frame, IPv4


def frame_from(pod, dst_mac: str, dst_ip: str = "10.0.0.99") -> Frame:
    eth0 = pod.dev("eth0")
    pkt = IPv4(eth0.addrs[0].ip, ip(dst_ip), IPPROTO_ICMP, ICMP(ICMP_ECHO, 0, 1, 1))
    return Frame(eth0.mac, dst_mac, ETH_P_IP, pkt)


def send(net, pod, frame):
    trace = net.world.new_trace("test frame", pod.name)
    pod.dev("eth0").xmit(frame, trace)
    net.world.run()
    return trace


def test_bridge_learns_source_macs_on_the_ingress_port():
    net = bridged(3)
    p1, p2, _ = net.pods
    ping_once(p1, ip("10.0.0.3"))
    fdb = net.br.fdb
    assert fdb[p1.dev("eth0").mac].port is net.ports[0]
    assert fdb[p2.dev("eth0").mac].port is net.ports[1]
    assert not fdb[p1.dev("eth0").mac].local


def test_a_learned_entry_ages_out_after_ageing_time():
    net = bridged(2)
    p1, p2 = net.pods
    ping_once(p1, ip("10.0.0.3"))
    mac = p1.dev("eth0").mac
    net.world.advance(299)
    assert net.br.fdb_get(mac) is not None
    net.world.advance(1)  # has_expired: updated + ageing_time <= now
    assert net.br.fdb_get(mac) is None
    assert mac not in {e.mac for e in net.br.fdb_entries()}
    # Local (permanent) entries never age.
    assert net.br.fdb_get(net.ports[0].mac).local


def test_unknown_unicast_floods_to_every_other_port_but_not_up_the_stack():
    net = bridged(3)
    p1, p2, p3 = net.pods
    trace = send(net, p1, frame_from(p1, "02:aa:bb:cc:dd:ee"))
    (flood,) = hops(trace, "flood")
    assert flood.text == "bridge br0: no FDB entry for 02:aa:bb:cc:dd:ee: flood to veth2, veth3"
    reached = {h.ns for h in hops(trace, "drop")}
    assert reached == {"p2", "p3"}  # each copy is dropped there as PACKET_OTHERHOST
    assert not hops(trace, "rx", ns="host")


def test_broadcast_floods_to_the_other_ports_and_goes_up_to_the_bridge():
    net = bridged(3)
    p1 = net.pods[0]
    out = ping_once(p1, ip("10.0.0.4"))
    flood = hops(out.traces[0], "flood")[0]
    assert flood.text == "bridge br0: broadcast from veth1: flood to veth2, veth3 and up to br0"
    # p1's request was seen by the host stack too: the host learned nothing (not for it) but p3 answered.
    assert out.kind == "reply"


def test_hairpin_off_drops_a_frame_whose_destination_is_behind_its_ingress_port():
    net = bridged(2)
    p1, p2 = net.pods
    net.br.learn(net.ports[0], "02:00:00:00:00:42")  # that MAC lives behind veth1, p1's own port
    trace = send(net, p1, frame_from(p1, "02:00:00:00:00:42"))
    (verdict,) = trace.ends
    assert verdict.reason == "bridge br0 does not send a frame back out its ingress port veth1 (hairpin off)"


def test_hairpin_on_sends_it_back_out_the_same_port():
    net = bridged(2)
    p1, _ = net.pods
    net.ports[0].hairpin = True
    net.br.learn(net.ports[0], "02:00:00:00:00:42")
    trace = send(net, p1, frame_from(p1, "02:00:00:00:00:42"))
    assert [h.text for h in hops(trace, "fdb")] == ["bridge br0: FDB 02:00:00:00:00:42 → port veth1"]
    assert hops(trace, "tx", ns="host")[0].text == "veth veth1 → peer eth0 in p1"
    # Back in p1, the frame is not for p1's MAC: dropped there, quietly.
    assert trace.verdict.ns == "p1" and "PACKET_OTHERHOST" in trace.verdict.reason


def test_hairpin_flood_includes_the_ingress_port():
    net = bridged(2)
    p1, _ = net.pods
    net.ports[0].hairpin = True
    trace = send(net, p1, frame_from(p1, "02:aa:bb:cc:dd:ee"))
    assert hops(trace, "flood")[0].text.endswith("flood to veth1, veth2")


def test_a_frame_for_the_bridge_address_goes_up_the_host_stack():
    net = bridged(2)
    p1 = net.pods[0]
    trace = send(net, p1, frame_from(p1, net.br.mac, dst_ip="10.0.0.1"))
    assert hops(trace, "fdb")[0].text == f"bridge br0: {net.br.mac} is the bridge's own address: up to the host stack"
    assert hops(trace, "rx", ns="host")[0].dev == "br0"
    assert trace.delivered and trace.verdict.ns == "host"


def test_a_frame_for_a_port_address_also_goes_up_the_bridge_stack():
    """Every port's MAC is a local FDB entry; br_handle_frame_finish passes such frames up
    (br_pass_frame_up) and the stack takes them: they were PACKET_HOST on the port."""
    net = bridged(2)
    p1 = net.pods[0]
    trace = send(net, p1, frame_from(p1, net.ports[1].mac, dst_ip="10.0.0.1"))
    assert hops(trace, "rx", ns="host")[0].dev == "br0"
    assert trace.delivered and trace.verdict.ns == "host"


def test_a_down_port_is_not_flooded_to():
    net = bridged(3)
    p1 = net.pods[0]
    net.host.set_link(net.ports[2], up=False)
    trace = send(net, p1, frame_from(p1, "02:aa:bb:cc:dd:ee"))
    assert hops(trace, "flood")[0].text.endswith("flood to veth2")


def test_the_host_sends_to_a_learned_port_and_floods_an_unknown_one():
    net = bridged(2)
    p1, p2 = net.pods
    out = ping_once(net.host, ip("10.0.0.2"))
    assert out.kind == "reply"
    request = out.traces[0]
    assert hops(request, "flood", ns="host")[0].text.startswith("bridge br0: broadcast: flood to veth1, veth2")
    # The echo request itself went to the port the ARP reply was learned on.
    assert any(h.text == f"bridge br0: FDB {p1.dev('eth0').mac} → port veth1" for h in hops(request, "fdb"))
