"""Per-command limits in a classroom session: CPU time, output size, bursts of lines.

A line that uses more CPU than allowed is stopped (an exception raised in its thread by
a watchdog) and the world is put back as it was before the line — rebuilt by replay
without it — so a stopped command changes nothing, and a save still replays.
"""
from __future__ import annotations

import ctypes
import threading
import time
from collections import deque

from netlab.lab import Result
from netlab.serve.limits import Limits

BURST_WINDOW = 10.0
# The stop is raised again for every REFIRE s of CPU the line goes on using: Python ignores an
# exception raised inside a weakref callback or __del__ (the garbage collector runs them on
# whatever thread is allocating), so the first one can be lost and the line would run on.
REFIRE = 0.25


class CommandStopped(BaseException):
    """Raised inside a command's thread when it passes its CPU budget. A BaseException so
    the shell's catch-all for command bugs does not swallow it."""


class CommandGuard:
    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._recent: deque[float] = deque()

    def run(self, run, line: str) -> tuple[Result, tuple | None]:
        """Run `line` in `run` under the limits. Returns (result, replacement): when the
        line was stopped, replacement is the (lab, run) to continue with."""
        now = time.monotonic()
        while self._recent and now - self._recent[0] > BURST_WINDOW:
            self._recent.popleft()
        if len(self._recent) >= self.limits.burst:
            return Result(f"netlab: slow down: this classroom allows {self.limits.burst} lines in "
                          f"{int(BURST_WINDOW)} s\n", 1), None
        self._recent.append(now)
        if getattr(run, "shared", False):  # the hub runs shared lines; only output is capped here
            return self._cap(run.sh(line)), None
        history_before = len(run.lab.session.history)
        watchdog = _Watchdog(threading.get_ident(), self.limits.cpu_per_command)
        watchdog.start()
        try:
            try:
                result = run.sh(line)
            finally:
                watchdog.finish()
        except CommandStopped:
            watchdog.finish()  # again: the stop may have landed inside the first call
            from netlab.save import rewind

            replacement = rewind(run, history_before)
            replacement[1].solved = run.solved
            return Result(f"netlab: stopped: `{line}` used more than {self.limits.cpu_per_command:g} s of CPU "
                          f"(this classroom's limit); nothing was changed\n", 1), replacement
        return self._cap(result), None

    def _cap(self, result: Result) -> Result:
        limit = self.limits.max_output
        data = result.output.encode()
        if len(data) <= limit:
            return result
        cut = data[:limit].decode(errors="ignore")
        cut = cut[: cut.rfind("\n") + 1] or cut
        note = f"netlab: output cut at {limit} bytes (this classroom's limit)\n"
        return Result(cut + note, result.exit_code, result.traces)


class _Watchdog(threading.Thread):
    """Polls the command thread's CPU clock; past the budget, raises CommandStopped in it."""

    def __init__(self, ident: int, budget: float) -> None:
        super().__init__(name="netlab-watchdog", daemon=True)
        self.target = ident
        self.budget = budget
        self.stopped = threading.Event()
        self.clock = time.pthread_getcpuclockid(ident)
        self.start_cpu = time.clock_gettime(self.clock)
        self._done = threading.Event()
        self._fired = threading.Lock()

    def run(self) -> None:
        limit = self.budget
        while not self._done.wait(0.05):
            try:
                used = time.clock_gettime(self.clock) - self.start_cpu
            except OSError:
                return  # the thread is gone
            if used > limit:
                with self._fired:
                    if self._done.is_set():
                        return
                    self.stopped.set()
                    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(self.target),
                                                               ctypes.py_object(CommandStopped))
                limit = used + REFIRE  # still running after another REFIRE s of CPU: it was lost

    def finish(self) -> None:
        with self._fired:
            self._done.set()
        if self.stopped.is_set():
            # The exception may still be pending if the command ended just as it fired: clear it.
            ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(self.target), None)
