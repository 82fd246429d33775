"""The command registry and the Invocation each command receives."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from netlab.lab import Lab
    from netlab.shell.context import Context
    from netlab.shell.session import Session


@dataclass
class Invocation:
    argv: list[str]
    ctx: "Context"
    session: "Session"
    stdin: str = ""
    out: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)  # `VAR=value` prefixes of this command line

    @property
    def lab(self) -> "Lab":
        return self.session.lab

    @property
    def ns(self):
        return self.ctx.ns

    def print(self, text: str = "") -> None:
        self.out.append(text if text.endswith("\n") else text + "\n")

    def write(self, text: str) -> None:
        self.out.append(text)

    def fail(self, message: str, code: int = 1) -> int:
        self.print(message)
        return code


@dataclass(frozen=True)
class Command:
    name: str
    fn: Callable[[Invocation], int]
    where: frozenset[str]  # context kinds: "node", "pod"
    summary: str


COMMANDS: dict[str, Command] = {}


def command(*names: str, where: tuple[str, ...] = ("node", "pod"), summary: str = ""):
    def register(fn: Callable[[Invocation], int]):
        for name in names:
            COMMANDS[name] = Command(name, fn, frozenset(where), summary)
        return fn

    return register


_loaded = False


def load_all() -> None:
    """Import every tool module once (each registers its commands)."""
    global _loaded
    if _loaded:
        return
    import importlib
    import pkgutil

    import netlab.shell as pkg

    for mod in pkgutil.iter_modules(pkg.__path__):
        if mod.name.startswith("cmd_"):
            importlib.import_module(f"netlab.shell.{mod.name}")
    _loaded = True
