"""NetlabApp: the title screen, the lab screen, help, themes, the command palette."""
from __future__ import annotations

from textual.app import App
from textual.binding import Binding

from netlab.tui.screens.lab import LabScreen
from netlab.tui.screens.title import HelpScreen, MessageScreen, TitleScreen


class NetlabApp(App):
    """`netlab`: start on the title screen, or straight in a lab (`netlab sandbox`)."""

    CSS_PATH = "app.tcss"
    TITLE = "netlab"
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", priority=True),
        Binding("f1", "help", "Help"),
        Binding("ctrl+d", "toggle_dark", "Theme", show=False),
    ]

    def __init__(self, *, lab_factory=None, start: str = "title", lab_title: str = "sandbox",
                 level: str | None = None) -> None:
        super().__init__()
        self.level = level
        self.lab_factory = lab_factory  # () -> Lab, for the sandbox
        self.start = start
        self.lab_title = lab_title
        self.current = None  # (lab, run, title) of the lab in play

    def on_mount(self) -> None:
        self.push_screen(TitleScreen())
        if self.start == "sandbox":
            self.open_sandbox()
        elif self.start == "level" and self.level:
            self.start_level(self.level)

    # -- navigation ------------------------------------------------------------
    def can_continue(self) -> bool:
        return self.current is not None

    def open_sandbox(self) -> None:
        from netlab.lab import Lab

        lab = self.lab_factory() if self.lab_factory else Lab.default()
        self.current = (lab, None, self.lab_title)
        self.push_screen(LabScreen(lab, None, self.lab_title))

    def continue_game(self) -> None:
        if self.current is not None:
            lab, run, title = self.current
            self.push_screen(LabScreen(lab, run, title))

    def open_levels(self) -> None:
        try:
            from netlab.tui.screens.levels import LevelsScreen
        except ImportError:
            self.push_screen(MessageScreen("The level system is not in this build yet: use the Sandbox."))
            return
        self.push_screen(LevelsScreen())

    def open_load(self) -> None:
        try:
            from netlab.tui.screens.levels import LoadScreen
        except ImportError:
            self.push_screen(MessageScreen("Saves are not in this build yet."))
            return
        self.push_screen(LoadScreen())

    def start_level(self, level_id: str) -> None:
        from netlab.levels import load_level

        level = load_level(level_id)
        lab, run = level.start()
        self.current = (lab, run, level.spec.title)
        screen = LabScreen(lab, run, level.spec.title)
        self.push_screen(screen)
        screen.call_after_refresh(screen.action_pane, "objectives")

    def level_solved(self, run) -> None:
        self.notify("Level solved! Press Esc for the menu.", title="netlab", timeout=8)

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_toggle_dark(self) -> None:
        self.theme = "textual-light" if self.theme == "textual-dark" else "textual-dark"
