"""One live cluster for a group of trainees (shared mode).

The hub owns the authoritative world; each member's TUI process keeps a replica. The
engine is deterministic, so a replica that applies the same lines in the same order, by
the same users, with the same editor texts, *is* the same world: the hub orders every
line (one log), applies it, and broadcasts the log entry; replicas apply it too. Each
member has a shell session of their own (their own context stack: one may be on a node
while another is inside a pod), so an entry names its user.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from netlab.lab import Result
from netlab.levels.run import Level, LevelRun, Setup
from netlab.shell.session import Session


@dataclass
class Entry:
    seq: int
    user: str
    line: str
    edits: list = field(default_factory=list)

    def pack(self) -> dict:
        return {"seq": self.seq, "user": self.user, "line": self.line, "edits": list(self.edits)}

    @staticmethod
    def unpack(data: dict) -> Entry:
        return Entry(int(data["seq"]), str(data["user"]), str(data["line"]), list(data.get("edits") or []))


def pack_setup(setup: Setup) -> dict:
    return {"lab_text": setup.lab_text, "lab_source": setup.lab_source,
            "steps": [list(step) for step in setup.steps], "kube_proxy_paused": setup.kube_proxy_paused}


def unpack_setup(data: dict) -> Setup:
    return Setup(data["lab_text"], data.get("lab_source", "<lab>"),
                 tuple((on, line, float(adv)) for on, line, adv in data["steps"]), bool(data["kube_proxy_paused"]))


class SharedWorld:
    """A lab plus one shell session per user, changed only through `apply()`."""

    def __init__(self, setup: Setup, level: Level | None, lab=None) -> None:
        """`lab`: the world `setup` builds, if the caller has just built it."""
        self.setup = setup
        self.level = level
        self.lab = lab if lab is not None else setup.build()
        self.sessions: dict[str, Session] = {}
        self.log: list[Entry] = []

    def session(self, user: str) -> Session:
        session = self.sessions.get(user)
        if session is None:
            session = self.sessions[user] = Session(self.lab)
        return session

    def forbidden(self, line: str) -> str | None:
        if self.level is None or not self.level.spec.forbid:
            return None
        from netlab.levels.changes import forbidden

        return forbidden(line, self.level.spec.forbid)

    def apply(self, user: str, line: str, editor: Callable[[str], str | None] | None = None) -> tuple[Entry, Result]:
        """Run `line` as `user`; returns the log entry (with the editor's answers, which a
        replica replays instead of asking) and the result."""
        session = self.session(user)
        texts: list = []

        def recording(text: str) -> str | None:
            answer = editor(text) if editor is not None else None
            texts.append(answer)
            return answer

        own = session.__dict__.get("external_editor")  # a TUI's editor: kept for the hub to call
        session.external_editor = recording
        try:
            result = session.run(line)
        finally:
            session.__dict__.pop("external_editor", None)
            if own is not None:
                session.external_editor = own
        entry = Entry(len(self.log) + 1, user, line, texts)
        self.log.append(entry)
        return entry, result

    def replay(self, entry: Entry) -> Result:
        """Apply an entry the hub has ordered (a replica's way in)."""
        queue = list(entry.edits)
        entry_out, result = self.apply(entry.user, entry.line, lambda _text: queue.pop(0) if queue else None)
        if entry_out.seq != entry.seq:
            raise RuntimeError(f"shared lab out of step: expected entry {entry_out.seq}, got {entry.seq}")
        return result

    def snapshot(self) -> dict:
        return {"setup": pack_setup(self.setup), "level": self.level.id if self.level else "",
                "log": [e.pack() for e in self.log]}

    @staticmethod
    def from_snapshot(data: dict, on_line=None) -> SharedWorld:
        """A replica; `on_line(entry, result)` sees each replayed entry (a watcher shows them)."""
        level = None
        if data.get("level"):
            from netlab.levels import load_level

            level = load_level(data["level"])
        world = SharedWorld(unpack_setup(data["setup"]), level)
        for item in data.get("log", []):
            entry = Entry.unpack(item)
            result = world.replay(entry)
            if on_line is not None:
                on_line(entry, result)
        world.lab.world.take_traces()
        return world


class SharedRun(LevelRun):
    """A LevelRun whose lines go to the hub to be ordered, then come back to the replica.
    `send(line)` asks the hub (blocking) and returns the hub's answer; the replica has
    applied the entry by then (the hub broadcasts before it answers, on the same socket)."""

    shared = True

    def __init__(self, world: SharedWorld, user: str, send: Callable[[str], dict]) -> None:
        self.world = world
        self.user = user
        self._send = send
        self.results: dict[int, Result] = {}  # seq -> the replica's result, for our own lines
        world.lab.session = world.session(user)  # the panes (prompt, history, editor) use ours
        super().__init__(world.lab, world.level, world.setup)

    def sh(self, line: str) -> Result:
        pattern = self.world.forbidden(line)
        if pattern is not None:
            return Result(f"netlab: not in this level: `{pattern}` is forbidden\n", 1)
        answer = self._send(line)
        if "error" in answer:
            return Result(f"netlab: {answer['error']}\n", 1)
        result = self.results.pop(int(answer["seq"]), None)
        if result is None:  # cannot happen while the hub keeps its order; say so rather than guess
            return Result("netlab: the shared lab lost this line's result\n", 1)
        return result

    def applied(self, entry: Entry) -> Result:
        """The reader thread's hook: apply an ordered entry to the replica."""
        result = self.world.replay(entry)
        if entry.user == self.user:
            self.results[entry.seq] = result
        return result


def watch_parts(snapshot: dict) -> tuple[SharedWorld, tuple]:
    """A read-only replica of a group's lab for a watcher: (world, (lab, run, lines)) as
    WatchScreen takes them; feed later entries to `world.replay`."""
    lines: list = []
    world = SharedWorld.from_snapshot(snapshot, lambda entry, result: lines.append((entry.user, entry.line, result)))
    run = LevelRun(world.lab, world.level, world.setup)
    return world, (world.lab, run, lines)
