"""`ip rule`: the policy rules that order the routing tables (iprule.c).

netlab's FIB asks tables in rule order and every rule matches every packet (`from all`), so
rules may be listed, added and deleted with a table and a priority; selectors (from, to,
iif, fwmark, ...) are refused with a note rather than silently ignored.
"""
from __future__ import annotations

from netlab.net.fib import Rule
from netlab.net.route_text import table_name
from netlab.net.rtnl import RtnlError
from netlab.shell.ip.common import Args, IpExit, IpOptions, get_u32, invarg, matches, unknown_command
from netlab.shell.ip.route import table_id

USAGE = """Usage: ip rule { add | del } SELECTOR ACTION
       ip rule { flush | save | restore }
       ip rule [ list [ SELECTOR ]]
SELECTOR := [ not ] [ from PREFIX ] [ to PREFIX ] [ tos TOS ]
            [ fwmark FWMARK[/MASK] ]
            [ iif STRING ] [ oif STRING ] [ pref NUMBER ] [ l3mdev ]
            [ uidrange NUMBER-NUMBER ]
            [ ipproto PROTOCOL ]
            [ sport [ NUMBER | NUMBER-NUMBER ]
            [ dport [ NUMBER | NUMBER-NUMBER ] ]
ACTION := [ table TABLE_ID ]
          [ protocol PROTO ]
          [ nat ADDRESS ]
          [ realms [SRCREALM/]DSTREALM ]
          [ goto NUMBER ]
          SUPPRESSOR
SUPPRESSOR := [ suppress_prefixlength NUMBER ]
              [ suppress_ifgroup DEVGROUP ]
TABLE_ID := [ local | main | default | NUMBER ]"""
SELECTORS = ("from", "to", "tos", "dsfield", "fwmark", "iif", "dev", "oif", "uidrange", "ipproto", "sport", "dport",
             "not", "l3mdev")


def usage():
    raise IpExit(USAGE, 255)


def rule_line(rule: Rule) -> str:
    return f"{rule.priority}:\tfrom all lookup {table_name(rule.table)}"


def parse(argv: list[str]) -> tuple[int | None, int | None]:
    prio = table = None
    args = Args(argv)
    while args:
        a = args.cur
        if a in ("from", "to") and args.i + 1 < len(args.argv) and args.argv[args.i + 1] == "all":
            args.advance()
        elif a in SELECTORS:
            raise IpExit("netlab's policy rules match every packet (from all): selectors are not modelled", 2)
        elif matches(a, "preference") or matches(a, "order") or matches(a, "priority"):
            text = args.next()
            prio = get_u32(text)
            if prio is None:
                invarg('Invalid "priority" value\n', text)
        elif matches(a, "table") or a == "lookup":
            text = args.next()
            table = table_id(text)
            if table is None:
                invarg("invalid table ID\n", text)
        elif matches(a, "help"):
            usage()
        else:
            raise IpExit(f'Error: argument "{a}" is wrong: Failed to parse rule type', 255)
        args.advance()
    return prio, table


def do_iprule(opts: IpOptions, argv: list[str]) -> int:
    fib = opts.ns.fib
    if not argv or matches(argv[0], "list") or matches(argv[0], "show") or argv[0] == "lst":
        if opts.family != "inet6":
            for rule in fib.rules:
                opts.emit(rule_line(rule))
        return 0
    word, rest = argv[0], argv[1:]
    if matches(word, "add"):
        prio, table = parse(rest)
        if table is None:
            raise RtnlError("EINVAL")
        if prio is None:  # fib_default_rule_pref: just before the second rule
            prio = fib.rules[1].priority - 1 if len(fib.rules) > 1 else 0
        fib.rules.append(Rule(prio, table))
        fib.rules.sort(key=lambda r: r.priority)
        fib.version += 1
        return 0
    if matches(word, "delete"):
        prio, table = parse(rest)
        for rule in fib.rules:
            if (prio is None or rule.priority == prio) and (table is None or rule.table == table):
                fib.rules.remove(rule)
                fib.version += 1
                return 0
        raise RtnlError("ENOENT")
    if matches(word, "flush"):
        fib.rules[:] = [r for r in fib.rules if r.priority == 0]  # main and default go too, as on Linux
        fib.version += 1
        return 0
    if matches(word, "help"):
        usage()
    unknown_command(word, "rule")
