"""Connection tracking (nf_conntrack): tuples both ways, states, NAT bindings, timeouts.

A connection is two tuples: the original direction as the first packet had it, and the
reply direction a reply must have. NAT is nothing more than a changed reply tuple: DNAT
to a pod makes the reply come *from* the pod, SNAT makes it go *to* the masquerading
address. Every later packet is rewritten from the tuples alone (`nat_target`), in either
direction, without consulting the nat table again — as Linux does.

Timeouts run on the simulated clock with nf_conntrack's defaults; entries are expired
lazily when looked at.
"""
from __future__ import annotations

import math
from typing import Callable, NamedTuple

from netlab.net.addr import fmt_ip
from netlab.net.packet import ICMP, IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, TCP, UDP, TH_ACK, TH_FIN, TH_RST, TH_SYN

ORIG, REPLY = 0, 1

# ct->status bits (include/uapi/linux/netfilter/nf_conntrack_common.h)
EXPECTED, SEEN_REPLY, ASSURED, CONFIRMED = 1, 2, 4, 8
SRC_NAT, DST_NAT = 16, 32
SRC_NAT_DONE, DST_NAT_DONE = 128, 256

# nf_conntrack defaults (seconds)
TCP_TIMEOUTS = {"SYN_SENT": 120, "SYN_RECV": 60, "ESTABLISHED": 432000, "FIN_WAIT": 120, "CLOSE_WAIT": 60,
                "LAST_ACK": 30, "TIME_WAIT": 120, "CLOSE": 10}
UDP_TIMEOUT, UDP_STREAM_TIMEOUT, ICMP_TIMEOUT, GENERIC_TIMEOUT = 30, 120, 30, 600

# ICMP query types and their replies (nf_conntrack_proto_icmp invmap)
ICMP_INVERT = {8: 0, 0: 8, 13: 14, 14: 13, 15: 16, 16: 15, 17: 18, 18: 17}


class Tuple(NamedTuple):
    """A direction of a connection. For TCP/UDP `a`/`b` are the ports; for ICMP `a` is the
    echo id and `b` is type << 8 | code."""

    src: int
    dst: int
    proto: int
    a: int
    b: int

    def invert(self) -> "Tuple":
        if self.proto == IPPROTO_ICMP:
            t = ICMP_INVERT.get(self.b >> 8, self.b >> 8)
            return Tuple(self.dst, self.src, self.proto, self.a, t << 8)
        return Tuple(self.dst, self.src, self.proto, self.b, self.a)

    def text(self) -> str:
        base = f"src={fmt_ip(self.src)} dst={fmt_ip(self.dst)}"
        if self.proto == IPPROTO_ICMP:
            return f"{base} type={self.b >> 8} code={self.b & 255} id={self.a}"
        if self.proto in (IPPROTO_TCP, IPPROTO_UDP):
            return f"{base} sport={self.a} dport={self.b}"
        return base


def packet_tuple(pkt) -> Tuple | None:
    """The tuple of a packet, or None for what conntrack cannot track (ICMP errors are
    handled as RELATED through the packet they quote)."""
    l4 = pkt.l4
    if isinstance(l4, (TCP, UDP)):
        return Tuple(pkt.src, pkt.dst, pkt.proto, l4.sport, l4.dport)
    if isinstance(l4, ICMP):
        if l4.type in ICMP_INVERT:
            return Tuple(pkt.src, pkt.dst, IPPROTO_ICMP, l4.id, l4.type << 8 | l4.code)
        return None
    return Tuple(pkt.src, pkt.dst, pkt.proto, 0, 0)


PROTO_LABEL = {IPPROTO_TCP: "tcp", IPPROTO_UDP: "udp", IPPROTO_ICMP: "icmp"}


class Conn:
    """One tracked connection (struct nf_conn)."""

    __slots__ = ("orig", "reply", "status", "state", "expires", "mark", "id", "table", "fin_dir", "stream_ts", "ipvs")

    def __init__(self, table: "ConntrackTable", orig: Tuple, now: float) -> None:
        self.table = table
        self.orig = orig
        self.reply = orig.invert()
        self.status = 0
        self.state = ""  # TCP state name
        self.expires = now
        self.mark = 0
        self.id = 0
        self.fin_dir = -1
        self.stream_ts = now + 2.0
        self.ipvs = None  # set by IPVS when it owns the connection

    def tuple(self, direction: int) -> Tuple:
        return self.orig if direction == ORIG else self.reply

    @property
    def confirmed(self) -> bool:
        return bool(self.status & CONFIRMED)

    def status_names(self) -> frozenset[str]:
        names = {n for bit, n in ((EXPECTED, "EXPECTED"), (SEEN_REPLY, "SEEN_REPLY"), (ASSURED, "ASSURED"),
                                  (CONFIRMED, "CONFIRMED")) if self.status & bit}
        return frozenset(names or {"NONE"})

    def describe(self) -> str:
        return f"{PROTO_LABEL.get(self.orig.proto, self.orig.proto)} {self.orig.text()} ⇄ {self.reply.text()}"


