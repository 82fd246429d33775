"""The classroom under load: 1, 10 and 30 simultaneous SSH sessions on this machine.

For each size: a real `netlab serve` on a loopback port, N asyncssh clients with a PTY
(rendered by pyte, as a trainee's terminal would), all connecting at once. Prints
- time to first frame: connect → the title screen is on the client's screen;
- keystroke-to-screen latency: every session in the sandbox, all typing at once at a
  brisk human pace (8 keys/s each, jittered); a key counts from the moment it is sent
  until the client's screen shows it in the prompt line;
- memory per session: PSS of each session's process (/proc/PID/smaps_rollup; shared
  pages are split among the processes sharing them, so the sum is the real cost) and
  its RSS for comparison.
Targets (issue 7): 30 sessions with p95 keystroke echo under 100 ms and under 80 MB each.

    .venv/bin/python benchmarks/bench_serve.py [SIZES...]      # default: 1 10 30
"""
from __future__ import annotations

import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "serve"))

from serverkit import PASSWORD, start_server, stop_server, write_roster
from sshterm import Trainee

KEYS_PER_SESSION = 24
PACE = 1 / 8  # seconds between keys of one session


def _children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry))
    return out


def _memory(pid: int) -> tuple[float, float]:
    """(PSS, RSS) in MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value = line.split(":", 1)
        fields[name] = int(value.split()[0])
    return fields["Pss"] / 1024, fields["Rss"] / 1024


async def _session(port: int, user: str, first_frames: list, echo: list, ready: asyncio.Barrier) -> None:
    t0 = time.perf_counter()
    trainee = await Trainee.connect(port, user, password=PASSWORD, cols=120, rows=36)
    await trainee.wait_for("where does this packet go", timeout=120)
    first_frames.append(time.perf_counter() - t0)
    trainee.press("down")
    trainee.press("enter")  # Sandbox
    await trainee.wait_for("root@", timeout=180)
    await trainee.settle(0.5, timeout=30)
    await ready.wait()
    await asyncio.sleep(random.random() * PACE)
    typed = ""
    prompt = "root@192.168.0.21:~# "
    for i in range(KEYS_PER_SESSION):
        key = "abcdefghijklmnopqrstuvwxyz"[i % 26]
        typed += key
        sent = time.perf_counter()
        trainee.type(key)
        needle = prompt + typed
        while needle not in trainee.text:
            trainee.term.changed.clear()
            try:
                await asyncio.wait_for(trainee.term.changed.wait(), 5)
            except TimeoutError:
                break
        echo.append(time.perf_counter() - sent)
        await asyncio.sleep(PACE * random.uniform(0.5, 1.5))
    await trainee.close()


async def _run(port: int, users: list[str], server_pid: int) -> dict:
    first_frames: list[float] = []
    echo: list[float] = []
    ready = asyncio.Barrier(len(users) + 1)
    tasks = [asyncio.create_task(_session(port, u, first_frames, echo, ready)) for u in users]
    await ready.wait()  # every session is in the sandbox: measure memory, then they type
    launcher = _children(server_pid)
    sessions = [pid for parent in launcher for pid in _children(parent)]
    memory = [_memory(pid) for pid in sessions]
    await asyncio.gather(*tasks)
    return {"first": first_frames, "echo": echo, "memory": memory}


def _pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main(sizes: list[int]) -> int:
    random.seed(7)
    print(f"classroom: {os.cpu_count()} CPUs; each session goes to the sandbox, then types "
          f"{KEYS_PER_SESSION} keys at ~{1 / PACE:.0f}/s")
    print(f"{'sessions':>8}  {'first frame p50/max':>20}  {'echo p50':>9}  {'echo p95':>9}  {'echo max':>9}"
          f"  {'PSS/session':>12}  {'RSS/session':>12}")
    for n in sizes:
        with tempfile.TemporaryDirectory(prefix="nlserve-bench-") as tmp:
            tmp = Path(tmp)
            users = [f"t{i:02d}" for i in range(n)]
            write_roster(tmp, {u: {} for u in users})
            proc, port = start_server(tmp, "--sessions-per-user", "2", "--max-sessions", str(max(40, n)),
                                      "--burst", "1000")
            try:
                result = asyncio.run(_run(port, users, proc.pid))
            finally:
                stop_server(proc)
        first, echo, memory = result["first"], result["echo"], result["memory"]
        pss = statistics.mean(m[0] for m in memory) if memory else float("nan")
        rss = statistics.mean(m[1] for m in memory) if memory else float("nan")
        print(f"{n:>8}  {statistics.median(first) * 1000:>9.0f} / {max(first) * 1000:>5.0f} ms"
              f"  {_pct(echo, 50) * 1000:>6.1f} ms  {_pct(echo, 95) * 1000:>6.1f} ms  {max(echo) * 1000:>6.1f} ms"
              f"  {pss:>9.1f} MB  {rss:>9.1f} MB", flush=True)
    print("targets: 30 sessions, p95 echo < 100 ms, < 80 MB per session")
    return 0


if __name__ == "__main__":
    sys.exit(main([int(a) for a in sys.argv[1:]] or [1, 10, 30]))
