"""The YAML editor `kubectl edit` opens in the TUI: Ctrl-S saves, Esc cancels."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static, TextArea


class EditorScreen(ModalScreen[str | None]):
    BINDINGS = [
        Binding("ctrl+s", "save", "Save & apply"),
        Binding("escape", "cancel", "Cancel"),
    ]
    DEFAULT_CSS = """
    EditorScreen { align: center middle; }
    EditorScreen > Vertical { width: 95%; height: 95%; border: round $accent; background: $surface; }
    EditorScreen #editor-help { height: 1; color: $text-muted; }
    """

    def __init__(self, text: str, title: str = "kubectl edit") -> None:
        super().__init__()
        self.text = text
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(f"{self.title_text} — Ctrl-S: save and apply · Esc: cancel", id="editor-help")
            area = TextArea(self.text, id="yaml", show_line_numbers=True, tab_behavior="indent")
            if "yaml" in area.available_languages:
                area.language = "yaml"
            yield area

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    def action_save(self) -> None:
        self.dismiss(self.query_one(TextArea).text)

    def action_cancel(self) -> None:
        self.dismiss(None)
