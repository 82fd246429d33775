"""Messages the lab screen's widgets exchange (events flow up, data flows down)."""
from __future__ import annotations

from textual.message import Message


class CommandFinished(Message):
    """A shell line ran: its output, exit code and the Traces of the packets it sent."""

    def __init__(self, line: str, output: str, exit_code: int, traces: list, prompt: str,
                 replacement: tuple | None = None, checking: bool = False) -> None:
        super().__init__()
        self.checking = checking  # a level's objectives are being checked: ObjectivesChecked follows
        self.replacement = replacement  # (lab, run) to continue with when a classroom limit stopped the line
        self.line = line
        self.output = output
        self.exit_code = exit_code
        self.traces = traces
        self.prompt = prompt


class ObjectivesChecked(Message):
    """A level's objectives after a line, checked with real packets once its output is on
    screen (a check can take seconds in a large lab: the output should not wait for it)."""

    def __init__(self, results: list, line: str, exit_code: int) -> None:
        super().__init__()
        self.results = results
        self.line = line
        self.exit_code = exit_code


class HopSelected(Message):
    """The trace pane moved to a hop: the topology highlights where the packet is."""

    def __init__(self, ns: str | None, dev: str | None) -> None:
        super().__init__()
        self.ns = ns
        self.dev = dev

    def can_replace(self, message: Message) -> bool:  # a burst of steps: only the last one matters
        return isinstance(message, HopSelected)
