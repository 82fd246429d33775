"""The Levels screen: chapters with completion marks and best scores; Enter starts a level."""
from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, OptionList, Static
from textual.widgets.option_list import Option

from netlab.tui.widgets.objectives import prose


class LevelsScreen(Screen):
    BINDINGS = [("escape", "app.pop_screen", "Back")]
    DEFAULT_CSS = """
    LevelsScreen OptionList { height: 1fr; }
    LevelsScreen #level-story { height: auto; max-height: 8; padding: 0 1; border-top: hkey $panel; }
    """

    def compose(self) -> ComposeResult:
        from netlab.levels import list_levels, load_progress

        self.levels = list_levels()
        progress = load_progress()
        yield Header()
        options = []
        chapter = None
        for level in self.levels:
            spec = level.spec
            if spec.chapter != chapter:
                chapter = spec.chapter
                heading = f"Chapter {chapter}" + (f": {spec.chapter_title}" if spec.chapter_title else "")
                options.append(Option(Text(f"── {heading} ──", style="bold"), disabled=True))
            done = progress.get(spec.id, {})
            mark = Text("✓ ", style="bold green") if done.get("solved") else Text("  ")
            line = mark + Text(spec.title)
            if done.get("solved"):
                best = done.get("best_changes", "?")
                line.append(f"   best: {best} change{'' if best == 1 else 's'} (par {spec.par})", style="dim")
            options.append(Option(line, id=spec.id))
        with Vertical():
            yield OptionList(*options, id="levels")
            yield Static("", id="level-story")
        yield Footer()

    def on_mount(self) -> None:
        self.title = "netlab — levels"
        self.query_one(OptionList).focus()

    @on(OptionList.OptionHighlighted, "#levels")
    def _preview(self, event: OptionList.OptionHighlighted) -> None:
        level = next((lv for lv in self.levels if lv.spec.id == event.option.id), None)
        if level is not None:
            self.query_one("#level-story", Static).update(Text(prose(level.spec.story), style="italic"))

    @on(OptionList.OptionSelected, "#levels")
    def _start(self, event: OptionList.OptionSelected) -> None:
        self.app.start_level(event.option.id)


class LoadScreen(Screen):
    """The saves in the save folder, newest first; Enter loads one."""

    BINDINGS = [("escape", "app.pop_screen", "Back")]

    def compose(self) -> ComposeResult:
        import glob
        import os

        from netlab.save import save_dir

        self.paths = sorted(glob.glob(os.path.join(save_dir(), "*.nlsave")), key=os.path.getmtime, reverse=True)
        yield Header()
        if self.paths:
            yield OptionList(*[Option(os.path.basename(p), id=str(i)) for i, p in enumerate(self.paths)], id="saves")
        else:
            yield Static(f"No saves in {save_dir()}/ yet. In a lab, F7 saves (and solving a level autosaves).")
        yield Footer()

    def on_mount(self) -> None:
        self.title = "netlab — load a save"

    @on(OptionList.OptionSelected, "#saves")
    def _load(self, event: OptionList.OptionSelected) -> None:
        self.app.load_save(self.paths[int(event.option.id)])
