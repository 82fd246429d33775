"""The stub resolver in a pod or node (glibc's): /etc/hosts first, then resolv.conf's
nameservers, trying the search list in glibc's order — a name with fewer dots than `ndots`
tries each search suffix first and itself last. Every query is a real UDP packet."""
from __future__ import annotations

from dataclasses import dataclass, field

import dns.message
import dns.rcode

from netlab.apps.dns.wire import send_udp
from netlab.net.addr import AddrError, fmt_ip, parse_ip
from netlab.net.packet import IPPROTO_UDP
from netlab.net.socket import Socket


@dataclass
class ResolvConf:
    nameservers: list[str] = field(default_factory=list)
    search: list[str] = field(default_factory=list)
    ndots: int = 1
    timeout: float = 5.0
    attempts: int = 2


def resolv_conf(ns) -> ResolvConf:
    conf = ResolvConf()
    for line in (ns.read_file("/etc/resolv.conf") or "").splitlines():
        parts = line.split("#", 1)[0].split()
        if not parts:
            continue
        if parts[0] == "nameserver" and len(parts) > 1:
            conf.nameservers.append(parts[1])
        elif parts[0] in ("search", "domain"):
            conf.search = parts[1:]
        elif parts[0] == "options":
            for opt in parts[1:]:
                key, _, val = opt.partition(":")
                if key == "ndots" and val.isdigit():
                    conf.ndots = min(int(val), 15)
                elif key == "timeout" and val.isdigit():
                    conf.timeout = float(val)
                elif key == "attempts" and val.isdigit():
                    conf.attempts = int(val)
    return conf


def hosts_file(ns, name: str) -> str | None:
    for line in (ns.read_file("/etc/hosts") or "").splitlines():
        parts = line.split("#", 1)[0].split()
        if len(parts) >= 2 and name.rstrip(".") in parts[1:]:
            try:
                parse_ip(parts[0])
                return parts[0]
            except AddrError:
                continue
    return None


def candidates(name: str, conf: ResolvConf, use_search: bool = True) -> list[str]:
    """The names glibc's res_search tries, in order."""
    if name.endswith("."):
        return [name]
    fqdn = name + "."
    if not use_search or not conf.search:
        return [fqdn]
    searched = [f"{name}.{s.rstrip('.')}." for s in conf.search]
    if name.count(".") >= conf.ndots:
        return [fqdn] + searched
    return searched + [fqdn]


# What bind9's tools print for the errno an ICMP error puts on a connected UDP socket
# (Linux: port unreachable → ECONNREFUSED, net → ENETUNREACH, the rest → EHOSTUNREACH).
ICMP_ERRORS = {0: "network unreachable", 3: "connection refused"}


@dataclass
class Answer:
    qname: str
    response: dns.message.Message | None  # None: no answer (see `error`)
    server: str
    traces: list = field(default_factory=list)
    error: str | None = None  # "timed out", "connection refused", ... when response is None

    @property
    def rcode(self) -> int | None:
        return None if self.response is None else self.response.rcode()

    def addresses(self, rtype: str = "A") -> list[str]:
        if self.response is None:
            return []
        out = []
        for rrset in self.response.answer:
            import dns.rdatatype

            if dns.rdatatype.to_text(rrset.rdtype) == rtype:
                out += [r.to_text() for r in rrset]
        return out


def query(ns, server: str, qname: str, qtype: str = "A", *, timeout: float = 5.0) -> Answer:
    """One query to one server, as a UDP packet from an ephemeral port."""
    world = ns.world
    start = len(world.traces)
    sport = ns.ephemeral_port(IPPROTO_UDP)
    sock = ns.bind(Socket(IPPROTO_UDP, sport, owner="resolver"))
    msg = dns.message.make_query(qname, qtype)
    msg.id = world.stream("dns-ids").randrange(1, 65536)
    try:
        err = send_udp(ns, 0, sport, parse_ip(server), 53, msg, f"{ns.name} → {server}:53 DNS {qtype} {qname}", "dns query")
        if err is None:
            world.run()
    finally:
        ns.unbind(sock)
    resp = None
    for pkt, _trace in sock.received:
        payload = pkt.l4.payload
        if isinstance(payload, dns.message.Message) and payload.id == msg.id:
            resp = payload
            break
    error = None
    if resp is None:
        error = _socket_error(sock)
        if error is None:  # nothing came back at all: the resolver waits its timeout out
            error = "timed out"
            world.advance(timeout)
    return Answer(qname, resp, server, world.traces[start:], error)


def _socket_error(sock) -> str | None:
    """The socket's error queue: an ICMP destination-unreachable about our query fails
    it at once (recvmsg returns the errno), with no timeout to wait out."""
    for icmp_pkt, _trace in sock.errors:
        icmp = icmp_pkt.l4
        if getattr(icmp, "type", None) == 3:
            return ICMP_ERRORS.get(icmp.code, "host unreachable")
    return None


@dataclass
class Lookup:
    name: str
    answers: list[Answer] = field(default_factory=list)
    from_hosts: str | None = None

    @property
    def final(self) -> Answer | None:
        return self.answers[-1] if self.answers else None

    @property
    def timed_out(self) -> bool:
        return bool(self.answers) and all(a.response is None for a in self.answers)

    def addresses(self) -> list[str]:
        if self.from_hosts:
            return [self.from_hosts]
        f = self.final
        return f.addresses("A") if f is not None else []


def lookup(ns, name: str, qtype: str = "A", *, use_search: bool = True, server: str | None = None,
           hosts: bool = True, tries: int | None = None) -> Lookup:
    """res_search: stop at the first candidate with an answer of the type; NXDOMAIN and NODATA
    go on to the next; a server that never answers (or refuses) is tried `attempts` times
    (`tries` for bind9's tools), and then the whole search gives up (EAI_AGAIN)."""
    result = Lookup(name)
    if hosts and qtype == "A":
        found = hosts_file(ns, name)
        if found:
            result.from_hosts = found
            return result
    conf = resolv_conf(ns)
    servers = [server] if server else conf.nameservers or ["127.0.0.1"]
    for candidate in candidates(name, conf, use_search):
        answer = None
        for _attempt in range(tries or conf.attempts):
            for s in servers:
                answer = query(ns, s, candidate, qtype, timeout=conf.timeout)
                result.answers.append(answer)
                if answer.response is not None:
                    break
            if answer is not None and answer.response is not None:
                break
        if answer is None or answer.response is None:
            return result  # no server answered: glibc gives up (EAI_AGAIN)
        if answer.rcode == dns.rcode.NOERROR and answer.response.answer:
            return result
    return result
