"""ICMP errors generated where Linux generates them, from the address Linux picks:
MTU (frag needed / EMSGSIZE), TTL (time exceeded), port unreachable, net unreachable.
The expected sources match the kernel captures in tests/kernel_reference."""
from __future__ import annotations

import pytest

from netbuild import hops, ip, ping_once, route, routed, udp_probe
from netlab import Lab
from netlab.net.packet import (ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, ICMP_NET_UNREACH, ICMP_PORT_UNREACH,
                               ICMP_TIME_EXCEEDED)

N21, N22 = "192.168.0.21", "192.168.0.22"


@pytest.fixture(scope="module")
def seed_lab():
    return Lab.default()


def pod_on(lab, node: str):
    for key, ns in lab.cluster.pod_ns.items():
        ns_name, name = key.split("/", 1)
        if lab.cluster.api.get("Pod", ns_name, name)["spec"]["nodeName"] == node:
            return ns
    raise LookupError(node)


def icmp(out):
    return out.reply.src, out.reply.l4.type, out.reply.l4.code


# -- MTU ---------------------------------------------------------------------------------

def test_forwarded_df_packet_too_big_for_flannel_1_gets_frag_needed_with_the_mtu():
    lab = Lab.default()
    router = lab.cluster.router
    router.fib.add(route("172.30.0.0/16", via=N21, dev=router.dev("eth0")))
    out = ping_once(router, ip("172.30.9.2"), size=1472)  # a 1500-byte DF packet from the underlay
    assert out.kind == "error"
    assert icmp(out) == (ip(N21), ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED)
    assert out.reply.l4.mtu == 1450
    # The error quotes the packet as it arrived at the node: before the TTL decrement.
    assert out.reply.l4.quoted.ttl == 64
    (verdict,) = out.traces[0].ends
    assert (verdict.ns, verdict.dev) == (N21, "flannel.1")
    assert verdict.reason == "packet of 1500 bytes with DF set exceeds flannel.1 MTU 1450: ICMP need-to-frag sent"
    # Without DF the node fragments it and the echo is answered.
    assert ping_once(router, ip("172.30.9.2"), size=1472, df=False).kind == "reply"


def test_locally_sent_df_packet_too_big_is_message_too_long(seed_lab):
    """Kernel: `ping -c 1 -s 1423 -M do 172.30.9.2` in a pod → `ping: local error: message too long, mtu=1450`."""
    pod = pod_on(seed_lab, N21)
    out = ping_once(pod, ip("172.30.9.2"), size=1423)
    assert (out.kind, out.errno_text) == ("local-error", "Message too long")
    (verdict,) = out.traces[0].ends
    assert verdict.reason == "message too long: 1451 bytes with DF set, eth0 MTU is 1450"
    assert ping_once(pod, ip("172.30.9.2"), size=1422).kind == "reply"


def test_echo_replies_never_set_df(seed_lab):
    out = ping_once(pod_on(seed_lab, N21), ip("172.30.9.2"))
    reply = out.traces[1].packet
    assert out.traces[1].label == "echo reply" and reply.df is False


# -- TTL ---------------------------------------------------------------------------------

@pytest.mark.parametrize("ttl,source,where", [
    (1, "172.30.76.1", N21),  # the pod's own node, from docker0's address (kernel: From 172.30.76.1)
    (2, "172.30.9.0", N22),   # the far node, from flannel.1's address (kernel: From 172.30.9.0)
])
def test_time_exceeded_comes_from_the_router_where_ttl_runs_out(seed_lab, ttl, source, where):
    out = ping_once(pod_on(seed_lab, N21), ip("172.30.9.2"), ttl=ttl)
    assert icmp(out) == (ip(source), ICMP_TIME_EXCEEDED, 0)
    (verdict,) = out.traces[0].ends
    assert verdict.ns == where and verdict.reason == "TTL exceeded in transit: ICMP time exceeded sent"


def test_ttl_three_reaches_the_remote_pod_with_ttl_decremented_twice(seed_lab):
    out = ping_once(pod_on(seed_lab, N21), ip("172.30.9.2"), ttl=3)
    assert out.kind == "reply"
    forwards = [h.text for h in hops(out.traces[0], "forward")]
    assert forwards == ["forward docker0 → flannel.1, TTL 3 → 2", "forward flannel.1 → docker0, TTL 2 → 1"]


def test_time_exceeded_on_a_plain_router_comes_from_its_address_towards_the_sender():
    net = routed()
    out = ping_once(net.a, ip("198.51.100.10"), ttl=1)
    assert icmp(out) == (ip("192.0.2.1"), ICMP_TIME_EXCEEDED, 0)
    net2 = routed()
    out = ping_once(net2.b, ip("192.0.2.10"), ttl=1)
    assert icmp(out) == (ip("198.51.100.1"), ICMP_TIME_EXCEEDED, 0)


# -- unreachables ------------------------------------------------------------------------

def test_udp_to_a_closed_port_gets_port_unreachable_from_the_target(seed_lab):
    out = udp_probe(pod_on(seed_lab, N21), ip("172.30.9.2"), 33434)
    assert icmp(out) == (ip("172.30.9.2"), ICMP_DEST_UNREACH, ICMP_PORT_UNREACH)
    (verdict,) = out.traces[0].ends
    assert verdict.reason == "nothing listens on UDP port 33434: ICMP port unreachable sent"


def test_the_underlay_router_answers_net_unreachable_for_an_unknown_network(seed_lab):
    node = seed_lab.cluster.nodes[N21].ns
    out = ping_once(node, ip("10.99.99.99"))
    assert icmp(out) == (ip("192.168.0.1"), ICMP_DEST_UNREACH, ICMP_NET_UNREACH)
    (verdict,) = out.traces[0].ends
    assert verdict.ns == "router" and verdict.reason == "no route to 10.99.99.99: ICMP net unreachable sent"


def test_net_unreachable_shows_in_ping_as_linux_prints_it(seed_lab):
    r = seed_lab.sh("ping -c 1 10.99.99.99", on=N21)
    assert "From 192.168.0.1 icmp_seq=1 Destination Net Unreachable\n" in r.output
    assert r.exit_code == 1


def test_with_flannel_ip_masq_the_pod_hears_the_routers_error():
    """FLANNEL_IPMASQ=true: the pod's packet leaves masqueraded, so the router's error comes
    back to the node, conntrack maps it to the pod, and ping prints it."""
    lab = Lab.default()
    out = ping_once(pod_on(lab, N21), ip("10.99.99.99"))
    assert out.kind == "error" and out.source == "192.168.0.1"


def test_a_router_with_forwarding_off_drops_silently():
    net = routed(forward=False)
    out = ping_once(net.a, ip("198.51.100.10"))
    assert out.kind == "timeout"
    (verdict,) = out.traces[0].ends
    assert verdict.ns == "r" and "net.ipv4.ip_forward=0" in verdict.reason


def test_no_icmp_error_is_sent_about_an_icmp_error():
    """The net-unreachable for a pod's packet cannot reach the pod (the router has no route
    back to the pod network): its trace ends there, and nothing answers the error itself."""
    lab = Lab.default()
    lab.sh("iptables -t nat -F POSTROUTING", on=N21)  # no ipMasq: the error is addressed to the pod IP
    out = ping_once(pod_on(lab, N21), ip("10.99.99.99"))
    assert out.kind == "timeout"
    labels = [t.label for t in out.traces]
    assert labels == ["echo request", "ICMP error"]
    (verdict,) = out.traces[1].ends
    assert verdict.ns == "router" and verdict.reason.startswith("Network is unreachable")
