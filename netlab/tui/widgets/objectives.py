"""The objectives pane: what must flow and what must not, each ticking as it becomes true.
A failing objective shows where its packet stopped — the main hint."""
from __future__ import annotations

import re

from rich.text import Text
from textual.widgets import Static


def prose(text: str) -> str:
    """A level's story or debrief as paragraphs for the pane to wrap. Level files wrap their
    prose at ~80 columns for the editor; kept as they are, those breaks land mid-line in a
    narrower pane and leave one-word lines ("reaches\nthe\npods"). Blank lines still part
    paragraphs; a paragraph with indented or bulleted lines keeps its breaks."""
    paragraphs = []
    for para in re.split(r"\n[ \t]*\n", text.strip()):
        lines = para.splitlines()
        if any(line[:1] in (" ", "\t", "-", "*") for line in lines[1:]):
            paragraphs.append(para)
        else:
            paragraphs.append(" ".join(line.strip() for line in lines))
    return "\n\n".join(paragraphs)


class ObjectivesPane(Static):
    DEFAULT_CSS = """
    ObjectivesPane { padding: 0 1; height: auto; }
    """

    def __init__(self, run=None, **kw) -> None:
        super().__init__(**kw)
        self.run = run  # a level run (netlab.levels), or None in the sandbox

    def on_mount(self) -> None:
        if self.run is None or self.run.level is None:
            self.update(Text("Sandbox: no objectives. Break something and trace it.\n"
                             "Try: ip route del 172.30.0.0/16 dev flannel.1 on a node,\n"
                             "then trace a pod to a pod on the other node.", style="dim"))
        else:
            self.hints: list[str] = []
            self.show(None)

    def show(self, results: list | None) -> None:
        """Render the level's story, the objective results (checked by the caller, off the UI
        thread) with where each failing packet stopped, and the hints asked for so far."""
        if self.run is None or self.run.level is None:
            return
        if results is None:
            results = getattr(self, "last", None)
        self.last = results
        spec = self.run.level.spec
        text = Text(f"{spec.title}\n", style="bold")
        text.append(f"{prose(spec.story)}\n\n", style="italic")
        for r in results or []:
            text.append("✓ " if r.passed else "✗ ", style="bold green" if r.passed else "bold red")
            text.append(f"{r.text}\n")
            if not r.passed and r.detail:
                text.append(f"    {r.detail}\n", style="red")
        if results is None:
            text.append("(objectives are checked after each command)\n", style="dim")
        for i, hint in enumerate(self.hints, 1):
            text.append(f"\nhint {i}: {hint}\n", style="yellow")
        if results and all(r.passed for r in results):
            score = self.run.score()
            text.append(f"\nSolved! changes {score.changes} (par {score.par}), hints {score.hints_used}\n", style="bold green")
            if spec.debrief:
                text.append(f"\n{prose(spec.debrief)}\n")
        self.update(text)

    def add_hint(self) -> bool:
        if self.run is None or self.run.level is None:
            return False
        hint = self.run.hint()
        if hint is None:
            return False
        self.hints.append(hint)
        return True
