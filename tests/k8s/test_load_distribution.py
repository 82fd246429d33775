"""Load distribution through kube-proxy, end to end: real SYNs from a pod to a 3-endpoint
Service, through the node's real rules, with the endpoint read from the Trace's DNAT hop.

iptables mode: the KUBE-SVC chain's `statistic --mode random` rules (1/3, then 1/2, then
the rest) draw from the lab's seeded RNG, so a run is deterministic, and 3,000 connections
must land within statistical tolerance of 1/3 each. The tolerance is a chi-square
goodness-of-fit test against the uniform split at significance 0.001 (2 degrees of freedom,
critical value 13.816), not a fixed ±5% band: each count is Binomial(3000, 1/3) with a
standard deviation of 25.8, so ±5% (±50) is under 2σ per endpoint and a fair RNG would fail
it for about one seed in ten; the chi-square bound fails a fair RNG for one seed in a
thousand while still rejecting the classic bug of writing 1/3 on every rule (expected split
1/3, 2/9, 4/9: chi-square ≈ 190).

ipvs mode: the schedulers are deterministic, so the check is exact: the sequence of real
servers chosen for 3,000 connections equals what the kernel's rule gives (ip_vs_rr.c,
ip_vs_wrr.c, ip_vs_lc.c, re-derived independently below), for the destinations in the
kernel's list order — each new real server is added at the head of the service's list
(list_add_rcu), while `ipvsadm -ln` sorts what it prints, so the order comes from the
service itself and the counts from `ipvsadm -ln`.
"""
from __future__ import annotations

import math
import re
import time

import pytest

from netlab import Lab
from netlab.apps.probe import tcp_syn
from netlab.net.addr import fmt_ip, parse_ip
from netlab.net.ipvs import Ipvs
from netlab.net.packet import IPPROTO_TCP, TCP, TH_ACK, IPv4

LAB = """apiVersion: netlab/v1
kind: Lab
spec:
  podCIDR: 10.244.0.0/16
  serviceCIDR: 10.96.0.0/12
  kubeProxy: {{mode: {mode}, style: {style}, scheduler: {scheduler}}}
  nodes:
  - {{name: a, ip: 192.168.0.10, podCIDR: 10.244.0.0/24}}
  - {{name: b, ip: 192.168.0.11, podCIDR: 10.244.1.0/24}}
---
apiVersion: v1
kind: Service
metadata: {{name: web}}
spec:
  clusterIP: 10.96.0.80
  selector: {{app: web}}
  ports: [{{port: 80}}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web}}
spec:
  replicas: 3
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers: [{{name: nginx, image: nginx}}]
---
apiVersion: v1
kind: Pod
metadata: {{name: client}}
spec:
  nodeName: b
  containers: [{{name: c, image: busybox}}]
"""
VIP = parse_ip("10.96.0.80")
N = 3000
CHI2_CRIT_2DF_0001 = 13.816  # chi-square, 2 degrees of freedom, upper 0.1% point


def lab_for(mode: str, style: str = "modern", scheduler: str = "rr") -> Lab:
    lab = Lab.load(LAB.format(mode=mode, style=style, scheduler=scheduler))
    lab.cluster.tick()
    return lab


def client_ns(lab: Lab):
    return lab.cluster.pod_ns["default/client"]


def web_ips(lab: Lab) -> set[str]:
    return {p["status"]["podIP"] for p in lab.cluster.api.list("Pod", "default")
            if p["metadata"].get("labels", {}).get("app") == "web"}


def chosen_endpoint(out) -> str:
    """The endpoint the node's DNAT (iptables) or IPVS chose for this SYN, from its Trace."""
    nat = [h.text for h in out.traces[0].hops if h.kind == "nat" and h.text.startswith(("DNAT", "IPVS DNAT"))]
    assert nat and out.kind == "open", f"SYN not DNATed to an answering endpoint: {out.kind} {nat}"
    return nat[-1].split("→ ")[1].split(":")[0]


def syn(lab: Lab) -> str:
    return chosen_endpoint(tcp_syn(client_ns(lab), VIP, 80))


def open_connection(lab: Lab) -> str:
    """SYN, SYN-ACK, then the client's ACK and nothing more: the connection stays
    ESTABLISHED, which IPVS counts as active (a SYN alone leaves an inactive entry)."""
    ns = client_ns(lab)
    out = tcp_syn(ns, VIP, 80)
    ep = chosen_endpoint(out)
    synack = out.reply
    ack = IPv4(synack.dst, VIP, IPPROTO_TCP, TCP(synack.l4.dport, 80, TH_ACK, 1001, synack.l4.seq + 1),
               id=ns.next_ip_id())
    ns.ip_local_out(ack, ns.world.new_trace("ACK", ns.name, ack, "ack"))
    ns.world.run()
    return ep


def chi_square(counts: list[int]) -> float:
    expected = sum(counts) / len(counts)
    return sum((c - expected) ** 2 / expected for c in counts)


@pytest.mark.parametrize("style", ["modern", "legacy"])
def test_iptables_statistic_spreads_3000_connections_evenly(style):
    lab = lab_for("iptables", style)
    eps = web_ips(lab)
    t0 = time.perf_counter()
    counts = {ip: 0 for ip in eps}
    for _ in range(N):
        counts[syn(lab)] += 1
    elapsed = time.perf_counter() - t0
    chi2 = chi_square(list(counts.values()))
    assert set(counts) == eps and sum(counts.values()) == N
    assert chi2 < CHI2_CRIT_2DF_0001, f"{counts}: chi-square {chi2:.2f} >= {CHI2_CRIT_2DF_0001} (p < 0.001)"
    assert elapsed < 20, f"{N} SYNs took {elapsed:.1f} s"


