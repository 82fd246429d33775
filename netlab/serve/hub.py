"""The hub: the classroom's state in the server process.

It knows every session (who, which level, how far, when last active), keeps each
trainee's latest world as a save blob (so an instructor or a teammate can watch it),
hosts the shared labs of groups, relays the instructor's actions, and writes the
session record. Session processes talk to it over a Unix socket (netlab.serve.protocol).
"""
from __future__ import annotations

import asyncio
import secrets
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field

from netlab.serve.protocol import pack, unpacker
from netlab.serve.record import Record
from netlab.serve.roster import Roster, User

FAULTS = ("drop-route", "delete-endpoint", "deny-policy")


@dataclass
class Member:
    sid: int
    user: User
    token: str
    mode: str  # solo | shared | dashboard
    started: float
    peer: str = ""
    level: str = ""
    title: str = ""
    passed: int = 0
    total: int = 0
    changes: int = 0
    par: int = 0
    hints: int = 0
    seconds: float = 0.0
    solved: bool = False
    commands: int = 0
    last_command: str = ""
    last_active: float = 0.0
    state: bytes | None = None  # the latest save blob (netlab.save.dumps) of a solo lab
    writer: asyncio.StreamWriter | None = None
    watchers: set[int] = field(default_factory=set)
    watching_group: str = ""  # the shared lab this (instructor) session is watching

    def row(self, now: float, idle_after: float) -> dict:
        return {"sid": self.sid, "user": self.user.name, "role": self.user.role, "mode": self.mode,
                "group": self.user.group or "", "level": self.level, "title": self.title,
                "passed": self.passed, "total": self.total, "changes": self.changes, "par": self.par,
                "hints": self.hints, "seconds": round(self.seconds, 1), "solved": self.solved,
                "commands": self.commands, "last_command": self.last_command,
                "idle": round(now - self.last_active, 1), "active": now - self.last_active < idle_after,
                "connected": self.writer is not None}


class Room:
    """A group's shared lab: the authoritative SharedWorld, changed on one thread."""

    def __init__(self, name: str, level: str) -> None:
        self.name = name
        self.level = level
        self.world = None  # built on first use (off the event loop)
        self.lock = threading.Lock()

    def ensure(self):
        from netlab.levels import load_level, start_sandbox
        from netlab.serve.shared import SharedWorld

        with self.lock:
            if self.world is None:
                level = load_level(self.level) if self.level else None
                lab, run = level.start() if level is not None else start_sandbox(None)
                self.world = SharedWorld(run.setup, level, lab)  # the lab just built, not a second build
            return self.world


