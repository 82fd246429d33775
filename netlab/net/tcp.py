"""TCP as the stack carries it: listeners, the three-way handshake, one request and one
response, and the FIN exchange — every segment a real packet with its own Trace, so
conntrack, NAT and policy see SYN, SYN-ACK, data and FIN as they would on a node.

The model keeps what networking lessons need (flags, sequence numbers advancing by the
bytes sent, RST for closed ports, retransmission giving up as a timeout) and leaves out
what they do not (windows, congestion control, segmentation).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from netlab.net.addr import fmt_ip
from netlab.net.netns import NetNS
from netlab.net.packet import (ICMP, IPPROTO_TCP, TCP, TH_ACK, TH_FIN, TH_PUSH, TH_RST, TH_SYN, IPv4)
from netlab.net.socket import Socket
from netlab.net import trace as T
from netlab.net.trace import DELIVERED, DROPPED, Trace

# Linux gives up a connect() after net.ipv4.tcp_syn_retries=6 retransmissions (~127 s).
SYN_TIMEOUT = 127.0

App = Callable[[Any, "Connection"], Any]  # (request payload, connection) -> response payload


def payload_len(payload: Any) -> int:
    if payload is None:
        return 0
    if isinstance(payload, (bytes, str)):
        return len(payload)
    return int(getattr(payload, "wire_length", 0) or len(str(payload)))


@dataclass
class Connection:
    """The server's view of one accepted connection."""

    ns: NetNS
    local: int
    lport: int
    remote: int
    rport: int
    seq: int = 5000
    ack: int = 0
    state: str = "SYN_RECV"


class Listener:
    """A listening socket: answers SYN with SYN-ACK, runs `app` on the request, closes."""

    def __init__(self, ns: NetNS, port: int, app: App, owner: str = "") -> None:
        self.ns = ns
        self.port = port
        self.app = app
        self.conns: dict[tuple[int, int], Connection] = {}
        self.requests = 0
        self.socket = ns.bind(Socket(IPPROTO_TCP, port, on_data=self._segment, owner=owner or f"listener:{port}"))

    def close(self) -> None:
        self.ns.unbind(self.socket)

    def _send(self, conn: Connection, flags: int, payload: Any, parent: Trace, label: str) -> None:
        ns = conn.ns
        n = payload_len(payload)
        pkt = IPv4(conn.local, conn.remote, IPPROTO_TCP, TCP(conn.lport, conn.rport, flags, conn.seq, conn.ack, payload, n),
                   id=ns.next_ip_id())
        conn.seq += n + (1 if flags & (TH_SYN | TH_FIN) else 0)
        trace = ns.world.new_trace(f"{fmt_ip(conn.local)}:{conn.lport} > {fmt_ip(conn.remote)}:{conn.rport} TCP {label}",
                                   ns.name, pkt, label)
        trace.t = parent.t
        ns.ip_local_out(pkt, trace)

    def _segment(self, ns: NetNS, pkt: IPv4, dev, trace: Trace) -> None:
        tcp: TCP = pkt.l4
        key = (pkt.src, tcp.sport)
        conn = self.conns.get(key)
        if tcp.flags & TH_RST:
            self.conns.pop(key, None)
            trace.end(DELIVERED, "RST: connection aborted", ns.name, dev.name)
            return
        if tcp.flags & TH_SYN:
            conn = Connection(ns, pkt.dst, tcp.dport, pkt.src, tcp.sport, ack=tcp.seq + 1)
            self.conns[key] = conn
            trace.end(DELIVERED, f"SYN accepted by {self.socket.owner} on port {tcp.dport}: SYN-ACK sent", ns.name, dev.name)
            self._send(conn, TH_SYN | TH_ACK, None, trace, "SYN-ACK")
            return
        if conn is None:
            trace.end(DROPPED, f"no connection for {fmt_ip(pkt.src)}:{tcp.sport}: RST sent", ns.name, dev.name)
            rst = IPv4(pkt.dst, pkt.src, IPPROTO_TCP, TCP(tcp.dport, tcp.sport, TH_RST, tcp.ack, 0))
            ns.ip_local_out(rst, ns.world.new_trace("TCP RST", ns.name, rst, "RST"))
            return
        conn.ack = tcp.seq + tcp.payload_len + (1 if tcp.flags & TH_FIN else 0)
        if tcp.payload_len:
            conn.state = "ESTABLISHED"
            self.requests += 1
            trace.end(DELIVERED, f"request delivered to {self.socket.owner}", ns.name, dev.name)
            response = self.app(tcp.payload, conn)
            self._send(conn, TH_PUSH | TH_ACK, response, trace, "response")
            return
        if tcp.flags & TH_FIN:
            trace.end(DELIVERED, "FIN: peer closed; FIN-ACK sent", ns.name, dev.name)
            self._send(conn, TH_FIN | TH_ACK, None, trace, "FIN-ACK")
            self.conns.pop(key, None)
            return
        conn.state = "ESTABLISHED"
        trace.end(DELIVERED, "ACK: connection established", ns.name, dev.name)


