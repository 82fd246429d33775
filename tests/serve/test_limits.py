"""Per-line limits in a classroom session (netlab.serve.guard), without SSH: a real
LevelRun, the guard in front of it, and what a trainee would read back."""
from __future__ import annotations

import ctypes
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from netlab.levels import load_level, start_sandbox
from netlab.save.fingerprint import fingerprint
from netlab.serve import guard as guard_module
from netlab.serve.guard import CommandGuard
from netlab.serve.limits import Limits

SERVICE = "10.254.80.22:80"  # business-manager in the default lab
HEAVY = f"repeat 10000 curl -s {SERVICE}"  # ~1.7 ms of CPU a curl: far more than a second


@pytest.fixture(scope="module")
def sandbox_text():
    """One full `iptables-save` of the default lab: long output, the same every time."""
    _lab, run = start_sandbox(None)
    return run.sh("iptables-save").output


class Clock:
    """The guard module's `time`, with a monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def __getattr__(self, name):
        return getattr(time, name)


# -- output size ---------------------------------------------------------------
def test_output_over_the_limit_is_cut_at_a_line_end_with_a_note(sandbox_text):
    assert len(sandbox_text.encode()) > 4000
    _lab, run = start_sandbox(None)
    result, replacement = CommandGuard(Limits(max_output=1000)).run(run, "iptables-save")
    assert replacement is None
    note = "netlab: output cut at 1000 bytes (this classroom's limit)\n"
    assert result.output.endswith(note)
    kept = result.output[: -len(note)]
    assert kept and kept.endswith("\n") and len(kept.encode()) <= 1000
    assert sandbox_text.startswith(kept)
    assert len(kept.encode()) > 1000 - len(max(sandbox_text.splitlines(), key=len)) - 1  # cut at the last whole line
    assert result.exit_code == 0


def test_output_within_the_limit_is_untouched(sandbox_text):
    _lab, run = start_sandbox(None)
    limit = len(sandbox_text.encode())
    result, replacement = CommandGuard(Limits(max_output=limit)).run(run, "iptables-save")
    assert (result.output, replacement) == (sandbox_text, None)


# -- bursts --------------------------------------------------------------------
def test_a_burst_of_lines_is_refused_without_running_and_frees_up_after_ten_seconds(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(guard_module, "time", clock)
    _lab, run = start_sandbox(None)
    guard = CommandGuard(Limits(burst=3))
    for _ in range(3):
        result, _ = guard.run(run, "hostname")
        assert result.exit_code == 0
        clock.now += 1.0
    history = list(run.lab.session.history)
    result, replacement = guard.run(run, "ip route add 10.99.0.0/16 dev eth0")
    assert (result.output, result.exit_code, replacement) == (
        "netlab: slow down: this classroom allows 3 lines in 10 s\n", 1, None)
    assert run.lab.session.history == history  # the refused line never ran
    assert "10.99.0.0/16" not in run.sh("ip route").output
    clock.now += 5.0  # 8 s after the first line: still three in the window
    assert guard.run(run, "hostname")[0].exit_code == 1
    clock.now += 2.5  # the first line is now 10.5 s old: one slot is free, and only one
    assert guard.run(run, "hostname")[0].exit_code == 0
    assert guard.run(run, "hostname")[0].output.startswith("netlab: slow down")


# -- CPU -----------------------------------------------------------------------
def test_a_line_over_the_cpu_budget_is_stopped_and_the_world_is_as_before_it():
    lab, run = start_sandbox(None)
    guard = CommandGuard(Limits(cpu_per_command=0.3))
    # Changes before the heavy line must survive the rollback (it replays them).
    for line in ("ip route add 10.99.0.0/16 dev eth0", "kubectl scale deployment data-product --replicas=1",
                 f"curl -s {SERVICE}"):
        result, replacement = guard.run(run, line)
        assert replacement is None, line
    before = fingerprint(lab)
    history = list(lab.session.history)
    with ThreadPoolExecutor(1) as pool:  # the TUI runs a line on a worker thread: so does this
        result, replacement = pool.submit(guard.run, run, HEAVY).result()
    assert result.exit_code == 1
    assert result.output == (f"netlab: stopped: `{HEAVY}` used more than 0.3 s of CPU "
                             f"(this classroom's limit); nothing was changed\n")
    assert replacement is not None
    new_lab, new_run = replacement
    assert new_run.lab is new_lab and new_lab is not lab
    assert new_lab.session.history == history  # the stopped line is not in the replacement's history
    assert fingerprint(new_lab) == before
    assert lab.session.history == history + [HEAVY]  # the abandoned world did take it, and changed:
    assert fingerprint(lab) != before  # (so the equality above is the rollback's doing)
    # The replacement plays on, under the same guard, and nothing fires late.
    result, replacement = guard.run(new_run, "ip route")
    assert replacement is None and result.exit_code == 0
    assert "10.99.0.0/16 dev eth0" in result.output
    assert new_run.changes() == 2


class LosesTheFirstStop:
    """guard's `ctypes`, except that the first stop raised in the command's thread is lost —
    as when it lands in a weakref callback or a __del__ that the garbage collector runs
    there (Python ignores exceptions in those; seen after the dashboard tests)."""

    def __init__(self) -> None:
        self.stops = 0
        self.pythonapi = self

    def PyThreadState_SetAsyncExc(self, ident, exc):
        if exc is not None:
            self.stops += 1
            if self.stops == 1:
                return 1
        return ctypes.pythonapi.PyThreadState_SetAsyncExc(ident, exc)

    def __getattr__(self, name):
        return getattr(ctypes, name)


def test_a_lost_stop_is_raised_again(monkeypatch):
    lossy = LosesTheFirstStop()
    monkeypatch.setattr(guard_module, "ctypes", lossy)
    lab, run = start_sandbox(None)
    before = fingerprint(lab)
    started = time.monotonic()
    with ThreadPoolExecutor(1) as pool:
        result, replacement = pool.submit(CommandGuard(Limits(cpu_per_command=0.3)).run, run, HEAVY).result()
    assert time.monotonic() - started < 15
    assert lossy.stops >= 2
    assert result.output.startswith(f"netlab: stopped: `{HEAVY}`")
    assert replacement is not None and fingerprint(replacement[0]) == before


def test_a_stopped_line_in_a_level_keeps_the_level_hints_and_progress():
    level = load_level("hairpin")
    lab, run = level.start()
    run.hint()
    guard = CommandGuard(Limits(cpu_per_command=0.2))
    before = fingerprint(lab)
    result, (new_lab, new_run) = guard.run(run, "repeat 10000 ip -d link show")
    assert result.output.startswith("netlab: stopped: `repeat 10000 ip -d link show`")
    assert new_run.level is level and new_run.hints_used == 1 and new_run.solved is False
    assert new_lab.session.history == [] and fingerprint(new_lab) == before


def test_a_line_under_the_cpu_budget_runs_normally():
    lab, run = start_sandbox(None)
    result, replacement = CommandGuard(Limits(cpu_per_command=5.0)).run(run, f"repeat 20 curl -s {SERVICE}")
    assert replacement is None and result.exit_code == 0
    assert result.output.endswith("repeat: 20 runs, 20 succeeded\n")
    assert lab.session.history == [f"repeat 20 curl -s {SERVICE}"]
