"""nslookup, dig, host and getent (hosts): the DNS tools, with their real output."""
from __future__ import annotations

import dns.flags
import dns.rcode
import dns.rdatatype
import dns.reversename

from netlab.apps.dns.resolver import lookup, resolv_conf
from netlab.shell.registry import Invocation, command

DIG_VERSION = "9.18.28-1~deb12u2-Debian"
# dig's master-file style: TTL, class, type and rdata start at these columns (tab width 8).
DIG_COLUMNS = (24, 32, 40, 48)
MDNS_WARNING = (";; WARNING: .local is reserved for Multicast DNS\n"
                ";; You are currently testing what happens when an mDNS query is leaked to DNS")


def _indent(line: str, to: int) -> str:
    """bind9's masterdump indent(): tabs up to the column, or one space when already past it."""
    cur = len(line.expandtabs(8))
    to = max(to, cur + 1)
    tabs = to // 8 - cur // 8
    return line + ("\t" * tabs + " " * (to % 8) if tabs > 0 else " " * (to - cur))


def dig_columns(*fields: str, question: bool = False) -> str:
    """One record (or question) line, aligned as dig aligns it. A question has no TTL
    column, and its leading `;` is printed outside the column count."""
    stops = DIG_COLUMNS[1:] if question else DIG_COLUMNS
    line = fields[0]
    for text, stop in zip(fields[1:], stops):
        line = _indent(line, stop) + text
    return ";" + line if question else line


def _failures(inv: Invocation, result) -> None:
    """`;; communications error to S#53: <why>`, once per try that got no answer."""
    for a in result.answers:
        if a.response is None:
            inv.print(f";; communications error to {a.server}#53: {a.error or 'timed out'}")


def _server(inv: Invocation, args: list[str]) -> tuple[str | None, list[str]]:
    server, rest = None, []
    for a in args:
        if a.startswith("@"):
            server = a[1:]
        else:
            rest.append(a)
    return server, rest


@command("nslookup", summary="query DNS (bind9)")
def nslookup(inv: Invocation) -> int:
    args = [a for a in inv.argv[1:] if not a.startswith("-")]
    qtype = next((a.split("=", 1)[1].upper() for a in inv.argv[1:] if a.startswith(("-type=", "-query=", "-q="))), "A")
    if not args:
        return inv.fail("nslookup: interactive mode is not available in netlab; give a name", 1)
    name = args[0]
    conf = resolv_conf(inv.ns)
    server = args[1] if len(args) > 1 else (conf.nameservers[0] if conf.nameservers else "127.0.0.1")
    reverse = name.replace(".", "").isdigit() and name.count(".") == 3
    if reverse:
        name, qtype = dns.reversename.from_address(name).to_text(), "PTR"
    result = lookup(inv.ns, name, qtype, server=server, hosts=False, tries=3)
    if result.timed_out or not result.answers:
        _failures(inv, result)
        inv.write(";; no servers could be reached\n\n")
        return 1
    if not reverse:  # a reverse lookup of an address prints no server header
        inv.write(f"Server:\t\t{server}\nAddress:\t{server}#53\n\n")
    final = result.final
    resp = final.response
    if resp.rcode() != dns.rcode.NOERROR or not resp.answer:
        if resp.rcode() == dns.rcode.NOERROR:
            inv.write(f"*** Can't find {name}: No answer\n\n")
            return 0
        inv.write(f"** server can't find {name}: {dns.rcode.to_text(resp.rcode())}\n\n")
        return 1
    if not resp.flags & dns.flags.AA:
        inv.print("Non-authoritative answer:")
    for rrset in resp.answer:
        owner = rrset.name.to_text().rstrip(".")
        for r in rrset:
            rtype = dns.rdatatype.to_text(rrset.rdtype)
            if rtype == "A":
                inv.print(f"Name:\t{owner}\nAddress: {r.to_text()}")
            elif rtype == "CNAME":
                inv.print(f"{owner}\tcanonical name = {r.to_text()}")
            elif rtype == "PTR":
                inv.print(f"{owner}\tname = {r.to_text()}")
            elif rtype == "SRV":
                inv.print(f"{owner}\tservice = {r.to_text()}")
            elif rtype == "TXT":
                inv.print(f"{owner}\ttext = {r.to_text()}")
            elif rtype == "SOA":
                inv.print(f"{owner}\n\torigin = {r.mname.to_text().rstrip('.')}\n\tmail addr = {r.rname.to_text().rstrip('.')}\n\tserial = {r.serial}\n"
                          f"\trefresh = {r.refresh}\n\tretry = {r.retry}\n\texpire = {r.expire}\n\tminimum = {r.minimum}")
            else:
                inv.print(f"{owner}\t{rtype.lower()} = {r.to_text()}")
    inv.print("")
    return 0