class Hub:
    def __init__(self, roster: Roster, *, level: str = "", record: Record | None = None,
                 idle_after: float = 120.0) -> None:
        self.roster = roster
        self.level = level  # the level everyone starts in ("" = the title screen)
        self.record = record or Record(None)
        self.idle_after = idle_after
        self.members: dict[int, Member] = {}
        self._by_token: dict[str, Member] = {}
        self._next_sid = 1
        self.rooms: dict[str, Room] = {}
        self.loop: asyncio.AbstractEventLoop | None = None
        self.ended = asyncio.Event()
        self._edits: dict[int, tuple[int, Future]] = {}  # edit id -> (the sid asked, its answer)
        self._tasks: set[asyncio.Task] = set()
        self._edit_ids = 0
        self._dirty = False

    # -- sessions (called by the SSH server) -----------------------------------
    def register(self, user: User, peer: str, *, dashboard: bool = False) -> Member:
        mode = "dashboard" if dashboard else ("shared" if user.group else "solo")
        member = Member(self._next_sid, user, secrets.token_hex(16), mode, time.time(), peer,
                        level=self.level, last_active=time.time())
        self._next_sid += 1
        self.members[member.sid] = member
        self._by_token[member.token] = member
        self.record.write("login", user=user.name, role=user.role, mode=mode, peer=peer, sid=member.sid)
        self._changed()
        return member

    def unregister(self, member: Member) -> None:
        if self.members.pop(member.sid, None) is None:
            return
        self._by_token.pop(member.token, None)
        self._drop_edits(member.sid)
        self.record.write("logout", user=member.user.name, sid=member.sid, level=member.level,
                          solved=member.solved, changes=member.changes, hints=member.hints)
        for other in self.members.values():
            other.watchers.discard(member.sid)
        self._changed()

    def touch(self, member: Member) -> None:
        member.last_active = time.time()

    def sessions_of(self, name: str) -> int:
        return sum(1 for m in self.members.values() if m.user.name == name)

    # -- the socket ------------------------------------------------------------
    async def start(self, path: str) -> asyncio.AbstractServer:
        self.loop = asyncio.get_running_loop()
        server = await asyncio.start_unix_server(self._client, path=path)
        self.loop.create_task(self._publisher())
        return server

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        feed = unpacker()
        member: Member | None = None
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                feed.feed(data)
                for message in feed:
                    if member is None:
                        member = self._hello(message, writer)
                        if member is None:
                            return
                        continue
                    await self._dispatch(member, message)
        except (ConnectionError, ValueError):
            pass
        finally:
            if member is not None and member.writer is writer:
                member.writer = None
                self._drop_edits(member.sid)  # nobody is left to answer its editor
            writer.close()

    def _hello(self, message: dict, writer: asyncio.StreamWriter) -> Member | None:
        member = self._by_token.get(message.get("token", "")) if message.get("op") == "hello" else None
        if member is None or member.writer is not None:
            writer.write(pack({"op": "refused", "error": "unknown or used session token"}))
            return None
        member.writer = writer
        welcome = {"op": "welcome", "sid": member.sid, "user": member.user.name, "role": member.user.role,
                   "mode": member.mode, "group": member.user.group or "", "level": self.level}
        writer.write(pack(welcome))
        self._changed()
        return member

    def send(self, member: Member, message: dict) -> None:
        if member.writer is not None and not member.writer.is_closing():
            member.writer.write(pack(message))

    def _reply(self, member: Member, message: dict, **fields) -> None:
        if "id" in message:
            self.send(member, {"op": "reply", "id": message["id"], **fields})

    # -- messages --------------------------------------------------------------
    async def _dispatch(self, member: Member, message: dict) -> None:
        op = message.get("op")
        handler = getattr(self, f"_op_{str(op).replace('-', '_')}", None)
        if handler is None:
            self._reply(member, message, error=f"unknown request {op!r}")
            return
        if op in INSTRUCTOR_OPS and not member.user.instructor:
            self._reply(member, message, error="only an instructor may do that")
            return
        try:
            await handler(member, message)
        except (TypeError, ValueError, KeyError) as err:  # a malformed request: answer it, keep the session
            self._reply(member, message, error=f"bad {op!r} request: {err}")

    async def _op_status(self, member: Member, message: dict) -> None:
        """A session's progress: level, objectives met, changes, hints, time."""
        before = (member.level, member.solved)
        for key in ("level", "title", "passed", "total", "changes", "par", "hints", "seconds", "solved"):
            if key in message:
                setattr(member, key, message[key])
        if member.level != before[0]:
            self.record.write("level", user=member.user.name, level=member.level)
        if member.solved and not before[1]:
            self.record.write("solved", user=member.user.name, level=member.level, changes=member.changes,
                              par=member.par, hints=member.hints, seconds=round(member.seconds, 1), solved=True)
        else:
            self.record.write("status", user=member.user.name, level=member.level, changes=member.changes,
                              par=member.par, hints=member.hints, passed=member.passed, total=member.total,
                              solved=member.solved)
        if "state" in message and message["state"] is not None:
            member.state = bytes(message["state"])
            for sid in list(member.watchers):
                watcher = self.members.get(sid)
                if watcher is not None:
                    self.send(watcher, {"op": "watched", "sid": member.sid, "state": member.state})
        self._changed()

    async def _op_command(self, member: Member, message: dict) -> None:
        member.commands += 1
        member.last_command = str(message.get("line", ""))[:200]
        member.last_active = time.time()
        self.record.write("command", user=member.user.name, level=member.level, line=member.last_command,
                          exit=message.get("exit", 0))
        self._changed()

    async def _op_roster(self, member: Member, message: dict) -> None:
        self._reply(member, message, members=self._rows())

    async def _op_watch(self, member: Member, message: dict) -> None:
        """A read-only view of a trainee's lab: the latest save blob of a solo lab (then each
        new one), or the snapshot of a group's shared lab (then each ordered entry)."""
        target = self.members.get(int(message.get("sid", 0)))
        if target is None or target.mode == "dashboard":
            self._reply(member, message, error="no such trainee session")
            return
        allowed = member.user.instructor or (member.user.group and member.user.group == target.user.group)
        if not allowed:
            self._reply(member, message, error=f"{target.user.name}'s lab is not shared with you")
            return
        await self._op_unwatch(member, {})
        if target.mode == "shared":
            group = target.user.group
            snapshot = await self._snapshot(member, message, group)
            if snapshot is None:
                return
            member.watching_group = group
            self._reply(member, message, user=target.user.name, mode="shared", group=group, state=None,
                        snapshot=snapshot)
            return
        target.watchers.add(member.sid)
        self._reply(member, message, user=target.user.name, mode=target.mode, group=target.user.group or "",
                    state=target.state)

    async def _op_unwatch(self, member: Member, message: dict) -> None:
        for other in self.members.values():
            other.watchers.discard(member.sid)
        member.watching_group = ""
        self._reply(member, message)

    # -- the instructor --------------------------------------------------------
    def _targets(self, message: dict) -> list[Member]:
        to = message.get("to", "all")
        trainees = [m for m in self.members.values() if m.mode != "dashboard"]
        if to == "all":
            return trainees
        wanted = {int(s) for s in (to if isinstance(to, list) else [to])}
        return [m for m in trainees if m.sid in wanted]

    async def _op_push_level(self, member: Member, message: dict) -> None:
        level = str(message.get("level", ""))
        from netlab.levels import load_level
        from netlab.yamlsrc import SourceError

        try:
            load_level(level)
        except SourceError as err:
            self._reply(member, message, error=str(err))
            return
        targets = self._targets(message)
        self.level = level if message.get("to", "all") == "all" else self.level
        for room in {m.user.group for m in targets if m.user.group}:
            self.rooms[room] = Room(room, level)  # a group's shared lab starts over in the new level
        for target in targets:
            self.send(target, {"op": "level", "level": level})
        self.record.write("push-level", by=member.user.name, level=level, target=_names(targets))
        self._reply(member, message, count=len(targets))

    async def _op_reset(self, member: Member, message: dict) -> None:
        targets = self._targets(message)
        for room in {m.user.group for m in targets if m.user.group}:
            old = self.rooms.get(room)
            self.rooms[room] = Room(room, old.level if old else self.level)
        for target in targets:
            self.send(target, {"op": "reset"})
        self.record.write("reset", by=member.user.name, target=_names(targets))
        self._reply(member, message, count=len(targets))

    async def _op_inject(self, member: Member, message: dict) -> None:
        fault = str(message.get("fault", ""))
        if fault not in FAULTS:
            self._reply(member, message, error=f"unknown fault {fault!r} (known: {', '.join(FAULTS)})")
            return
        targets = self._targets(message)
        solo = [t for t in targets if t.mode == "solo"]
        for target in solo:
            self.send(target, {"op": "inject", "fault": fault})
        groups = {t.user.group for t in targets if t.mode == "shared" and t.user.group}
        for group in groups:  # a shared lab takes the fault once, as a line by "instructor"
            await self._inject_shared(group, fault)
        self.record.write("inject", by=member.user.name, fault=fault, target=_names(targets))
        self._reply(member, message, count=len(targets))

    async def _op_broadcast(self, member: Member, message: dict) -> None:
        text = str(message.get("text", ""))[:500]
        for target in self.members.values():
            if target is not member:
                self.send(target, {"op": "broadcast", "text": text, "by": member.user.name})
        self.record.write("broadcast", by=member.user.name, text=text)
        self._reply(member, message, count=len(self.members) - 1)

    async def _op_end(self, member: Member, message: dict) -> None:
        for target in self.members.values():
            if target is not member:
                self.send(target, {"op": "end", "by": member.user.name})
        self.record.write("end", by=member.user.name)
        self._reply(member, message)
        self.ended.set()

    # -- shared labs -----------------------------------------------------------
    def _room(self, group: str) -> Room:
        room = self.rooms.get(group)
        if room is None:
            room = self.rooms[group] = Room(group, self.level)
        return room

    async def _op_join(self, member: Member, message: dict) -> None:
        """A shared-mode session asks for its group's lab: the snapshot to build a replica."""
        group = member.user.group
        if not group:
            self._reply(member, message, error="you are not in a group")
            return
        snapshot = await self._snapshot(member, message, group)
        if snapshot is not None:
            self._reply(member, message, snapshot=snapshot, room=group)

    async def _snapshot(self, member: Member, message: dict, group: str) -> dict | None:
        """A group's shared lab as a snapshot (built on first use, off the event loop), or
        None after answering the request with the one-line reason it could not be built."""
        room = self._room(group)
        try:
            world = await asyncio.to_thread(room.ensure)
            return await asyncio.to_thread(_locked, room, world.snapshot)
        except Exception as err:  # noqa: BLE001 - a level that fails to build: one line back
            self._reply(member, message, error=f"cannot build {group}'s shared lab: {err}")
            return None

    async def _op_run(self, member: Member, message: dict) -> None:
        group = member.user.group
        room = self.rooms.get(group or "")
        if room is None or room.world is None:
            self._reply(member, message, error="join the shared lab first")
            return
        # Not awaited: this member's socket must still be read while the line runs (a
        # `kubectl edit` waits for their `edited` answer, which comes on it).
        task = self.loop.create_task(self._run_line(room, member, message))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run_line(self, room: Room, member: Member, message: dict) -> None:
        line = str(message.get("line", ""))
        try:
            entry, _result = await asyncio.to_thread(self._apply, room, member, line)
        except Exception as err:
            self._reply(member, message, error=f"the shared lab failed: {type(err).__name__}: {err}")
            return
        self._reply(member, message, seq=entry.seq)

    def _apply(self, room: Room, member: Member, line: str):
        with room.lock:
            entry, result = room.world.apply(member.user.name, line, lambda text: self._ask_edit(member, text))
            self._in_order(room, entry)
            return entry, result

    def _in_order(self, room: Room, entry) -> None:
        """Broadcast an entry from the room's thread while it holds the lock: callbacks run
        in the order they are scheduled, so every member gets the log in its order (and
        before the reply that says the line is done)."""
        self.loop.call_soon_threadsafe(self._broadcast_entry, room.name, entry)

    def _ask_edit(self, member: Member, text: str) -> str | None:
        """kubectl edit in a shared lab: the editor opens in the member's TUI; this
        (room) thread waits for the text to come back."""
        self._edit_ids += 1
        ident = self._edit_ids
        future: Future = Future()
        self._edits[ident] = (member.sid, future)
        self.loop.call_soon_threadsafe(self._send_edit, member, ident, text)
        try:
            return future.result(timeout=600)
        except Exception:
            return None
        finally:
            self._edits.pop(ident, None)

    def _send_edit(self, member: Member, ident: int, text: str) -> None:
        if member.writer is None or member.sid not in self.members:  # gone before it was asked
            self._drop_edits(member.sid)
            return
        self.send(member, {"op": "edit", "edit": ident, "text": text})

    async def _op_edited(self, member: Member, message: dict) -> None:
        asked = self._edits.get(int(message.get("edit", 0)))
        if asked is not None and asked[0] == member.sid and not asked[1].done():  # only the one asked answers
            asked[1].set_result(message.get("text"))

    def _drop_edits(self, sid: int) -> None:
        """Cancel the edits a session was asked for (it has gone): the line goes on without."""
        for asked_sid, future in list(self._edits.values()):
            if asked_sid == sid and not future.done():
                future.set_result(None)

    def _broadcast_entry(self, group: str, entry) -> None:
        for other in self.members.values():
            if other.user.group == group and other.mode == "shared":
                self.send(other, {"op": "applied", "entry": entry.pack()})
            elif other.watching_group == group:
                self.send(other, {"op": "watched-entry", "group": group, "entry": entry.pack()})

    async def _inject_shared(self, group: str, fault: str) -> None:
        room = self._room(group)
        world = await asyncio.to_thread(room.ensure)
        from netlab.serve.faults import fault_lines

        def apply(line: str):
            with room.lock:
                entry, _ = world.apply("instructor", line)
                self._in_order(room, entry)

        for line in fault_lines(world.lab, fault):
            await asyncio.to_thread(apply, line)

    # -- the dashboard feed ----------------------------------------------------
    def _rows(self) -> list[dict]:
        now = time.time()
        return [m.row(now, self.idle_after) for m in sorted(self.members.values(), key=lambda m: m.sid)]

    def _changed(self) -> None:
        self._dirty = True

    async def _publisher(self) -> None:
        """Dashboards get the roster at most four times a second, and every few seconds
        anyway (idle times move)."""
        last = 0.0
        while True:
            await asyncio.sleep(0.25)
            now = time.monotonic()
            if not self._dirty and now - last < 5:
                continue
            self._dirty = False
            last = now
            rows = self._rows()
            for member in self.members.values():
                if member.mode == "dashboard":
                    self.send(member, {"op": "members", "members": rows})


INSTRUCTOR_OPS = {"push-level", "reset", "inject", "broadcast", "end", "roster"}


def _names(members: list[Member]) -> str:
    return ", ".join(sorted({m.user.name for m in members}))


def _locked(room: Room, fn):
    with room.lock:
        return fn()
