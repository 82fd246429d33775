"""`ssh NODE [CMD]`: run a command on a node, or move the session there until `exit`."""
from __future__ import annotations

import shlex

from netlab.shell.registry import Invocation, command


@command("ssh", where=("node",), summary="log in to a node")
def ssh(inv: Invocation) -> int:
    args = inv.argv[1:]
    while args and args[0].startswith("-"):
        opt = args.pop(0)
        if opt in ("-p", "-l", "-i", "-o") and args:
            args.pop(0)
    if not args:
        return inv.fail("usage: ssh [-46AaCfGgKkMNnqsTtVvXxYy] [-B bind_interface] [-b bind_address]\n"
                        "           [-c cipher_spec] [-D [bind_address:]port] [-E log_file]\n"
                        "           destination [command [argument ...]]", 255)
    host = args[0].split("@", 1)[-1]
    ctx = inv.session.context_for(host)
    if ctx is None or ctx.kind != "node":
        return inv.fail(f"ssh: Could not resolve hostname {host}: Name or service not known", 255)
    if len(args) == 1:
        inv.session.stack.append(ctx)
        return 0
    line = " ".join(shlex.quote(a) for a in args[1:]) if len(args) > 2 else args[1]
    return inv.session.run_into(line, inv.out, ctx, inv.stdin)
