"""Targets: what a matching rule does, and how iptables prints it.

`fire(pkt, cx)` returns (verdict, packet). Verdicts: ACCEPT, DROP, RETURN, CONTINUE (a
non-terminating target such as MARK or LOG: the walk goes on with the next rule), and
JUMP/GOTO for user chains (handled by the walk).
"""
from __future__ import annotations

from netlab.net.addr import fmt_ip
from netlab.net.netfilter.matches import Ctx, fmt_mark, quote
from netlab.net.packet import evolve

ACCEPT, DROP, RETURN, CONTINUE, JUMP = "ACCEPT", "DROP", "RETURN", "CONTINUE", "JUMP"


class Target:
    name = ""
    chain: str | None = None  # the user chain a jump or goto names
    tables: tuple[str, ...] | None = None  # tables where the kernel accepts it (None: all)
    hooks: tuple[str, ...] | None = None  # hooks where the kernel accepts it (None: all)

    def fire(self, pkt, cx: Ctx):
        return CONTINUE, pkt

    def save(self) -> str:
        return self.name

    def listing(self) -> str:
        return ""


class Verdict(Target):
    """ACCEPT, DROP or RETURN: the standard target with a verdict."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def fire(self, pkt, cx: Ctx):
        return self.name, pkt


class Jump(Target):
    """`-j CHAIN` or `-g CHAIN` (the Rule's `goto` says which)."""

    __slots__ = ("chain",)

    def __init__(self, chain: str) -> None:
        self.chain = chain

    @property
    def name(self) -> str:  # type: ignore[override]
        return self.chain

    def fire(self, pkt, cx: Ctx):
        return JUMP, pkt

    def save(self) -> str:
        return self.chain


ACCEPT_T, DROP_T, RETURN_T = Verdict(ACCEPT), Verdict(DROP), Verdict(RETURN)

REJECT_TYPES = {
    "icmp-net-unreachable": (3, 0), "icmp-host-unreachable": (3, 1), "icmp-port-unreachable": (3, 3),
    "icmp-proto-unreachable": (3, 2), "icmp-net-prohibited": (3, 9), "icmp-host-prohibited": (3, 10),
    "icmp-admin-prohibited": (3, 13), "tcp-reset": None,
}
REJECT_ALIASES = {"net-unreach": "icmp-net-unreachable", "host-unreach": "icmp-host-unreachable",
                  "port-unreach": "icmp-port-unreachable", "proto-unreach": "icmp-proto-unreachable",
                  "net-prohib": "icmp-net-prohibited", "host-prohib": "icmp-host-prohibited",
                  "admin-prohib": "icmp-admin-prohibited", "tcp-rst": "tcp-reset"}


class Reject(Target):
    name = "REJECT"
    hooks = ("INPUT", "FORWARD", "OUTPUT")
    __slots__ = ("with_",)

    def __init__(self, with_: str = "icmp-port-unreachable") -> None:
        self.with_ = with_

    def fire(self, pkt, cx: Ctx):
        cx.nf.send_reject(pkt, cx, self.with_)
        return DROP, pkt

    def save(self) -> str:
        return f"REJECT --reject-with {self.with_}"

    def listing(self) -> str:
        return f"reject-with {self.with_}"


class NatRange:
    """`ip[-ip][:port[-port]]` of --to-destination / --to-source."""

    __slots__ = ("ip_lo", "ip_hi", "port_lo", "port_hi")

    def __init__(self, ip_lo: int | None, ip_hi: int | None = None, port_lo: int | None = None,
                 port_hi: int | None = None) -> None:
        self.ip_lo = ip_lo
        self.ip_hi = ip_hi if ip_hi is not None else ip_lo
        self.port_lo = port_lo
        self.port_hi = port_hi if port_hi is not None else port_lo

    def text(self) -> str:
        out = ""
        if self.ip_lo is not None:
            out = fmt_ip(self.ip_lo) + (f"-{fmt_ip(self.ip_hi)}" if self.ip_hi != self.ip_lo else "")
        if self.port_lo is not None:
            out += f":{self.port_lo}" + (f"-{self.port_hi}" if self.port_hi != self.port_lo else "")
        return out


def _nat_flags(random: bool, random_fully: bool, persistent: bool, save: bool) -> str:
    out = ""
    for flag, word in ((random, "random"), (random_fully, "random-fully"), (persistent, "persistent")):
        if flag:
            out += f" --{word}" if save else f" {word}"
    return out


class Dnat(Target):
    name = "DNAT"
    tables = ("nat",)
    hooks = ("PREROUTING", "OUTPUT")
    manip = "dst"
    __slots__ = ("to", "random", "persistent")

    def __init__(self, to: NatRange | str, *, random: bool = False, persistent: bool = False) -> None:
        self.to = parse_nat_range(to) if isinstance(to, str) else to
        self.random = random
        self.persistent = persistent

    def fire(self, pkt, cx: Ctx):
        return ACCEPT, cx.nf.nat_bind(pkt, cx, self.manip, self.to, random_fully=False)

    def save(self) -> str:
        return f"DNAT --to-destination {self.to.text()}" + _nat_flags(self.random, False, self.persistent, True)

    def listing(self) -> str:
        return f"to:{self.to.text()}" + _nat_flags(self.random, False, self.persistent, False)


class Snat(Target):
    name = "SNAT"
    tables = ("nat",)
    hooks = ("POSTROUTING", "INPUT")
    manip = "src"
    __slots__ = ("to", "random", "random_fully", "persistent")

    def __init__(self, to: NatRange | str, *, random: bool = False, random_fully: bool = False,
                 persistent: bool = False) -> None:
        self.to = parse_nat_range(to) if isinstance(to, str) else to
        self.random = random
        self.random_fully = random_fully
        self.persistent = persistent

    def fire(self, pkt, cx: Ctx):
        return ACCEPT, cx.nf.nat_bind(pkt, cx, self.manip, self.to, random_fully=self.random_fully)

    def save(self) -> str:
        return f"SNAT --to-source {self.to.text()}" + _nat_flags(self.random, self.random_fully, self.persistent, True)

    def listing(self) -> str:
        return f"to:{self.to.text()}" + _nat_flags(self.random, self.random_fully, self.persistent, False)


class Masquerade(Target):
    name = "MASQUERADE"
    tables = ("nat",)
    hooks = ("POSTROUTING",)
    __slots__ = ("port_lo", "port_hi", "random", "random_fully")

    def __init__(self, *, ports: tuple[int, int] | None = None, random: bool = False, random_fully: bool = False) -> None:
        self.port_lo, self.port_hi = ports if ports is not None else (None, None)
        self.random = random
        self.random_fully = random_fully

    def fire(self, pkt, cx: Ctx):
        src = cx.ns.select_src(cx.out_dev, pkt.dst) if cx.out_dev is not None else 0
        if not src:
            return DROP, pkt  # no address on the out device: the kernel drops (NF_DROP)
        rng = NatRange(src, src, self.port_lo, self.port_hi)
        return ACCEPT, cx.nf.nat_bind(pkt, cx, "src", rng, random_fully=self.random_fully)

    def _ports(self) -> str:
        if self.port_lo is None:
            return ""
        return str(self.port_lo) + (f"-{self.port_hi}" if self.port_hi != self.port_lo else "")

    def save(self) -> str:
        out = "MASQUERADE"
        if self.port_lo is not None:
            out += f" --to-ports {self._ports()}"
        return out + _nat_flags(self.random, self.random_fully, False, True)

    def listing(self) -> str:
        out = f"masq ports: {self._ports()}" if self.port_lo is not None else ""
        flags = _nat_flags(self.random, self.random_fully, False, False)
        return (out + flags).strip()


class MarkTarget(Target):
    """MARK: the kernel keeps one (value, mask) pair: mark = (mark & ~mask) ^ value."""

    name = "MARK"
    __slots__ = ("value", "mask")

    def __init__(self, value: int, mask: int = 0xFFFFFFFF) -> None:
        self.value = value
        self.mask = mask

    @classmethod
    def or_mark(cls, v: int) -> "MarkTarget":
        return cls(v, v)

    @classmethod
    def xor_mark(cls, v: int) -> "MarkTarget":
        return cls(v, 0)

    @classmethod
    def and_mark(cls, v: int) -> "MarkTarget":
        return cls(0, ~v & 0xFFFFFFFF)

    def fire(self, pkt, cx: Ctx):
        new = ((pkt.mark & ~self.mask) ^ self.value) & 0xFFFFFFFF
        if new != pkt.mark:
            pkt = evolve(pkt, mark=new)
        return CONTINUE, pkt

    def save(self) -> str:
        return f"MARK --set-xmark 0x{self.value:x}/0x{self.mask:x}"

    def listing(self) -> str:
        v, m = self.value, self.mask
        if v == 0:
            return f"MARK and 0x{~m & 0xFFFFFFFF:x}"
        if v == m:
            return f"MARK or 0x{v:x}"
        if m == 0:
            return f"MARK xor 0x{v:x}"
        if m == 0xFFFFFFFF:
            return f"MARK set 0x{v:x}"
        return f"MARK xset 0x{v:x}/0x{m:x}"


class ConnMark(Target):
    name = "CONNMARK"
    __slots__ = ("mode", "value", "mask", "nfmask", "ctmask")

    def __init__(self, mode: str, value: int = 0, mask: int = 0xFFFFFFFF, nfmask: int = 0xFFFFFFFF,
                 ctmask: int = 0xFFFFFFFF) -> None:
        self.mode = mode  # "set", "save", "restore"
        self.value, self.mask, self.nfmask, self.ctmask = value, mask, nfmask, ctmask

    def fire(self, pkt, cx: Ctx):
        ct = cx.ct
        if ct is None:
            return CONTINUE, pkt
        if self.mode == "set":
            ct.mark = ((ct.mark & ~self.mask) ^ self.value) & 0xFFFFFFFF
        elif self.mode == "save":
            ct.mark = ((ct.mark & ~self.ctmask) ^ (pkt.mark & self.nfmask)) & 0xFFFFFFFF
        else:
            new = ((pkt.mark & ~self.nfmask) ^ (ct.mark & self.ctmask)) & 0xFFFFFFFF
            if new != pkt.mark:
                pkt = evolve(pkt, mark=new)
        return CONTINUE, pkt

    def save(self) -> str:
        if self.mode == "set":
            return f"CONNMARK --set-xmark 0x{self.value:x}/0x{self.mask:x}"
        return f"CONNMARK --{self.mode}-mark --nfmask 0x{self.nfmask:x} --ctmask 0x{self.ctmask:x}"

    def listing(self) -> str:
        if self.mode == "set":
            return f"CONNMARK set {fmt_mark(self.value, self.mask)}" if self.mask != 0xFFFFFFFF else f"CONNMARK set 0x{self.value:x}"
        return f"CONNMARK {self.mode}"


LOG_LEVELS = {"emerg": 0, "alert": 1, "crit": 2, "error": 3, "err": 3, "warning": 4, "warn": 4, "notice": 5,
              "info": 6, "debug": 7}


class Log(Target):
    name = "LOG"
    __slots__ = ("prefix", "level")

    def __init__(self, prefix: str = "", level: int = 4) -> None:
        self.prefix = prefix
        self.level = level

    def fire(self, pkt, cx: Ctx):
        cx.nf.log_packet(pkt, cx, self.prefix)
        return CONTINUE, pkt

    def save(self) -> str:
        out = "LOG"
        if self.prefix:
            out += f" --log-prefix {quote(self.prefix)}"
        if self.level != 4:
            out += f" --log-level {self.level}"
        return out

    def listing(self) -> str:
        out = f"LOG flags 0 level {self.level}"
        if self.prefix:
            out += f' prefix "{self.prefix}"'
        return out


class NoTrack(Target):
    """NOTRACK, or `CT --notrack` (`ct_form`): the packet is left untracked."""

    name = "CT"
    tables = ("raw",)
    __slots__ = ("ct_form",)

    def __init__(self, ct_form: bool = False) -> None:
        self.ct_form = ct_form

    def fire(self, pkt, cx: Ctx):
        cx.nf.notrack(cx)
        return CONTINUE, pkt

    def save(self) -> str:
        return "CT --notrack" if self.ct_form else "NOTRACK"

    def listing(self) -> str:
        return "CT notrack" if self.ct_form else "NOTRACK"


def parse_nat_range(text: str) -> NatRange:
    from netlab.net.netfilter.model import IptablesError
    from netlab.net.addr import AddrError, parse_ip

    ip_part, colon, port_part = text.partition(":")
    try:
        if ip_part:
            lo, _, hi = ip_part.partition("-")
            ip_lo = parse_ip(lo)
            ip_hi = parse_ip(hi) if hi else ip_lo
        else:
            ip_lo = ip_hi = None
        port_lo = port_hi = None
        if colon:
            plo, _, phi = port_part.partition("-")
            port_lo = int(plo)
            port_hi = int(phi) if phi else port_lo
            if not (0 < port_lo <= 65535 and 0 < port_hi <= 65535):
                raise ValueError
    except (AddrError, ValueError):
        raise IptablesError(f"Bad IP address \"{ip_part}\"" if not colon else f"Port \"{port_part}\" not valid",
                            2, usage=True) from None
    return NatRange(ip_lo, ip_hi, port_lo, port_hi)
