"""Progress per user: one small JSON file of best scores per level.

It lives in the user's data directory ($XDG_DATA_HOME/netlab/progress.json, usually
~/.local/share/netlab/), or under $NETLAB_DATA_DIR when set (tests and classrooms point
it elsewhere). Written atomically, like saves; an unreadable file counts as no progress
rather than stopping the game.
"""
from __future__ import annotations

import json
import os
import tempfile


def data_dir() -> str:
    env = os.environ.get("NETLAB_DATA_DIR")
    if env:
        return env
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(base, "netlab")


def progress_path() -> str:
    return os.path.join(data_dir(), "progress.json")


def load_progress() -> dict[str, dict]:
    """{level id: {"solved": bool, "best_changes": int, "hints_used": int, "seconds": float, "stars": int}}"""
    try:
        with open(progress_path(), encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return {}
    levels = data.get("levels") if isinstance(data, dict) else None
    return levels if isinstance(levels, dict) else {}


def record(level_id: str, score) -> dict:
    """Keep the better of the stored and the new result for one level."""
    levels = load_progress()
    old = levels.get(level_id) or {}
    new = {"solved": bool(score.solved), "best_changes": score.changes, "hints_used": score.hints_used,
           "seconds": score.seconds, "stars": score.stars}
    if old.get("solved") and (old.get("stars", 0), -old.get("best_changes", 0)) >= (new["stars"], -new["best_changes"]):
        return old
    levels[level_id] = new
    path = progress_path()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".progress-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"version": 1, "levels": levels}, fh, indent=1, sort_keys=True)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return new
