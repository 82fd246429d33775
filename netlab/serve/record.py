"""The session record: one JSON object per line, appended as things happen, so the file
is complete up to the last event even if the server is killed. `netlab serve report
FILE` prints it as a table: one row per trainee and level, how it ended."""
from __future__ import annotations

import json
import time
from dataclasses import dataclass


class Record:
    def __init__(self, path: str | None) -> None:
        self.path = path
        self._fh = open(path, "a", encoding="utf-8") if path else None

    def write(self, event: str, **fields) -> None:
        if self._fh is None:
            return
        entry = {"time": round(time.time(), 3), "event": event, **fields}
        self._fh.write(json.dumps(entry, sort_keys=False) + "\n")
        self._fh.flush()

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


@dataclass
class Row:
    user: str
    level: str
    started: float
    ended: float
    result: str = "unsolved"
    changes: int = 0
    par: int = 0
    hints: int = 0
    commands: int = 0


def report(path: str) -> str:
    """The record at `path` as a table. Raises OSError, or ValueError naming the line."""
    rows: dict[tuple[str, str], Row] = {}
    order: list[tuple[str, str]] = []
    started = ended = None
    notes: list[str] = []
    with open(path, encoding="utf-8") as fh:
        for number, text in enumerate(fh, 1):
            if not text.strip():
                continue
            try:
                entry = json.loads(text)
                event, when = entry["event"], float(entry["time"])
            except (ValueError, KeyError, TypeError):
                raise ValueError(f"{path}:{number}: not a netlab session record line") from None
            started = when if started is None else started
            ended = when
            user, level = entry.get("user", ""), entry.get("level", "")
            if event == "server-start":
                notes.append(f"server started {_clock(when)} on {entry.get('listen', '?')}")
            elif event in ("level", "command", "status", "solved") and user:
                key = (user, level or "sandbox")
                row = rows.get(key)
                if row is None:
                    row = rows[key] = Row(user, level or "sandbox", when, when)
                    order.append(key)
                row.ended = when
                if event == "command":
                    row.commands += 1
                if event in ("status", "solved"):
                    row.changes = int(entry.get("changes", row.changes))
                    row.hints = int(entry.get("hints", row.hints))
                    row.par = int(entry.get("par", row.par))
                    if entry.get("solved"):
                        row.result = "solved"
            elif event in ("broadcast", "push-level", "inject", "reset", "end"):
                detail = " ".join(str(entry.get("text") or entry.get("level") or entry.get("fault") or "").split())
                target = entry.get("target", "")
                notes.append(" ".join(part for part in (f"{_clock(when)} {entry.get('by', '?')}: {event}", detail, target)
                                      if part))  # a reset has no detail: no double space
    lines = []
    if started is not None:
        lines.append(f"session {_clock(started)} – {_clock(ended)} ({_duration(ended - started)})")
    header = ("USER", "LEVEL", "RESULT", "CHANGES", "PAR", "HINTS", "COMMANDS", "TIME")
    table = [header] + [(r.user, r.level, r.result, str(r.changes), str(r.par), str(r.hints), str(r.commands),
                         _duration(r.ended - r.started)) for r in (rows[k] for k in order)]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    lines += ["   ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in table]
    if notes:
        lines += ["", *notes]
    return "\n".join(lines) + "\n"


def _clock(when: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(when))


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 60}m{seconds % 60:02d}s"
