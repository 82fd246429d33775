"""`iptables -L` and `iptables -S` output, column for column as iptables 1.8.9 prints it
(xshared.c print_header/print_rule; the nf_tables build prints protocol numbers with -n)."""
from __future__ import annotations

from netlab.net.addr import fmt_ip
from netlab.net.netfilter.model import Chain, Rule, Table, proto_name

SERVICES = {  # getservbyport(port, proto) from Debian 12's /etc/services, for the ports labs use
    "tcp": {20: "ftp-data", 21: "ftp", 22: "ssh", 23: "telnet", 25: "smtp", 53: "domain", 80: "http", 110: "pop3",
            143: "imap2", 161: "snmp", 179: "bgp", 389: "ldap", 443: "https", 514: "shell", 636: "ldaps", 873: "rsync",
            2000: "cisco-sccp", 2049: "nfs", 3306: "mysql", 5432: "postgresql", 8080: "http-alt"},
    "udp": {21: "fsp", 53: "domain", 67: "bootps", 68: "bootpc", 69: "tftp", 123: "ntp", 161: "snmp", 389: "ldap",
            443: "https", 514: "syslog", 636: "ldaps", 2049: "nfs"},
}


LOG_NAMES = ("emerg", "alert", "crit", "error", "warn", "notice", "info", "debug")


def num(n: int, exact: bool, table: bool = True) -> str:
    """xtables_print_num."""
    if exact:
        return f"{n:8d} " if table else f"{n} "
    if n <= 99999:
        return f"{n:5d} " if table else f"{n} "
    for unit in "KMGT":
        n = (n + 500) // 1000
        if n <= 9999 or unit == "T":
            return f"{n:4d}{unit} " if table else f"{n}{unit} "
    return ""


def header(verbose: bool, exact: bool, line_numbers: bool) -> str:
    out = "num  " if line_numbers else ""
    if verbose:
        out += f"{'pkts':>8} {'bytes':>10} " if exact else " pkts bytes "
    out += "target     prot opt "
    if verbose:
        out += "in     out     "
    return out + "source               destination         "


def _addr(ip: int, plen: int, numeric: bool) -> str:
    if plen <= 0:
        return "0.0.0.0/0" if numeric else "anywhere"
    return fmt_ip(ip) if plen == 32 else f"{fmt_ip(ip)}/{plen}"


def rule_line(rule: Rule, n: int, *, numeric: bool, verbose: bool, exact: bool, line_numbers: bool) -> str:
    out = f"{n:<4d} " if line_numbers else ""
    if verbose:
        out += num(rule.pkts, exact) + num(rule.bytes, exact)
    target = rule.target
    out += f"{target.name if target is not None else '':<9} "
    proto = str(rule.proto) if numeric else (proto_name(rule.proto) if rule.proto else "all")
    out += ("!" if rule.proto_inv else " ") + f"{proto:<5}" + "-- "
    if verbose:
        iif = ("!" if rule.iif_inv else "") + (rule.iif if rule.iif is not None else ("*" if numeric else "any"))
        oif = ("!" if rule.oif_inv else "") + (rule.oif if rule.oif is not None else ("*" if numeric else "any"))
        out += f" {iif:<6} {oif:<6} "
    out += ("!" if rule.src_inv else " ") + f"{_addr(rule.src, rule.src_plen, numeric):<19} "
    out += ("!" if rule.dst_inv else " ") + f"{_addr(rule.dst, rule.dst_plen, numeric):<19} "
    if rule.goto:
        out += "[goto] "
    for m in rule.matches:
        text = m.listing()
        if not numeric:
            text = _names(m, text, rule.proto)
        if text:
            out += " " + text
    if target is not None:
        extra = target.listing()
        if not numeric and target.name == "LOG":
            extra = extra.replace("flags 0 level ", "level ")
            extra = extra.replace(f"level {target.level}", f"level {LOG_NAMES[target.level]}", 1)
        if extra:
            out += " " + extra
    return out


