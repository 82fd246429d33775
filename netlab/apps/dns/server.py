"""`netlab dns serve`: a real DNS server on 127.0.0.1 that answers from the lab's CoreDNS.

Each datagram (or TCP message) that arrives on the real socket becomes one query sent from a
node through the lab's dataplane to the kube-dns ClusterIP, exactly as a pod's resolver's
would be: kube-proxy picks a CoreDNS pod, CoreDNS answers (or forwards upstream), and the
lab's answer is copied into a response to the real client's message (its id, its question,
its EDNS). The lab is not thread-safe, so one thread serves every socket in turn.
"""
from __future__ import annotations

import selectors
import socket
import struct

import dns.exception
import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype

from netlab.net.addr import fmt_ip


class DnsServer:
    def __init__(self, lab, host: str = "127.0.0.1", port: int = 5353, *, tcp: bool = True) -> None:
        self.lab = lab
        cluster = lab.cluster
        self.node = next(iter(cluster.nodes.values()))
        self.server_ip = fmt_ip(cluster.spec.cluster_dns)
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.tcp = None
        try:
            self.udp.bind((host, port))
            if tcp:
                self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                self.tcp.bind((host, self.udp.getsockname()[1]))
                self.tcp.listen(16)
        except OSError:
            self.close()
            raise
        self.address = self.udp.getsockname()
        self.stopping = False
        self.served = 0

    def describe(self) -> str:
        protos = "udp, tcp" if self.tcp is not None else "udp"
        return (f"netlab dns: listening on {self.address[0]}:{self.address[1]} ({protos}); "
                f"queries go from node {self.node.spec.name} to kube-dns at {self.server_ip}")

    # -- answering -------------------------------------------------------------
    def answer(self, wire: bytes) -> bytes | None:
        """One real query in wire format → the wire answer (None: not a DNS query at all)."""
        try:
            query = dns.message.from_wire(wire)
        except dns.exception.DNSException:
            return self._formerr(wire)
        # CoreDNS answers EDNS with the client's own advertised size
        response = dns.message.make_response(query, our_payload=max(query.payload, 512))
        if not query.question:
            response.set_rcode(dns.rcode.FORMERR)
            return response.to_wire()
        from netlab.apps.dns.resolver import query as lab_query

        q = query.question[0]
        got = lab_query(self.node.ns, self.server_ip, q.name.to_text(), dns.rdatatype.to_text(q.rdtype))
        self.lab.world.take_traces()  # a long-running server keeps no history
        self.served += 1
        lab_resp = got.response
        if lab_resp is None:
            response.set_rcode(dns.rcode.SERVFAIL)  # the lab's CoreDNS never answered
        else:
            response.set_rcode(lab_resp.rcode())
            response.flags |= lab_resp.flags & (dns.flags.AA | dns.flags.RA)
            response.answer = list(lab_resp.answer)
            response.authority = list(lab_resp.authority)
            response.additional = list(lab_resp.additional)
        return response.to_wire()

    @staticmethod
    def _formerr(wire: bytes) -> bytes | None:
        if len(wire) < 12:
            return None
        qid, flags = struct.unpack("!HH", wire[:4])
        if flags & 0x8000:
            return None  # a response, not a query: never answer those
        return struct.pack("!HHHHHH", qid, 0x8000 | (flags & 0x7900) | dns.rcode.FORMERR, 0, 0, 0, 0)

    # -- the loop ----------------------------------------------------------------
    def serve_forever(self, poll: float = 0.2) -> None:
        sel = selectors.DefaultSelector()
        sel.register(self.udp, selectors.EVENT_READ, "udp")
        if self.tcp is not None:
            sel.register(self.tcp, selectors.EVENT_READ, "tcp")
        try:
            while not self.stopping:
                for key, _ in sel.select(poll):
                    if key.data == "udp":
                        self._serve_udp()
                    else:
                        self._serve_tcp()
        finally:
            sel.close()

    def _serve_udp(self) -> None:
        try:
            wire, client = self.udp.recvfrom(65535)
        except OSError:
            return
        out = self.answer(wire)
        if out is not None:
            if len(out) > 512 and not _has_edns(wire):
                out = _truncated(wire, out)
            try:
                self.udp.sendto(out, client)
            except OSError:
                pass

    def _serve_tcp(self) -> None:
        try:
            conn, _ = self.tcp.accept()
        except OSError:
            return
        conn.settimeout(2.0)
        try:
            while True:
                head = _recv_exact(conn, 2)
                if head is None:
                    return
                wire = _recv_exact(conn, struct.unpack("!H", head)[0])
                if wire is None:
                    return
                out = self.answer(wire)
                if out is None:
                    return
                conn.sendall(struct.pack("!H", len(out)) + out)
        except OSError:
            return
        finally:
            conn.close()

    def stop(self) -> None:
        self.stopping = True

    def close(self) -> None:
        for s in (self.udp, self.tcp):
            if s is not None:
                s.close()


def _recv_exact(conn, n: int) -> bytes | None:
    buf = b""
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def _has_edns(wire: bytes) -> bool:
    try:
        return dns.message.from_wire(wire).edns >= 0
    except dns.exception.DNSException:
        return False


def _truncated(query_wire: bytes, answer_wire: bytes) -> bytes:
    """An answer too big for plain UDP: header and question with TC set, as servers send."""
    resp = dns.message.make_response(dns.message.from_wire(query_wire))
    resp.set_rcode(dns.message.from_wire(answer_wire).rcode())
    resp.flags |= dns.flags.TC
    return resp.to_wire()