@command("dig", summary="query DNS (bind9)")
def dig(inv: Invocation) -> int:
    server, args = _server(inv, inv.argv[1:])
    short = search = False
    qtype, name = "A", None
    i = 0
    while i < len(args):
        a = args[i]
        if a == "+short":
            short = True
        elif a == "+search":
            search = True
        elif a.startswith("+"):
            pass
        elif a == "-t" and i + 1 < len(args):
            qtype = args[i + 1].upper()
            i += 1
        elif a == "-x" and i + 1 < len(args):
            name, qtype = dns.reversename.from_address(args[i + 1]).to_text(), "PTR"
            i += 1
        elif a.upper() in ("A", "AAAA", "SRV", "PTR", "TXT", "CNAME", "SOA", "NS", "MX", "ANY"):
            qtype = a.upper()
        else:
            name = a
        i += 1
    if name is None:
        name = "."
        qtype = "NS"
    conf = resolv_conf(inv.ns)
    explicit = server is not None
    server = server or (conf.nameservers[0] if conf.nameservers else "127.0.0.1")
    result = lookup(inv.ns, name, qtype, server=server, use_search=search, hosts=False, tries=3)
    banner = f"\n; <<>> DiG {DIG_VERSION} <<>> {' '.join(inv.argv[1:])}\n" + ("; (1 server found)\n" if explicit else "")
    banner += ";; global options: +cmd"
    final = result.final
    if final is None or final.response is None:
        _failures(inv, result)
        inv.print(";; no servers could be reached" if short else f"{banner}\n;; no servers could be reached")
        return 9
    resp = final.response
    if short:
        for rrset in resp.answer:
            for r in rrset:
                inv.print(r.to_text())
        return 0
    flags = dns.flags.to_text(resp.flags).lower()
    q = resp.question[0]
    inv.print(f"{banner}\n;; Got answer:")
    if q.name.to_text().lower().endswith(".local."):
        inv.print(MDNS_WARNING)
    inv.print(f";; ->>HEADER<<- opcode: QUERY, status: {dns.rcode.to_text(resp.rcode())}, id: {resp.id}")
    inv.write(f";; flags: {flags}; QUERY: 1, ANSWER: {sum(len(r) for r in resp.answer)}, "
              f"AUTHORITY: {sum(len(r) for r in resp.authority)}, ADDITIONAL: 1\n\n")
    inv.print(";; OPT PSEUDOSECTION:\n; EDNS: version: 0, flags:; udp: 1232")
    inv.write(";; QUESTION SECTION:\n" + dig_columns(q.name.to_text(), "IN", dns.rdatatype.to_text(q.rdtype),
                                                   question=True) + "\n\n")
    for title, section in (("ANSWER", resp.answer), ("AUTHORITY", resp.authority)):
        if section:
            inv.print(f";; {title} SECTION:")
            for rrset in section:
                for r in rrset:
                    inv.print(dig_columns(rrset.name.to_text(), str(rrset.ttl), "IN",
                                          dns.rdatatype.to_text(rrset.rdtype), r.to_text()))
            inv.print("")
    inv.write(f";; Query time: 0 msec\n;; SERVER: {server}#53({server}) (UDP)\n;; WHEN: Sun Nov 22 05:00:00 UTC 2026\n"
              f";; MSG SIZE  rcvd: {len(resp.to_wire()) + 11}\n\n")  # + the OPT record CoreDNS adds
    return 0


@command("host", summary="DNS lookup utility (bind9)")
def host(inv: Invocation) -> int:
    server, args = _server(inv, [a for a in inv.argv[1:] if not a.startswith("-")])
    if not args:
        return inv.fail("Usage: host [-aCdilrTvVw] [-c class] [-N ndots] [-t type] [-W time]\n"
                        "            [-R number] [-m flag] [-p port] hostname [server]", 1)
    name = args[0]
    server = args[1] if len(args) > 1 else server
    qtype = "A"
    if name.replace(".", "").isdigit() and name.count(".") == 3:
        name, qtype = dns.reversename.from_address(name).to_text(), "PTR"
    result = lookup(inv.ns, name, qtype, server=server, hosts=False, use_search=qtype == "A", tries=2)
    final = result.final
    if final is None or final.response is None:
        _failures(inv, result)
        return inv.fail(";; no servers could be reached", 1)
    if args[1:] or server:  # host names the server it was told to use
        inv.write(f"Using domain server:\nName: {final.server}\nAddress: {final.server}#53\nAliases: \n\n")
    resp = final.response
    if resp.rcode() != dns.rcode.NOERROR or not resp.answer:
        shown = args[0] if qtype == "A" else name.rstrip(".")
        return inv.fail(f"Host {shown} not found: {resp.rcode()}({dns.rcode.to_text(resp.rcode())})", 1)
    for rrset in resp.answer:
        owner = rrset.name.to_text().rstrip(".")
        for r in rrset:
            rtype = dns.rdatatype.to_text(rrset.rdtype)
            if rtype == "A":
                inv.print(f"{owner} has address {r.to_text()}")
            elif rtype == "CNAME":
                inv.print(f"{owner} is an alias for {r.to_text()}")
            elif rtype == "PTR":
                inv.print(f"{owner} domain name pointer {r.to_text()}")
    return 0


@command("getent", summary="entries from the name service (hosts)")
def getent(inv: Invocation) -> int:
    args = inv.argv[1:]
    if len(args) < 2 or args[0] not in ("hosts", "ahosts", "ahostsv4"):
        return inv.fail(f"Unknown database: {args[0]}\nTry `getent --help' or `getent --usage' for more information."
                        if args else "Usage: getent [OPTION...] database [key ...]", 1)
    code = 0
    for name in args[1:]:
        result = lookup(inv.ns, name, "A")
        addrs = result.addresses()
        if not addrs:
            code = 2
            continue
        canonical = name if result.from_hosts else result.final.response.answer[-1].name.to_text().rstrip(".")
        if args[0] == "hosts":
            inv.print(f"{addrs[0]:<15} {canonical}")
        else:
            for a in addrs:
                inv.print(f"{a:<15} STREAM {canonical}\n{a:<15} DGRAM  \n{a:<15} RAW    ")
    return code
