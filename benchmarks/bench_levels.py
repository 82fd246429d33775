"""Time to load each level (lab built, faults injected) and to check its objectives with real
packets. Target (issue 6): a level ready in under 0.5 s.

    .venv/bin/python benchmarks/bench_levels.py
"""
from __future__ import annotations

import time

from netlab.levels import list_levels


def main() -> None:
    t0 = time.perf_counter()
    levels = list_levels()
    print(f"{len(levels)} levels listed in {(time.perf_counter() - t0) * 1000:.0f} ms")
    for level in levels:
        starts = []
        for _ in range(3):  # the first start also pays for imports; report the best of 3
            t0 = time.perf_counter()
            lab, run = level.start()
            starts.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        results = run.check()
        check = time.perf_counter() - t0
        print(f"{level.spec.id:<22} ready {min(starts) * 1000:6.1f} ms (target < 500)   "
              f"objectives checked {check * 1000:6.1f} ms ({len(results)} objectives)")


if __name__ == "__main__":
    main()
