"""A level being played: the Lab the learner changes, and the LevelRun that watches.

    level = load_level("cross-node-route")
    lab, run = level.start()
    run.sh("ssh 192.168.0.21 ip route add 172.30.0.0/16 dev flannel.1")
    results = run.check()          # [ObjectiveResult], real packets, on a copy of the lab
    run.hint()                     # the next progressive hint (counted)
    run.score()                    # Score(solved, changes, par, hints_used, seconds)

A sandbox (no level) is a LevelRun with `level=None`: `start_sandbox(lab_path)`. Saves
(netlab.save) store a run's Setup plus `lab.session.history`, and rebuild by replay.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from netlab.lab import Lab, Result, load_lab_spec_text
from netlab.levels.changes import forbidden, is_change
from netlab.levels.objectives import Objective, ObjectiveResult, check_all
from netlab.levels.refs import RefError, context_name, expand
from netlab.levels.spec import LevelSpec, Step


class LevelError(Exception):
    """A level that cannot be set up (a fault line failed, a reference names nothing)."""


@dataclass(frozen=True)
class Setup:
    """Everything needed to rebuild a level's starting world, with references already
    expanded: the lab file text, the fault lines as run (context, line) and clock
    advances, and whether kube-proxy is held paused. Saves store this, so a save does not
    depend on the level file staying the same."""

    lab_text: str
    lab_source: str = "<lab>"
    steps: tuple[tuple[str | None, str, float], ...] = ()  # (context, line, advance seconds)
    kube_proxy_paused: bool = False

    def build(self) -> Lab:
        """A fresh Lab with the faults applied; `lab.session` is new and its history empty."""
        lab = Lab(load_lab_spec_text(self.lab_text, self.lab_source))
        if self.kube_proxy_paused:
            for kp in lab.cluster.kube_proxies.values():
                kp.paused = True
        for on, line, advance in self.steps:
            if advance:
                lab.world.advance(advance)
                lab.cluster.tick()
                continue
            result = lab.sh(line, on=on)
            if not result.ok:
                where = f" on {on}" if on else ""
                raise LevelError(f"fault `{line}`{where} failed (exit {result.exit_code}): {result.output.strip()}")
        lab.world.take_traces()
        return lab


def run_steps(lab: Lab, steps: tuple[Step, ...]) -> list[tuple[str | None, str, float]]:
    """Expand and run level steps (faults or a solution) on `lab`; returns them as run.
    Raises LevelError naming the step that failed."""
    done = []
    for step in steps:
        if step.advance:
            lab.world.advance(step.advance)
            lab.cluster.tick()
            done.append((None, "", step.advance))
            continue
        try:
            on = context_name(lab, expand(lab, step.on)) if step.on else None
            line = expand(lab, step.run)
        except RefError as err:
            raise LevelError(f"line {step.line}: {err}") from None
        result = lab.sh(line, on=on)
        if not result.ok:
            where = f" on {on}" if on else ""
            raise LevelError(f"line {step.line}: `{line}`{where} failed (exit {result.exit_code}): "
                             f"{result.output.strip()[:200]}")
        done.append((on, line, 0.0))
    lab.world.take_traces()
    return done


@dataclass
class Score:
    """`changes` counts state-changing lines (netlab.levels.changes); `seconds` is wall-clock
    play time, summed over sessions (the simulated clock barely moves while someone
    thinks, so it says nothing about effort)."""

    solved: bool
    changes: int
    par: int
    hints_used: int
    seconds: float

    @property
    def stars(self) -> int:
        """3: solved at or under par with no hints; 2: within par+2 or one hint; 1: solved."""
        if not self.solved:
            return 0
        if self.changes <= self.par and self.hints_used == 0:
            return 3
        if self.changes <= self.par + 2 and self.hints_used <= 1:
            return 2
        return 1


class Level:
    """A parsed level file with its objectives compiled; `start()` builds a run."""

    def __init__(self, spec: LevelSpec) -> None:
        self.spec = spec
        self.objectives = [Objective(o.text) for o in spec.objectives]

    @property
    def id(self) -> str:
        return self.spec.id

    def start(self) -> tuple[Lab, "LevelRun"]:
        """Build the lab, inject the faults, and return (lab, run). Raises LevelError or
        SourceError with one clear line."""
        spec = self.spec
        lab = Setup(spec.lab_text, spec.lab_source, (), spec.kube_proxy_paused).build()
        steps = run_steps(lab, spec.faults)
        setup = Setup(spec.lab_text, spec.lab_source, tuple(steps), spec.kube_proxy_paused)
        return lab, LevelRun(lab, self, setup)


class LevelRun:
    """The learner's progress in one level (or sandbox when `level` is None).

    Every line the learner types should go through `sh()` (or `lab.session.run`, which
    `sh()` wraps): the session's history *is* the record of what was done — scoring
    counts changes in it, saves replay it, undo drops its last change.
    """

    def __init__(self, lab: Lab, level: Level | None, setup: Setup, *, hints_used: int = 0,
                 seconds: float = 0.0, advances: list[tuple[int, float]] | None = None,
                 edits: list[tuple[int, str | None]] | None = None, injected: list[int] | None = None) -> None:
        self.lab = lab
        self.level = level
        self.setup = setup
        self.hints_used = hints_used
        self.advances: list[tuple[int, float]] = advances or []  # (len(history) at the time, seconds)
        self.edits: list[tuple[int, str | None]] = edits or []  # (history index, text the editor returned)
        self.injected: list[int] = injected or []  # history indices of faults an instructor injected
        self._seconds_before = seconds
        self._started = time.monotonic()
        self.last_results: list[ObjectiveResult] = []
        self.solved = False

    # -- playing ---------------------------------------------------------------
    def sh(self, line: str) -> Result:
        """Run one line in the learner's session (context stack and history kept).
        A forbidden line is refused without running and is not recorded.

        What an external editor (`session.external_editor`, the TUI's YAML editor for
        `kubectl edit`) returns during the line is recorded too, so a save replays it."""
        if self.level is not None and self.level.spec.forbid:
            pattern = forbidden(line, self.level.spec.forbid)
            if pattern is not None:
                return Result(f"netlab: not in this level: `{pattern}` is forbidden\n", 1)
        session = self.lab.session
        editor = getattr(session, "external_editor", None)
        if editor is None:
            return session.run(line)
        index = len(session.history)

        def recording(text: str) -> str | None:
            result = editor(text)
            self.edits.append((index, result))
            return result

        session.external_editor = recording
        try:
            return session.run(line)
        finally:
            session.external_editor = editor

    def advance(self, seconds: float) -> None:
        """Let simulated time pass (neighbour entries age, kube-proxy resyncs); recorded
        so a save replays it at the same point."""
        self.advances.append((len(self.lab.session.history), seconds))
        self.lab.world.advance(seconds)
        self.lab.cluster.tick()

    def check(self) -> list[ObjectiveResult]:
        """Check every objective with real packets on a copy of the lab (the learner's
        world is left untouched). Marks the run solved, and records progress, the first
        time all pass. Empty in a sandbox."""
        if self.level is None:
            return []
        self.last_results = check_all(self.lab, self.level.objectives)
        if all(r.passed for r in self.last_results) and not self.solved:
            self.solved = True
            from netlab.levels.progress import record

            try:
                record(self.level.id, self.score())
            except OSError:
                pass  # progress is a nicety: a read-only home must not break the game
        return self.last_results

    def hint(self) -> str | None:
        """The next hint, gentlest first (counted in the score); None when none are left."""
        hints = self.level.spec.hints if self.level is not None else ()
        if self.hints_used >= len(hints):
            return None
        self.hints_used += 1
        return hints[self.hints_used - 1]

    def changes(self) -> int:
        """State-changing lines so far (netlab.levels.changes.is_change over the history)."""
        injected = set(self.injected)
        return sum(1 for i, line in enumerate(self.lab.session.history) if is_change(line) and i not in injected)

    def inject(self, line: str) -> Result:
        """A fault from outside (a classroom instructor): run in the learner's session so a
        save replays it at its place, but not counted as the learner's change."""
        self.injected.append(len(self.lab.session.history))
        return self.lab.session.run(line)

    def seconds(self) -> float:
        return self._seconds_before + time.monotonic() - self._started

    def score(self) -> Score:
        par = self.level.spec.par if self.level is not None else 0
        return Score(self.solved, self.changes(), par, self.hints_used, round(self.seconds(), 1))


def start_sandbox(lab_path: str | None = None) -> tuple[Lab, LevelRun]:
    """A lab with no level: the default lab, or a lab file. Saves and undo work the same."""
    from netlab.spec import default_lab_text

    if lab_path is None:
        text, source = default_lab_text(), "default-lab.yaml"
    else:
        from netlab.yamlsrc import SourceError

        try:
            with open(lab_path, encoding="utf-8") as fh:
                text, source = fh.read(), lab_path
        except OSError as err:
            raise SourceError(lab_path, None, err.strerror or str(err)) from None
    setup = Setup(text, source)
    lab = setup.build()
    return lab, LevelRun(lab, None, setup)
