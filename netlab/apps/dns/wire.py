"""Sending and receiving DNS messages as UDP packets through the dataplane."""
from __future__ import annotations

import dns.message

from netlab.net.addr import fmt_ip
from netlab.net.packet import IPPROTO_UDP, UDP, IPv4


def wire_len(msg: dns.message.Message) -> int:
    return len(msg.to_wire())


def send_udp(ns, src: int, sport: int, dst: int, dport: int, msg, trace_summary: str, label: str, parent=None):
    pkt = IPv4(src, dst, IPPROTO_UDP, UDP(sport, dport, msg, wire_len(msg)), id=ns.next_ip_id(), df=False)
    trace = ns.world.new_trace(trace_summary, ns.name, pkt, label)
    if parent is not None:
        trace.t = parent.t
    return ns.ip_local_out(pkt, trace)



def question(msg) -> tuple[str, str]:
    q = msg.question[0]
    import dns.rdatatype

    return q.name.to_text().lower(), dns.rdatatype.to_text(q.rdtype)


__all__ = ["send_udp", "wire_len", "question", "fmt_ip"]
