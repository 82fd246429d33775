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


class Deferred:
    """An app's promise to answer later. A proxy cannot open its upstream connection
    synchronously while the dataplane is delivering the client's request (the segments
    would have to be processed inside the delivery of another), so it returns a Deferred,
    sends its upstream SYN as an ordinary packet, and calls `resolve` when the upstream's
    answer arrives; the listener then sends the response on the client's connection."""

    def __init__(self) -> None:
        self._send: Callable[[Any, Trace | None], None] | None = None
        self._early: tuple[Any, Trace | None] | None = None
        self.done = False

    def bind(self, send: Callable[[Any, Trace | None], None]) -> None:
        self._send = send
        if self._early is not None:
            send(*self._early)

    def resolve(self, response: Any, trace: Trace | None = None) -> None:
        """Answer the client (once); `trace` is the event that produced the answer, so the
        response's trace carries its time."""
        if self.done:
            return
        self.done = True
        if self._send is None:
            self._early = (response, trace)
        else:
            self._send(response, trace)


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
            if isinstance(response, Deferred):
                response.bind(lambda resp, later: self._send(conn, TH_PUSH | TH_ACK, resp, later or trace, "response"))
                return
            self._send(conn, TH_PUSH | TH_ACK, response, trace, "response")
            return
        if tcp.flags & TH_FIN:
            trace.end(DELIVERED, "FIN: peer closed; FIN-ACK sent", ns.name, dev.name)
            self._send(conn, TH_FIN | TH_ACK, None, trace, "FIN-ACK")
            self.conns.pop(key, None)
            return
        conn.state = "ESTABLISHED"
        trace.end(DELIVERED, "ACK: connection established", ns.name, dev.name)


class ClientConnection:
    """connect() driven by the segments as they arrive, for apps that open connections while
    the dataplane runs (a proxy to its upstream, as nginx's proxy_pass does): SYN, then ACK
    and the request when the SYN-ACK comes, FIN once the response is read. `on_done(kind,
    response, trace)` is called once with kind "ok", "refused", "reset", "unreachable" or
    "timeout" ("timeout": the dataplane went idle twice with no answer — a dropped SYN)."""

    def __init__(self, ns: NetNS, dst: int, dport: int, request: Any, on_done: Callable[[str, Any, Trace | None], None],
                 *, owner: str = "client", parent: Trace | None = None) -> None:
        self.ns, self.dst, self.dport, self.request, self.on_done = ns, dst, dport, request, on_done
        self.owner = owner
        self.parent = parent
        self.sport = ns.ephemeral_port(IPPROTO_TCP)
        self.seq, self.ack, self.local = 1000, 0, 0
        self.state = "SYN_SENT"
        self.done = False
        self.patience = 2
        self.socket = Socket(IPPROTO_TCP, -self.sport, on_data=self._segment, on_error=self._error, owner=owner)

    @property
    def local_port(self) -> int:
        return self.sport

    def start(self) -> None:
        ns = self.ns
        try:
            self.local = ns.route_output(self.dst).src
        except Exception:
            self.local = 0
        ns.sockets[(IPPROTO_TCP, -self.sport)] = self.socket
        err = self._send(TH_SYN, None, "SYN", self.parent)
        if err is not None:
            self._finish("unreachable", None, None)
            return
        ns.world.when_idle(self._idle)

    def _send(self, flags: int, payload: Any, label: str, parent: Trace | None) -> str | None:
        ns = self.ns
        n = payload_len(payload)
        pkt = IPv4(self.local, self.dst, IPPROTO_TCP, TCP(self.sport, self.dport, flags, self.seq, self.ack, payload, n),
                   id=ns.next_ip_id())
        self.seq += n + (1 if flags & (TH_SYN | TH_FIN) else 0)
        trace = ns.world.new_trace(f"{fmt_ip(self.local)}:{self.sport} > {fmt_ip(self.dst)}:{self.dport} TCP {label}",
                                   ns.name, pkt, label)
        if parent is not None:
            trace.t = parent.t
        return ns.ip_local_out(pkt, trace)

    def _segment(self, ns: NetNS, pkt: IPv4, dev, trace: Trace) -> None:
        tcp: TCP = pkt.l4
        where = dev.name if dev is not None else None
        if pkt.src != self.dst or tcp.sport != self.dport:
            trace.end(DROPPED, f"TCP from {fmt_ip(pkt.src)}:{tcp.sport} matches no connection of {self.owner}", ns.name, where)
            return
        if tcp.flags & TH_RST:
            trace.end(DELIVERED, f"RST: {self.owner}'s connection {'refused' if self.state == 'SYN_SENT' else 'reset'}",
                      ns.name, where)
            self._close()
            self._finish("refused" if self.state == "SYN_SENT" else "reset", None, trace)
            return
        if self.state == "SYN_SENT" and tcp.flags & TH_SYN and tcp.flags & TH_ACK:
            self.ack = tcp.seq + 1
            self.state = "ESTABLISHED"
            trace.end(DELIVERED, f"SYN-ACK: {self.owner} connected to {fmt_ip(self.dst)}:{self.dport}", ns.name, where)
            self._send(TH_ACK, None, "ACK", trace)
            self._send(TH_PUSH | TH_ACK, self.request, "request", trace)
            return
        self.ack = tcp.seq + tcp.payload_len + (1 if tcp.flags & TH_FIN else 0)
        if tcp.payload_len and self.state == "ESTABLISHED":
            self.state = "FIN_WAIT"
            trace.end(DELIVERED, f"response delivered to {self.owner}", ns.name, where)
            self._send(TH_FIN | TH_ACK, None, "FIN", trace)
            self._finish("ok", tcp.payload, trace)
            return
        trace.end(DELIVERED, f"TCP [{tcp.flag_text()}] delivered to {self.owner}", ns.name, where)
        if tcp.flags & TH_FIN:
            self._close()

    def _error(self, ns: NetNS, icmp_pkt: IPv4, trace: Trace) -> None:
        self._close()
        self._finish("unreachable", None, trace)

    def _idle(self) -> None:
        if self.done:
            if self.state != "CLOSED":
                self._close()
            return
        self.patience -= 1
        if self.patience > 0:  # let a neighbour give up first: its ICMP error says more than a timeout
            self.ns.world.when_idle(self._idle)
            return
        self._close()
        self._finish("timeout", None, None)

    def _close(self) -> None:
        self.state = "CLOSED"
        if self.ns.sockets.get((IPPROTO_TCP, -self.sport)) is self.socket:
            del self.ns.sockets[(IPPROTO_TCP, -self.sport)]

    def _finish(self, kind: str, response: Any, trace: Trace | None) -> None:
        if not self.done:
            self.done = True
            self.on_done(kind, response, trace)


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