def _names(m, text: str, proto: int) -> str:
    """Without -n iptables names well-known ports (getservbyport)."""
    from netlab.net.netfilter.matches import Icmp, Multiport, PortMatch, _flag_names

    names = SERVICES.get("udp" if (getattr(m, "proto", proto)) == 17 else "tcp", {})

    def svc(p: int) -> str:
        return names.get(p, str(p))

    if isinstance(m, PortMatch):
        out = m.name
        for label, rng, inv in (("spt", m.sport, m.sport_inv), ("dpt", m.dport, m.dport_inv)):
            if rng is not None:
                lo, hi = rng
                out += f" {label}{'s' if lo != hi else ''}:{'!' if inv else ''}" + (
                    svc(lo) if lo == hi else f"{svc(lo)}:{svc(hi)}")
        if m.flags is not None:
            out += f" flags:{'!' if m.flags_inv else ''}{_flag_names(m.flags[0])}/{_flag_names(m.flags[1])}"
        return out
    if isinstance(m, Multiport):
        ports = ",".join(svc(lo) if lo == hi else f"{svc(lo)}:{svc(hi)}" for lo, hi in m.ports)
        return f"multiport {m.kind} {' !' if m.inv else ''}{ports}"
    if isinstance(m, Icmp):
        from netlab.net.netfilter.matches import ICMP_TYPES

        for name, tc in ICMP_TYPES.items():
            if tc == (m.type, m.code):
                return f"icmp {'!' if m.inv else ''}{name}"
    return text


def chain_title(t: Table, c: Chain, verbose: bool, exact: bool) -> str:
    if c.policy is not None:
        if verbose:
            return (f"Chain {c.name} (policy {c.policy} {num(c.pkts, exact, False)}packets, "
                    f"{num(c.bytes, exact, False)}bytes)")
        return f"Chain {c.name} (policy {c.policy})"
    return f"Chain {c.name} ({t.references(c.name)} references)"


def list_table(t: Table, chain: str | None = None, rulenum: int | None = None, *, numeric: bool = False,
               verbose: bool = False, exact: bool = False, line_numbers: bool = False) -> str:
    chains = [t.chains[chain]] if chain is not None else t.builtin() + t.user_chains()
    kw = dict(numeric=numeric, verbose=verbose, exact=exact, line_numbers=line_numbers)
    if rulenum is not None:
        c = chains[0]
        if 1 <= rulenum <= len(c.rules):
            return rule_line(c.rules[rulenum - 1], rulenum, **kw) + "\n"
        return ""
    blocks = []
    for c in chains:
        lines = [chain_title(t, c, verbose, exact), header(verbose, exact, line_numbers)]
        lines += [rule_line(r, i, **kw) for i, r in enumerate(c.rules, 1)]
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)


def list_rules(t: Table, chain: str | None = None, rulenum: int | None = None, *, verbose: bool = False) -> str:
    """`iptables -S`: -P/-N lines, then the rules as iptables-save prints them."""
    chains = [t.chains[chain]] if chain is not None else t.builtin() + t.user_chains()
    out = []
    if rulenum is not None:
        c = chains[0]
        if 1 <= rulenum <= len(c.rules):
            return _rule_spec(c, c.rules[rulenum - 1], verbose) + "\n"
        return ""
    for c in chains:
        if c.policy is not None:
            out.append(f"-P {c.name} {c.policy}" + (f" -c {c.pkts} {c.bytes}" if verbose else ""))
        else:
            out.append(f"-N {c.name}")
    for c in chains:
        out += [_rule_spec(c, r, verbose) for r in c.rules]
    return "".join(line + "\n" for line in out)


def _rule_spec(c: Chain, r: Rule, verbose: bool) -> str:
    spec = r.spec()
    if verbose:  # the counters go before the target: `... -c 0 0 -j ACCEPT`
        head, target = r.spec_split()
        spec = " ".join(x for x in (head, f"-c {r.pkts} {r.bytes}", target) if x)
    return f"-A {c.name} {spec}" if spec else f"-A {c.name}"
