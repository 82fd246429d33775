"""Match extensions: what each tests, and how iptables-save and iptables -L print it.

Each match prints itself twice: `save()` is the iptables-save text (`-m tcp --dport 53`),
`listing()` is the `iptables -L` text (`tcp dpt:53`). Both follow iptables 1.8.9's
extension printers. `pure` says whether testing the match has side effects (statistic
draws a random number, recent writes its table): the walk index may skip only rules
whose tests before an indexed field are pure.
"""
from __future__ import annotations

from typing import Protocol

from netlab.net.addr import fmt_ip, mask
from netlab.net.packet import ICMP, IPPROTO_TCP, IPPROTO_UDP, TCP, UDP

TCP_FLAGS = {"FIN": 0x01, "SYN": 0x02, "RST": 0x04, "PSH": 0x08, "ACK": 0x10, "URG": 0x20, "ALL": 0x3F, "NONE": 0}


class Ctx:
    """What a match may look at besides the packet (the skb's metadata, xt_action_param)."""

    __slots__ = ("nf", "ns", "hook", "indev", "outdev", "in_dev", "out_dev", "ct", "ctdir", "physin", "physout",
                 "bridged", "trace", "table", "info", "last", "rejected", "notracked")

    def __init__(self, nf, hook: str, in_dev, out_dev, trace, *, physin=None, physout=None, bridged=False) -> None:
        self.nf = nf
        self.ns = nf.ns if nf is not None else None
        self.hook = hook
        self.in_dev = in_dev
        self.out_dev = out_dev
        self.indev = in_dev.name if in_dev is not None else None
        self.outdev = out_dev.name if out_dev is not None else None
        self.ct = None  # the conntrack entry (conntrack.Conn), None if untracked
        self.ctdir = 0  # 0 original, 1 reply
        self.physin = physin
        self.physout = physout
        self.bridged = bridged
        self.trace = trace
        self.table = ""
        self.info = "UNTRACKED"  # ctstate of the packet: NEW, ESTABLISHED, RELATED, INVALID, UNTRACKED
        self.last = None  # (table, chain, rule number) of the last rule that matched
        self.rejected = ""  # what a REJECT sent back
        self.notracked = False  # NOTRACK / CT --notrack fired in raw


class Match:
    name = ""
    pure = True

    def match(self, pkt, cx: Ctx) -> bool:  # pragma: no cover - every match overrides it
        raise NotImplementedError

    def save(self) -> str:
        return f"-m {self.name}"

    def listing(self) -> str:
        return ""


def _inv(flag: bool) -> str:
    return "! " if flag else ""


def fmt_ports(lo: int, hi: int, sep: str = ":") -> str:
    return str(lo) if lo == hi else f"{lo}{sep}{hi}"


class PortMatch(Match):
    """`-m tcp` / `-m udp`: ports (ranges), and for TCP the flags."""

    __slots__ = ("sport", "dport", "sport_inv", "dport_inv", "flags", "flags_inv")

    def __init__(self, *, sport: tuple[int, int] | int | None = None, dport: tuple[int, int] | int | None = None,
                 sport_inv: bool = False, dport_inv: bool = False, flags: tuple[int, int] | None = None,
                 flags_inv: bool = False) -> None:
        self.sport = (sport, sport) if isinstance(sport, int) else sport
        self.dport = (dport, dport) if isinstance(dport, int) else dport
        self.sport_inv = sport_inv
        self.dport_inv = dport_inv
        self.flags = flags  # (mask, comparison)
        self.flags_inv = flags_inv

    @property
    def single_dport(self) -> int | None:
        d = self.dport
        if d is not None and d[0] == d[1] and not self.dport_inv:
            return d[0]
        return None

    def match(self, pkt, cx: Ctx) -> bool:
        l4 = pkt.l4
        if pkt.proto != self.proto or not isinstance(l4, (TCP, UDP)):
            return False
        if self.sport is not None and (self.sport[0] <= l4.sport <= self.sport[1]) == self.sport_inv:
            return False
        if self.dport is not None and (self.dport[0] <= l4.dport <= self.dport[1]) == self.dport_inv:
            return False
        if self.flags is not None:
            m, cmp = self.flags
            if ((l4.flags & m) == cmp) == self.flags_inv:
                return False
        return True

    def save(self) -> str:
        out = f"-m {self.name}"
        if self.sport is not None:
            out += f" {_inv(self.sport_inv)}--sport {fmt_ports(*self.sport)}"
        if self.dport is not None:
            out += f" {_inv(self.dport_inv)}--dport {fmt_ports(*self.dport)}"
        if self.flags is not None:
            out += f" {_inv(self.flags_inv)}--tcp-flags {_flag_names(self.flags[0])} {_flag_names(self.flags[1])}"
        return out

    def listing(self) -> str:
        out = self.name
        if self.sport is not None:
            lo, hi = self.sport
            out += f" spt{'s' if lo != hi else ''}:{'!' if self.sport_inv else ''}{fmt_ports(lo, hi)}"
        if self.dport is not None:
            lo, hi = self.dport
            out += f" dpt{'s' if lo != hi else ''}:{'!' if self.dport_inv else ''}{fmt_ports(lo, hi)}"
        if self.flags is not None:
            out += f" flags:{'!' if self.flags_inv else ''}0x{self.flags[0]:02X}/0x{self.flags[1]:02X}"
        return out


