"""Clients that send one packet and wait for what comes back: an ICMP echo, a UDP
datagram, a TCP SYN. Each returns what a socket would have seen, plus the Traces."""
from __future__ import annotations

from dataclasses import dataclass, field

from netlab.net.addr import fmt_ip
from netlab.net.netns import NetNS
from netlab.net.packet import (ICMP, ICMP_ECHO, ICMP_ECHOREPLY, IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, TCP, TH_ACK,
                               TH_RST, TH_SYN, UDP, IPv4)
from netlab.net.socket import Socket
from netlab.net.trace import Trace


@dataclass
class Outcome:
    kind: str  # "reply", "error", "timeout", "local-error" (connect failed), "refused", "open"
    traces: list[Trace] = field(default_factory=list)
    reply: IPv4 | None = None  # the echo reply / answering packet, or the ICMP error
    errno_text: str = ""
    rtt: float = 0.0  # simulated seconds from send to answer

    @property
    def source(self) -> str:
        return fmt_ip(self.reply.src) if self.reply is not None else ""


def _next_id(ns: NetNS) -> int:
    """The next ICMP echo identifier of this namespace. Kept on the namespace, not in a
    module-level table: a table shared by every lab in the process made a replayed lab
    (a save being loaded) pick different identifiers from the lab it copies."""
    ident = getattr(ns, "_ping_ident", 0x1a2b) % 0xFFFF + 1
    ns._ping_ident = ident
    return ident


def ping_once(ns: NetNS, dst: int, *, seq: int = 1, size: int = 56, ttl: int = 64, ident: int | None = None,
              src: int = 0, df: bool = True) -> Outcome:
    world = ns.world
    start = len(world.traces)
    ident = ident if ident is not None else _next_id(ns)
    sock = Socket(IPPROTO_ICMP, 0, owner="ping")
    ns.icmp_sockets[ident] = sock
    pkt = IPv4(src, dst, IPPROTO_ICMP, ICMP(ICMP_ECHO, 0, ident, seq, size), ttl=ttl, id=ns.next_ip_id(), df=df)
    trace = world.new_trace(f"{ns.name} → {fmt_ip(dst)} ICMP echo request seq {seq}", ns.name, pkt, "echo request")
    try:
        err = ns.ip_local_out(pkt, trace)
        if err is None:
            world.run()
    finally:
        ns.icmp_sockets.pop(ident, None)
    return _outcome(sock, err, world, start)


def udp_probe(ns: NetNS, dst: int, dport: int, *, ttl: int = 64, sport: int | None = None, payload_len: int = 32) -> Outcome:
    world = ns.world
    start = len(world.traces)
    sport = sport or ns.ephemeral_port(IPPROTO_UDP)
    sock = Socket(IPPROTO_UDP, sport, owner="client")
    ns.sockets[(IPPROTO_UDP, sport)] = sock
    pkt = IPv4(0, dst, IPPROTO_UDP, UDP(sport, dport, None, payload_len), ttl=ttl, id=ns.next_ip_id(), df=False)
    trace = world.new_trace(f"{ns.name} → {fmt_ip(dst)}:{dport} UDP", ns.name, pkt, "udp")
    try:
        err = ns.ip_local_out(pkt, trace)
        if err is None:
            world.run()
    finally:
        ns.sockets.pop((IPPROTO_UDP, sport), None)
    return _outcome(sock, err, world, start)


def tcp_syn(ns: NetNS, dst: int, dport: int, *, ttl: int = 64) -> Outcome:
    world = ns.world
    start = len(world.traces)
    sport = ns.ephemeral_port(IPPROTO_TCP)
    sock = Socket(IPPROTO_TCP, -sport, owner="client")  # negative port: a connected client socket
    ns.sockets[(IPPROTO_TCP, -sport)] = sock
    pkt = IPv4(0, dst, IPPROTO_TCP, TCP(sport, dport, TH_SYN, 1000), ttl=ttl, id=ns.next_ip_id())
    trace = world.new_trace(f"{ns.name} → {fmt_ip(dst)}:{dport} TCP SYN", ns.name, pkt, "tcp syn")
    try:
        err = ns.ip_local_out(pkt, trace)
        if err is None:
            world.run()
    finally:
        ns.sockets.pop((IPPROTO_TCP, -sport), None)
    out = _outcome(sock, err, world, start)
    if out.kind == "reply" and out.reply is not None:
        flags = out.reply.l4.flags
        out.kind = "refused" if flags & TH_RST else ("open" if flags & (TH_SYN | TH_ACK) else "reply")
    return out


def _outcome(sock: Socket, err: str | None, world, start: int) -> Outcome:
    traces = world.traces[start:]
    if err is not None:
        return Outcome("local-error", traces, errno_text=err)
    if sock.received:
        pkt, trace = sock.received[0]
        return Outcome("reply", traces, pkt, rtt=trace.t)
    if sock.errors:
        pkt, trace = sock.errors[0]
        return Outcome("error", traces, pkt, rtt=trace.t)
    return Outcome("timeout", traces)


def is_echo_reply(pkt: IPv4) -> bool:
    return isinstance(pkt.l4, ICMP) and pkt.l4.type == ICMP_ECHOREPLY