def test_iptables_distribution_is_seeded():
    """Same seed, same choices: the statistic match draws from the lab's RNG, not the host's."""
    a, b = lab_for("iptables"), lab_for("iptables")
    assert [syn(a) for _ in range(60)] == [syn(b) for _ in range(60)]


def test_chi_square_bound_rejects_a_wrong_probability_chain():
    """The bound has power: the split a 1/3-on-every-rule chain gives fails it by far."""
    wrong = [N / 3, N * 2 / 9, N * 4 / 9]
    assert chi_square([round(x) for x in wrong]) > 10 * CHI2_CRIT_2DF_0001


# -- ipvs: the kernel's schedulers, re-derived -------------------------------------------------
def ipvs_dests(lab: Lab) -> list[tuple[str, int, int, int]]:
    """(ip, weight, active, inactive) per real server of 10.96.0.80:80 as `ipvsadm -ln`
    prints them, in the kernel's list order (the order the schedulers walk)."""
    out = lab.sh("ipvsadm -ln -t 10.96.0.80:80", on="b").output
    rows = {ip: (int(w), int(a), int(i))
            for ip, w, a, i in re.findall(r"->\s+([\d.]+):\d+\s+Masq\s+(\d+)\s+(\d+)\s+(\d+)", out)}
    svc = Ipvs.of(lab.cluster.nodes["b"].ns).find("tcp", VIP, 80)
    order = [fmt_ip(d.addr) for d in svc.dests]
    assert set(rows) == set(order), out
    return [(ip, *rows[ip]) for ip in order]


def kernel_rr(order: list[str], n: int) -> list[str]:
    """ip_vs_rr.c: the next server after the last one chosen, in list order."""
    return [order[i % len(order)] for i in range(n)]


def kernel_wrr(order: list[str], weights: list[int], n: int, cw: int) -> list[str]:
    """ip_vs_wrr.c: from the last server chosen (at first the list head), the next one whose
    weight >= cw; each time the scan runs off the end of the list cw drops by gcd(weights),
    back to the max weight once it reaches 0. `cw` is the current weight to start from:
    ip_vs_wrr_dest_changed() keeps it across weight edits unless it exceeds the new max."""
    di = math.gcd(*weights)
    mw = max(weights) - (di - 1)
    i, out = -1, []
    while len(out) < n:
        i += 1
        if i == len(order):
            i = -1
            cw -= di
            if cw <= 0:
                cw = mw
            continue
        if weights[i] >= cw:
            out.append(order[i])
    return out


def test_ipvs_rr_is_exactly_round_robin():
    lab = lab_for("ipvs", scheduler="rr")
    order = [ip for ip, *_ in ipvs_dests(lab)]
    assert set(order) == web_ips(lab)
    got = [syn(lab) for _ in range(N)]
    first = order.index(got[0])
    assert got == kernel_rr(order[first:] + order[:first], N)
    assert all(got.count(ip) == N // 3 for ip in order)


def test_ipvs_wrr_follows_hand_set_weights():
    """kube-proxy writes weight 1 and (after its first sync) leaves an existing server's
    weight alone, so `ipvsadm -e ... -w` sticks, as on a real node."""
    lab = lab_for("ipvs", scheduler="wrr")
    order = [ip for ip, *_ in ipvs_dests(lab)]
    weights = [3, 2, 1]
    for ip, w in zip(order, weights):
        r = lab.sh(f"ipvsadm -e -t 10.96.0.80:80 -r {ip}:80 -m -w {w}", on="b")
        assert r.exit_code == 0, r.output
    lab.cluster.tick()
    lab.world.clock += 31  # past the periodic resync: the weights survive it
    lab.cluster.tick()
    assert [w for _, w, *_ in ipvs_dests(lab)] == weights
    got = [syn(lab) for _ in range(N)]
    # All weights were 1 (cw 1) and every edit kept cw <= the new max: the first round is
    # still the weight >= 1 pass over every server.
    assert got == kernel_wrr(order, weights, N, cw=1)
    assert all(abs(got.count(ip) - N * w / sum(weights)) <= max(weights) for ip, w in zip(order, weights))


def test_ipvs_lc_picks_the_least_loaded_under_open_connections():
    """ip_vs_lc.c: overhead = active×256 + inactive; the first server in list order wins a tie.
    Established connections are held open; bare SYNs add inactive entries. After every
    connection the counts `ipvsadm -ln` shows must equal the reference model's."""
    lab = lab_for("ipvs", scheduler="lc")
    order = [ip for ip, *_ in ipvs_dests(lab)]
    active = dict.fromkeys(order, 0)
    inactive = dict.fromkeys(order, 0)
    pattern = ["open"] * 5 + ["syn"] * 4 + ["open"] * 7 + ["syn"] * 300 + ["open"] * 20
    for kind in pattern:
        want = min(order, key=lambda ip: (active[ip] * 256 + inactive[ip], order.index(ip)))
        got = open_connection(lab) if kind == "open" else syn(lab)
        assert got == want, f"lc chose {got}, the kernel's rule says {want} ({active}, {inactive})"
        (active if kind == "open" else inactive)[got] += 1
    rows = ipvs_dests(lab)
    assert [(a, i) for _, _, a, i in rows] == [(active[ip], inactive[ip]) for ip in order]
    assert max(active.values()) - min(active.values()) <= 1
