"""Tab completion, pure: (session, line, cursor) → candidates. The REPL and the TUI share it."""
from __future__ import annotations

from netlab.shell.registry import COMMANDS

SUBCOMMANDS = {
    "ip": ["link", "addr", "address", "route", "neigh", "netns", "rule"],
    "bridge": ["fdb", "link"],
    "kubectl": ["get", "exec", "describe", "apply", "delete", "edit"],
}


def complete(session, line: str, cursor: int | None = None) -> list[str]:
    line = line[: cursor if cursor is not None else len(line)]
    words = line.split()
    if line.endswith(" ") or not words:
        words.append("")
    current = words[-1]
    kind = session.ctx.kind
    if len(words) == 1:
        pool = sorted({c.name for c in COMMANDS.values() if kind in c.where})
    elif len(words) == 2 and words[0] in SUBCOMMANDS:
        pool = SUBCOMMANDS[words[0]]
    elif words[0] in ("ssh",):
        pool = list(session.lab.cluster.nodes)
    elif words[0] in ("trace", "ping", "traceroute") or (words[0] == "kubectl" and "exec" in words):
        pool = session.lab.context_names()
    elif words[0] in ("cat",):
        pool = sorted(set(session.ctx.ns.files) | {"/proc/sys/net/ipv4/ip_forward"})
    elif "dev" in words[-2:-1]:
        pool = list(session.ctx.ns.devices)
    else:
        pool = []
    return [p for p in pool if p.startswith(current)]
