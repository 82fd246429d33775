"""The resolver outside the cluster (the router's :53, where nodes' resolv.conf points):
a few well-known names, NXDOMAIN with the root's SOA for everything else."""
from __future__ import annotations

import dns.flags
import dns.message
import dns.rrset

from netlab.apps.dns.wire import question, send_udp
from netlab.net import trace as T
from netlab.net.addr import fmt_ip
from netlab.net.packet import IPPROTO_UDP
from netlab.net.socket import Socket

KNOWN = {
    "example.com.": "93.184.215.14",
    "www.example.com.": "93.184.215.14",
    "kubernetes.io.": "15.197.167.90",
    "github.com.": "140.82.121.4",
    "registry.k8s.io.": "34.96.108.209",
}
ROOT_SOA = ". 86400 IN SOA a.root-servers.net. nstld.verisign-grs.com. 2026112200 1800 900 604800 86400"


def start_upstream(ns) -> Socket:
    def answer(ns_, pkt, dev, trace) -> None:
        query = pkt.l4.payload
        if not isinstance(query, dns.message.Message) or not query.question:
            trace.end(T.DROPPED, "resolver: not a DNS query", ns_.name, dev.name)
            return
        qname, qtype = question(query)
        resp = dns.message.make_response(query)
        resp.flags |= dns.flags.RA
        if qname in KNOWN:
            if qtype == "A":
                resp.answer.append(dns.rrset.from_text(qname, 300, "IN", "A", KNOWN[qname]))
        else:
            resp.set_rcode(3)
            resp.authority.append(dns.rrset.from_text(*ROOT_SOA.split(" ", 3)[:1], 86400, "IN", "SOA",
                                                      ROOT_SOA.split(" IN SOA ")[1]))
        trace.end(T.DELIVERED, f"outside resolver answered {qtype} {qname}", ns_.name, dev.name)
        send_udp(ns_, pkt.dst, 53, pkt.src, pkt.l4.sport, resp, f"{fmt_ip(pkt.dst)}:53 → {fmt_ip(pkt.src)} DNS answer",
                 "dns answer", trace)

    return ns.bind(Socket(IPPROTO_UDP, 53, on_data=answer, owner="unbound"))
