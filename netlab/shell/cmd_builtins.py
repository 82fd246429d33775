"""Shell builtins and the small text tools learners pipe through: cat, echo, grep,
head, tail, wc, sort, hostname, sleep, exit, history, sh -c."""
from __future__ import annotations

import re

from netlab.shell.registry import COMMANDS, Invocation, command


@command("true", summary="do nothing, successfully")
def true(inv: Invocation) -> int:
    return 0


@command("false", summary="do nothing, unsuccessfully")
def false(inv: Invocation) -> int:
    return 1


@command("echo", summary="print arguments")
def echo(inv: Invocation) -> int:
    args = inv.argv[1:]
    newline = True
    if args and args[0] == "-n":
        newline, args = False, args[1:]
    text = " ".join(args)
    inv.write(text + ("\n" if newline else ""))
    return 0


@command("cat", summary="print files")
def cat(inv: Invocation) -> int:
    files = [a for a in inv.argv[1:] if not a.startswith("-") or a == "-"]
    if not files:
        inv.write(inv.stdin)
        return 0
    code = 0
    for path in files:
        content = inv.stdin if path == "-" else inv.ns.read_file(path)
        if content is None:
            inv.print(f"cat: {path}: No such file or directory")
            code = 1
        else:
            inv.write(content)
    return code


@command("hostname", summary="show the host name")
def hostname(inv: Invocation) -> int:
    args = inv.argv[1:]
    if args in (["-i"], ["-I"]):
        from netlab.net.addr import fmt_ip

        addrs = [fmt_ip(a.ip) for d in inv.ns.devices.values() if d.kind != "loopback" for a in d.addrs]
        inv.print(" ".join(addrs) + (" " if args == ["-I"] else ""))
        return 0
    inv.print(inv.ns.hostname)
    return 0


@command("sleep", summary="let simulated time pass")
def sleep(inv: Invocation) -> int:
    if len(inv.argv) != 2:
        return inv.fail("sleep: missing operand" if len(inv.argv) < 2 else "sleep: extra operand", 1)
    text = inv.argv[1]
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([smhd]?)", text)
    if not m:
        return inv.fail(f"sleep: invalid time interval '{text}'", 1)
    seconds = float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]
    inv.lab.world.advance(seconds)
    return 0


@command("exit", "logout", summary="leave the current ssh or exec session")
def exit_(inv: Invocation) -> int:
    if not inv.session.leave():
        inv.session.exit_requested = True
    return 0


@command("history", summary="the lines typed so far")
def history(inv: Invocation) -> int:
    for i, line in enumerate(inv.session.history, 1):
        inv.print(f"{i:5d}  {line}")
    return 0


@command("clear", summary="clear the screen")
def clear(inv: Invocation) -> int:
    inv.write("\x1b[H\x1b[2J")
    return 0


@command("sh", "bash", summary="run a command string (-c)")
def sh(inv: Invocation) -> int:
    args = inv.argv[1:]
    if len(args) >= 2 and args[0] == "-c":
        return inv.session.run_into(args[1], inv.out, inv.ctx, inv.stdin)
    if not args:
        return 0  # an interactive shell inside the current context is the context itself
    return inv.fail(f"{inv.argv[0]}: {args[0]}: No such file or directory", 127)


