"""A classroom session's process: the TUI (or the instructor's dashboard) on the PTY the
launcher made, linked to the hub.

`ClassroomLink` is what the TUI sees of the classroom: it reports progress after every
command (and a save blob, so the session can be watched), and turns the hub's messages
(a pushed level, a reset, an injected fault, a broadcast, the end) into app actions on
the UI thread.
"""
from __future__ import annotations

import os
import threading

import netlab.tui.app  # noqa: F401  (preloaded by the launcher)
from netlab.serve.guard import CommandGuard
from netlab.serve.limits import Limits
from netlab.serve.protocol import Connection


class ClassroomLink:
    def __init__(self, params: dict) -> None:
        self.params = params
        self.app = None
        self.run = None  # the run in play (a LevelRun or a SharedRun)
        self.limits = Limits.unpack(params.get("limits") or {})
        self.guard = CommandGuard(self.limits)
        self.conn = Connection(params["socket"], params["token"], self._message, self._closed)
        welcome = self.conn.welcome
        self.user = welcome["user"]
        self.role = welcome["role"]
        self.mode = welcome["mode"]
        self.group = welcome.get("group", "")
        self.level = welcome.get("level", "")
        self.shared_run = None
        self._pending: list | None = None  # entries that arrive while joining
        self._lock = threading.Lock()

    # -- from the app ------------------------------------------------------------
    def played(self, lab, run) -> None:
        """A lab is on screen (a level started, reset, loaded)."""
        self.run = run
        self.report()

    def command_done(self, line: str, exit_code: int) -> None:
        self.conn.send({"op": "command", "line": line, "exit": exit_code})
        self.report()

    def report(self) -> None:
        run = self.run
        if run is None:
            return
        level = run.level
        results = run.last_results or []
        status = {"op": "status", "level": level.id if level else "", "title": level.spec.title if level else "sandbox",
                  "passed": sum(1 for r in results if r.passed), "total": len(level.objectives) if level else 0,
                  "changes": run.changes(), "par": level.spec.par if level else 0, "hints": run.hints_used,
                  "seconds": run.seconds(), "solved": run.solved, "state": None}
        if not getattr(run, "shared", False):
            from netlab.save import SaveError, dumps

            try:
                status["state"] = dumps(run.lab, run, check=False)  # after every line: keep it cheap
            except SaveError:
                pass
        self.conn.send(status)

    # -- shared mode -----------------------------------------------------------
    def join_shared(self):
        """Build this member's replica of the group's lab; returns (lab, run). Entries the
        hub orders while the snapshot travels are held back and applied after it."""
        from netlab.serve.shared import SharedRun, SharedWorld

        with self._lock:
            self.shared_run = None
            self._pending = []
        reply = self.conn.request({"op": "join"}, timeout=120)
        world = SharedWorld.from_snapshot(reply["snapshot"])

        def send(line: str) -> dict:
            try:
                return self.conn.request({"op": "run", "line": line}, timeout=600)
            except Exception as err:
                return {"error": str(err)}

        run = SharedRun(world, self.user, send)
        with self._lock:
            for entry in self._pending:
                if entry.seq == len(world.log) + 1:
                    run.applied(entry)
            self._pending = None
            self.shared_run = run
        return world.lab, run

    # -- from the hub (reader thread) ------------------------------------------
    def _message(self, message: dict) -> None:
        try:
            self._dispatch(message)
        except RuntimeError:
            pass  # the app is not running (yet, or any more): nothing on screen to update

    def _dispatch(self, message: dict) -> None:
        op = message.get("op")
        app = self.app
        if op == "applied":
            self._applied(message["entry"])
            return
        if op == "edit":
            threading.Thread(target=self._edit, args=(message,), daemon=True).start()
            return
        if app is None:
            return
        if op == "broadcast":
            app.call_from_thread(app.notify, message.get("text", ""), title=f"from {message.get('by', 'the instructor')}",
                                 timeout=30)
        elif op == "level":
            app.call_from_thread(app.classroom_level, message.get("level", ""))
        elif op == "reset":
            app.call_from_thread(app.classroom_reset)
        elif op == "inject":
            app.call_from_thread(app.classroom_inject, message.get("fault", ""))
        elif op == "end":
            app.call_from_thread(app.classroom_end, message.get("by", "the instructor"))
        elif op in ("members", "watched", "watched-entry"):
            handler = getattr(app, f"classroom_{op.replace('-', '_')}", None)
            if handler is not None:
                app.call_from_thread(handler, message)

    def _applied(self, data: dict) -> None:
        from netlab.serve.shared import Entry

        entry = Entry.unpack(data)
        with self._lock:
            run = self.shared_run
            if run is None:
                if self._pending is not None:  # joining: the snapshot may or may not hold it
                    self._pending.append(entry)
                return
            have = len(run.world.log)
            if entry.seq <= have:
                return  # already in the snapshot we built from
            if entry.seq > have + 1:  # a gap: never apply out of order; rebuild from the hub
                self.shared_run = None
                if self.app is not None:
                    self.app.call_from_thread(self.app.classroom_reset, "Your shared lab fell out of step: rejoining it.")
                return
            result = run.applied(entry)
        if entry.user != self.user and self.app is not None:
            self.app.call_from_thread(self.app.classroom_remote, entry.user, entry.line, result)

    def _edit(self, message: dict) -> None:
        """The hub runs our `kubectl edit` and needs the editor: ours, on our screen."""
        run = self.shared_run
        editor = getattr(run.lab.session, "external_editor", None) if run is not None else None
        text = editor(message.get("text", "")) if editor is not None else None
        self.conn.send({"op": "edited", "edit": message["edit"], "text": text})

    def _closed(self) -> None:
        if self.app is not None and self.app.is_running:
            try:
                self.app.call_from_thread(self.app.classroom_end, "the server")
            except RuntimeError:
                pass


def run_session(params: dict) -> int:
    """The launcher's child calls this on the new PTY."""
    os.environ["TERM"] = params.get("term") or "xterm-256color"
    os.environ.setdefault("COLORTERM", "truecolor")
    save_dir = params.get("save_dir")
    if save_dir:
        os.makedirs(save_dir, exist_ok=True)
        os.environ["NETLAB_SAVE_DIR"] = save_dir
        os.environ["NETLAB_DATA_DIR"] = save_dir  # progress per user, next to their saves
    link = ClassroomLink(params)
    if link.mode == "dashboard":
        from netlab.serve.dashboard import DashboardApp

        app = DashboardApp(link)
    else:
        from netlab.tui.app import NetlabApp

        level = link.level or None
        app = NetlabApp(start="level" if level else "title", level=level, classroom=link)
    link.app = app
    app.run()
    link.conn.close()
    return 0
