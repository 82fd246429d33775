"""IPVS at kube-proxy scale: 20,000 virtual services × 3 real servers on one node.

Prints the time to add the services and real servers through the engine API (what
kube-proxy's ipvs mode calls), and the wall time per traced packet — a TCP SYN from a
client through the node to a real server — at that size, with the number of IPVS lookups
the Trace reports (a hash lookup: 1, whatever the number of services). Target: well under
0.3 ms per traced packet.
"""
from __future__ import annotations

import gc
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "ipvs"))

N_SERVICES = int(os.environ.get("BENCH_IPVS_SERVICES", "20000"))
PACKETS = int(os.environ.get("BENCH_IPVS_PACKETS", "2000"))
TARGET_MS = 0.3


def main() -> int:
    from ipvstopo import Topo

    from netlab.net.addr import parse_ip
    from netlab.net.packet import IPPROTO_TCP, TCP, TH_SYN, IPv4

    t = Topo(n_rs=2)
    vs = t.ipvs
    rs = [parse_ip("10.0.2.2"), parse_ip("10.0.3.2"), parse_ip("10.0.2.2")]
    base = parse_ip("10.96.0.0")
    gc.collect()
    t0 = time.perf_counter()
    for i in range(N_SERVICES):
        vip = base + 16 + i
        vs.add_service(IPPROTO_TCP, vip, 80, scheduler="rr")
        for j, r in enumerate(rs):
            vs.add_dest(IPPROTO_TCP, vip, 80, rip=r, rport=8080 + j, fwd="Masq")
    build = time.perf_counter() - t0
    print(f"ipvs: {N_SERVICES} services x 3 real servers added in {build:.3f} s "
          f"({build / N_SERVICES * 1e6:.1f} µs per service)")

    # One VIP on kube-ipvs0 is enough for routing: IPVS looks services up by hash anyway.
    vip = base + 16 + N_SERVICES // 2
    dummy = t.node.devices["kube-ipvs0"]
    t.node.addr_add(dummy, vip, 32)
    client, world = t.client, t.world
    compared = []

    def send(sport: int) -> None:
        pkt = IPv4(parse_ip("10.0.1.2"), vip, IPPROTO_TCP, TCP(sport, 80, TH_SYN, 1))
        trace = world.new_trace("syn", "client", pkt, "syn")
        client.ip_local_out(pkt, trace)
        world.run()
        compared.append(sum(h.detail["compared"] for h in trace.hops if h.kind == "ipvs"))
        world.traces.clear()

    for sport in range(20000, 20050):  # warm up: ARP, caches
        send(sport)
    compared.clear()
    gc.collect()
    t0 = time.perf_counter()
    for k in range(PACKETS):
        send(21000 + k % 40000)
    per = (time.perf_counter() - t0) / PACKETS
    lookups = sorted(set(compared))
    print(f"ipvs: traced TCP SYN client → VIP → real server at {N_SERVICES} services: {per * 1e3:.3f} ms per packet "
          f"(target < {TARGET_MS} ms); IPVS lookups compared per packet: {lookups}")
    print(f"ipvs: connection entries after the run: {len(vs.conns)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
