"""Watching someone else's lab, read-only: their topology, their shell lines with the
output each gave, their objectives, their last packets.

The world is rebuilt from the save blob their session sends after every line (the
engine is deterministic, so a replay *is* their world); `update(state)` rebuilds it when
a new blob arrives. Nothing typed here reaches their lab: there is no prompt.
"""
from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, RichLog, TabbedContent, TabPane

from netlab.tui.widgets.inspector import Inspector
from netlab.tui.widgets.objectives import ObjectivesPane
from netlab.tui.widgets.topology import TopologyView
from netlab.tui.widgets.trace_view import TraceView


def rebuild(user: str, state: bytes):
    """(lab, run, [(who, line, result)]) from a trainee's save blob. Raises SaveError."""
    from netlab.save import loads

    lines: list = []
    lab, run = loads(state, f"{user}'s lab", on_line=lambda line, result: lines.append((user, line, result)))
    return lab, run, lines


def objective_results(run) -> list | None:
    """The watched lab's objectives, checked with real packets on a copy — without
    `run.check()`'s side effect of recording a solve in the *watcher's* progress."""
    if run.level is None:
        return None
    from netlab.levels.objectives import check_all

    return check_all(run.lab, run.level.objectives)


class WatchScreen(Screen):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Stop watching"),
        Binding("f2", "pane('trace')", "Trace"),
        Binding("f3", "pane('objectives')", "Objectives"),
        Binding("f4", "pane('inspector')", "Inspect"),
    ]
    DEFAULT_CSS = """
    WatchScreen #watch-main { height: 1fr; }
    WatchScreen #watch-left { width: 1fr; }
    WatchScreen #watch-topology { height: 1fr; }
    WatchScreen #watch-log { height: 1fr; background: $surface; }
    WatchScreen #watch-side { width: 1fr; }
    WatchScreen #watch-main.narrow { layout: vertical; }
    WatchScreen #watch-main.narrow #watch-topology { height: 5; }
    WatchScreen #watch-main.narrow #watch-left, WatchScreen #watch-main.narrow #watch-side { height: 1fr; }
    """

    def __init__(self, user: str, state: bytes | None = None, *, built: tuple | None = None) -> None:
        """Watch `user`'s lab from a save blob (`state`), or from parts already built
        (`built` = (lab, run, [(who, line, result)]), e.g. a group's shared lab)."""
        super().__init__()
        self.user = user
        self.lab, self.run, self.lines = built if built is not None else rebuild(user, state)
        self.results = objective_results(self.run)  # the constructor runs where the replay does: off the UI

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        with Horizontal(id="watch-main"):
            with Vertical(id="watch-left"):
                with VerticalScroll(id="watch-topology"):
                    yield TopologyView(self.lab, id="topology")
                yield RichLog(id="watch-log", wrap=True, markup=False, highlight=False)
            with TabbedContent(id="watch-side", initial="objectives"):
                with TabPane("Objectives", id="objectives"):
                    with VerticalScroll():
                        yield ObjectivesPane(self.run, id="objectives-pane")
                with TabPane("Trace", id="trace"):
                    yield TraceView(id="traceview")
                with TabPane("Inspect", id="inspector"):
                    yield Inspector(self.lab, id="inspector-pane")
        yield Footer()

    def on_mount(self) -> None:
        self.title = f"netlab — watching {self.user} (read-only)"
        self._show()
        self.query_one("#watch-main").set_class(self.app.size.width < 120, "narrow")

    def on_resize(self, event) -> None:
        self.query_one("#watch-main").set_class(event.size.width < 120, "narrow")

    def _show(self) -> None:
        level = self.run.level
        self.sub_title = level.spec.title if level is not None else "sandbox"
        log = self.query_one("#watch-log", RichLog)
        log.clear()
        traces = []
        for who, line, result in self.lines:
            log.write(f"{who}$ {line}")
            text = result.output.replace("\x1b[H\x1b[2J", "").rstrip("\n")
            if text:
                log.write(text)
            if result.traces:
                traces = result.traces
        if not self.lines:
            log.write(f"({self.user} has not typed anything yet)")
        if traces:
            self.query_one(TraceView).show(traces)
        if level is not None:
            self.query_one(ObjectivesPane).show(self.results)

    def update(self, state: bytes) -> None:
        """A new blob from the watched session: rebuilt and checked off the UI thread (a
        replay of their whole session), then shown."""
        self._rebuild(state)

    @work(thread=True, exclusive=True, group="watch-rebuild")
    def _rebuild(self, state: bytes) -> None:
        from netlab.save import SaveError

        try:
            lab, run, lines = rebuild(self.user, state)
            results = objective_results(run)
        except SaveError as err:
            self.app.call_from_thread(self.notify, str(err), title="watch", severity="error")
            return
        self.app.call_from_thread(self._rebuilt, lab, run, lines, results)

    def _rebuilt(self, lab, run, lines, results) -> None:
        self.lab, self.run, self.lines, self.results = lab, run, lines, results
        topology = self.query_one(TopologyView)
        topology.lab = lab
        topology.refresh_view()
        self.query_one(ObjectivesPane).run = run
        inspector = self.query_one(Inspector)
        inspector.lab = lab
        if inspector.target is not None:
            inspector.refresh_tables()
        self._show()

    def add_line(self, who: str, line: str, result) -> None:
        """One more line ran in the watched (shared) lab, which `self.lab` already reflects."""
        self.lines.append((who, line, result))
        self.results = objective_results(self.run)
        self.query_one(TopologyView).refresh_view()
        inspector = self.query_one(Inspector)
        if inspector.target is not None:
            inspector.refresh_tables()
        self._show()

    def action_pane(self, pane: str) -> None:
        self.query_one("#watch-side", TabbedContent).active = pane
