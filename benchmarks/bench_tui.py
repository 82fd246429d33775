"""The TUI as a person meets it, through a real terminal: time to first frame of
`netlab sandbox`, and keystroke-to-screen latency while typing into the shell with a
traced packet on the trace pane.

`netlab sandbox` runs on a pseudo-terminal of its own; this script is the terminal: it
writes each key to the PTY and reads the bytes back into a terminal emulator (pyte),
timing from the write until the key is on the emulated screen. No tmux in between, so
what is measured is netlab's own latency (Textual paints at most 60 frames a second,
so a key waits for the next frame: up to ~17 ms by design).
Targets (issue 6): first frame < 1 s; repaint within one frame (16 ms) at the 95th percentile.

    .venv/bin/python benchmarks/bench_tui.py
"""
from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import sys
import termios
import time

import pyte

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NETLAB = os.path.join(ROOT, ".venv", "bin", "netlab")
PROMPT = "root@192.168.0.21:~# "


class Terminal:
    def __init__(self, cols: int, rows: int) -> None:
        self.screen = pyte.Screen(cols, rows)
        self.stream = pyte.ByteStream(self.screen)
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.environ.update(TERM="xterm-256color", TEXTUAL_ANIMATIONS="none")
            os.execv(NETLAB, [NETLAB, "sandbox"])
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def text(self) -> str:
        return "\n".join(self.screen.display)

    def wait_for(self, needle: str, timeout: float = 20.0) -> float | None:
        """Seconds until `needle` is on screen, reading as bytes arrive; None on timeout."""
        t0 = time.perf_counter()
        while needle not in self.text():
            left = timeout - (time.perf_counter() - t0)
            if left <= 0:
                return None
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                try:
                    self.stream.feed(os.read(self.fd, 65536))
                except OSError:
                    return None
        return time.perf_counter() - t0

    def drain(self, quiet: float = 0.3) -> None:
        while select.select([self.fd], [], [], quiet)[0]:
            self.stream.feed(os.read(self.fd, 65536))

    def type(self, text: str) -> None:
        os.write(self.fd, text.encode())

    def close(self) -> None:
        try:
            os.kill(self.pid, signal.SIGTERM)
            os.waitpid(self.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        os.close(self.fd)


def measure(cols: int, rows: int) -> str:
    term = Terminal(cols, rows)
    try:
        t0 = time.perf_counter()
        if term.wait_for(PROMPT) is None:
            return f"{cols}x{rows}: no frame within 20 s"
        first = time.perf_counter() - t0
        term.type("trace 192.168.0.21 172.30.9.2\r")  # a packet on the trace pane while we type
        term.wait_for("delivered", 10)
        term.drain()
        latencies = []
        typed = ""
        for i in range(60):
            key = "abcdefghij"[i % 10]
            typed += key
            sent = time.perf_counter()
            term.type(key)
            if term.wait_for(PROMPT + typed, 2.0) is not None:
                latencies.append(time.perf_counter() - sent)
            time.sleep(0.03)
            term.drain(0.0)
        latencies.sort()
        p50 = latencies[len(latencies) // 2] * 1000
        p95 = latencies[int(len(latencies) * 0.95) - 1] * 1000
        return (f"{cols:>3}x{rows:<3} first frame {first * 1000:7.1f} ms (target < 1000)   "
                f"keystroke→screen p50 {p50:5.1f} ms  p95 {p95:5.1f} ms (target p95 < 16)   n={len(latencies)}")
    finally:
        term.close()


def main() -> int:
    for cols, rows in ((80, 24), (200, 50)):
        print(measure(cols, rows), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
