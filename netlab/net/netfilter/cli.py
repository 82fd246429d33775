"""The `iptables`, `iptables-save` and `iptables-restore` programs over a Netfilter: argv in,
(output, exit status) out. The shell commands and tests call these."""
from __future__ import annotations

from netlab.net.netfilter.listing import list_rules, list_table
from netlab.net.netfilter.model import IptablesError
from netlab.net.netfilter.parse import parse_args
from netlab.net.netfilter.save import RestoreError, restore, save

ILLEGAL = {"n": "AIDRCFNXPEZ", "v": "", "x": "AIDRCFNXPES", "line_numbers": "AIDRCFNXPESZ"}


def iptables(nf, argv: list[str]) -> tuple[str, int]:
    try:
        return _iptables(nf, argv)
    except IptablesError as err:
        return err.render("iptables"), err.code


def _iptables(nf, argv: list[str]) -> tuple[str, int]:
    p = parse_args(argv)
    op = p.op
    if op is None:
        raise IptablesError("no command specified", 2, usage=True)
    for flag, word in (("-n", "numeric"), ("-x", "exact"), ("--line-numbers", "line_numbers")):
        if getattr(p, word) and op not in ("L",) and not (op == "S" and word != "exact"):
            raise IptablesError(f"Illegal option `{flag}' with this command", 2, usage=True)
    if op in ("A", "I", "D", "R", "C") and p.rule is None and p.num is None:
        raise IptablesError("no rule given", 2, usage=True)
    t = nf.table(p.table)
    if op in ("L", "S") and p.chain is not None and p.chain not in t.chains:
        raise IptablesError(f"chain `{p.chain}' in table `{p.table}' is incompatible, use 'nft' tool.", 1, versioned=True)
    if op == "L":
        out = list_table(t, p.chain, p.num, numeric=p.numeric, verbose=p.verbose, exact=p.exact,
                         line_numbers=p.line_numbers)
        if p.zero:
            nf.zero(p.table, p.chain)
        return out, 0
    if op == "S":
        return list_rules(t, p.chain, p.num, verbose=p.verbose), 0
    if op == "A":
        nf.append(p.table, p.chain, p.rule)
    elif op == "I":
        nf.insert(p.table, p.chain, p.rule, p.num or 1)
    elif op == "D":
        if p.num is not None and not p.has_rule_opts:
            nf.delete(p.table, p.chain, p.num)
        else:
            nf.delete(p.table, p.chain, p.rule)
    elif op == "R":
        nf.replace(p.table, p.chain, p.num, p.rule)
    elif op == "C":
        nf.check(p.table, p.chain, p.rule)
    elif op == "F":
        nf.flush(p.table, p.chain)
    elif op == "Z":
        nf.zero(p.table, p.chain, p.num)
    elif op == "N":
        nf.new_chain(p.table, p.chain)
    elif op == "X":
        nf.delete_chain(p.table, p.chain)
    elif op == "P":
        nf.set_policy(p.table, p.chain, p.arg)
    elif op == "E":
        nf.rename_chain(p.table, p.chain, p.arg)
    return "", 0


def iptables_save(nf, argv: list[str]) -> tuple[str, int]:
    table = None
    counters = False
    args = list(argv)
    while args:
        a = args.pop(0)
        if a in ("-c", "--counters"):
            counters = True
        elif a in ("-t", "--table"):
            if not args:
                return "iptables-save: option '-t' requires an argument\n", 1
            table = args.pop(0)
            if table not in nf.tables:
                return f"iptables-save v1.8.9 (nf_tables): table '{table}' does not exist\n", 1
        elif a.startswith("--table="):
            table = a.split("=", 1)[1]
        elif a in ("-M", "--modprobe"):
            args.pop(0) if args else None
        else:
            return (f"iptables-save: unrecognized option '{a}'\n" if a.startswith("--") else
                    f"iptables-save: invalid option -- '{a.lstrip('-')[:1]}'\n") + \
                "Unknown arguments found on commandline\n", 1
    return save(nf, table, counters), 0


def iptables_restore(nf, argv: list[str], text: str) -> tuple[str, int]:
    """`iptables-restore [--noflush] [-c] [-T table] [FILE]` (stdin when no FILE)."""
    noflush = counters = False
    only = None
    args = list(argv)
    while args:
        a = args.pop(0)
        if a in ("-n", "--noflush"):
            noflush = True
        elif a in ("-c", "--counters"):
            counters = True
        elif a in ("-T", "--table"):
            only = args.pop(0) if args else None
        elif a in ("-w", "--wait", "-v", "--verbose", "-t", "--test"):
            continue
        elif a.startswith("-"):
            return f"iptables-restore: unrecognized option '{a}'\n", 1
        else:
            content = nf.ns.read_file(a)
            if content is None:
                return f"Can't open {a}: No such file or directory\n", 1
            text = content
    try:
        restore(nf, text, noflush=noflush, only=only, counters=counters)
    except RestoreError as err:
        return err.text, err.code
    return "", 0
