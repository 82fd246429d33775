"""Netfilter at kube-proxy scale: N Services × 3 endpoints in kube-proxy's iptables shape.

Prints, for each size: rules and chains built, the time to build the Rule objects and load
them through the structured API (Netfilter.replace_table), the first packet's time (which
compiles the chain indexes), and the wall time per packet traced through the nat table
afterwards, with the number of rules the kernel would have compared for it.

    .venv/bin/python benchmarks/bench_netfilter.py [N ...]
"""
from __future__ import annotations

import base64
import hashlib
import sys
import time

from netlab.net import netfilter as nf
from netlab.net.addr import fmt_ip
from netlab.net.device import Veth
from netlab.net.packet import TCP, IPv4
from netlab.net.trace import Trace
from netlab.net.world import Dataplane

SVC_BASE = 0x0AFE0000  # 10.254.0.0
POD_BASE = 0xAC1E0000  # 172.30.0.0


def chain_hash(text: str) -> str:
    # 16 base32 characters are exactly the first 10 bytes of the digest: encode only those.
    return base64.b32encode(hashlib.sha256(text.encode()).digest()[:10]).decode()


def build(n: int) -> tuple[dict[str, list[nf.Rule]], int]:
    """kube-proxy's nat table for n ClusterIP services with 3 endpoints each."""
    masq = nf.Jump("KUBE-MARK-MASQ")
    chains: dict[str, list[nf.Rule]] = {
        "PREROUTING": [nf.Rule(matches=[nf.Comment("kubernetes service portals")], target=nf.Jump("KUBE-SERVICES"))],
        "OUTPUT": [nf.Rule(matches=[nf.Comment("kubernetes service portals")], target=nf.Jump("KUBE-SERVICES"))],
        "POSTROUTING": [nf.Rule(matches=[nf.Comment("kubernetes postrouting rules")], target=nf.Jump("KUBE-POSTROUTING"))],
        "KUBE-MARK-MASQ": [nf.Rule(target=nf.MarkTarget.or_mark(0x4000))],
        "KUBE-POSTROUTING": [
            nf.Rule(matches=[nf.Mark(0x4000, 0x4000, inv=True)], target=nf.RETURN),
            nf.Rule(target=nf.MarkTarget.xor_mark(0x4000)),
            nf.Rule(matches=[nf.Comment("kubernetes service traffic requiring SNAT")],
                    target=nf.Masquerade(random_fully=True)),
        ],
        "KUBE-NODEPORTS": [],
    }
    services: list[nf.Rule] = []
    rules = 0
    for i in range(n):
        vip = SVC_BASE + 10 + i
        name = f"default/svc-{i}:http"
        svc = "KUBE-SVC-" + chain_hash(name + "tcp")
        comment = f"{name} cluster IP"
        services.append(nf.Rule(dst=(vip, 32), proto=6, matches=[nf.Comment(comment), nf.Tcp(dport=80)],
                                target=nf.Jump(svc)))
        svc_rules = [nf.Rule(src=(POD_BASE, 16), src_inv=True, dst=(vip, 32), proto=6,
                             matches=[nf.Comment(comment), nf.Tcp(dport=80)], target=masq)]
        for e in range(3):
            pod = POD_BASE + (i * 3 + e) % 65000 + 2
            ep = f"{fmt_ip(pod)}:8080"
            sep = "KUBE-SEP-" + chain_hash(name + "tcp" + ep)
            ms = [nf.Comment(f"{name} -> {ep}")]
            if e < 2:
                ms.append(nf.Statistic(probability=1.0 / (3 - e)))
            svc_rules.append(nf.Rule(matches=ms, target=nf.Jump(sep)))
            chains[sep] = [
                nf.Rule(src=(pod, 32), matches=[nf.Comment(name)], target=masq),
                nf.Rule(proto=6, matches=[nf.Comment(name), nf.Tcp()], target=nf.Dnat(nf.NatRange(pod, pod, 8080))),
            ]
            rules += 2
        chains[svc] = svc_rules
        rules += len(svc_rules) + 1
    services.append(nf.Rule(matches=[nf.Comment("kubernetes service nodeports; NOTE: this must be the last rule in "
                                                "this chain"), nf.AddrType(dst_type="LOCAL")],
                            target=nf.Jump("KUBE-NODEPORTS")))
    chains["KUBE-SERVICES"] = services
    return chains, rules + 8


def run(n: int) -> None:
    world = Dataplane(seed=1)
    ns = world.add_netns("node")
    dev = Veth("eth0", "02:00:00:00:00:01")
    ns.add_device(dev)
    ns.set_link(dev, up=True)
    ns.addr_add(dev, 0xC0A80015, 24)
    f = nf.load(ns)
    t0 = time.perf_counter()
    with nf.paused_gc():  # as kube-proxy's sync does
        chains, rules = build(n)
    t1 = time.perf_counter()
    f.replace_table("nat", chains)
    t2 = time.perf_counter()

    def packet(i: int) -> tuple[float, int]:
        vip = SVC_BASE + 10 + (i * 7919) % n
        pkt = IPv4(POD_BASE + 5, vip, 6, TCP(20000 + i % 40000, 80))
        trace = Trace("bench", "node")
        s = time.perf_counter()
        out = f.hook("PREROUTING", pkt, dev, None, trace)
        e = time.perf_counter()
        assert out is not None and out.dst != vip, "the packet was not DNATed"
        return e - s, trace.rules_compared()

    first, _ = packet(0)
    times, compared = [], []
    for i in range(1, 2001):
        dt, c = packet(i)
        times.append(dt)
        compared.append(c)
    times.sort()
    print(f"{n:>6} services: {rules:>7} rules in {len(chains):>6} chains | build {t1 - t0:6.3f} s, "
          f"load {t2 - t1:6.3f} s (total {t2 - t0:6.3f} s) | first packet {first * 1e3:7.2f} ms | "
          f"traced packet median {times[len(times) // 2] * 1e3:6.3f} ms, p99 {times[int(len(times) * .99)] * 1e3:6.3f} ms | "
          f"rules compared per packet: mean {sum(compared) / len(compared):,.0f}")


if __name__ == "__main__":
    for size in [int(a) for a in sys.argv[1:]] or [100, 1000, 20000]:
        run(size)
