"""What every `ip` object shares: the global options, iproute2's argument helpers and their
exact error messages and exit codes (lib/utils.c).

Exit codes follow `ip`: 255 for usage errors (iproute2 calls exit(-1)), 1 for a bad address
or prefix and for a missing device, 2 when the kernel refuses (RtnlError).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from netlab.net.addr import mask

if TYPE_CHECKING:
    from netlab.net.device import Device
    from netlab.net.netns import NetNS
    from netlab.shell.registry import Invocation

VERSION = "ip utility, iproute2-6.1.0, libbpf 1.1.2"
FAMILY_VERBOSE = {None: "any valid", "inet": "inet", "inet6": "inet6", "link": "link"}


class IpExit(Exception):
    """Stop the command: print `message` (if any) and exit with `code`."""

    def __init__(self, message: str | None, code: int) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass
class IpOptions:
    """The global options and where the command runs (after `-n NAME`)."""
    inv: Invocation
    ns: NetNS
    family: str | None = None  # None, "inet", "inet6", "link"
    stats: int = 0
    details: int = 0
    oneline: bool = False
    brief: bool = False
    resolve: bool = False
    human: bool = False
    out: list[str] = field(default_factory=list)

    def emit(self, text: str) -> None:
        self.out.append(text + "\n")


def matches(word: str, full: str) -> bool:
    """iproute2's matches(): `word` is a non-empty prefix of `full`."""
    return bool(word) and full.startswith(word)


class Args:
    """argv with iproute2's NEXT_ARG()."""

    def __init__(self, argv: list[str]) -> None:
        self.argv = list(argv)
        self.i = 0

    def __bool__(self) -> bool:
        return self.i < len(self.argv)

    @property
    def cur(self) -> str:
        return self.argv[self.i]

    def advance(self) -> None:
        self.i += 1

    def next(self) -> str:
        """NEXT_ARG: the value after the current keyword."""
        self.i += 1
        if self.i >= len(self.argv):
            incomplete()
        return self.argv[self.i]

    def rest(self) -> list[str]:
        return self.argv[self.i:]

    def next_u32(self, msg: str, limit: int = 1 << 32) -> int:
        """NEXT_ARG and get_u32, with iproute2's invarg() when the number is bad."""
        text = self.next()
        value = get_u32(text)
        if value is None or value >= limit:
            invarg(msg, text)
        return value


def incomplete():
    raise IpExit('Command line is not complete. Try option "help"', 255)


def invarg(msg: str, arg: str):
    raise IpExit(f'Error: argument "{arg}" is wrong: {msg}', 255)


def duparg(key: str, arg: str):
    raise IpExit(f'Error: duplicate "{key}": "{arg}" is the second value.', 255)


def duparg2(key: str, arg: str):
    raise IpExit(f'Error: either "{key}" is duplicate, or "{arg}" is a garbage.', 255)


def nodev(name: str, code: int = 1):
    raise IpExit(f'Cannot find device "{name}"', code)


def unknown_command(word: str, obj: str):
    raise IpExit(f'Command "{word}" is unknown, try "ip {obj} help".', 255)


# -- numbers and addresses, parsed as lib/utils.c parses them ------------------------------
def strtoul(text: str) -> int | None:
    """strtoul(text, &end, 0) that must consume the whole string."""
    t = text.strip()
    if not t or t.startswith("-"):
        return None
    try:
        if t.lower().startswith("0x"):
            return int(t[2:], 16)
        if len(t) > 1 and t.startswith("0"):
            return int(t[1:], 8)
        return int(t, 10)
    except ValueError:
        return None


def get_u32(text: str) -> int | None:
    value = strtoul(text)
    return value if value is not None and value < 1 << 32 else None


def parse_ipv4(text: str) -> int | None:
    """get_addr_ipv4: up to four dot-separated numbers (base 0), each at most 255."""
    parts = text.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    octets = []
    for p in parts:
        n = strtoul(p)
        if n is None or n > 255:
            return None
        octets.append(n)
    octets += [0] * (4 - len(octets))
    return (octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3]


def get_prefix(text: str, family: str | None = None) -> tuple[int, int, bool]:
    """get_prefix: (address, prefix length, length given). `default`, `any`, `all` are 0/0."""
    if text in ("default", "any", "all"):
        return 0, 0, True
    addr_text, slash, plen_text = text.partition("/")
    ip = parse_ipv4(addr_text) if family in (None, "inet") else None
    plen = 32
    if ip is not None and slash:
        plen = strtoul(plen_text)
        if plen is None:
            as_mask = parse_ipv4(plen_text)
            if as_mask is not None and mask(bin(as_mask).count("1")) == as_mask:
                plen = bin(as_mask).count("1")
        if plen is None or plen > 32:
            ip = None
    if ip is None:
        raise IpExit(f'Error: {FAMILY_VERBOSE.get(family, family)} prefix is expected rather than "{text}".', 1)
    return ip, plen, bool(slash)


def get_addr(text: str, family: str | None = None) -> int:
    ip = parse_ipv4(text) if family in (None, "inet") and text not in ("default", "any", "all") else None
    if ip is None:
        raise IpExit(f'Error: {FAMILY_VERBOSE.get(family, family)} address is expected rather than "{text}".', 1)
    return ip


def ll_addr(text: str) -> str:
    """ll_addr_a2n for an ethernet address."""
    parts = text.split(":")
    try:
        octets = [int(p, 16) for p in parts]
    except ValueError:
        raise IpExit(f'"{text}" is invalid lladdr.', 1) from None
    if any(not 0 <= o <= 255 or not 1 <= len(p) <= 2 for o, p in zip(octets, parts)):
        raise IpExit(f'"{text}" is invalid lladdr.', 1)
    return ":".join(f"{o:02x}" for o in octets)


def find_dev(ns: NetNS, name: str) -> Device | None:
    """ll_name_to_index: a name, or `ifN` for an ifindex."""
    dev = ns.devices.get(name)
    if dev is None and name.startswith("if") and name[2:].isdigit():
        dev = ns.by_index.get(int(name[2:]))
    return dev


def require_dev(ns: NetNS, name: str, code: int = 1) -> Device:
    dev = find_dev(ns, name)
    if dev is None:
        nodev(name, code)
    return dev


def flush_report(opts: IpOptions, gone: int, what: str = "entries") -> None:
    """What `ip -s ... flush` says (netlab flushes in one round)."""
    if opts.stats:
        opts.emit("Nothing to flush." if not gone else
                  f"\n*** Round 1, deleting {gone} {what} ***\n*** Flush is complete after 1 round ***")


def records(opts: IpOptions, lines: list[str]) -> None:
    """Print one record: its lines joined by newlines, or by `\\` under -o (iproute2's _SL_)."""
    opts.emit(("\\" if opts.oneline else "\n").join(lines))
