"""The shell pane: the netlab shell with its prompt, history, Tab completion and Ctrl-C."""
from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Input, Label, ProgressBar, RichLog

from netlab.shell.complete import complete
from netlab.tui.messages import CommandFinished, ObjectivesChecked


class ShellInput(Input):
    """The command line. Its box is fixed (1fr × 1 row), yet Textual's Input asks for a
    whole-screen layout on every keystroke (its virtual size follows the text, and that
    reactive re-lays out). Nothing else's place depends on it, so a keystroke repaints
    just this line: ~4× less CPU per key, which is what lets thirty classroom sessions
    share two cores (benchmarks/bench_serve.py)."""

    def refresh(self, *regions, repaint: bool = True, layout: bool = False, recompose: bool = False):
        if layout and not self.styles.auto_dimensions:
            layout = False
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)


class ShellPane(Vertical):
    """Commands run in a worker thread (the UI never waits on the engine); the result comes
    back as a CommandFinished message that the lab screen hands to the other panes."""

    BINDINGS = [
        Binding("up", "history(-1)", "Previous", show=False),
        Binding("down", "history(1)", "Next", show=False),
        Binding("tab", "complete", "Complete", show=False, priority=True),
        Binding("ctrl+c", "interrupt", "Clear line", show=False),
        Binding("ctrl+l", "clear", "Clear screen", show=False),
    ]
    DEFAULT_CSS = """
    ShellPane { height: 1fr; }
    ShellPane RichLog { height: 1fr; background: $surface; }
    ShellPane #prompt-row { height: 1; }
    ShellPane #prompt { width: auto; color: $success; }
    ShellPane Input { width: 1fr; height: 1; }
    ShellPane #progress { height: 1; display: none; }
    """

    class Progress(Message):
        """A long command (`repeat 1000 ...`) got this far; a burst keeps only the newest."""

        def __init__(self, done: int, total: int) -> None:
            super().__init__()
            self.done = done
            self.total = total

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, ShellPane.Progress)

    def __init__(self, lab, run=None, **kw) -> None:
        super().__init__(**kw)
        self.lab = lab
        self.run = run  # a level run: its sh() refuses forbidden lines and counts changes
        self.session = lab.session
        self._history_pos: int | None = None
        self.busy = False

    def compose(self) -> ComposeResult:
        yield RichLog(id="output", wrap=True, markup=False, highlight=False)
        yield ProgressBar(id="progress", show_eta=False)
        with Horizontal(id="prompt-row"):
            yield Label(self.session.prompt, id="prompt")
            yield ShellInput(id="line", placeholder="type a command (help, trace FROM TO, kubectl get po)", compact=True)

    def on_mount(self) -> None:
        line = self.query_one(Input)
        if getattr(self.app, "classroom", None) is not None:
            line.cursor_blink = False  # over SSH a blinking cursor is two repaints a second, forever
        line.focus()

    @property
    def log_widget(self) -> RichLog:
        return self.query_one("#output", RichLog)

    @on(Input.Submitted, "#line")
    def submit(self, event: Input.Submitted) -> None:
        line = event.value
        if self.busy and line.strip():  # a line at a time: the last one (or its objective check) still runs
            self.notify("busy with the last line: press Enter again when the prompt is back", timeout=3)
            return  # the line stays in the box
        event.input.value = ""
        self._history_pos = None
        self.log_widget.write(f"{self.session.prompt}{line}")
        if not line.strip():
            return
        self.busy = True
        self.run_line(line)

    @work(thread=True, exclusive=True)
    def run_line(self, line: str) -> None:
        session = self.session
        session.progress = self._progress_callback()  # a plain callable: the shell knows no Textual
        guard = getattr(getattr(self.app, "classroom", None), "guard", None)  # a classroom's per-line limits
        replacement = None
        try:
            if guard is not None and self.run is not None:
                result, replacement = guard.run(self.run, line)
            else:
                result = self.run.sh(line) if self.run is not None else session.run(line)
        finally:
            session.__dict__.pop("progress", None)
        prompt = replacement[0].session.prompt if replacement is not None else self.session.prompt
        # The output goes on screen now; the objectives follow (the pane stays busy meanwhile,
        # so the next line cannot change the lab while the check copies it).
        checking = replacement is None and self.run is not None and self.run.level is not None
        self.post_message(CommandFinished(line, result.output, result.exit_code, result.traces, prompt,
                                          replacement, checking))
        if checking:
            self.post_message(ObjectivesChecked(self.run.check(), line, result.exit_code))

    def _progress_callback(self):
        step = [-1]

        def progress(done: int, total: int) -> None:  # called on the worker thread
            percent = done * 100 // max(total, 1)
            if percent != step[0]:  # at most a hundred messages, however long the burst
                step[0] = percent
                self.post_message(ShellPane.Progress(done, total))

        return progress

    @on(Progress)
    def _show_progress(self, message: Progress) -> None:
        message.stop()
        bar = self.query_one("#progress", ProgressBar)
        bar.display = self.busy
        bar.update(total=message.total, progress=message.done)

    def show_result(self, message: CommandFinished) -> None:
        self.busy = message.checking  # free again when the objectives are in
        self.query_one("#progress", ProgressBar).display = False
        text = message.output.replace("\x1b[H\x1b[2J", "")
        if "\x1b[H\x1b[2J" in message.output:
            self.log_widget.clear()
        if text:
            self.log_widget.write(text.rstrip("\n"))
        self.query_one("#prompt", Label).update(message.prompt)
        if self.session.exit_requested:
            self.session.exit_requested = False
            self.log_widget.write("(you are on the workstation; leave the lab with Ctrl-Q)")

    def show_remote(self, user: str, line: str, output: str) -> None:
        self.log_widget.write(f"[{user}] {line}")
        text = output.replace("\x1b[H\x1b[2J", "").rstrip("\n")
        if text:
            self.log_widget.write(text)

    def action_history(self, step: int) -> None:
        history = self.session.history
        if not history:
            return
        pos = len(history) if self._history_pos is None else self._history_pos
        pos = max(0, min(len(history), pos + step))
        self._history_pos = pos
        box = self.query_one(Input)
        box.value = history[pos] if pos < len(history) else ""
        box.cursor_position = len(box.value)

    def action_complete(self) -> None:
        box = self.query_one(Input)
        options = complete(self.session, box.value, box.cursor_position)
        if len(options) == 1:
            head = box.value[: box.cursor_position].rsplit(" ", 1)
            prefix = head[0] + " " if len(head) == 2 else ""
            box.value = prefix + options[0] + " " + box.value[box.cursor_position:]
            box.cursor_position = len(prefix + options[0]) + 1
        elif options:
            self.log_widget.write("  ".join(options[:40]))

    def action_interrupt(self) -> None:
        box = self.query_one(Input)
        if box.value:
            self.log_widget.write(f"{self.session.prompt}{box.value}^C")
        box.value = ""

    def action_clear(self) -> None:
        self.log_widget.clear()