class ConntrackTable:
    def __init__(self, clock: Callable[[], float], max_entries: int = 262144) -> None:
        self.clock = clock
        self.by_tuple: dict[Tuple, tuple[Conn, int]] = {}
        self.conns: dict[int, Conn] = {}  # confirmed entries, in insertion order
        self.max_entries = max_entries
        self._next_id = 1

    # -- lookup ---------------------------------------------------------------------------------
    def lookup(self, tup: Tuple) -> tuple[Conn, int] | None:
        hit = self.by_tuple.get(tup)
        if hit is not None and hit[0].expires <= self.clock():
            self.remove(hit[0])
            return None
        return hit

    def used(self, reply: Tuple, exclude: Conn | None = None) -> bool:
        """nf_nat_used_tuple: does a live connection already expect replies on this tuple?"""
        hit = self.lookup(reply)
        return hit is not None and hit[0] is not exclude

    # -- create, confirm, destroy ---------------------------------------------------------------
    def new(self, tup: Tuple) -> Conn:
        conn = Conn(self, tup, self.clock())
        return conn

    def confirm(self, conn: Conn) -> None:
        if conn.status & CONFIRMED:
            return
        conn.status |= CONFIRMED
        conn.id = self._next_id
        self._next_id += 1
        self.by_tuple[conn.orig] = (conn, ORIG)
        self.by_tuple[conn.reply] = (conn, REPLY)
        self.conns[conn.id] = conn

    def remove(self, conn: Conn) -> None:
        if self.conns.pop(conn.id, None) is None:
            return
        for tup in (conn.orig, conn.reply):
            hit = self.by_tuple.get(tup)
            if hit is not None and hit[0] is conn:
                del self.by_tuple[tup]

    def flush(self) -> int:
        n = len(self.conns)
        self.conns.clear()
        self.by_tuple.clear()
        return n

    def expire(self) -> None:
        now = self.clock()
        for conn in [c for c in self.conns.values() if c.expires <= now]:
            self.remove(conn)

    def entries(self) -> list[Conn]:
        """Live entries, newest first (the order conntrack -L showed here)."""
        self.expire()
        return list(reversed(self.conns.values()))

    def __len__(self) -> int:
        self.expire()
        return len(self.conns)

    # -- protocol state -------------------------------------------------------------------------
    def refresh(self, conn: Conn, pkt, direction: int) -> None:
        """Advance the protocol state machine and the timeout for one packet of `conn`."""
        now = self.clock()
        if direction == REPLY:
            conn.status |= SEEN_REPLY
        l4 = pkt.l4
        if isinstance(l4, TCP):
            conn.state = tcp_next(conn, direction, l4.flags)
            if conn.state == "ESTABLISHED" and conn.status & SEEN_REPLY:
                conn.status |= ASSURED
            conn.expires = now + TCP_TIMEOUTS[conn.state]
        elif isinstance(l4, UDP):
            if conn.status & SEEN_REPLY:
                extra = UDP_TIMEOUT
                if now > conn.stream_ts:
                    extra = UDP_STREAM_TIMEOUT
                    conn.status |= ASSURED
                conn.expires = now + extra
            else:
                conn.expires = now + UDP_TIMEOUT
        elif isinstance(l4, ICMP):
            conn.expires = now + ICMP_TIMEOUT
        else:
            conn.expires = now + GENERIC_TIMEOUT

    # -- NAT ------------------------------------------------------------------------------------
    def set_reply(self, conn: Conn, reply: Tuple, status: int) -> None:
        """Record a NAT binding: the reply tuple changes (only before the entry is confirmed,
        or by IPVS, which re-keys a confirmed entry as ip_vs_update_conntrack does)."""
        if conn.status & CONFIRMED:
            hit = self.by_tuple.get(conn.reply)
            if hit is not None and hit[0] is conn:
                del self.by_tuple[conn.reply]
            self.by_tuple[reply] = (conn, REPLY)
        conn.reply = reply
        conn.status |= status

    # -- conntrack -L ---------------------------------------------------------------------------
    def format(self, conn: Conn) -> str:
        proto = conn.orig.proto
        # The kernel prints whole seconds left, truncated, and a jiffy has always passed since
        # the last packet: 120 s of timeout lists as 119.
        left = max(0, math.ceil(conn.expires - self.clock()) - 1)
        out = f"{PROTO_LABEL.get(proto, 'unknown'):<8} {proto} {left} "
        if proto == IPPROTO_TCP:
            out += f"{conn.state} "
        out += conn.orig.text() + " "
        if not conn.status & SEEN_REPLY:
            out += "[UNREPLIED] "
        out += conn.reply.text() + " "
        if conn.status & ASSURED:
            out += "[ASSURED] "
        return out + f"mark={conn.mark} use=1"


def tcp_next(conn: Conn, direction: int, flags: int) -> str:
    """A compressed nf_conntrack_proto_tcp state table: enough for SYN, SYN-ACK, ACK, data,
    FIN in either order, and RST."""
    st = conn.state
    if flags & TH_RST:
        return "CLOSE"
    if flags & TH_SYN:
        if flags & TH_ACK:
            return "SYN_RECV" if direction == REPLY and st == "SYN_SENT" else (st or "SYN_RECV")
        return "SYN_SENT" if direction == ORIG and st in ("", "SYN_SENT", "CLOSE", "TIME_WAIT") else st
    if flags & TH_FIN:
        if st in ("ESTABLISHED", "SYN_RECV"):
            conn.fin_dir = direction
            return "FIN_WAIT"
        if st in ("FIN_WAIT", "CLOSE_WAIT") and direction != conn.fin_dir:
            return "LAST_ACK"
        return st
    if flags & TH_ACK:
        if st == "SYN_RECV" and direction == ORIG:
            return "ESTABLISHED"
        if st == "":
            return "ESTABLISHED"  # nf_conntrack_tcp_loose=1: pick up a connection mid-stream
        if st == "FIN_WAIT" and direction != conn.fin_dir:
            return "CLOSE_WAIT"
        if st == "LAST_ACK" and direction == conn.fin_dir:
            return "TIME_WAIT"
    return st or "ESTABLISHED"


def tcp_invalid_first(flags: int) -> bool:
    """A first packet that cannot open a connection (FIN, RST, SYN+FIN...): ctstate INVALID."""
    if flags & (TH_RST | TH_FIN):
        return True
    return not flags & (TH_SYN | TH_ACK)
