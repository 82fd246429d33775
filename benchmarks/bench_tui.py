"""The TUI as a person meets it, through a real terminal (tmux): time to first frame of
`netlab sandbox`, and keystroke-to-screen latency while typing into the shell.

Measured end to end (tmux send-keys → the character appears in capture-pane), so the
figures include tmux's own latency and the polling interval (1 ms): they are upper bounds.
Targets (issue 6): first frame < 1 s; repaint within one frame (16 ms) at the 95th percentile.

    .venv/bin/python benchmarks/bench_tui.py
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NETLAB = os.path.join(ROOT, ".venv", "bin", "netlab")
SESSION = f"nlbench{os.getpid()}"


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, check=False).stdout


def screen() -> str:
    return tmux("capture-pane", "-t", SESSION, "-p")


def wait_for(predicate, timeout: float = 20.0, poll: float = 0.001) -> float | None:
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        if predicate(screen()):
            return time.perf_counter() - t0
        time.sleep(poll)
    return None


def main() -> int:
    if shutil.which("tmux") is None:
        print("tmux not installed: skipped (apt-get install tmux)")
        return 0
    env = "TEXTUAL_ANIMATIONS=none"
    try:
        for size in ((80, 24), (200, 50)):
            tmux("kill-session", "-t", SESSION)
            t0 = time.perf_counter()
            tmux("new-session", "-d", "-s", SESSION, "-x", str(size[0]), "-y", str(size[1]), f"{env} {NETLAB} sandbox")
            first = wait_for(lambda s: "root@192.168.0.21:~#" in s)
            if first is None:
                print(f"{size[0]}x{size[1]}: no frame within 20 s")
                continue
            first = time.perf_counter() - t0
            time.sleep(0.5)
            latencies = []
            typed = ""
            for i in range(60):
                ch = "abcdefghij"[i % 10]
                typed += ch
                t1 = time.perf_counter()
                tmux("send-keys", "-t", SESSION, "-l", ch)
                lat = wait_for(lambda s, want=typed: want in s, timeout=2.0)
                if lat is not None:
                    latencies.append(time.perf_counter() - t1)
            latencies.sort()
            p50 = latencies[len(latencies) // 2] * 1000
            p95 = latencies[int(len(latencies) * 0.95) - 1] * 1000
            print(f"{size[0]:>3}x{size[1]:<3} first frame {first * 1000:7.1f} ms (target < 1000)   "
                  f"keystroke→screen p50 {p50:5.1f} ms  p95 {p95:5.1f} ms (target p95 < 16)   n={len(latencies)}")
    finally:
        tmux("kill-session", "-t", SESSION)
    return 0


if __name__ == "__main__":
    sys.exit(main())
