"""A loading screen: slow work (building a large lab) runs in a worker thread while a
LoadingIndicator spins, so the UI never freezes; the result is handed on when it is ready."""
from __future__ import annotations

from typing import Any, Callable

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import LoadingIndicator, Static


class LoadingScreen(ModalScreen):
    """Runs `build()` off the event loop, then pops itself and calls `done(result)`. If the
    build fails, the error is shown instead (Esc goes back)."""

    DEFAULT_CSS = """
    LoadingScreen { align: center middle; }
    LoadingScreen #loading-box { width: 50; height: 7; border: round $accent; background: $surface; }
    LoadingScreen #loading-text { width: 1fr; content-align: center middle; height: 1; }
    LoadingScreen LoadingIndicator { height: 3; }
    """

    def __init__(self, text: str, build: Callable[[], Any], done: Callable[[Any], None]) -> None:
        super().__init__()
        self.text = text
        self.build = build
        self.done = done

    def compose(self) -> ComposeResult:
        with Vertical(id="loading-box"):
            yield Static(Text(self.text), id="loading-text")
            yield LoadingIndicator()

    def on_mount(self) -> None:
        self._build()

    @work(thread=True, exclusive=True)
    def _build(self) -> None:
        try:
            result = self.build()
        except Exception as err:  # a broken lab file: say so instead of crashing the app
            self.app.call_from_thread(self._failed, err)
            return
        self.app.call_from_thread(self._finished, result)

    def _finished(self, result: Any) -> None:
        self.dismiss()
        self.done(result)

    def _failed(self, err: Exception) -> None:
        from netlab.tui.screens.title import MessageScreen

        self.dismiss()
        self.app.push_screen(MessageScreen(f"Could not build the lab: {err}"))