def _flag_names(bits: int) -> str:
    if bits == 0x3F:
        return "FIN,SYN,RST,PSH,ACK,URG"
    if bits == 0:
        return "NONE"
    return ",".join(n for n, b in TCP_FLAGS.items() if n not in ("ALL", "NONE") and bits & b)


class Tcp(PortMatch):
    name = "tcp"
    proto = IPPROTO_TCP


class Udp(PortMatch):
    name = "udp"
    proto = IPPROTO_UDP


ICMP_TYPES = {
    "echo-reply": (0, None), "destination-unreachable": (3, None), "network-unreachable": (3, 0),
    "host-unreachable": (3, 1), "protocol-unreachable": (3, 2), "port-unreachable": (3, 3),
    "fragmentation-needed": (3, 4), "network-prohibited": (3, 9), "host-prohibited": (3, 10),
    "communication-prohibited": (3, 13), "redirect": (5, None), "echo-request": (8, None),
    "time-exceeded": (11, None), "ttl-zero-during-transit": (11, 0), "parameter-problem": (12, None),
    "timestamp-request": (13, None), "timestamp-reply": (14, None), "any": (255, None),
}


class Icmp(Match):
    name = "icmp"
    __slots__ = ("type", "code", "inv")

    def __init__(self, type: int = 255, code: int | None = None, inv: bool = False) -> None:
        self.type = type
        self.code = code
        self.inv = inv

    def match(self, pkt, cx: Ctx) -> bool:
        l4 = pkt.l4
        if not isinstance(l4, ICMP):
            return False
        ok = self.type == 255 or (l4.type == self.type and (self.code is None or l4.code == self.code))
        return ok != self.inv

    def _type_text(self) -> str:
        return str(self.type) if self.code is None else f"{self.type}/{self.code}"

    def save(self) -> str:
        if self.type == 255:
            return f"-m icmp {_inv(self.inv)}--icmp-type any"
        return f"-m icmp {_inv(self.inv)}--icmp-type {self._type_text()}"

    def listing(self) -> str:
        if self.type == 255:
            return f"icmp {'!' if self.inv else ''}any"
        out = f"icmp{'!' if self.inv else ''}type {self.type}"
        return out + (f" code {self.code}" if self.code is not None else "")


class Multiport(Match):
    name = "multiport"
    __slots__ = ("kind", "ports", "inv")

    def __init__(self, kind: str, ports: list[tuple[int, int]], inv: bool = False) -> None:
        self.kind = kind  # "sports", "dports" or "ports"
        self.ports = ports
        self.inv = inv

    def match(self, pkt, cx: Ctx) -> bool:
        l4 = pkt.l4
        if not isinstance(l4, (TCP, UDP)):
            return False
        for lo, hi in self.ports:
            if (self.kind != "dports" and lo <= l4.sport <= hi) or (self.kind != "sports" and lo <= l4.dport <= hi):
                return not self.inv
        return self.inv

    def _ports(self) -> str:
        return ",".join(fmt_ports(lo, hi) for lo, hi in self.ports)

    def save(self) -> str:
        return f"-m multiport {_inv(self.inv)}--{self.kind} {self._ports()}"

    def listing(self) -> str:
        return f"multiport {self.kind} {' !' if self.inv else ''}{self._ports()}"


