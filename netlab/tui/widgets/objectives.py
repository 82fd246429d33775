"""The objectives pane: what must flow and what must not, each ticking as it becomes true.
A failing objective shows where its packet stopped — the main hint."""
from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


class ObjectivesPane(Static):
    DEFAULT_CSS = """
    ObjectivesPane { padding: 0 1; height: auto; }
    """

    def __init__(self, run=None, **kw) -> None:
        super().__init__(**kw)
        self.run = run  # a level run (netlab.levels), or None in the sandbox

    def on_mount(self) -> None:
        self.refresh_objectives()

    def refresh_objectives(self) -> list:
        if self.run is None:
            self.update(Text("Sandbox: no objectives. Break something and trace it.\n"
                             "Try: ip route del 172.30.0.0/16 dev flannel.1 on a node,\n"
                             "then trace a pod to a pod on the other node.", style="dim"))
            return []
        results = self.run.check()
        text = Text()
        for r in results:
            ok = getattr(r, "passed", False)
            text.append("✓ " if ok else "✗ ", style="bold green" if ok else "bold red")
            text.append(f"{getattr(r, 'text', r)}\n")
            hop = getattr(r, "first_drop", None)
            if not ok and hop is not None:
                text.append(f"    stopped at {hop.where()}: {hop.text}\n", style="dim red")
        if results and all(getattr(r, "passed", False) for r in results):
            text.append("\nAll objectives met. Level solved!", style="bold green")
        self.update(text)
        return results