@dataclass
class Exchange:
    """What the client saw."""

    kind: str  # "ok", "refused", "unreachable", "timeout", "local-error", "reset"
    response: Any = None
    traces: list[Trace] = field(default_factory=list)
    elapsed: float = 0.0  # simulated seconds
    errno_text: str = ""
    error_from: str = ""  # who sent the ICMP error
    local: tuple[int, int] = (0, 0)
    remote: tuple[int, int] = (0, 0)


def exchange(ns: NetNS, dst: int, dport: int, request: Any, *, timeout: float | None = None,
             connect_only: bool = False) -> Exchange:
    """connect(), send one request, read the response, close: as curl or nc would."""
    world = ns.world
    start_traces = len(world.traces)
    sport = ns.ephemeral_port(IPPROTO_TCP)
    sock = Socket(IPPROTO_TCP, -sport, owner="client")
    ns.sockets[(IPPROTO_TCP, -sport)] = sock
    state = {"seq": 1000, "ack": 0, "local": 0}

    def send(flags: int, payload: Any, label: str) -> str | None:
        n = payload_len(payload)
        pkt = IPv4(state["local"], dst, IPPROTO_TCP, TCP(sport, dport, flags, state["seq"], state["ack"], payload, n),
                   id=ns.next_ip_id())
        state["seq"] += n + (1 if flags & (TH_SYN | TH_FIN) else 0)
        trace = world.new_trace(f"{ns.name} → {fmt_ip(dst)}:{dport} TCP {label}", ns.name, pkt, label)
        err = ns.ip_local_out(pkt, trace)
        if err is None:
            world.run()
        return err

    def take() -> tuple[IPv4, Trace] | None:
        """The next segment from the peer we connected to. A segment from anyone else (a
        reply that escaped its un-NAT, say) matches no connection: the kernel answers it
        with a RST and the application never sees it."""
        while sock.received:
            pkt, trace = sock.received.pop(0)
            if pkt.src == dst and pkt.l4.sport == dport:
                return pkt, trace
            trace.add(ns.name, None, T.LOCAL, f"TCP from {fmt_ip(pkt.src)}:{pkt.l4.sport} matches no connection "
                      f"(this socket talks to {fmt_ip(dst)}:{dport}): RST sent")
            if not pkt.l4.flags & TH_RST:
                rst = IPv4(pkt.dst, pkt.src, IPPROTO_TCP, TCP(pkt.l4.dport, pkt.l4.sport, TH_RST, pkt.l4.ack, 0))
                ns.ip_local_out(rst, world.new_trace("TCP RST", ns.name, rst, "RST"))
                world.run()
        return None

    def result(kind: str, **kw) -> Exchange:
        ns.sockets.pop((IPPROTO_TCP, -sport), None)
        traces = world.traces[start_traces:]
        elapsed = kw.pop("elapsed", max((t.t for t in traces), default=0.0) * 2)
        return Exchange(kind, traces=traces, elapsed=elapsed, local=(state["local"], sport), remote=(dst, dport), **kw)

    try:
        route = ns.route_output(dst)
        state["local"] = route.src
    except Exception:
        pass
    err = send(TH_SYN, None, "SYN")
    if err is not None:
        return result("local-error", errno_text=err)
    got = take()
    if got is None:
        if sock.errors:
            icmp_pkt, _ = sock.errors[0]
            return result("unreachable", error_from=fmt_ip(icmp_pkt.src),
                          errno_text=_icmp_errno(icmp_pkt.l4), elapsed=0.003)
        return result("timeout", elapsed=timeout if timeout is not None else SYN_TIMEOUT)
    synack, _ = got
    if synack.l4.flags & TH_RST:
        return result("refused", errno_text="Connection refused")
    state["ack"] = synack.l4.seq + 1
    send(TH_ACK, None, "ACK")
    if connect_only:
        send(TH_FIN | TH_ACK, None, "FIN")
        return result("ok")
    send(TH_PUSH | TH_ACK, request, "request")
    got = take()
    if got is None:
        return result("timeout", elapsed=timeout if timeout is not None else 300.0)
    resp, _ = got
    if resp.l4.flags & TH_RST:
        return result("reset", errno_text="Connection reset by peer")
    state["ack"] = resp.l4.seq + resp.l4.payload_len
    send(TH_FIN | TH_ACK, None, "FIN")
    while take() is not None:
        pass
    return result("ok", response=resp.l4.payload)


def _icmp_errno(icmp: ICMP) -> str:
    return {0: "Network is unreachable", 1: "No route to host", 3: "Connection refused",
            13: "No route to host", 9: "Network is unreachable", 10: "No route to host"}.get(icmp.code, "No route to host")
