"""conntrack (conntrack-tools 1.4.7): -L, -D, -F, -C with the usual filters."""
from __future__ import annotations

from netlab.net import netfilter
from netlab.net.addr import AddrError, parse_ip
from netlab.net.conntrack import ASSURED, DST_NAT, PROTO_LABEL, SEEN_REPLY, SRC_NAT, Conn
from netlab.net.packet import PROTO_NUMBERS
from netlab.shell.registry import Invocation, command

HEAD = "conntrack v1.4.7 (conntrack-tools): "
USAGE = "Try `conntrack -h' or 'conntrack --help' for more information.\n"
COMMANDS = {"-L": "L", "--dump": "L", "-D": "D", "--delete": "D", "-F": "F", "--flush": "F", "-C": "C",
            "--count": "C", "-G": "G", "--get": "G"}
ADDR_FILTERS = {"-s": ("orig", "src"), "--src": ("orig", "src"), "--orig-src": ("orig", "src"),
                "-d": ("orig", "dst"), "--dst": ("orig", "dst"), "--orig-dst": ("orig", "dst"),
                "-r": ("reply", "src"), "--reply-src": ("reply", "src"),
                "-q": ("reply", "dst"), "--reply-dst": ("reply", "dst")}
PORT_FILTERS = {"--sport": ("orig", "a"), "--orig-port-src": ("orig", "a"), "--dport": ("orig", "b"),
                "--orig-port-dst": ("orig", "b"), "--reply-port-src": ("reply", "a"), "--reply-port-dst": ("reply", "b")}


def _bad(inv: Invocation, msg: str) -> int:
    inv.write(HEAD + msg + "\n" + USAGE)
    return 2


@command("conntrack", where=("node",), summary="show and edit the connection tracking table")
def cmd_conntrack(inv: Invocation) -> int:
    args = inv.argv[1:]
    op = None
    tests = []
    extended = False
    i = 0
    while i < len(args):
        a = args[i]
        i += 1
        val = args[i] if i < len(args) else None
        if a in COMMANDS:
            op = COMMANDS[a]
        elif a in ("-p", "--proto"):
            i += 1
            if val is None or (val.lower() not in PROTO_NUMBERS and not val.isdigit()):
                return _bad(inv, f"`{val}' unsupported protocol")
            proto = PROTO_NUMBERS.get(val.lower(), int(val) if val.isdigit() else 0)
            tests.append(lambda c, p=proto: c.orig.proto == p)
        elif a in ADDR_FILTERS:
            i += 1
            side, field = ADDR_FILTERS[a]
            try:
                ip = parse_ip(val or "")
            except AddrError:
                return _none(inv, op)
            tests.append(lambda c, s=side, f=field, ip=ip: getattr(c.orig if s == "orig" else c.reply, f) == ip)
        elif a in PORT_FILTERS:
            i += 1
            side, field = PORT_FILTERS[a]
            if val is None or not val.isdigit():
                return _bad(inv, f"invalid port `{val}'")
            tests.append(lambda c, s=side, f=field, port=int(val): getattr(c.orig if s == "orig" else c.reply, f) == port)
        elif a == "--state":
            i += 1
            tests.append(lambda c, st=(val or "").upper(): c.state == st)
        elif a in ("-m", "--mark"):
            i += 1
            tests.append(lambda c, m=int(val or "0", 0): c.mark == m)
        elif a in ("-n", "--src-nat"):
            tests.append(lambda c: bool(c.status & SRC_NAT))
        elif a in ("-g", "--dst-nat"):
            tests.append(lambda c: bool(c.status & DST_NAT))
        elif a in ("-u", "--status"):
            i += 1
            want = (val or "").upper().split(",")
            bits = {"ASSURED": ASSURED, "SEEN_REPLY": SEEN_REPLY}
            tests.append(lambda c, w=want: all(c.status & bits.get(x, 0) for x in w if x != "UNREPLIED")
                         and ("UNREPLIED" not in w or not c.status & SEEN_REPLY))
        elif a in ("-o", "--output"):
            i += 1
            extended = "extended" in (val or "")
        elif a in ("-f", "--family"):
            i += 1
        else:
            return _bad(inv, f"unknown option `{a}'")
    if op is None:
        return _bad(inv, "no command specified")
    ct = netfilter.load(inv.ns).ct
    if op == "F":
        ct.flush()
        inv.write(HEAD + "connection tracking table has been emptied.\n")
        return 0
    if op == "C":
        inv.write(f"{len(ct)}\n")
        return 0
    chosen = [c for c in ct.entries() if all(t(c) for t in tests)]
    for c in chosen:
        inv.write(_line(ct, c, extended) + "\n")
    if op == "D":
        for c in chosen:
            ct.remove(c)
        inv.write(HEAD + f"{len(chosen)} flow entries have been deleted.\n")
        return 0 if chosen else 1
    inv.write(HEAD + f"{len(chosen)} flow entries have been shown.\n")
    return 0


def _none(inv: Invocation, op: str | None) -> int:
    verb = "deleted" if op == "D" else "shown"
    inv.write(HEAD + f"0 flow entries have been {verb}.\n")
    return 1 if op == "D" else 0


def _line(ct, c: Conn, extended: bool) -> str:
    text = ct.format(c)
    return ("ipv4     2 " + text) if extended else text


assert PROTO_LABEL  # the labels -L prints come from conntrack.py