_SAFE = set("_-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def quote(text: str) -> str:
    """xtables_save_string: bare when only [_-0-9a-zA-Z], else quoted with \\, \" and ' escaped."""
    if text and all(ch in _SAFE for ch in text):
        return text
    return '"' + "".join("\\" + ch if ch in "\"\\'" else ch for ch in text) + '"'


class Comment(Match):
    name = "comment"
    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def match(self, pkt, cx: Ctx) -> bool:
        return True

    def save(self) -> str:
        return f"-m comment --comment {quote(self.text)}"

    def listing(self) -> str:
        return f"/* {self.text} */"


def fmt_mark(value: int, m: int) -> str:
    return f"0x{value:x}" if m == 0xFFFFFFFF else f"0x{value:x}/0x{m:x}"


class Mark(Match):
    name = "mark"
    __slots__ = ("value", "mask", "inv")

    def __init__(self, value: int, mask: int = 0xFFFFFFFF, inv: bool = False) -> None:
        self.value = value
        self.mask = mask
        self.inv = inv

    def match(self, pkt, cx: Ctx) -> bool:
        return ((pkt.mark & self.mask) == self.value) != self.inv

    def save(self) -> str:
        return f"-m mark {_inv(self.inv)}--mark {fmt_mark(self.value, self.mask)}"

    def listing(self) -> str:
        return f"mark match {'! ' if self.inv else ''}{fmt_mark(self.value, self.mask)}"


CT_STATES = ("INVALID", "NEW", "RELATED", "ESTABLISHED", "UNTRACKED", "SNAT", "DNAT")
CT_STATUS = ("NONE", "EXPECTED", "SEEN_REPLY", "ASSURED", "CONFIRMED")


class Conntrack(Match):
    name = "conntrack"
    __slots__ = ("states", "states_inv", "status", "status_inv", "origdst", "origdst_inv")

    def __init__(self, states: frozenset[str] | set[str] | None = None, states_inv: bool = False,
                 status: frozenset[str] | None = None, status_inv: bool = False,
                 origdst: tuple[int, int] | None = None, origdst_inv: bool = False) -> None:
        self.states = frozenset(states) if states is not None else None
        self.states_inv = states_inv
        self.status = frozenset(status) if status is not None else None
        self.status_inv = status_inv
        self.origdst = origdst
        self.origdst_inv = origdst_inv

    def match(self, pkt, cx: Ctx) -> bool:
        ct = cx.ct
        if self.states is not None:
            if ((cx.nf.ct_states(cx) & self.states) != frozenset()) == self.states_inv:
                return False
        if self.status is not None:
            have = ct.status_names() if ct is not None else frozenset({"NONE"})
            if bool(have & self.status) == self.status_inv:
                return False
        if self.origdst is not None:
            if ct is None:
                return False
            ip, plen = self.origdst
            if ((ct.orig.dst & mask(plen)) == ip) == self.origdst_inv:
                return False
        return True

    def save(self) -> str:
        out = "-m conntrack"
        if self.states is not None:
            out += f" {_inv(self.states_inv)}--ctstate {','.join(s for s in CT_STATES if s in self.states)}"
        if self.origdst is not None:
            out += f" {_inv(self.origdst_inv)}--ctorigdst {fmt_ip(self.origdst[0])}/{self.origdst[1]}"
        if self.status is not None:
            out += f" {_inv(self.status_inv)}--ctstatus {','.join(s for s in CT_STATUS if s in self.status)}"
        return out

    def listing(self) -> str:
        parts = []
        if self.states is not None:
            parts.append(f"{'! ' if self.states_inv else ''}ctstate {','.join(s for s in CT_STATES if s in self.states)}")
        if self.origdst is not None:
            ip, plen = self.origdst
            parts.append(f"{'! ' if self.origdst_inv else ''}ctorigdst {fmt_ip(ip)}" + (f"/{plen}" if plen != 32 else ""))
        if self.status is not None:
            parts.append(f"{'! ' if self.status_inv else ''}ctstatus {','.join(s for s in CT_STATUS if s in self.status)}")
        return " ".join(parts)


ADDR_TYPES = ("UNSPEC", "UNICAST", "LOCAL", "BROADCAST", "ANYCAST", "MULTICAST", "BLACKHOLE", "UNREACHABLE",
              "PROHIBIT", "THROW", "NAT", "XRESOLVE")


class AddrType(Match):
    name = "addrtype"
    __slots__ = ("src_type", "src_inv", "dst_type", "dst_inv", "limit_in", "limit_out")

    def __init__(self, *, src_type: str | None = None, src_inv: bool = False, dst_type: str | None = None,
                 dst_inv: bool = False, limit_in: bool = False, limit_out: bool = False) -> None:
        self.src_type = src_type
        self.src_inv = src_inv
        self.dst_type = dst_type
        self.dst_inv = dst_inv
        self.limit_in = limit_in
        self.limit_out = limit_out

    def match(self, pkt, cx: Ctx) -> bool:
        dev = cx.in_dev if self.limit_in else (cx.out_dev if self.limit_out else None)
        if self.src_type is not None and (cx.nf.addr_type(pkt.src, dev) in self.src_type.split(",")) == self.src_inv:
            return False
        if self.dst_type is not None and (cx.nf.addr_type(pkt.dst, dev) in self.dst_type.split(",")) == self.dst_inv:
            return False
        return True

    def save(self) -> str:
        out = "-m addrtype"
        if self.src_type is not None:
            out += f" {_inv(self.src_inv)}--src-type {self.src_type}"
        if self.dst_type is not None:
            out += f" {_inv(self.dst_inv)}--dst-type {self.dst_type}"
        if self.limit_in:
            out += " --limit-iface-in"
        if self.limit_out:
            out += " --limit-iface-out"
        return out

    def listing(self) -> str:
        out = "ADDRTYPE match"
        if self.src_type is not None:
            out += f" src-type {'!' if self.src_inv else ''}{self.src_type}"
        if self.dst_type is not None:
            out += f" dst-type {'!' if self.dst_inv else ''}{self.dst_type}"
        if self.limit_in:
            out += " limit-in"
        if self.limit_out:
            out += " limit-out"
        return out


def probability_fixed(p: float) -> int:
    """xt_statistic keeps the probability as lround(0x80000000 * p) (a 31-bit fraction)."""
    return int(p * 0x80000000 + 0.5)


class Statistic(Match):
    name = "statistic"
    pure = False
    __slots__ = ("mode", "probability", "every", "packet", "count", "inv")

    def __init__(self, *, probability: float | None = None, every: int = 0, packet: int = 0, inv: bool = False,
                 fixed: int | None = None) -> None:
        self.mode = "random" if (probability is not None or fixed is not None) else "nth"
        self.probability = fixed if fixed is not None else (probability_fixed(probability) if probability is not None else 0)
        self.every = every
        self.packet = packet
        self.count = 0  # the nth counter (shared by all packets through this rule)
        self.inv = inv

    def match(self, pkt, cx: Ctx) -> bool:
        if self.mode == "random":
            ok = cx.nf.rng.getrandbits(31) < self.probability
        else:
            self.count = 0 if self.count >= self.every - 1 else self.count + 1
            ok = self.count == self.packet
        return ok != self.inv

    def _prob_text(self) -> str:
        return f"{self.probability / 0x80000000:.11f}"

    def save(self) -> str:
        if self.mode == "random":
            return f"-m statistic --mode random {_inv(self.inv)}--probability {self._prob_text()}"
        return f"-m statistic --mode nth {_inv(self.inv)}--every {self.every} --packet {self.packet}"

    def listing(self) -> str:
        if self.mode == "random":
            return f"statistic mode random{' !' if self.inv else ''} probability {self._prob_text()}"
        out = f"statistic mode nth{' !' if self.inv else ''} every {self.every}"
        return out + (f" packet {self.packet}" if self.packet else "")


class IPSet(Protocol):
    """What the set match needs from an ipset (netlab/net/ipset.py provides the sets)."""

    def test(self, pkt, dirs: tuple[str, ...]) -> bool: ...


class SetMatch(Match):
    name = "set"
    __slots__ = ("set_name", "dirs", "inv")

    def __init__(self, set_name: str, dirs: tuple[str, ...] | str, inv: bool = False) -> None:
        self.set_name = set_name
        self.dirs = tuple(dirs.split(",")) if isinstance(dirs, str) else tuple(dirs)
        self.inv = inv

    def match(self, pkt, cx: Ctx) -> bool:
        sets = getattr(cx.ns, "ipsets", None) or {}
        s = sets.get(self.set_name)
        ok = s is not None and s.test(pkt, self.dirs)
        return ok != self.inv

    def save(self) -> str:
        return f"-m set {_inv(self.inv)}--match-set {self.set_name} {','.join(self.dirs)}"

    def listing(self) -> str:
        return f"{'! ' if self.inv else ''}match-set {self.set_name} {','.join(self.dirs)}"


class Recent(Match):
    name = "recent"
    pure = False
    __slots__ = ("mode", "seconds", "reap", "hitcount", "rttl", "table", "mask", "rsource", "inv")

    def __init__(self, mode: str, *, name: str = "DEFAULT", seconds: int = 0, reap: bool = False, hitcount: int = 0,
                 rttl: bool = False, mask_ip: int = 0xFFFFFFFF, rsource: bool = True, inv: bool = False) -> None:
        self.mode = mode  # "set", "rcheck", "update", "remove"
        self.table = name
        self.seconds = seconds
        self.reap = reap
        self.hitcount = hitcount
        self.rttl = rttl
        self.mask = mask_ip
        self.rsource = rsource
        self.inv = inv

    def match(self, pkt, cx: Ctx) -> bool:
        return cx.nf.recent.check(self, pkt, cx.nf.ns.world.clock) != self.inv

    def save(self) -> str:
        out = "-m recent" + (" !" if self.inv else "") + f" --{self.mode}"
        if self.seconds:
            out += f" --seconds {self.seconds}"
        if self.reap:
            out += " --reap"
        if self.hitcount:
            out += f" --hitcount {self.hitcount}"
        if self.rttl:
            out += " --rttl"
        return out + f" --name {self.table} --mask {fmt_ip(self.mask)} --{'rsource' if self.rsource else 'rdest'}"

    def listing(self) -> str:
        out = ("! " if self.inv else "") + "recent: " + {"set": "SET", "rcheck": "CHECK", "update": "UPDATE",
                                                          "remove": "REMOVE"}[self.mode]
        if self.seconds:
            out += f" seconds: {self.seconds}"
        if self.reap:
            out += " reap"
        if self.hitcount:
            out += f" hit_count: {self.hitcount}"
        if self.rttl:
            out += " TTL-Match"
        return out + f" name: {self.table} side: {'source' if self.rsource else 'dest'} mask: {fmt_ip(self.mask)}"


class Physdev(Match):
    name = "physdev"
    __slots__ = ("physin", "physin_inv", "physout", "physout_inv", "is_in", "is_out", "is_bridged",
                 "is_in_inv", "is_out_inv", "is_bridged_inv")

    def __init__(self, *, physin: str | None = None, physin_inv: bool = False, physout: str | None = None,
                 physout_inv: bool = False, is_in: bool = False, is_out: bool = False, is_bridged: bool = False,
                 is_in_inv: bool = False, is_out_inv: bool = False, is_bridged_inv: bool = False) -> None:
        self.physin, self.physin_inv = physin, physin_inv
        self.physout, self.physout_inv = physout, physout_inv
        self.is_in, self.is_out, self.is_bridged = is_in, is_out, is_bridged
        self.is_in_inv, self.is_out_inv, self.is_bridged_inv = is_in_inv, is_out_inv, is_bridged_inv

    def match(self, pkt, cx: Ctx) -> bool:
        from netlab.net.netfilter.model import iface_matches

        if cx.physin is None and cx.physout is None:
            # Not a bridged packet: any positive physdev test fails (physdev_mt without nf_bridge).
            return not ((self.is_in and not self.is_in_inv) or (self.is_out and not self.is_out_inv)
                        or (self.is_bridged and not self.is_bridged_inv)
                        or (self.physin is not None and not self.physin_inv)
                        or (self.physout is not None and not self.physout_inv))
        if self.is_bridged and (cx.bridged == self.is_bridged_inv):
            return False
        if self.is_in and ((cx.physin is not None) == self.is_in_inv):
            return False
        if self.is_out and ((cx.physout is not None) == self.is_out_inv):
            return False
        if self.physin is not None and iface_matches(self.physin, cx.physin) == self.physin_inv:
            return False
        if self.physout is not None and iface_matches(self.physout, cx.physout) == self.physout_inv:
            return False
        return True

    def _parts(self) -> str:
        out = ""
        if self.physin is not None:
            out += f" {_inv(self.physin_inv)}--physdev-in {self.physin}"
        if self.physout is not None:
            out += f" {_inv(self.physout_inv)}--physdev-out {self.physout}"
        if self.is_in:
            out += f" {_inv(self.is_in_inv)}--physdev-is-in"
        if self.is_out:
            out += f" {_inv(self.is_out_inv)}--physdev-is-out"
        if self.is_bridged:
            out += f" {_inv(self.is_bridged_inv)}--physdev-is-bridged"
        return out

    def save(self) -> str:
        return "-m physdev" + self._parts()

    def listing(self) -> str:
        return "PHYSDEV match" + self._parts()
