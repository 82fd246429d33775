"""Saves: a level run (or a sandbox) on disk, and back — exactly.

The engine is deterministic (seeded RNG streams, a simulated clock), so a save holds
what made the world rather than the world itself: the lab file text, the faults as they
were injected, and the learner's shell lines in order (the session's history, which also
rebuilds the context stack: `ssh` and `exit` are lines too), with clock advances and
external-editor texts at their places. Loading rebuilds and replays, then compares a
fingerprint of the world (netlab.save.fingerprint) with the one stored at save time and
refuses, naming what differs, if they disagree. Files are msgpack, versioned, checksummed
and written atomically (netlab.save.format).

The API the TUI calls:

    save(path, lab, run)                  write a save (atomically); returns path
    load(path, level=None) -> (lab, run)  rebuild; `level` defaults to the save's level id
    undo(run) -> (lab, run)               the same world minus the last change (a new Lab)
    rewind(run, n) -> (lab, run)          the world after the first n lines (a new Lab)
    quicksave(lab, run) / quickload(level_id)   one slot per level in the save dir
    autosave(lab, run)                    on exit and on completion: `<id>-auto.nlsave`
    save_dir() / set_save_dir(path)       `saves/` unless `--save-dir` or $NETLAB_SAVE_DIR
Every failure is a SaveError with one clear line; a failed save leaves the previous
file intact.
"""
from __future__ import annotations

import os
from datetime import datetime, timezone

from netlab.save.fingerprint import differences, fingerprint
from netlab.save.format import FORMAT, SaveError, decode, encode, read, write_atomic

__all__ = ["FORMAT", "SaveError", "autosave", "dumps", "fingerprint", "load", "loads", "quickload", "quicksave",
           "replay", "rewind", "save", "save_dir", "set_save_dir", "undo"]

EXTENSION = ".nlsave"
_save_dir: str | None = None


def save_dir() -> str:
    """Where quick saves and autosaves go: set_save_dir(), else $NETLAB_SAVE_DIR, else `saves/`."""
    return _save_dir or os.environ.get("NETLAB_SAVE_DIR") or "saves"


def set_save_dir(path: str | None) -> None:
    global _save_dir
    _save_dir = path


def _netlab_version() -> str:
    from netlab import __version__

    return __version__


def _level_id(run) -> str:
    return run.level.id if run.level is not None else ""


def save(path: str, lab, run) -> str:
    """Write `lab` as played in `run` to `path`, atomically. Returns the path."""
    write_atomic(path, dumps(lab, run))
    return path


def dumps(lab, run, *, check: bool = True) -> bytes:
    """A save as bytes (what `save` writes). `check=False` leaves out the world's
    fingerprint, which costs a walk of every table: a classroom session sends a blob
    after every line for watchers to replay, and a replay of the same lines in the same
    netlab is the same world."""
    setup = run.setup
    header = {"format": FORMAT, "netlab": _netlab_version(), "level": _level_id(run),
              "created": datetime.now(timezone.utc).replace(microsecond=0).isoformat()}
    body = {
        "lab_text": setup.lab_text, "lab_source": setup.lab_source,
        "steps": [[on, line, advance] for on, line, advance in setup.steps],
        "kube_proxy_paused": setup.kube_proxy_paused,
        "history": list(lab.session.history),
        "stack": [ctx.name for ctx in lab.session.stack],
        "advances": [[i, s] for i, s in run.advances],
        "edits": [[i, t] for i, t in run.edits],
        "injected": list(run.injected),
        "hints_used": run.hints_used, "seconds": run.seconds(), "solved": run.solved,
        "fingerprint": fingerprint(lab) if check else {},
    }
    return encode(header, body)


def replay(setup, history: list[str], advances=(), edits=(), on_line=None):
    """A new Lab: `setup` built, then every line of `history` run in one session, with
    clock advances and editor texts where they happened. `on_line(line, result)`, if
    given, sees each line's result (a watcher shows them)."""
    lab = setup.build()
    session = lab.session
    pending = sorted(advances, key=lambda a: a[0])
    by_line: dict[int, list] = {}
    for index, text in edits:
        by_line.setdefault(index, []).append(text)
    k = 0
    for i, line in enumerate(history):
        while k < len(pending) and pending[k][0] <= i:
            lab.world.advance(pending[k][1])
            lab.cluster.tick()
            k += 1
        queue = by_line.get(i, [])
        session.external_editor = lambda _text, q=queue: q.pop(0) if q else None
        result = session.run(line)
        if on_line is not None:
            on_line(line, result)
    for _, seconds in pending[k:]:
        lab.world.advance(seconds)
        lab.cluster.tick()
    session.__dict__.pop("external_editor", None)  # the caller installs its own editor
    return lab


