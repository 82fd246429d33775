"""ipset (v7.17): create/add/del/test/list/save/restore/flush/destroy/rename/swap, with the
real tool's output and error words (netlab/net/ipset.py holds the sets)."""
from __future__ import annotations

import shlex

from netlab.net import ipset as S
from netlab.net.ipset import IpsetError
from netlab.shell.registry import Invocation, command

PREFIX = f"ipset {S.VERSION}: "
TRYHELP = "Try `ipset help' for more information."
ALIASES = {"x": "destroy", "l": "list", "e": "rename", "w": "swap", "n": "create", "a": "add", "d": "del",
           "t": "test", "s": "save", "r": "restore", "f": "flush", "-v": "version", "-V": "version"}
COMMANDS = ("create", "add", "del", "test", "destroy", "list", "save", "restore", "flush", "rename", "swap", "help",
            "version")
MANDATORY = {"create": 2, "add": 2, "del": 2, "test": 2, "rename": 2, "swap": 2}
ORDINAL = {1: "second ", 0: ""}


class Opts:
    def __init__(self) -> None:
        self.exist = self.sorted = self.quiet = self.names = self.terse = False
        self.output = None


def _split_options(argv: list[str]) -> tuple[Opts, list[str]]:
    o = Opts()
    rest = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("-exist", "-!", "--exist"):
            o.exist = True
        elif a in ("-s", "-sorted"):
            o.sorted = True
        elif a in ("-q", "-quiet"):
            o.quiet = True
        elif a in ("-n", "-name"):
            o.names = True
        elif a in ("-t", "-terse"):
            o.terse = True
        elif a in ("-o", "-output") and i + 1 < len(argv):
            o.output = argv[i + 1]
            i += 1
        else:
            rest.append(a)
        i += 1
    return o, rest


def _usage(msg: str) -> IpsetError:
    return IpsetError(f"{msg}\n{TRYHELP}", 2)


def execute(inv: Invocation, argv: list[str], stdin: str = "", *, exist: bool = False) -> None:
    """One ipset command; raises IpsetError."""
    opts, args = _split_options(argv)
    opts.exist = opts.exist or exist
    if not args:
        raise _usage("No command specified.")
    cmd = ALIASES.get(args[0], args[0])
    if cmd not in COMMANDS:
        raise _usage(f"No command specified: unknown argument {args[0]}")
    args = args[1:]
    need = MANDATORY.get(cmd, 0)
    if len(args) < need:
        raise _usage(f"Missing {'second ' if len(args) == 1 else ''}mandatory argument to command {cmd}")
    ns = inv.ns
    if cmd == "create":
        _create(ns, args, opts)
    elif cmd == "add":
        s = S.get(ns, args[0])
        comment = _comment(args[2:])
        s.add(args[1], comment=comment, exist=opts.exist)
    elif cmd == "del":
        S.get(ns, args[0]).delete(args[1], exist=opts.exist)
    elif cmd == "test":
        s = S.get(ns, args[0])
        if s.test_text(args[1]):
            if not opts.quiet:
                inv.print(f"Warning: {args[1]} is in set {s.name}.")
        else:
            raise IpsetError(f"{args[1]} is NOT in set {s.name}.", -1)
    elif cmd == "destroy":
        S.count_references(ns)
        S.destroy(ns, args[0] if args else None)
    elif cmd == "flush":
        for s in ([S.get(ns, args[0])] if args else list(S.sets_of(ns).values())):
            s.flush()
    elif cmd == "rename":
        S.count_references(ns)
        S.rename(ns, args[0], args[1])
    elif cmd == "swap":
        S.swap(ns, args[0], args[1])
    elif cmd == "list":
        _list(inv, args, opts, save_mode=opts.output == "save")
    elif cmd == "save":
        _list(inv, args, opts, save_mode=opts.output != "plain")
    elif cmd == "restore":
        _restore(inv, stdin, opts)
    elif cmd == "version":
        inv.print(f"ipset {S.VERSION}, protocol version: 7")
    elif cmd == "help":
        inv.print(f"ipset {S.VERSION}\n\nUsage: ipset [options] COMMAND\n\nCommands:\n" +
                  "\n".join(f"{c}" for c in COMMANDS))


def _comment(extra: list[str]) -> str | None:
    i = 0
    comment = None
    while i < len(extra):
        word = extra[i]
        if word == "comment" and i + 1 < len(extra):
            comment = extra[i + 1]
            i += 2
        elif word in ("timeout", "packets", "bytes", "skbmark", "skbprio", "skbqueue") and i + 1 < len(extra):
            i += 2
        elif word == "nomatch":
            i += 1
        else:
            raise _usage(f"Unknown argument: `{word}'")
    return comment


def _number(text: str) -> int:
    try:
        return int(text, 0)
    except ValueError:
        raise IpsetError(f"Syntax error: '{text}' is invalid as number") from None


def _create(ns, args: list[str], opts: Opts) -> None:
    name, type_name, rest = args[0], args[1], args[2:]
    if type_name not in S.TYPES:
        raise IpsetError(f"Syntax error: typename '{type_name}' is unknown")
    kw: dict = {}
    i = 0
    while i < len(rest):
        word = rest[i]
        val = rest[i + 1] if i + 1 < len(rest) else None
        if word == "family" and val is not None:
            if val not in ("inet", "inet6"):
                raise IpsetError(f"Syntax error: unknown inet family {val}")
            if val == "inet6":
                raise IpsetError("netlab models IPv4 sets only (family inet)")
            i += 2
        elif word in ("hashsize", "maxelem") and val is not None:
            kw[word] = _number(val)
            i += 2
        elif word in ("bucketsize", "initval", "timeout", "netmask", "markmask") and val is not None:
            _number(val) if word != "netmask" else None
            i += 2
        elif word == "range" and val is not None:
            lo, _, hi = val.partition("-")
            kw["range_"] = (_number(lo), _number(hi or lo))
            i += 2
        elif word == "comment":
            kw["comment"] = True
            i += 1
        elif word in ("counters", "skbinfo", "forceadd"):
            i += 1
        else:
            raise _usage(f"Unknown argument: `{word}'")
    S.create(ns, name, type_name, exist=opts.exist, **kw)


def _list(inv: Invocation, args: list[str], opts: Opts, *, save_mode: bool) -> None:
    ns = inv.ns
    S.count_references(ns)
    sets = [S.get(ns, args[0])] if args else list(S.sets_of(ns).values())
    if opts.names:
        for s in sets:
            inv.print(s.name)
        return
    if save_mode:
        inv.write("".join(s.save() for s in sets))
        return
    inv.write("\n".join(s.listing(terse=opts.terse, sort=opts.sorted) for s in sets))


def _restore(inv: Invocation, text: str, opts: Opts) -> None:
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#") or line == "COMMIT":
            continue
        try:
            words = shlex.split(line)
        except ValueError:
            words = line.split()
        try:
            execute(inv, words, exist=opts.exist)
        except IpsetError as err:
            if err.code == 2:
                raise
            raise IpsetError(f"Error in line {n}: {err.message}") from None


@command("ipset", where=("node",), summary="administration tool for IP sets")
def ipset(inv: Invocation) -> int:
    try:
        execute(inv, inv.argv[1:], inv.stdin)
    except IpsetError as err:
        if err.code == -1:  # `test` answered no: not an error message, exit status 1
            inv.print(err.message)
            return 1
        inv.print(PREFIX + err.message)
        return err.code
    return 0
