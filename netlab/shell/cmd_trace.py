"""`trace FROM TO[:PORT] [--proto tcp|udp|icmp]`: send one packet and print its journey."""
from __future__ import annotations

from netlab.shell.probe import ProbeError, send_probe
from netlab.shell.registry import Invocation, command

USAGE = "usage: trace FROM TO[:PORT] [--proto tcp|udp|icmp] [-v]"


def parse_trace_args(args: list[str]):
    proto, verbose, rest = None, False, []
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("--proto", "-p") and i + 1 < len(args):
            proto = args[i + 1]
            i += 1
        elif a.startswith("--proto="):
            proto = a.split("=", 1)[1]
        elif a in ("-v", "--verbose"):
            verbose = True
        else:
            rest.append(a)
        i += 1
    return proto, verbose, rest


def render_traces(traces, verbose: bool) -> str:
    return "\n\n".join(t.render(verbose=verbose) for t in traces if t.label != "ARP") + "\n"


@command("trace", summary="trace one packet FROM TO[:PORT] hop by hop")
def trace(inv: Invocation) -> int:
    proto, verbose, rest = parse_trace_args(inv.argv[1:])
    if len(rest) != 2:
        return inv.fail(USAGE, 2)
    try:
        traces, outcome = send_probe(inv.lab, rest[0], rest[1], proto=proto or "icmp")
    except ProbeError as err:
        return inv.fail(f"trace: {err}", 2)
    inv.lab.world.traces.extend(traces)  # the session hands them back in Result.traces
    inv.write(render_traces(traces, verbose))
    return 0 if traces and traces[0].delivered else 1
