"""Text rendering of a Trace: the one formatter the shell, the CLI and the TUI share."""
from __future__ import annotations

from netlab.net.trace import DELIVER, DROP, Trace


def render_trace(trace: Trace, *, verbose: bool = False) -> str:
    lines = [f"trace: {trace.summary}"]
    width = max((len(h.where()) for h in trace.hops), default=0)
    width = min(width, 40)
    step = 0
    for hop in trace.hops:
        if hop.kind in (DROP, DELIVER) and (hop.detail or {}).get("quiet") and not verbose:
            continue
        step += 1
        mark = {DROP: "✗", DELIVER: "✓"}.get(hop.kind, " ")
        lines.append(f"{step:3d} {mark} {hop.where():<{width}}  {hop.kind:<9} {hop.text}")
    verdict = trace.verdict
    lines.append(f"verdict: {verdict}" if verdict else "verdict: (packet still in flight)")
    return "\n".join(lines)
