"""`repeat N CMD...`: run one command N times, the burst a learner needs to see how a
Service spreads load (netlab's shell has no `for` loop). Only the last run's output is
printed, then a summary line; a front end that sets `session.progress` (a plain callable
taking (done, total)) is told how far the burst has got."""
from __future__ import annotations

import shlex

from netlab.shell.registry import Invocation, command

MAX_RUNS = 10_000


@command("repeat", summary="run a command N times (repeat 100 curl -s SERVICE:PORT)")
def repeat(inv: Invocation) -> int:
    args = inv.argv[1:]
    if len(args) < 2 or not args[0].isdigit():
        return inv.fail("usage: repeat N COMMAND [ARG...]", 2)
    n = int(args[0])
    if not 1 <= n <= MAX_RUNS:
        return inv.fail(f"repeat: N must be between 1 and {MAX_RUNS}", 2)
    line = shlex.join(args[1:])
    progress = getattr(inv.session, "progress", None)
    ok = 0
    last: list[str] = []
    code = 0
    for i in range(n):
        last = []
        code = inv.session.run_into(line, last, inv.ctx, inv.stdin)
        ok += code == 0
        if progress is not None:
            progress(i + 1, n)
    inv.write("".join(last))
    inv.print(f"repeat: {n} runs, {ok} succeeded")
    return code
