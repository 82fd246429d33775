"""The instructor's dashboard: every trainee in one live table, and the instructor's
actions on one trainee or on everyone.

child.py runs `DashboardApp(link)` for an instructor's session. The hub pushes the
roster (`{"op": "members", ...}`) and child.py hands it to `classroom_members` on the UI
thread; the actions are requests to the hub (netlab.serve.hub), made on a worker thread
so the table keeps moving while the hub answers. A failed request is a notification.

Keys (also in the footer and the Ctrl-P palette): a lower-case key acts on the selected
trainee, the same key with Shift on everyone.

    Enter / w   watch the selected trainee's lab, read-only (Esc leaves)
    l / L       push a level          r / R   reset the lab
    f / F       inject a fault        b       broadcast a message
    s / S       sort by the next column / reverse the order (or click a header)
    d           show or hide dashboard sessions (shown dimmed)
    e           end the classroom for everyone (asks first)
"""
from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, DataTable, Footer, Header, Input, OptionList, Static
from textual.widgets.option_list import Option

from netlab.serve.hub import FAULTS
from netlab.serve.protocol import ProtocolError
from netlab.tui.crash import OneLineCrash
from netlab.tui.screens.watch import WatchScreen

# (key, header, sort key of a hub row): the hub's row fields are in netlab.serve.hub.Member.row
COLUMNS: list[tuple[str, str, Callable[[dict], object]]] = [
    ("user", "User", lambda r: r.get("user", "").lower()),
    ("group", "Group/mode", lambda r: (r.get("group", ""), r.get("mode", ""))),
    ("level", "Level", lambda r: r.get("level", "")),
    ("objectives", "Met", lambda r: (r.get("solved", False), _fraction(r), r.get("passed", 0))),
    ("changes", "Changes", lambda r: (r.get("changes", 0) - r.get("par", 0), r.get("changes", 0))),
    ("hints", "Hints", lambda r: r.get("hints", 0)),
    ("time", "Time", lambda r: r.get("seconds", 0.0)),
    # who needs a look first: offline, then the longest idle
    ("idle", "Idle", lambda r: (r.get("connected", True), -float(r.get("idle", 0.0)))),
    ("last", "Last command", lambda r: r.get("last_command", "")),
]
COLUMN_KEYS = [key for key, _, _ in COLUMNS]
LAST_COMMAND_WIDTH = 48

FAULT_TEXT = {
    "drop-route": "delete a node's route to another node's pods",
    "delete-endpoint": "take one pod out of a Service (drop the label its selector needs)",
    "deny-policy": "apply a NetworkPolicy that denies all ingress in default",
}


def _fraction(row: dict) -> float:
    total = row.get("total", 0)
    return row.get("passed", 0) / total if total else 0.0


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def _idle(seconds: float) -> str:
    seconds = int(seconds)
    return f"idle {seconds}s" if seconds < 60 else f"idle {seconds // 60}m" if seconds < 3600 else \
        f"idle {seconds // 3600}h{seconds % 3600 // 60:02d}"


def cells(row: dict, me: str = "") -> list[Text]:
    """A hub row as the table's cells, in COLUMNS order."""
    if row.get("mode") == "dashboard":
        user = row.get("user", "") + (" (you)" if row.get("user") == me else "")
        dim = "dim"
        idle = "offline" if not row.get("connected", True) else "active" if row.get("active") else _idle(row.get("idle", 0))
        return [Text(user, dim), Text("dashboard", dim), Text("—", dim), Text("", dim), Text("", dim), Text("", dim),
                Text(_clock(row.get("seconds", 0)) if row.get("seconds") else "", dim), Text(idle, dim), Text("", dim)]
    group = f"{row['group']} (shared)" if row.get("group") else row.get("mode", "solo")
    level = Text(row.get("level") or row.get("title") or "title screen", "" if row.get("level") else "dim")
    total, passed = row.get("total", 0), row.get("passed", 0)
    if row.get("solved"):
        met = Text(f"{passed}/{total} ✓", "bold green")
    else:
        met = Text(f"{passed}/{total}" if total else "—", "" if total else "dim")
    changes, par = row.get("changes", 0), row.get("par", 0)
    changes_text = Text(f"{changes} (par {par})" if par else str(changes),
                        "yellow" if par and changes > par else "")
    hints = row.get("hints", 0)
    if not row.get("connected", True):
        idle = Text("offline", "red")
    elif row.get("active"):
        idle = Text("active", "green")
    else:
        idle = Text(_idle(row.get("idle", 0)), "yellow")
    last = row.get("last_command", "")
    if len(last) > LAST_COMMAND_WIDTH:
        last = last[:LAST_COMMAND_WIDTH - 1] + "…"
    return [Text(row.get("user", ""), "bold"), Text(group), level, met, changes_text,
            Text(str(hints), "yellow" if hints else ""), Text(_clock(row.get("seconds", 0))), idle, Text(last)]


