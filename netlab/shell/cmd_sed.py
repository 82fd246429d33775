"""sed: the stream editor, for the scripts people pipe manifests through and for
`KUBE_EDITOR="sed -i ..."`: the `s///` command (flags g, i, N), `d`, addresses by
regex or line number, `-i`, `-e`, `-E`/`-r`, `-n` with `p`."""
from __future__ import annotations

import re

from netlab.shell.registry import Invocation, command


class SedError(Exception):
    pass


def bre_to_python(pattern: str, extended: bool) -> str:
    if extended:
        return pattern
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            n = pattern[i + 1]
            out.append(n if n in "(){}+?|" else "\\" + n)
            i += 2
            continue
        out.append("\\" + c if c in "(){}+?|" else c)
        i += 1
    return "".join(out)


def _replacement(text: str) -> str:
    """sed's replacement (`&`, `\\1`, `\\n`) as a Python re template."""
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            n = text[i + 1]
            if n.isdigit():
                out.append(f"\\g<{n}>")
            else:
                out.append({"n": "\n", "t": "\t"}.get(n, "\\\\" if n == "\\" else n))
            i += 2
            continue
        out.append("\\g<0>" if c == "&" else c)
        i += 1
    return "".join(out)


def _until(text: str, i: int, delim: str, expr_no: int, what: str) -> tuple[str, int]:
    out = []
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            out.append(text[i:i + 2] if text[i + 1] != delim else delim)
            i += 2
            continue
        if text[i] == delim:
            return "".join(out), i + 1
        out.append(text[i])
        i += 1
    raise SedError(f"-e expression #{expr_no}, char {len(text)}: unterminated {what}")


def parse_script(script: str, expr_no: int, extended: bool) -> list[tuple]:
    cmds, i = [], 0
    while i < len(script):
        while i < len(script) and script[i] in " ;\n\t":
            i += 1
        if i >= len(script):
            break
        address = None
        if script[i] == "/":
            pat, i = _until(script, i + 1, "/", expr_no, "address regex")
            address = ("re", re.compile(bre_to_python(pat, extended)))
        elif script[i].isdigit():
            m = re.match(r"\d+", script[i:])
            address = ("line", int(m.group()))
            i += m.end()
        elif script[i] == "$":
            address, i = ("last", None), i + 1
        if i >= len(script):
            raise SedError(f"-e expression #{expr_no}, char {i}: missing command")
        c = script[i]
        if c == "s":
            if i + 1 >= len(script):
                raise SedError(f"-e expression #{expr_no}, char {i + 1}: unterminated `s' command")
            delim = script[i + 1]
            pat, i = _until(script, i + 2, delim, expr_no, "`s' command")
            rep, i = _until(script, i, delim, expr_no, "`s' command")
            m = re.match(r"[gpiI0-9]*", script[i:])
            flags, i = m.group(), i + m.end()
            if i < len(script) and script[i] not in " ;\n\t}":
                raise SedError(f"-e expression #{expr_no}, char {i + 1}: unknown option to `s'")
            try:
                rx = re.compile(bre_to_python(pat, extended), re.I if "i" in flags.lower() else 0)
            except re.error as err:
                raise SedError(f"-e expression #{expr_no}, char {i}: {err}") from None
            count = 0 if "g" in flags else int(re.sub(r"\D", "", flags) or 1)
            cmds.append((address, "s", rx, _replacement(rep), count, "g" in flags, "p" in flags))
        elif c in "dp":
            cmds.append((address, c))
            i += 1
        else:
            raise SedError(f"-e expression #{expr_no}, char {i + 1}: unknown command: `{c}'")
    return cmds


def _matches(address, line: str, number: int, last: bool) -> bool:
    if address is None:
        return True
    kind, value = address
    return value.search(line) is not None if kind == "re" else number == value if kind == "line" else last


def run_script(cmds: list[tuple], text: str, quiet: bool) -> str:
    lines = text.split("\n")
    trailing = text.endswith("\n")
    if trailing:
        lines.pop()
    out = []
    for n, line in enumerate(lines, 1):
        deleted = False
        for cmd in cmds:
            if not _matches(cmd[0], line, n, n == len(lines)):
                continue
            if cmd[1] == "d":
                deleted = True
                break
            if cmd[1] == "p":
                out.append(line)
                continue
            _, _, rx, rep, count, every, show = cmd
            if every:
                new, k = rx.subn(rep, line)
            else:
                new, k = _nth(rx, rep, line, count)
            line = new
            if k and show:
                out.append(line)
        if not deleted and not quiet:
            out.append(line)
    return "\n".join(out) + ("\n" if out and (trailing or len(out) > len(lines)) else "")


def _nth(rx, rep: str, line: str, n: int) -> tuple[str, int]:
    for i, m in enumerate(rx.finditer(line), 1):
        if i == n:
            return line[:m.start()] + m.expand(rep) + line[m.end():], 1
    return line, 0


@command("sed", summary="stream editor")
def sed(inv: Invocation) -> int:
    args = inv.argv[1:]
    in_place = quiet = extended = False
    scripts: list[str] = []
    files: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("-i", "--in-place") or a.startswith("-i") and not a.startswith("-i="):
            in_place = True
        elif a in ("-n", "--quiet", "--silent"):
            quiet = True
        elif a in ("-E", "-r", "--regexp-extended"):
            extended = True
        elif a in ("-e", "--expression"):
            if i + 1 >= len(args):
                return inv.fail("sed: option requires an argument -- 'e'", 1)
            i += 1
            scripts.append(args[i])
        elif a.startswith("-") and a != "-":
            return inv.fail(f"sed: invalid option -- '{a.lstrip('-')[:1]}'\nUsage: sed [OPTION]... {{script-only-if-no-other-script}} [input-file]...", 1)
        elif not scripts and not files and not any(x in ("-e", "--expression") for x in args):
            scripts.append(a)
        else:
            files.append(a)
        i += 1
    if not scripts:
        return inv.fail("Usage: sed [OPTION]... {script-only-if-no-other-script} [input-file]...", 1)
    try:
        cmds = [c for n, s in enumerate(scripts, 1) for c in parse_script(s, n, extended)]
    except SedError as err:
        return inv.fail(f"sed: {err}", 1)
    if in_place and not files:
        return inv.fail("sed: no input files", 1)
    if not files:
        inv.write(run_script(cmds, inv.stdin, quiet))
        return 0
    code = 0
    for path in files:
        text = inv.ns.read_file(path)
        if text is None or callable(text):
            inv.print(f"sed: can't read {path}: No such file or directory")
            code = 2
            continue
        result = run_script(cmds, text, quiet)
        if in_place:
            inv.ns.files[path] = result
        else:
            inv.write(result)
    return code