def load(path: str, level=None):
    """(lab, run) from a save file. `level` (a netlab.levels.Level) grades the run; by
    default the level named in the save is looked up, and a sandbox save has none.
    Raises SaveError for a foreign, corrupt, newer or non-replaying file."""
    return loads(read(path), path, level)


def loads(data: bytes, path: str = "<save>", level=None, on_line=None):
    """`load` from bytes; `path` names the source in errors; `on_line` as for replay()."""
    from netlab.levels.run import LevelRun, Setup

    header, body = decode(data, path)
    try:
        setup = Setup(body["lab_text"], body.get("lab_source", "<lab>"),
                      tuple((on, line, float(adv)) for on, line, adv in body["steps"]), bool(body["kube_proxy_paused"]))
        history = [str(line) for line in body["history"]]
        advances = [(int(i), float(s)) for i, s in body.get("advances", [])]
        edits = [(int(i), t) for i, t in body.get("edits", [])]
        injected = [int(i) for i in body.get("injected", [])]
    except (KeyError, TypeError, ValueError) as err:
        raise SaveError(f"{path}: corrupt: missing or malformed field {err}") from None
    if level is None and header.get("level"):
        from netlab.levels import load_level
        from netlab.yamlsrc import SourceError

        try:
            level = load_level(header["level"])
        except SourceError:
            level = None  # the level is gone; the world still loads, as a sandbox
    try:
        lab = replay(setup, history, advances, edits, on_line)
    except SaveError:
        raise
    except Exception as err:  # a save that no longer rebuilds (a lab file error, a fault failing)
        raise SaveError(f"{path}: cannot rebuild the saved lab: {err}") from None
    stored = body.get("fingerprint") or {}
    if stored:
        diff = differences(stored, fingerprint(lab))
        if diff:
            shown = ", ".join(diff[:4]) + (f" and {len(diff) - 4} more" if len(diff) > 4 else "")
            raise SaveError(f"{path}: the replayed world differs from the saved one ({shown}); "
                            f"saved by netlab {header.get('netlab', '?')}, this is {_netlab_version()}")
    run = LevelRun(lab, level, setup, hints_used=int(body.get("hints_used", 0)), seconds=float(body.get("seconds", 0.0)),
                   advances=advances, edits=edits, injected=injected)
    run.solved = bool(body.get("solved", False))
    return lab, run


def undo(run):
    """(lab, run) for the same world minus the last state-changing line (reads after it
    are kept). A new Lab: the caller swaps it in. SaveError when there is nothing to undo."""
    from netlab.levels.changes import is_change

    history = run.lab.session.history
    injected = set(run.injected)  # an instructor's fault is not the learner's to undo
    last = next((i for i in range(len(history) - 1, -1, -1) if is_change(history[i]) and i not in injected), None)
    if last is None:
        raise SaveError("nothing to undo")
    return _without(run, {last})


def rewind(run, length: int):
    """(lab, run) as the world was after the first `length` lines of the run's history
    (a line stopped half way by a classroom limit is taken back this way)."""
    return _without(run, set(range(length, len(run.lab.session.history))))


def _without(run, dropped: set[int]):
    """The run replayed from its setup without the history lines at `dropped`: later
    indices (editor texts, clock advances, injected faults) move up to match."""
    from netlab.levels.run import LevelRun

    def shift(i: int) -> int:
        return i - sum(1 for d in dropped if d < i)

    edits = [(shift(i), t) for i, t in run.edits if i not in dropped]
    advances = [(shift(i), s) for i, s in run.advances]
    injected = [shift(i) for i in run.injected if i not in dropped]
    history = [line for i, line in enumerate(run.lab.session.history) if i not in dropped]
    lab = replay(run.setup, history, advances, edits)
    new = LevelRun(lab, run.level, run.setup, hints_used=run.hints_used, seconds=run.seconds(), advances=advances,
                   edits=edits, injected=injected)
    return lab, new


def _slot(level_id: str, kind: str, directory: str | None) -> str:
    return os.path.join(directory or save_dir(), f"{level_id or 'sandbox'}-{kind}{EXTENSION}")


def quicksave(lab, run, directory: str | None = None) -> str:
    """Save to the level's quick slot; returns the path."""
    return save(_slot(_level_id(run), "quick", directory), lab, run)


def quickload(level_id: str = "", directory: str | None = None):
    """(lab, run) from the level's quick slot (`""`: the sandbox's)."""
    return load(_slot(level_id, "quick", directory))


def autosave(lab, run, directory: str | None = None) -> str:
    """Save to the level's autosave slot (on exit, on completion); returns the path."""
    return save(_slot(_level_id(run), "auto", directory), lab, run)
