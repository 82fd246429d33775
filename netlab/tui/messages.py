"""Messages the lab screen's widgets exchange (events flow up, data flows down)."""
from __future__ import annotations

from textual.message import Message


class CommandFinished(Message):
    """A shell line ran: its output, exit code and the Traces of the packets it sent."""

    def __init__(self, line: str, output: str, exit_code: int, traces: list, prompt: str,
                 objectives: list | None = None, replacement: tuple | None = None) -> None:
        super().__init__()
        self.replacement = replacement  # (lab, run) to continue with when a classroom limit stopped the line
        self.objectives = objectives  # a level's objective results, checked after the line
        self.line = line
        self.output = output
        self.exit_code = exit_code
        self.traces = traces
        self.prompt = prompt


class HopSelected(Message):
    """The trace pane moved to a hop: the topology highlights where the packet is."""

    def __init__(self, ns: str | None, dev: str | None) -> None:
        super().__init__()
        self.ns = ns
        self.dev = dev

    def can_replace(self, message: Message) -> bool:  # a burst of steps: only the last one matters
        return isinstance(message, HopSelected)