def _same(a: Text, b: Text) -> bool:
    return a.plain == b.plain and str(a.style) == str(b.style) and a.spans == b.spans


# -- small modals -------------------------------------------------------------
class ChoiceScreen(ModalScreen[str | None]):
    """Pick one of a few options (a level, a fault); Esc cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    ChoiceScreen { align: center middle; }
    ChoiceScreen > Vertical { width: 90; max-width: 95%; height: auto; max-height: 90%;
                              border: round $accent; background: $surface; padding: 0 1; }
    ChoiceScreen #choice-title { height: auto; text-style: bold; }
    ChoiceScreen OptionList { height: auto; max-height: 20; }
    """

    def __init__(self, title: str, options: list[tuple[str, str]]) -> None:
        super().__init__()
        self.title_text = title
        self.options = options

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.title_text, id="choice-title")
            yield OptionList(*[Option(label, id=ident) for ident, label in self.options], id="choices")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected, "#choices")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


class TextScreen(ModalScreen[str | None]):
    """One line of text (a broadcast); Enter sends, Esc cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    TextScreen { align: center middle; }
    TextScreen > Vertical { width: 90; max-width: 95%; height: auto; border: round $accent;
                            background: $surface; padding: 0 1; }
    TextScreen #text-title { height: auto; text-style: bold; }
    TextScreen #text-help { height: 1; color: $text-muted; }
    """

    def __init__(self, title: str, placeholder: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.title_text, id="text-title")
            yield Input(placeholder=self.placeholder, max_length=500, id="text")
            yield Static("Enter: send · Esc: cancel", id="text-help")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted, "#text")
    def _send(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmScreen(ModalScreen[bool]):
    """Yes or no before something that cannot be undone: y / n, or the buttons."""

    BINDINGS = [Binding("y", "answer(True)", "Yes"), Binding("n,escape", "answer(False)", "No")]
    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > Vertical { width: 70; max-width: 95%; height: auto; border: round $warning;
                               background: $surface; padding: 0 1; }
    ConfirmScreen #confirm-question { height: auto; margin-bottom: 1; }
    ConfirmScreen Horizontal { height: auto; align-horizontal: right; }
    ConfirmScreen Button { margin-left: 2; }
    """

    def __init__(self, question: str, yes: str = "Yes") -> None:
        super().__init__()
        self.question = question
        self.yes = yes

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.question, id="confirm-question")
            with Horizontal():
                yield Button(f"{self.yes} (y)", id="yes", variant="error")
                yield Button("Cancel (n)", id="no", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


# -- the table ------------------------------------------------------------------
class DashboardScreen(Screen):
    BINDINGS = [
        Binding("w", "app.watch", "Watch", show=False),  # Enter too (the hint line says so)
        Binding("l", "app.push_level(False)", "Level"),
        Binding("L", "app.push_level(True)", "Level to all", show=False),
        Binding("r", "app.reset(False)", "Reset"),
        Binding("R", "app.reset(True)", "Reset all", show=False),
        Binding("f", "app.inject(False)", "Fault"),
        Binding("F", "app.inject(True)", "Fault all", show=False),
        Binding("b", "app.broadcast", "Broadcast"),
        Binding("s", "app.sort_next", "Sort"),
        Binding("S", "app.sort_reverse", "Reverse", show=False),
        Binding("d", "app.toggle_dashboards", "Dashboards", show=False),
        Binding("e", "app.end_class", "End class"),
    ]
    DEFAULT_CSS = """
    DashboardScreen #trainees { height: 1fr; }
    DashboardScreen #empty { height: auto; padding: 1 2; color: $text-muted; }
    DashboardScreen #keys { height: 1; padding: 0 1; color: $text-muted; background: $boost; }
    """

    def compose(self) -> ComposeResult:
        yield Header(show_clock=True)
        yield DataTable(id="trainees", cursor_type="row", zebra_stripes=True)
        yield Static("No trainees yet: they appear here as they log in.", id="empty")
        yield Static("Enter: watch · key: the selected trainee · Shift+key: everyone · Ctrl-P: all", id="keys")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DataTable).focus()
        self.app.render_table(rebuild=True)

    @on(DataTable.HeaderSelected, "#trainees")
    def _header(self, event: DataTable.HeaderSelected) -> None:
        self.app.sort_by(str(event.column_key.value))

    @on(DataTable.RowSelected, "#trainees")
    def _row(self, event: DataTable.RowSelected) -> None:
        self.app.action_watch()

    def on_screen_resume(self) -> None:
        self.app.left_watch()


class DashboardApp(OneLineCrash, App):
    """The instructor's view of the classroom (see the module docstring for the keys)."""

    TITLE = "netlab classroom"
    BINDINGS = [Binding("ctrl+q", "quit", "Leave", show=False, priority=True)]

    def __init__(self, link) -> None:
        super().__init__()
        self.link = link
        self.rows: list[dict] = []  # the hub's latest roster, as sent
        self.sort_key = "user"
        self.sort_reverse = False
        self.show_dashboards = True
        self.watching: int | None = None  # the sid being watched
        self._shared = None  # (group, replica SharedWorld, WatchScreen) when watching a shared lab
        self._entries: list | None = None  # watched-entry messages held while a watch is being set up
        self.ended = False
        self._order: list[str] = []  # row keys (sids) in table order
        self._cells: dict[str, list[Text]] = {}
        self._levels: list | None = None

    def on_mount(self) -> None:
        self.push_screen(DashboardScreen())  # it draws the table when mounted
        self._fetch_roster()

    @work(thread=True, group="roster")
    def _fetch_roster(self) -> None:
        """The roster once at start: the hub's first push may come before this app runs."""
        try:
            reply = self.link.conn.request({"op": "roster"})
        except Exception:
            return
        if reply.get("members") is not None and not self.rows:
            self.call_from_thread(self.classroom_members, {"members": reply["members"]})

    # -- from the hub (child.py calls these on the UI thread) -------------------
    def classroom_members(self, message: dict) -> None:
        self.rows = list(message.get("members") or [])
        self.render_table()

    def classroom_watched(self, message: dict) -> None:
        if self.watching is None or message.get("sid") != self.watching or message.get("state") is None:
            return
        for screen in self.screen_stack:
            if isinstance(screen, WatchScreen):
                try:
                    screen.update(bytes(message["state"]))
                except Exception as err:
                    self.notify(str(err), title=f"watch {screen.user}", severity="error")

    def classroom_end(self, by: str) -> None:
        if self.ended:
            return
        self.ended = True
        self.exit(message=f"netlab: the classroom was ended by {by}.")

    # -- the table --------------------------------------------------------------
    def _dashboard_screen(self) -> DashboardScreen | None:
        return next((s for s in self.screen_stack if isinstance(s, DashboardScreen)), None)

    def visible_rows(self) -> list[dict]:
        rows = [r for r in self.rows if self.show_dashboards or r.get("mode") != "dashboard"]
        sort = next(fn for key, _, fn in COLUMNS if key == self.sort_key)
        # dashboards stay below the trainees whichever way the table is sorted
        rows.sort(key=lambda r: (sort(r), r.get("user", ""), r.get("sid", 0)), reverse=self.sort_reverse)
        rows.sort(key=lambda r: r.get("mode") == "dashboard")
        return rows

    def render_table(self, *, rebuild: bool = False) -> None:
        screen = self._dashboard_screen()
        found = screen.query("#trainees") if screen is not None else None
        if not found:
            return  # not composed yet: its on_mount draws the table
        table = found.first(DataTable)
        rebuild = rebuild or not table.columns
        rows = self.visible_rows()
        order = [str(r["sid"]) for r in rows]
        new_cells = {str(r["sid"]): cells(r, self.link.user) for r in rows}
        selected = self.selected_key()
        if rebuild or order != self._order:
            table.clear(columns=rebuild)
            if rebuild:
                for key, header, _ in COLUMNS:
                    label = header
                    if key == self.sort_key:
                        label += " ▼" if self.sort_reverse else " ▲"
                    table.add_column(label, key=key)
            for key in order:
                table.add_row(*new_cells[key], key=key)
            # the cursor follows the selected trainee; on a dashboard row (the instructor's own
            # is the only row before anyone logs in) it moves to the first trainee
            trainee_keys = {str(r["sid"]) for r in rows if r.get("mode") != "dashboard"}
            if selected in trainee_keys or (selected in order and not trainee_keys):
                table.move_cursor(row=order.index(selected), animate=False)
        else:
            for key in order:
                old = self._cells.get(key, [])
                for column, (before, after) in enumerate(zip(old, new_cells[key])):
                    if not _same(before, after):
                        table.update_cell(key, COLUMN_KEYS[column], after, update_width=True)
        self._order = order
        self._cells = new_cells
        trainees = [r for r in self.rows if r.get("mode") != "dashboard"]
        screen.query_one("#empty").display = not trainees
        active = sum(1 for r in trainees if r.get("active") and r.get("connected", True))
        solved = sum(1 for r in trainees if r.get("solved"))
        header = next(h for key, h, _ in COLUMNS if key == self.sort_key)
        self.sub_title = (f"{len(trainees)} trainee{'s' if len(trainees) != 1 else ''} · {active} active · "
                          f"{solved} solved · by {header.lower()}")

    def selected_key(self) -> str | None:
        screen = self._dashboard_screen()
        if screen is None or not self._order:
            return None
        row = screen.query_one("#trainees", DataTable).cursor_row
        return self._order[row] if 0 <= row < len(self._order) else None

    def selected(self) -> dict | None:
        """The selected row if it is a trainee (a dashboard session cannot be acted on)."""
        key = self.selected_key()
        row = next((r for r in self.rows if str(r.get("sid")) == key), None)
        if row is None:
            self.notify("No trainee is selected.", severity="warning")
            return None
        if row.get("mode") == "dashboard":
            self.notify(f"{row.get('user')} is a dashboard session, not a trainee.", severity="warning")
            return None
        return row

    def sort_by(self, key: str) -> None:
        """A header click: sort by that column, or reverse the order if it already is."""
        if key == self.sort_key:
            self.sort_reverse = not self.sort_reverse
        else:
            self.sort_key, self.sort_reverse = key, False
        self.render_table(rebuild=True)

    def action_sort_next(self) -> None:
        self.sort_key = COLUMN_KEYS[(COLUMN_KEYS.index(self.sort_key) + 1) % len(COLUMN_KEYS)]
        self.sort_reverse = False
        self.render_table(rebuild=True)

    def action_sort_reverse(self) -> None:
        self.sort_reverse = not self.sort_reverse
        self.render_table(rebuild=True)

    def action_toggle_dashboards(self) -> None:
        self.show_dashboards = not self.show_dashboards
        self.render_table()
        self.notify("dashboard sessions shown (dimmed)" if self.show_dashboards else "dashboard sessions hidden")

    # -- requests -----------------------------------------------------------------
    @work(thread=True, group="requests")
    def request(self, message: dict, title: str, done: Callable[[dict], str] | None = None) -> None:
        """Send a request to the hub off the UI thread; the answer (or the error) is a
        notification."""
        try:
            reply = self.link.conn.request(message)
        except ProtocolError as err:
            self.call_from_thread(self.notify, str(err), title=title, severity="error")
            return
        except Exception as err:
            self.call_from_thread(self.notify, f"the classroom server did not answer: {err}", title=title,
                                  severity="error")
            return
        if done is not None:
            self.call_from_thread(self.notify, done(reply), title=title)

    def _target(self, everyone: bool) -> tuple[str | list[int], str] | None:
        """("all" or [sid], who that is in words), or None when no trainee is selected."""
        if everyone:
            return "all", "everyone"
        row = self.selected()
        if row is None:
            return None
        return [row["sid"]], row["user"]

    def levels(self) -> list[tuple[str, str]]:
        if self._levels is None:
            from netlab.levels import list_levels

            self._levels = [(lv.id, f"{lv.id}  —  {lv.spec.title}") for lv in list_levels()]
        return self._levels

    def action_push_level(self, everyone: bool) -> None:
        target = self._target(everyone)
        if target is None:
            return
        to, who = target
        from netlab.yamlsrc import SourceError

        try:
            options = self.levels()
        except SourceError as err:
            self.notify(str(err), title="levels", severity="error")
            return

        def chosen(level: str | None) -> None:
            if level:
                self.request({"op": "push-level", "level": level, "to": to}, "push level",
                             lambda reply: f"{level} pushed to {_count(reply)}")

        self.push_screen(ChoiceScreen(f"Push a level to {who}: their lab starts over in it", options), chosen)

    def action_reset(self, everyone: bool) -> None:
        target = self._target(everyone)
        if target is None:
            return
        to, who = target
        whose = "everyone's lab" if everyone else f"{who}'s lab"

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.request({"op": "reset", "to": to}, "reset", lambda reply: f"reset {_count(reply)}")

        self.push_screen(ConfirmScreen(f"Reset {whose} to the start of the level? Their changes are lost.", "Reset"),
                         confirmed)

    def action_inject(self, everyone: bool) -> None:
        target = self._target(everyone)
        if target is None:
            return
        to, who = target

        def chosen(fault: str | None) -> None:
            if fault:
                self.request({"op": "inject", "fault": fault, "to": to}, "inject",
                             lambda reply: f"{fault} injected into {_count(reply)}")

        options = [(fault, f"{fault}  —  {FAULT_TEXT.get(fault, '')}") for fault in FAULTS]
        self.push_screen(ChoiceScreen(f"Inject a fault into {'every lab' if everyone else who + chr(39) + 's lab'}",
                                      options), chosen)

    def action_broadcast(self) -> None:
        def entered(text: str | None) -> None:
            if text:
                self.request({"op": "broadcast", "text": text}, "broadcast",
                             lambda reply: f"sent to {_count(reply, 'session')}")

        self.push_screen(TextScreen("A message to every trainee", "e.g. 5 minutes left"), entered)

    def action_end_class(self) -> None:
        def confirmed(yes: bool | None) -> None:
            if yes:
                self._end()

        self.push_screen(ConfirmScreen("End the classroom for everyone? Every session is closed.", "End class"),
                         confirmed)

    @work(thread=True, group="requests")
    def _end(self) -> None:
        try:
            self.link.conn.request({"op": "end"})
        except Exception as err:
            self.call_from_thread(self.notify, str(err), title="end class", severity="error")
            return
        self.call_from_thread(self.classroom_end, "you")

    # -- watching -------------------------------------------------------------------
    # A solo lab comes as a save blob (then each newer blob: classroom_watched); a group's
    # shared lab as the hub's snapshot (then each ordered entry: classroom_watched_entry),
    # replayed on a read-only replica of our own.
    def action_watch(self) -> None:
        row = self.selected()
        if row is not None:
            self._entries = []  # entries that arrive while the replica is built wait here
            self._watch(row["sid"])

    @work(thread=True, group="watch", exclusive=True)
    def _watch(self, sid: int) -> None:
        try:
            reply = self.link.conn.request({"op": "watch", "sid": sid})
        except Exception as err:
            self.call_from_thread(self._watch_failed, str(err), "watch", False)
            return
        user, state, snapshot = reply.get("user", "?"), reply.get("state"), reply.get("snapshot")
        if state is None and snapshot is None:
            self.call_from_thread(self._nothing_to_watch, reply)
            return
        try:  # replaying their lab takes a while: here, not on the UI thread
            if snapshot is not None:
                from netlab.serve.shared import watch_parts

                built = watch_parts(snapshot)  # (replica, (lab, run, lines)): the screen is made on show
            else:
                built = WatchScreen(user, bytes(state))
        except Exception as err:
            self.call_from_thread(self._watch_failed, str(err), f"watch {user}", True)
            return
        self.call_from_thread(self._show_watch, sid, user, reply.get("group", ""), built)

    def _watch_failed(self, error: str, title: str, unwatch: bool) -> None:
        self._entries = None
        if unwatch:
            self.link.conn.send({"op": "unwatch"})  # the hub counts us as a watcher already
        self.notify(error, title=title, severity="error")

    def _nothing_to_watch(self, reply: dict) -> None:
        self._entries = None
        self.link.conn.send({"op": "unwatch"})
        user = reply.get("user", "?")
        if reply.get("mode") == "shared":
            text = f"{user} works in group {reply.get('group') or '?'}'s shared lab, which has not started yet."
        else:
            text = f"{user} has not started a lab yet: nothing to watch until they do."
        self.notify(text, title="watch", severity="warning", timeout=8)

    async def _show_watch(self, sid: int, user: str, group: str, built) -> None:
        if not isinstance(self.screen, DashboardScreen):  # a modal opened while the lab was rebuilt,
            self._entries = None                          # or Enter twice and the first is on screen
            if self.watching is None:
                self.link.conn.send({"op": "unwatch"})
            return
        self.watching = sid
        if isinstance(built, WatchScreen):
            screen, self._shared = built, None
        else:
            world, parts = built
            screen = WatchScreen(user, built=parts)
            self._shared = (group, world, screen)
        await self.push_screen(screen)  # mounted: add_line can reach its widgets
        waiting, self._entries = self._entries or [], None  # (more may have come while it mounted)
        for message in waiting:
            self.classroom_watched_entry(message)

    def classroom_watched_entry(self, message: dict) -> None:
        """One more line ran in the watched group's lab: replay it on our replica."""
        if self._entries is not None:
            self._entries.append(message)
            return
        if self._shared is None or message.get("group") != self._shared[0]:
            return
        from netlab.serve.shared import Entry

        group, world, screen = self._shared
        entry = Entry.unpack(message["entry"])
        if entry.seq <= len(world.log):
            return  # already in the snapshot
        if entry.seq != len(world.log) + 1:
            self._shared = None
            self.notify(f"missed a line of {group}'s lab: Esc and watch again to catch up", title="watch",
                        severity="error")
            return
        try:
            result = world.replay(entry)
        except Exception as err:
            self._shared = None
            self.notify(f"{group}'s lab: {err}", title="watch", severity="error")
            return
        screen.add_line(entry.user, entry.line, result)

    def left_watch(self) -> None:
        """The table is back on screen: stop the hub sending the watched lab."""
        if self.watching is not None:
            self.watching = None
            self._shared = None
            self.link.conn.send({"op": "unwatch"})

    # -- the palette -----------------------------------------------------------------
    def get_system_commands(self, screen):
        yield from super().get_system_commands(screen)
        if isinstance(screen, DashboardScreen):
            yield SystemCommand("Watch trainee", "Watch the selected trainee's lab, read-only (Enter, w)",
                                self.action_watch)
            yield SystemCommand("Push level to trainee", "Start the selected trainee in a level (l)",
                                lambda: self.action_push_level(False))
            yield SystemCommand("Push level to everyone", "Start every trainee in a level (L)",
                                lambda: self.action_push_level(True))
            yield SystemCommand("Reset trainee's lab", "The selected trainee's lab back to the start (r)",
                                lambda: self.action_reset(False))
            yield SystemCommand("Reset every lab", "Every lab back to the start (R)", lambda: self.action_reset(True))
            yield SystemCommand("Inject fault into trainee's lab", "Break something in the selected lab (f)",
                                lambda: self.action_inject(False))
            yield SystemCommand("Inject fault into every lab", "Break something in every lab (F)",
                                lambda: self.action_inject(True))
            yield SystemCommand("Broadcast", "A message to every trainee (b)", self.action_broadcast)
            yield SystemCommand("Sort by next column", "Change the table's order (s, or click a header)",
                                self.action_sort_next)
            yield SystemCommand("Reverse sort", "Reverse the table's order (S)", self.action_sort_reverse)
            yield SystemCommand("Show/hide dashboards", "Other dashboard sessions in the table (d)",
                                self.action_toggle_dashboards)
            yield SystemCommand("End class", "End the classroom for everyone (e)", self.action_end_class)


def _count(reply: dict, noun: str = "trainee") -> str:
    count = int(reply.get("count", 0))
    return f"{count} {noun}{'' if count == 1 else 's'}"
