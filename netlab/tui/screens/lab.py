"""The lab screen: topology, shell, and the trace / objectives / inspector panes at once.
At 80×24 the right-hand panes move below the shell (the `narrow` class)."""
from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, TabbedContent, TabPane

from netlab.tui.messages import CommandFinished, HopSelected, ObjectivesChecked
from netlab.tui.widgets.charts import ChartsPane
from netlab.tui.widgets.inspector import Inspector
from netlab.tui.widgets.objectives import ObjectivesPane
from netlab.tui.widgets.shell import ShellPane
from netlab.tui.widgets.topology import TopologyView
from netlab.tui.widgets.trace_view import TraceView

NARROW = 120  # columns below which the side panes stack under the shell


class LabScreen(Screen):
    BINDINGS = [
        Binding("f2", "pane('trace')", "Trace"),
        Binding("f3", "pane('objectives')", "Objectives"),
        Binding("f4", "pane('inspector')", "Inspect"),
        Binding("f5", "focus_shell", "Shell"),
        Binding("ctrl+t", "toggle_topology", "Topology"),
        Binding("f6", "hint", "Hint"),
        Binding("f7", "app.quicksave_key", "Save"),
        Binding("f8", "app.quickload_key", "Load"),
        Binding("ctrl+z", "app.undo_key", "Undo"),
        Binding("escape", "app.pop_screen", "Back", show=False),
    ]

    def __init__(self, lab, run=None, title: str = "sandbox") -> None:
        super().__init__()
        self.lab = lab
        self.run = run
        self.lab_title = title

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        with Horizontal(id="main"):
            with Vertical(id="left"):
                with VerticalScroll(id="topology-box"):
                    yield TopologyView(self.lab, id="topology")
                yield ShellPane(self.lab, self.run, id="shell")
            with TabbedContent(id="side", initial="trace"):
                with TabPane("Trace", id="trace"):
                    yield TraceView(id="traceview")
                with TabPane("Objectives", id="objectives"):
                    with VerticalScroll():
                        yield ObjectivesPane(self.run, id="objectives-pane")
                with TabPane("Inspect", id="inspector"):
                    yield Inspector(self.lab, id="inspector-pane")
                with TabPane("Charts", id="charts"):
                    yield ChartsPane(self.lab, id="charts-pane")
        yield Footer()

    def on_mount(self) -> None:
        screen = self

        def editor(text: str) -> str | None:
            # A plain function, not a bound method: levels deep-copy the lab to check
            # objectives, and deepcopy would try to copy a method's screen along with it.
            return screen._edit(text)

        self.lab.session.external_editor = editor
        self.title = f"netlab — {self.lab_title}"
        self.sub_title = f"{len(self.lab.cluster.nodes)} nodes · {len(self.lab.cluster.pod_ns)} pods"
        self._layout(self.app.size.width)

    def on_resize(self, event) -> None:
        self._layout(event.size.width)

    def _layout(self, width: int) -> None:
        self.query_one("#main").set_class(width < NARROW, "narrow")

    @on(CommandFinished)
    def _finished(self, message: CommandFinished) -> None:
        with self.app.batch_update():
            self.query_one(ShellPane).show_result(message)
            self.query_one(TopologyView).refresh_view()
            if message.traces:
                self.query_one(TraceView).show(message.traces)
                self.query_one(ChartsPane).show(message.traces)
            inspector = self.query_one(Inspector)
            if inspector.target is not None:
                inspector.refresh_tables()
        if message.replacement is not None:  # the line was stopped: continue in the world from before it
            self.app.play(*message.replacement, self.lab_title)
        if not message.checking:
            self._done(message.line, message.exit_code)

    @on(ObjectivesChecked)
    def _checked(self, message: ObjectivesChecked) -> None:
        self.query_one(ObjectivesPane).show(message.results)
        self.query_one(ShellPane).busy = False
        if message.results and all(r.passed for r in message.results):
            self.app.level_solved(self.run)
        self._done(message.line, message.exit_code)

    def _done(self, line: str, exit_code: int) -> None:
        command_done = getattr(self.app, "command_done", None)
        if command_done is not None:
            command_done(line, exit_code)

    def refresh_all(self) -> None:
        """The world changed under the shell (a classroom fault, a teammate's line)."""
        self.query_one(TopologyView).refresh_view()
        inspector = self.query_one(Inspector)
        if inspector.target is not None:
            inspector.refresh_tables()
        if self.run is not None and self.run.level is not None:
            self.query_one(ObjectivesPane).show(self.run.check())

    def remote_line(self, user: str, line: str, result) -> None:
        """A teammate ran `line` in our shared lab: their line, its output and its packets."""
        with self.app.batch_update():
            self.query_one(ShellPane).show_remote(user, line, result.output)
            if result.traces:
                self.query_one(TraceView).show(result.traces)
                self.query_one(ChartsPane).show(result.traces)
            self.refresh_all()

    def _edit(self, text: str) -> str | None:
        """kubectl edit's editor, called from the shell's worker thread: show the editor on
        the UI thread and wait for the learner to save or cancel."""
        import threading

        from netlab.tui.screens.editor import EditorScreen

        done = threading.Event()
        result: list[str | None] = [None]

        def finished(value: str | None) -> None:
            result[0] = value
            done.set()

        self.app.call_from_thread(self.app.push_screen, EditorScreen(text), finished)
        while not done.wait(0.2):
            if not self.app.is_running:  # the app closed with the editor open: cancel the edit
                return None
        return result[0]

    @on(HopSelected)
    def _hop(self, message: HopSelected) -> None:
        topo = self.query_one(TopologyView)
        topo.highlight = message.ns
        topo.refresh_view()

    def action_pane(self, pane: str) -> None:
        self.query_one("#side", TabbedContent).active = pane

    def action_focus_shell(self) -> None:
        self.query_one("#line").focus()

    def action_hint(self) -> None:
        pane = self.query_one(ObjectivesPane)
        if pane.add_hint():
            pane.show(None)  # the last results again, now with the hint
            self.action_pane("objectives")
        else:
            self.notify("No more hints.")

    def action_toggle_topology(self) -> None:
        box = self.query_one("#topology-box")
        box.display = not box.display
