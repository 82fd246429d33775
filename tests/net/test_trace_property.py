"""Property: in any small lab, every trace a pod-to-pod packet produces ends with exactly
one verdict that counts (a delivery or a drop that is not a flooded copy's quiet end).

Labs vary the things that change the path: node count, CNI backend (flannel VXLAN in both
styles, host-gw), the bridge name, nodes split over two routed underlay subnets, pod count,
and time passing between packets (neighbours go STALE, bridge FDB entries age out)."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from netlab import Lab
from netlab.apps.probe import ping_once, udp_probe
from netlab.net.addr import parse_ip


@st.composite
def small_labs(draw):
    nodes = draw(st.integers(1, 4))
    backend = draw(st.sampled_from(["vxlan", "legacy-vxlan", "host-gw"]))
    split = nodes > 1 and draw(st.booleans())
    bridge = draw(st.sampled_from(["cni0", "docker0"]))
    replicas = draw(st.integers(1, 3 * nodes))
    version = "0.7.1" if backend == "legacy-vxlan" else "0.26.1"
    lines = ["apiVersion: netlab/v1", "kind: Lab", "metadata: {name: prop}", "spec:",
             "  podCIDR: 10.244.0.0/16",
             f"  cni: {{plugin: flannel, backend: {backend.removeprefix('legacy-')}, bridge: {bridge}, flannelVersion: \"{version}\"}}"]
    if split:
        lines += ["  underlay:", "  - {name: rack1, cidr: 192.168.1.0/24, gateway: 192.168.1.1}",
                  "  - {name: rack2, cidr: 192.168.2.0/24, gateway: 192.168.2.1}"]
    else:
        lines += ["  underlay: {cidr: 192.168.1.0/24, gateway: 192.168.1.1}"]
    lines.append("  nodes:")
    for i in range(nodes):
        rack = 2 if split and i % 2 else 1
        lines.append(f"  - {{name: n{i}, ip: 192.168.{rack}.{10 + i}, podCIDR: 10.244.{i}.0/24}}")
    lines += ["---", "apiVersion: apps/v1", "kind: Deployment", "metadata: {name: web}", "spec:",
              f"  replicas: {replicas}", "  selector: {matchLabels: {app: web}}", "  template:",
              "    metadata: {labels: {app: web}}", "    spec: {containers: [{name: web, image: nginx}]}"]
    return "\n".join(lines) + "\n"


def pod_ips(lab) -> list[tuple[object, int]]:
    out = []
    for key, ns in lab.cluster.pod_ns.items():
        eth0 = ns.dev("eth0")
        out.append((ns, eth0.addrs[0].ip))
    return out


def check(traces) -> None:
    for trace in traces:
        assert len(trace.ends) == 1, (f"{trace.label}: {len(trace.ends)} deciding verdicts\n" + trace.render(verbose=True))


@settings(max_examples=40, deadline=None)
@given(small_labs(), st.data())
def test_every_pod_to_pod_trace_has_exactly_one_deciding_verdict(lab_text, data):
    lab = Lab.load(lab_text)
    pods = pod_ips(lab)
    for _ in range(data.draw(st.integers(1, 3), label="packets")):
        src, _ = data.draw(st.sampled_from(pods), label="from")
        _, dst = data.draw(st.sampled_from(pods), label="to")
        kind = data.draw(st.sampled_from(["ping", "ping", "udp", "ping-absent"]), label="kind")
        if kind == "ping":
            out = ping_once(src, dst)
        elif kind == "udp":
            out = udp_probe(src, dst, data.draw(st.integers(1, 65535), label="port"))
        else:
            out = ping_once(src, (dst & ~0xFF) | 200)  # an address in a pod subnet that nobody has
        check(out.traces)
        lab.world.advance(data.draw(st.sampled_from([0.0, 1.0, 31.0, 301.0]), label="pause"))


def test_the_default_lab_every_pair_both_ways():
    lab = Lab.default()
    pods = pod_ips(lab)
    for src, _ in pods:
        for _, dst in pods:
            out = ping_once(src, dst)
            assert out.kind == "reply"
            check(out.traces)
    assert parse_ip("172.30.9.2") in {ip for _, ip in pods}
