"""CoreDNS as a pod runs it: a UDP (and TCP) server on :53 whose Corefile comes from the
`coredns` ConfigMap and is re-read when it changes (the reload plugin).

Plugins run in the order CoreDNS compiles them in (plugin.cfg), whatever order the Corefile
lists them in: log → loadbalance → cache → rewrite → hosts → kubernetes → forward.
`forward` is asynchronous, as in CoreDNS: the query goes out as its own UDP packet and the
answer to the client leaves when the upstream's reply comes back.
"""
from __future__ import annotations

import dns.flags
import dns.message
import dns.rcode
import dns.rrset

from netlab.apps.dns.corefile import CorefileError, ServerBlock, parse
from netlab.apps.dns.records import NOERROR, NXDOMAIN, REFUSED, SERVFAIL, ClusterDns
from netlab.apps.dns.wire import question, send_udp, wire_len
from netlab.net import trace as T
from netlab.net.addr import fmt_ip, parse_ip
from netlab.net.packet import IPPROTO_UDP
from netlab.net.socket import Socket

VERSION = "1.9.3"


def _sha512(text: str) -> str:
    import hashlib

    return hashlib.sha512(text.encode()).hexdigest()


class CoreDns:
    def __init__(self, cluster, ns, pod_name: str, log) -> None:
        self.cluster = cluster
        self.ns = ns
        self.pod_name = pod_name
        self.log = log  # append a line to the pod's log
        self.block: ServerBlock | None = None
        self.corefile_text = ""
        self.cache: dict[tuple[str, str], tuple[float, dns.message.Message]] = {}
        self.pending: dict[int, tuple] = {}  # upstream sport -> (client, query, trace)
        self.rr_counter = 0
        self.sock = ns.bind(Socket(IPPROTO_UDP, 53, on_data=self._query, owner="coredns"))
        self.upstream_sock = None
        self.reload()
        if self.block is not None:
            self.log(f"{','.join(z if z == '.' else z for z in self.block.zones)}:{self.block.port}")
        self.log(f"[INFO] plugin/reload: Running configuration SHA512 = {_sha512(self.corefile_text)}")
        self.log(f"CoreDNS-{VERSION}")
        self.log(f"linux/amd64, go1.18.2, 45b0a11")

    def close(self) -> None:
        self.ns.unbind(self.sock)

    # -- configuration -----------------------------------------------------------
    def corefile(self) -> str:
        cm = self.cluster.api.get("ConfigMap", "kube-system", "coredns")
        return (cm or {}).get("data", {}).get("Corefile", "")

    def reload(self) -> None:
        """The reload plugin: a changed Corefile is parsed and swapped in; one that does not
        parse is reported in the log and the running configuration stays."""
        text = self.corefile()
        if text == self.corefile_text and self.block is not None:
            return
        first = self.block is None
        if not first:
            self.log("[INFO] Reloading")
        try:
            blocks = parse(text)
        except CorefileError as err:
            self.log(f"[ERROR] Restart failed: {err}")
            self.corefile_text = text  # report a broken file once, not on every query
            return
        self.block = next((b for b in blocks if "." in b.zones), blocks[0])
        self.corefile_text = text
        self.cache.clear()
        if not first:
            self.log(f"[INFO] plugin/reload: Running configuration SHA512 = {_sha512(text)}")
            self.log("[INFO] Reloading complete")

    def _kubernetes(self) -> tuple[ClusterDns, list[str], set[str]] | None:
        d = self.block.get("kubernetes") if self.block else None
        if d is None:
            return None
        zones = [z.rstrip(".") + "." for z in d.args] or [self.cluster.spec.cluster_domain + "."]
        cluster_zone = next((z for z in zones if not z.endswith("arpa.")), zones[0])
        ttl, pods, fall = 5, "disabled", set()
        for sub in d.block:
            if sub.name == "ttl" and sub.args:
                ttl = int(sub.args[0])
            elif sub.name == "pods" and sub.args:
                pods = sub.args[0]
            elif sub.name == "fallthrough":
                fall = {z.rstrip(".") + "." for z in sub.args} or {"."}
        return ClusterDns(self.cluster.api, cluster_zone, ttl, pods), zones, fall

    # -- one query -----------------------------------------------------------------
    def _query(self, ns, pkt, dev, trace) -> None:
        self.reload()
        query = pkt.l4.payload
        client = (pkt.src, pkt.l4.sport, pkt.dst)
        if not isinstance(query, dns.message.Message) or not query.question:
            trace.end(T.DROPPED, "coredns: not a DNS query", ns.name, dev.name)
            return
        qname, qtype = question(query)
        trace.add(ns.name, dev.name, T.APP, f"coredns: query {qtype} {qname} from {fmt_ip(pkt.src)}:{pkt.l4.sport}")
        response = self.resolve(query, qname, qtype, client, trace)
        if response is None:
            trace.end(T.DELIVERED, f"coredns forwarded {qtype} {qname} upstream", ns.name, dev.name)
            return
        trace.end(T.DELIVERED, f"coredns answered {qtype} {qname}: {dns.rcode.to_text(response.rcode())}", ns.name, dev.name)
        self._reply(client, query, response, trace)

    def resolve(self, query, qname: str, qtype: str, client, trace):
        block = self.block
        if block is None:
            return self._rcode(query, SERVFAIL)
        # rewrite (before everything that looks at the name)
        for d in block.directives:
            if d.name == "rewrite" and len(d.args) >= 3 and d.args[0] == "name":
                src, dst = (d.args[1], d.args[2]) if d.args[1] not in ("exact", "suffix", "prefix", "substring", "regex") else (d.args[2], d.args[3])
                mode = d.args[1] if d.args[1] in ("exact", "suffix", "prefix", "substring") else "exact"
                src, dst = src.rstrip(".").lower() + ".", dst.rstrip(".").lower() + "."
                new = None
                if mode == "exact" and qname == src:
                    new = dst
                elif mode == "suffix" and qname.endswith(src):
                    new = qname[: -len(src)] + dst
                elif mode == "substring" and src.rstrip(".") in qname:
                    new = qname.replace(src.rstrip("."), dst.rstrip("."))
                if new:
                    trace.add(self.ns.name, None, T.APP, f"coredns rewrite: {qname} → {new}")
                    qname = new
        cache = block.get("cache")
        now = self.ns.world.clock
        if cache is not None:
            hit = self.cache.get((qname, qtype))
            if hit is not None and hit[0] > now:
                trace.add(self.ns.name, None, T.APP, f"coredns cache: hit for {qtype} {qname}")
                return self._finish(query, hit[1], qname, client, cached=True)
        hosts = block.get("hosts")
        if hosts is not None:
            entries = {}
            for sub in hosts.block:
                if sub.name != "fallthrough" and sub.args:
                    for n in sub.args:
                        entries.setdefault(n.rstrip(".").lower() + ".", []).append(sub.name)
            for arg in hosts.args[1:] if hosts.args else []:
                pass
            if qname in entries:
                resp = self._build(query, NOERROR, [dns.rrset.from_text(qname, 3600, "IN", "A", *entries[qname])] if qtype == "A" else [], [])
                return self._finish(query, resp, qname, client)
            if not hosts.sub("fallthrough"):
                return self._finish(query, self._build(query, NXDOMAIN, [], []), qname, client)
        k8s = self._kubernetes()
        if k8s is not None:
            cdns, zones, fall = k8s
            if any(qname == z or qname.endswith("." + z) for z in zones):
                result = cdns.answer(qname, qtype)
                if result is not None:
                    rcode, ans, auth = result
                    resp = self._build(query, rcode, ans, auth, authoritative=True)
                    trace.add(self.ns.name, None, T.APP, f"coredns kubernetes: {qtype} {qname} → {dns.rcode.to_text(rcode)}"
                              + (f" {', '.join(str(r) for rs in ans for r in rs)}" if ans else ""))
                    return self._finish(query, resp, qname, client)
                if not any(qname.endswith(z) for z in fall):
                    return self._finish(query, self._build(query, NXDOMAIN, [], [cdns.soa()], authoritative=True), qname, client)
        forward = block.get("forward")
        if forward is not None and forward.args:
            upstreams = forward.args[1:]
            servers = []
            for up in upstreams:
                if up == "/etc/resolv.conf":
                    conf = self.ns.read_file("/etc/resolv.conf") or ""
                    servers += [ln.split()[1] for ln in conf.splitlines() if ln.startswith("nameserver")]
                else:
                    servers.append(up.split(":")[0].replace("dns://", ""))
            if servers:
                self._forward(query, qname, qtype, parse_ip(servers[0]), client, trace)
                return None
        return self._rcode(query, REFUSED)

    def _forward(self, query, qname, qtype, server: int, client, trace) -> None:
        ns = self.ns
        if self.upstream_sock is None:
            port = ns.ephemeral_port(IPPROTO_UDP)
            self.upstream_sock = ns.bind(Socket(IPPROTO_UDP, port, on_data=self._upstream_answer, owner="coredns"))
        msg = dns.message.make_query(qname, qtype)
        msg.id = query.id
        self.pending[msg.id] = (client, query, qname, qtype)
        trace.add(ns.name, None, T.APP, f"coredns forward: {qtype} {qname} → {fmt_ip(server)}:53")
        send_udp(ns, 0, self.upstream_sock.port, server, 53, msg, f"{ns.name} → {fmt_ip(server)}:53 DNS {qtype} {qname}",
                 "dns forward", trace)

    def _upstream_answer(self, ns, pkt, dev, trace) -> None:
        resp = pkt.l4.payload
        entry = self.pending.pop(getattr(resp, "id", -1), None)
        if entry is None:
            trace.end(T.DROPPED, "coredns: upstream answer for no pending query", ns.name, dev.name)
            return
        client, query, qname, qtype = entry
        trace.end(T.DELIVERED, f"coredns: upstream answered {qtype} {qname}", ns.name, dev.name)
        out = self._build(query, resp.rcode(), list(resp.answer), list(resp.authority))
        out.flags &= ~dns.flags.AA
        self._reply(client, query, self._finish(query, out, qname, client), trace)

    # -- building answers ----------------------------------------------------------
    def _build(self, query, rcode: int, answer, authority, *, authoritative: bool = False):
        resp = dns.message.make_response(query)
        resp.set_rcode(rcode)
        resp.answer = list(answer)
        resp.authority = list(authority)
        if authoritative:
            resp.flags |= dns.flags.AA
        resp.flags |= dns.flags.RA
        return resp

    def _rcode(self, query, rcode: int):
        return self._build(query, rcode, [], [])

    def _finish(self, query, resp, qname: str, client, cached: bool = False):
        block = self.block
        if block is not None and block.get("loadbalance") is not None:
            for rrset in resp.answer:
                if len(rrset) > 1:
                    items = list(rrset)
                    k = self.rr_counter % len(items)
                    self.rr_counter += 1
                    rrset.clear()
                    for it in items[k:] + items[:k]:
                        rrset.add(it)
        cache = block.get("cache") if block is not None else None
        if cache is not None and not cached:
            cap = int(cache.args[0]) if cache.args else 3600
            ttls = [r.ttl for r in resp.answer + resp.authority] or [cap]
            q = resp.question[0]
            import dns.rdatatype

            self.cache[(qname, dns.rdatatype.to_text(q.rdtype))] = (self.ns.world.clock + min(min(ttls), cap), resp)
        if block is not None and block.get("log") is not None:
            q = query.question[0]
            import dns.rdatatype

            src, sport, _ = client
            flags = dns.flags.to_text(resp.flags).lower().replace(" ", ",")
            self.log(f"[INFO] {fmt_ip(src)}:{sport} - {query.id} \"{dns.rdatatype.to_text(q.rdtype)} IN {q.name} udp "
                     f"{wire_len(query)} false 512\" {dns.rcode.to_text(resp.rcode())} {flags} {wire_len(resp)} 0.000{87 + len(qname)}s")
        return resp

    def _reply(self, client, query, resp, trace) -> None:
        src, sport, local = client
        resp.id = query.id
        qname = query.question[0].name.to_text()
        send_udp(self.ns, local, 53, src, sport, resp, f"{fmt_ip(local)}:53 → {fmt_ip(src)}:{sport} DNS answer {qname}",
                 "dns answer", trace)
