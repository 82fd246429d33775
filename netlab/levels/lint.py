"""The level linter: every level is broken at the start and fixable.

For each level file it proves, with real traffic:
  - the file parses and its objectives compile;
  - the faults inject cleanly (each fault line exits 0);
  - at least one objective fails at the start (the level is not already solved);
  - the reference solution runs cleanly and then every objective passes;
  - no solution line uses a forbidden action;
  - the solution makes no more changes than par.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from netlab.levels.changes import forbidden, is_change
from netlab.levels.objectives import check_all
from netlab.levels.run import Level, LevelError, run_steps
from netlab.yamlsrc import SourceError


@dataclass
class LintReport:
    source: str
    level_id: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def lint_level(level: Level) -> LintReport:
    spec = level.spec
    report = LintReport(spec.source, spec.id)
    for step in spec.solution:
        pattern = forbidden(step.run, spec.forbid) if step.run else None
        if pattern is not None:
            report.problems.append(f"{spec.source}:{step.line}: solution line `{step.run}` uses forbidden `{pattern}`")
    changes = sum(1 for step in spec.solution if step.run and is_change(step.run))
    if changes > spec.par:
        report.problems.append(f"{spec.source}:{spec.solution_line}: the solution makes {changes} changes, over par {spec.par}")
    try:
        lab, run = level.start()
    except (LevelError, SourceError) as err:
        report.problems.append(f"{spec.source}: faults: {err}")
        return report
    before = check_all(lab, level.objectives)
    if all(r.passed for r in before):
        report.problems.append(f"{spec.source}: every objective already passes before any fix")
    try:
        run_steps(lab, spec.solution)
    except LevelError as err:
        report.problems.append(f"{spec.source}: solution: {err}")
        return report
    for result, objective in zip(check_all(lab, level.objectives), spec.objectives):
        if not result.passed:
            report.problems.append(f"{spec.source}:{objective.line}: after the solution, `{result.text}` fails: {result.detail}")
    return report


def lint_files(paths: list[str]) -> list[LintReport]:
    """Lint level files; duplicate ids are a problem too."""
    from netlab.levels import _compile
    from netlab.levels.spec import load_level_file

    reports, seen = [], {}
    for path in paths:
        try:
            level = _compile(load_level_file(path))
        except SourceError as err:
            reports.append(LintReport(path, problems=[str(err)]))
            continue
        report = lint_level(level)
        if level.id in seen:
            report.problems.append(f"{path}: id \"{level.id}\" is also used by {seen[level.id]}")
        seen[level.id] = path
        reports.append(report)
    return reports
