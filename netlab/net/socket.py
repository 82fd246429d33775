"""Sockets: how local processes (apps, tools, tunnel drivers) receive packets and errors."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass(eq=False)
class Socket:
    """A bound endpoint. `on_data(ns, pkt, dev, trace)` handles arriving data; ICMP errors
    about packets this socket sent are appended to `errors` (and passed to `on_error`)."""

    proto: int
    port: int
    on_data: Callable[..., Any] | None = None
    on_error: Callable[..., Any] | None = None
    owner: str = ""  # process name, for `ss`/`netstat`
    received: list = field(default_factory=list)
    errors: list = field(default_factory=list)

    def deliver(self, ns, pkt, dev, trace) -> None:
        if self.on_data is not None:
            self.on_data(ns, pkt, dev, trace)
        else:
            self.received.append((pkt, trace))

    def error(self, ns, icmp_pkt, trace) -> None:
        self.errors.append((icmp_pkt, trace))
        if self.on_error is not None:
            self.on_error(ns, icmp_pkt, trace)
