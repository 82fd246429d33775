"""Cold start: `netlab exec -- true` in a fresh process (wall time and the child's CPU time),
and the in-process time to build the default lab. Target: default lab ready in < 0.3 s of
process time."""
from __future__ import annotations

import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = int(os.environ.get("BENCH_RUNS", "15"))
TARGET_CPU = 0.3


def netlab_command() -> list[str]:
    beside = Path(sys.executable).with_name("netlab")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("netlab")
    return [found] if found else [sys.executable, "-m", "netlab"]


def cold_start(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, child CPU seconds) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.decode().strip()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def in_process_build(runs: int) -> tuple[float, float]:
    """(import seconds, median Lab.default() seconds), both process CPU time."""
    t0 = time.process_time()
    from netlab import Lab

    Lab.default()  # the first build also imports what Lab imports lazily (shell, apps)
    imported = time.process_time() - t0
    times = []
    for _ in range(runs):
        t = time.process_time()
        Lab.default()
        times.append(time.process_time() - t)
    return imported, statistics.median(times)


def environments(cache_dir: str) -> list[tuple[str, dict[str, str]]]:
    """With a bytecode cache (as after `pip install`, or any second run), kept out of the
    source tree with PYTHONPYCACHEPREFIX; and without one (PYTHONDONTWRITEBYTECODE=1:
    every module compiled on every start), which is how some CI machines run."""
    cached = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    cached["PYTHONPYCACHEPREFIX"] = cache_dir
    uncached = {k: v for k, v in os.environ.items() if k != "PYTHONPYCACHEPREFIX"}
    uncached["PYTHONDONTWRITEBYTECODE"] = "1"
    return [("with bytecode cache", cached), ("no bytecode cache", uncached)]


def main() -> None:
    cmd = netlab_command() + ["exec", "--", "true"]
    shown = " ".join(Path(c).name if i == 0 else c for i, c in enumerate(cmd))
    print(f"cold start: {shown}  (median of {RUNS} runs; target < {TARGET_CPU * 1000:.0f} ms process CPU)")
    with tempfile.TemporaryDirectory(prefix="netlab-pyc-") as cache_dir:
        for label, env in environments(cache_dir):
            cold_start(cmd, env)  # warm the page cache (and write the bytecode cache): a cold process, not a cold disk
            runs = [cold_start(cmd, env) for _ in range(RUNS)]
            wall = statistics.median(r[0] for r in runs)
            cpu = statistics.median(r[1] for r in runs)
            verdict = "OK" if cpu < TARGET_CPU else "MISSED"
            print(f"  {label:<20} wall {wall * 1000:7.1f} ms   process CPU {cpu * 1000:7.1f} ms   {verdict}")
    imported, build = in_process_build(RUNS)
    print("in process:")
    print(f"  import + first Lab.default()  {imported * 1000:8.1f} ms CPU")
    print(f"  Lab.default() (warm imports)  {build * 1000:8.1f} ms CPU   (median of {RUNS})")


if __name__ == "__main__":
    main()
