"""Levels: level files (levels/*.yaml), objectives proved with real packets, hints,
scoring and per-user progress.

The API the TUI calls:

    from netlab.levels import list_levels, load_level
    for level in list_levels(): level.id, level.spec.chapter, level.spec.title
    level = load_level("cross-node-route")       # by id (or a path to a level file)
    lab, run = level.start()                      # Lab with faults injected, LevelRun
    run.sh(line) -> Result                        # the learner's line (forbidden ones refused)
    run.check() -> list[ObjectiveResult]          # .passed, .detail, .hop (first drop), .trace
    run.hint() -> str | None
    run.score() -> Score                          # .solved .changes .par .hints_used .seconds .stars
    load_progress() -> {level id: {...}}

Errors are values or one-line exceptions: SourceError (bad level file, `FILE:LINE:`),
LevelError (a level that cannot be set up).
"""
from __future__ import annotations

import glob
import os

from netlab.levels.objectives import Objective, ObjectiveError, ObjectiveResult
from netlab.levels.progress import load_progress
from netlab.levels.run import Level, LevelError, LevelRun, Score, Setup, start_sandbox
from netlab.levels.spec import LevelSpec, levels_dir, load_level_file
from netlab.yamlsrc import SourceError

__all__ = ["Level", "LevelError", "LevelRun", "LevelSpec", "Objective", "ObjectiveError", "ObjectiveResult", "Score",
           "Setup", "SourceError", "level_files", "list_levels", "load_level", "load_progress", "start_sandbox"]


def level_files(directory: str | None = None) -> list[str]:
    """Every level file (levels/*.yaml; lab files live in levels/labs/)."""
    return sorted(glob.glob(os.path.join(directory or levels_dir(), "*.yaml")))


def _compile(spec: LevelSpec) -> Level:
    try:
        return Level(spec)
    except ObjectiveError as err:
        line = next((o.line for o in spec.objectives if o.text in str(err)), None)
        raise SourceError(spec.source, line, str(err)) from None


def list_levels(directory: str | None = None) -> list[Level]:
    """All levels, by chapter then file name. A broken level file raises SourceError."""
    levels = [_compile(load_level_file(path)) for path in level_files(directory)]
    return sorted(levels, key=lambda lv: (lv.spec.chapter, os.path.basename(lv.spec.source)))


def load_level(id_or_path: str, directory: str | None = None) -> Level:
    """A level by id, or by the path of its file. Raises SourceError when there is none."""
    if os.path.exists(id_or_path) and id_or_path.endswith((".yaml", ".yml")):
        return _compile(load_level_file(id_or_path))
    for path in level_files(directory):
        spec = load_level_file(path)
        if spec.id == id_or_path:
            return _compile(spec)
    raise SourceError(directory or levels_dir(), None, f"no level with id \"{id_or_path}\" (see `netlab levels`)")
