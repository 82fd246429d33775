"""Lab build time for 2, 20 and 100 nodes with 30 pods per node (flannel VXLAN, one
Deployment). Target: 100 nodes x 30 pods built in < 2 s."""
from __future__ import annotations

import gc
import os
import statistics
import sys
import time

from labgen import lab_yaml

SIZES = [int(s) for s in os.environ.get("BENCH_SIZES", "2,20,100").split(",")]
PODS_PER_NODE = 30
TARGET_100 = 2.0


def runs_for(nodes: int) -> int:
    return 7 if nodes <= 20 else 3


def build_once(text: str) -> tuple[float, float, object]:
    from netlab.lab import Lab
    from netlab.spec import load_lab_spec

    gc.collect()
    t0 = time.process_time()
    spec = load_lab_spec(text)
    t1 = time.process_time()
    lab = Lab(spec)
    t2 = time.process_time()
    return t1 - t0, t2 - t1, lab


def main() -> None:
    import netlab.lab  # noqa: F401 - imports are not part of a build

    print(f"lab build (process CPU time, median; {PODS_PER_NODE} pods per node)")
    print(f"{'nodes':>6} {'pods':>6} {'namespaces':>10} {'routes':>8}   {'parse':>9} {'build':>9} {'total':>9}")
    for nodes in SIZES:
        text = lab_yaml(nodes, PODS_PER_NODE)
        results = [build_once(text) for _ in range(runs_for(nodes))]
        parse = statistics.median(r[0] for r in results)
        build = statistics.median(r[1] for r in results)
        total = statistics.median(r[0] + r[1] for r in results)
        lab = results[-1][2]
        pods = len(lab.cluster.pod_ns)
        if pods != nodes * PODS_PER_NODE:
            sys.exit(f"expected {nodes * PODS_PER_NODE} pods, got {pods}")
        routes = sum(len(ns.fib.all_routes()) for ns in lab.world.namespaces.values())
        note = ""
        if nodes == 100:
            note = f"   target < {TARGET_100:.0f} s: {'OK' if total < TARGET_100 else 'MISSED'}"
        print(f"{nodes:>6} {pods:>6} {len(lab.world.namespaces):>10} {routes:>8}   "
              f"{parse * 1000:>7.1f}ms {build * 1000:>7.1f}ms {total * 1000:>7.1f}ms{note}")


if __name__ == "__main__":
    main()