@command("grep", "egrep", summary="print lines that match a pattern")
def grep(inv: Invocation) -> int:
    args = inv.argv[1:]
    invert = ignore = count = fixed = False
    extended = inv.argv[0] == "egrep"
    pattern = None
    files = []
    for a in args:
        if a.startswith("-") and pattern is None and len(a) > 1:
            for ch in a[1:]:
                if ch == "v":
                    invert = True
                elif ch == "i":
                    ignore = True
                elif ch == "c":
                    count = True
                elif ch == "E":
                    extended = True
                elif ch == "F":
                    fixed = True
                else:
                    return inv.fail(f"grep: invalid option -- '{ch}'\nUsage: grep [OPTION]... PATTERNS [FILE]...", 2)
        elif pattern is None:
            pattern = a
        else:
            files.append(a)
    if pattern is None:
        return inv.fail("Usage: grep [OPTION]... PATTERNS [FILE]...\nTry 'grep --help' for more information.", 2)
    text = inv.stdin
    if files:
        content = inv.ns.read_file(files[0])
        if content is None:
            return inv.fail(f"grep: {files[0]}: No such file or directory", 2)
        text = content
    if fixed:
        regex = re.compile(re.escape(pattern), re.I if ignore else 0)
    else:
        if not extended:  # basic regex: \| \+ \? are the operators, | + ? are literals
            pattern = pattern.replace("\\|", "\x00").replace("|", "\\|").replace("\x00", "|")
        try:
            regex = re.compile(pattern, re.I if ignore else 0)
        except re.error:
            return inv.fail("grep: Unmatched ( or \\(", 2)
    lines = [ln for ln in text.splitlines() if bool(regex.search(ln)) != invert]
    if count:
        inv.print(str(len(lines)))
    else:
        for ln in lines:
            inv.print(ln)
    return 0 if lines else 1


def _count_arg(inv: Invocation, default: int = 10) -> tuple[int, list[str]] | None:
    args = inv.argv[1:]
    n, rest = default, []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "-n" and i + 1 < len(args):
            a, i = "-n" + args[i + 1], i + 1
        if a.startswith("-n") or (a.startswith("-") and a[1:].isdigit()):
            digits = a[2:] if a.startswith("-n") else a[1:]
            if not digits.lstrip("+-").isdigit():
                return None
            n = int(digits)
        else:
            rest.append(a)
        i += 1
    return n, rest


@command("head", summary="first lines")
def head(inv: Invocation) -> int:
    parsed = _count_arg(inv)
    if parsed is None:
        return inv.fail(f"{inv.argv[0]}: invalid number of lines", 1)
    n, _ = parsed
    for ln in inv.stdin.splitlines()[:n]:
        inv.print(ln)
    return 0


@command("tail", summary="last lines")
def tail(inv: Invocation) -> int:
    parsed = _count_arg(inv)
    if parsed is None:
        return inv.fail(f"{inv.argv[0]}: invalid number of lines", 1)
    n, _ = parsed
    lines = inv.stdin.splitlines()
    for ln in lines[-n:] if n else []:
        inv.print(ln)
    return 0


@command("wc", summary="count lines, words, bytes")
def wc(inv: Invocation) -> int:
    text = inv.stdin
    lines, words, chars = text.count("\n"), len(text.split()), len(text.encode())
    flags = "".join(a[1:] for a in inv.argv[1:] if a.startswith("-"))
    if flags == "l":
        inv.print(str(lines))
    elif flags == "w":
        inv.print(str(words))
    elif flags == "c":
        inv.print(str(chars))
    else:
        inv.print(f"{lines:7d} {words:7d} {chars:7d}")
    return 0


@command("sort", summary="sort lines")
def sort(inv: Invocation) -> int:
    lines = inv.stdin.splitlines()
    lines.sort(reverse="-r" in inv.argv)
    for ln in lines:
        inv.print(ln)
    return 0


@command("help", summary="list the commands this context offers")
def help_(inv: Invocation) -> int:
    kind = inv.ctx.kind
    names = sorted({c.name for c in COMMANDS.values() if kind in c.where})
    inv.print("Commands here: " + " ".join(names))
    inv.print("Move around: `ssh NODE`, `kubectl exec -it POD -- sh`, `exit`. Trace a packet: `trace FROM TO[:PORT]`.")
    return 0


@command("env", "printenv", summary="print the environment")
def env(inv: Invocation) -> int:
    variables = inv.ns.env
    names = inv.argv[1:]
    if inv.argv[0] == "printenv" and names:
        found = [variables[n] for n in names if n in variables]
        for v in found:
            inv.print(v)
        return 0 if len(found) == len(names) else 1
    for k, v in variables.items():
        inv.print(f"{k}={v}")
    return 0
