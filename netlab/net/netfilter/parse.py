"""The iptables command line: one getopt-style walk over the arguments, as iptables does it.

Commands and rule options may come in any order. An option that no core flag claims goes to
the loaded extensions (matches in the order they were loaded, then the target); if none
takes it and `-p tcp|udp|icmp` was given, that protocol's match is loaded implicitly at that
point, which is why `-p tcp --dport 53` saves as `-p tcp -m tcp --dport 53`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from netlab.net.netfilter import matches as M
from netlab.net.netfilter import targets as T
from netlab.net.netfilter.model import MAX_CHAIN_NAME, IptablesError, Rule, parse_addr, proto_number
from netlab.net.packet import IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP

COMMANDS = {
    "-A": "A", "--append": "A", "-I": "I", "--insert": "I", "-D": "D", "--delete": "D", "-R": "R", "--replace": "R",
    "-L": "L", "--list": "L", "-S": "S", "--list-rules": "S", "-F": "F", "--flush": "F", "-Z": "Z", "--zero": "Z",
    "-N": "N", "--new-chain": "N", "--new": "N", "-X": "X", "--delete-chain": "X", "-P": "P", "--policy": "P",
    "-E": "E", "--rename-chain": "E", "-C": "C", "--check": "C",
}
RULE_COMMANDS = {"A", "I", "D", "R", "C"}


def _err(msg: str) -> IptablesError:
    return IptablesError(msg, 2, usage=True)


@dataclass
class Parsed:
    op: str | None = None
    chain: str | None = None
    num: int | None = None
    arg: str | None = None  # -P policy, -E new name
    table: str = "filter"
    numeric: bool = False
    verbose: bool = False
    exact: bool = False
    line_numbers: bool = False
    zero: bool = False  # -L ... -Z
    rule: Rule | None = None
    has_rule_opts: bool = False
    counters: tuple[int, int] | None = None
    used: list[str] = field(default_factory=list)


def parse_port(text: str) -> int:
    if text.isdigit() and int(text) <= 65535:
        return int(text)
    services = {"http": 80, "https": 443, "domain": 53, "ssh": 22, "ntp": 123}
    if text in services:
        return services[text]
    raise _err(f"invalid port/service `{text}' specified")


def parse_port_range(text: str) -> tuple[int, int]:
    lo, colon, hi = text.partition(":")
    a = parse_port(lo) if lo else 0
    b = parse_port(hi) if colon and hi else (65535 if colon else a)
    return (a, b) if a <= b else (b, a)


def parse_int(text: str, what: str, opt: str) -> int:
    try:
        return int(text, 0)
    except ValueError:
        raise IptablesError(f'{what}: trailing garbage after value for option "{opt}".\n', 2, usage=True) from None


def parse_mark(text: str, what: str, opt: str) -> tuple[int, int]:
    v, slash, m = text.partition("/")
    return parse_int(v, what, opt), (parse_int(m, what, opt) if slash else 0xFFFFFFFF)


# -- match builders: option name -> number of values ----------------------------------------------
class Builder:
    name = ""
    options: dict[str, int] = {}

    def __init__(self) -> None:
        self.opts: dict[str, tuple[bool, list[str]]] = {}

    def take(self, opt: str, inv: bool, vals: list[str]) -> None:
        self.opts[opt] = (inv, vals)

    def val(self, opt: str) -> str:
        return self.opts[opt][1][0]

    def inv(self, opt: str) -> bool:
        return self.opts[opt][0]


class PortBuilder(Builder):
    options = {"--sport": 1, "--source-port": 1, "--dport": 1, "--destination-port": 1}
    cls = M.Udp

    def build(self):
        kw = {}
        for opt, key in (("--sport", "sport"), ("--source-port", "sport"), ("--dport", "dport"),
                         ("--destination-port", "dport")):
            if opt in self.opts:
                kw[key] = parse_port_range(self.val(opt))
                kw[key + "_inv"] = self.inv(opt)
        if "--tcp-flags" in self.opts:
            inv, (m, c) = self.opts["--tcp-flags"]
            kw["flags"] = (_flags(m), _flags(c))
            kw["flags_inv"] = inv
        if "--syn" in self.opts:
            kw["flags"] = (0x17, 0x02)
            kw["flags_inv"] = self.inv("--syn")
        return self.cls(**kw)


def _flags(text: str) -> int:
    bits = 0
    for word in text.upper().split(","):
        if word not in M.TCP_FLAGS:
            raise _err(f"Unknown TCP flag `{word}'")
        bits |= M.TCP_FLAGS[word]
    return bits


class TcpBuilder(PortBuilder):
    name = "tcp"
    options = {**PortBuilder.options, "--tcp-flags": 2, "--syn": 0}
    cls = M.Tcp


class UdpBuilder(PortBuilder):
    name = "udp"


class IcmpBuilder(Builder):
    name = "icmp"
    options = {"--icmp-type": 1}

    def build(self):
        if "--icmp-type" not in self.opts:
            return M.Icmp()
        text = self.val("--icmp-type")
        if text in M.ICMP_TYPES:
            t, c = M.ICMP_TYPES[text]
        else:
            t_text, slash, c_text = text.partition("/")
            if not t_text.isdigit() or (slash and not c_text.isdigit()):
                raise _err(f"Invalid ICMP type `{text}'")
            t, c = int(t_text), (int(c_text) if slash else None)
        return M.Icmp(t, c, self.inv("--icmp-type"))


class MultiportBuilder(Builder):
    name = "multiport"
    options = {"--sports": 1, "--source-ports": 1, "--dports": 1, "--destination-ports": 1, "--ports": 1}

    def build(self):
        for opt, kind in (("--sports", "sports"), ("--source-ports", "sports"), ("--dports", "dports"),
                          ("--destination-ports", "dports"), ("--ports", "ports")):
            if opt in self.opts:
                ports = [parse_port_range(p) for p in self.val(opt).split(",")]
                return M.Multiport(kind, ports, self.inv(opt))
        raise _err("multiport needs `--source-ports' or `--destination-ports'")


class CommentBuilder(Builder):
    name = "comment"
    options = {"--comment": 1}

    def build(self):
        if "--comment" not in self.opts:
            raise _err('comment: option "--comment" must be specified\n')
        return M.Comment(self.val("--comment"))


class MarkBuilder(Builder):
    name = "mark"
    options = {"--mark": 1}

    def build(self):
        if "--mark" not in self.opts:
            raise _err('mark: option "--mark" must be specified\n')
        v, m = parse_mark(self.val("--mark"), "mark", "--mark")
        return M.Mark(v, m, self.inv("--mark"))


class ConntrackBuilder(Builder):
    name = "conntrack"
    options = {"--ctstate": 1, "--ctstatus": 1, "--ctorigdst": 1}

    def build(self):
        kw = {}
        if "--ctstate" in self.opts:
            states = set()
            for s in self.val("--ctstate").split(","):
                if s.upper() not in M.CT_STATES:
                    raise _err(f'Bad ctstate "{s}"')
                states.add(s.upper())
            kw["states"], kw["states_inv"] = states, self.inv("--ctstate")
        if "--ctstatus" in self.opts:
            status = set()
            for s in self.val("--ctstatus").split(","):
                if s.upper() not in M.CT_STATUS:
                    raise _err(f'Bad ctstatus "{s}"')
                status.add(s.upper())
            kw["status"], kw["status_inv"] = status, self.inv("--ctstatus")
        if "--ctorigdst" in self.opts:
            kw["origdst"], kw["origdst_inv"] = parse_addr(self.val("--ctorigdst")), self.inv("--ctorigdst")
        return M.Conntrack(**kw)


class StateBuilder(ConntrackBuilder):
    """`-m state --state X` is the old spelling of `-m conntrack --ctstate X`."""

    name = "state"
    options = {"--state": 1}

    def build(self):
        self.opts = {"--ctstate": self.opts["--state"]} if "--state" in self.opts else {}
        return super().build()


class AddrTypeBuilder(Builder):
    name = "addrtype"
    options = {"--src-type": 1, "--dst-type": 1, "--limit-iface-in": 0, "--limit-iface-out": 0}

    def build(self):
        kw = {}
        for opt, key in (("--src-type", "src"), ("--dst-type", "dst")):
            if opt in self.opts:
                given = self.val(opt).upper().split(",")
                for t in given:
                    if t not in M.ADDR_TYPES:
                        raise _err(f"addrtype: invalid address type `{t}'")
                types = ",".join(t for t in M.ADDR_TYPES if t in given)
                kw[key + "_type"], kw[key + "_inv"] = types, self.inv(opt)
        if "--limit-iface-in" in self.opts and "--limit-iface-out" in self.opts:
            raise _err("addrtype: you can't specify both --limit-iface-in and --limit-iface-out")
        return M.AddrType(**kw, limit_in="--limit-iface-in" in self.opts, limit_out="--limit-iface-out" in self.opts)


class StatisticBuilder(Builder):
    name = "statistic"
    options = {"--mode": 1, "--probability": 1, "--every": 1, "--packet": 1}

    def build(self):
        mode = self.val("--mode") if "--mode" in self.opts else None
        if mode == "random":
            try:
                p = float(self.val("--probability"))
            except (KeyError, ValueError):
                p = -1.0
            if not 0.0 <= p <= 1.0:
                raise _err('statistic: bad value for option "--probability", or out of range (0-1).\n')
            return M.Statistic(probability=p, inv=self.inv("--probability"))
        if mode == "nth":
            every = int(self.val("--every")) if "--every" in self.opts else 0
            packet = int(self.val("--packet")) if "--packet" in self.opts else 0
            if every < 1 or packet >= every:
                raise _err("the --packet p must be 0 <= p <= n-1")
            return M.Statistic(every=every, packet=packet, inv=self.inv("--every"))
        raise _err("no mode specified")


class SetBuilder(Builder):
    name = "set"
    options = {"--match-set": 2, "--set": 2, "--return-nomatch": 0}

    def build(self):
        key = "--match-set" if "--match-set" in self.opts else "--set"
        if key not in self.opts:
            raise _err("You must specify `--match-set' with proper arguments")
        inv, (name, dirs) = self.opts[key]
        return M.SetMatch(name, dirs, inv)


class RecentBuilder(Builder):
    name = "recent"
    options = {"--set": 0, "--rcheck": 0, "--update": 0, "--remove": 0, "--seconds": 1, "--reap": 0,
               "--hitcount": 1, "--rttl": 0, "--name": 1, "--mask": 1, "--rsource": 0, "--rdest": 0}

    def build(self):
        modes = [m for m in ("set", "rcheck", "update", "remove") if f"--{m}" in self.opts]
        if len(modes) != 1:
            raise _err("recent: you must specify one of `--set', `--rcheck' `--update' or `--remove'")
        mode = modes[0]
        from netlab.net.addr import AddrError, parse_ip

        try:
            mask_ip = parse_ip(self.val("--mask")) if "--mask" in self.opts else 0xFFFFFFFF
        except AddrError:
            raise _err(f"recent: bad mask `{self.val('--mask')}'") from None
        return M.Recent(mode, name=self.val("--name") if "--name" in self.opts else "DEFAULT",
                        seconds=int(self.val("--seconds")) if "--seconds" in self.opts else 0,
                        reap="--reap" in self.opts, hitcount=int(self.val("--hitcount")) if "--hitcount" in self.opts else 0,
                        rttl="--rttl" in self.opts, mask_ip=mask_ip, rsource="--rdest" not in self.opts,
                        inv=self.inv(f"--{mode}"))


class PhysdevBuilder(Builder):
    name = "physdev"
    options = {"--physdev-in": 1, "--physdev-out": 1, "--physdev-is-in": 0, "--physdev-is-out": 0,
               "--physdev-is-bridged": 0}

    def build(self):
        kw = {}
        for opt, key in (("--physdev-in", "physin"), ("--physdev-out", "physout")):
            if opt in self.opts:
                kw[key], kw[key + "_inv"] = self.val(opt), self.inv(opt)
        for opt, key in (("--physdev-is-in", "is_in"), ("--physdev-is-out", "is_out"),
                         ("--physdev-is-bridged", "is_bridged")):
            if opt in self.opts:
                kw[key], kw[key + "_inv"] = True, self.inv(opt)
        return M.Physdev(**kw)


MATCHES = {b.name: b for b in (TcpBuilder, UdpBuilder, IcmpBuilder, MultiportBuilder, CommentBuilder, MarkBuilder,
                               ConntrackBuilder, StateBuilder, AddrTypeBuilder, StatisticBuilder, SetBuilder,
                               RecentBuilder, PhysdevBuilder)}
IMPLICIT = {IPPROTO_TCP: "tcp", IPPROTO_UDP: "udp", IPPROTO_ICMP: "icmp"}


# -- target builders -------------------------------------------------------------------------------
class RejectBuilder(Builder):
    name = "REJECT"
    options = {"--reject-with": 1}

    def build(self):
        w = self.val("--reject-with") if "--reject-with" in self.opts else "icmp-port-unreachable"
        w = T.REJECT_ALIASES.get(w, w)
        if w not in T.REJECT_TYPES:
            raise _err(f'unknown reject type "{w}"')
        return T.Reject(w)


class DnatBuilder(Builder):
    name = "DNAT"
    options = {"--to-destination": 1, "--random": 0, "--persistent": 0}

    def build(self):
        if "--to-destination" not in self.opts:
            raise _err('DNAT: option "--to-destination" must be specified\n')
        return T.Dnat(T.parse_nat_range(self.val("--to-destination")), random="--random" in self.opts,
                      persistent="--persistent" in self.opts)


class SnatBuilder(Builder):
    name = "SNAT"
    options = {"--to-source": 1, "--random": 0, "--random-fully": 0, "--persistent": 0}

    def build(self):
        if "--to-source" not in self.opts:
            raise _err('SNAT: option "--to-source" must be specified\n')
        return T.Snat(T.parse_nat_range(self.val("--to-source")), random="--random" in self.opts,
                      random_fully="--random-fully" in self.opts, persistent="--persistent" in self.opts)


class MasqueradeBuilder(Builder):
    name = "MASQUERADE"
    options = {"--to-ports": 1, "--random": 0, "--random-fully": 0}

    def build(self):
        ports = None
        if "--to-ports" in self.opts:
            lo, _, hi = self.val("--to-ports").partition("-")
            ports = (parse_port(lo), parse_port(hi) if hi else parse_port(lo))
        return T.Masquerade(ports=ports, random="--random" in self.opts, random_fully="--random-fully" in self.opts)


class MarkTargetBuilder(Builder):
    name = "MARK"
    options = {"--set-xmark": 1, "--set-mark": 1, "--or-mark": 1, "--xor-mark": 1, "--and-mark": 1}

    def build(self):
        for opt in self.options:
            if opt in self.opts:
                text = self.val(opt)
                if opt in ("--set-xmark", "--set-mark"):
                    v, m = parse_mark(text, "MARK", opt)
                    return T.MarkTarget(v, m) if opt == "--set-xmark" or m != 0xFFFFFFFF else T.MarkTarget(v)
                v = parse_int(text, "MARK", opt)
                return {"--or-mark": T.MarkTarget.or_mark, "--xor-mark": T.MarkTarget.xor_mark,
                        "--and-mark": T.MarkTarget.and_mark}[opt](v)
        raise _err("MARK target: Parameter --set/and/or/xor-mark is required")


class ConnMarkBuilder(Builder):
    name = "CONNMARK"
    options = {"--set-xmark": 1, "--set-mark": 1, "--save-mark": 0, "--restore-mark": 0, "--nfmask": 1,
               "--ctmask": 1, "--mask": 1}

    def build(self):
        nfmask = ctmask = 0xFFFFFFFF
        if "--mask" in self.opts:
            nfmask = ctmask = parse_int(self.val("--mask"), "CONNMARK", "--mask")
        if "--nfmask" in self.opts:
            nfmask = parse_int(self.val("--nfmask"), "CONNMARK", "--nfmask")
        if "--ctmask" in self.opts:
            ctmask = parse_int(self.val("--ctmask"), "CONNMARK", "--ctmask")
        for opt in ("--set-xmark", "--set-mark"):
            if opt in self.opts:
                v, m = parse_mark(self.val(opt), "CONNMARK", opt)
                return T.ConnMark("set", v, m)
        if "--save-mark" in self.opts:
            return T.ConnMark("save", nfmask=nfmask, ctmask=ctmask)
        if "--restore-mark" in self.opts:
            return T.ConnMark("restore", nfmask=nfmask, ctmask=ctmask)
        raise _err("CONNMARK target: No operation specified")


class LogBuilder(Builder):
    name = "LOG"
    options = {"--log-prefix": 1, "--log-level": 1}

    def build(self):
        level = 4
        if "--log-level" in self.opts:
            text = self.val("--log-level")
            level = int(text) if text.isdigit() else T.LOG_LEVELS.get(text.lower(), -1)
            if not 0 <= level <= 7:
                raise _err(f"log-level `{text}' unknown")
        return T.Log(self.val("--log-prefix") if "--log-prefix" in self.opts else "", level)


class NoTrackBuilder(Builder):
    name = "NOTRACK"

    def build(self):
        return T.NoTrack()


class CtBuilder(Builder):
    name = "CT"
    options = {"--notrack": 0}

    def build(self):
        if "--notrack" not in self.opts:
            raise _err("CT: only --notrack is supported by netlab")
        return T.NoTrack(ct_form=True)


TARGETS = {b.name: b for b in (RejectBuilder, DnatBuilder, SnatBuilder, MasqueradeBuilder, MarkTargetBuilder,
                               ConnMarkBuilder, LogBuilder, NoTrackBuilder, CtBuilder)}
STANDARD = {"ACCEPT": T.ACCEPT_T, "DROP": T.DROP_T, "RETURN": T.RETURN_T}

CORE_WITH_ARG = {"-s", "--source", "--src", "-d", "--destination", "--dst", "-i", "--in-interface", "-o",
                 "--out-interface", "-p", "--protocol", "-j", "--jump", "-g", "--goto", "-m", "--match", "-t", "--table"}
FLAGS = {"-n": "numeric", "--numeric": "numeric", "-v": "verbose", "--verbose": "verbose", "-x": "exact",
         "--exact": "exact", "--line-numbers": "line_numbers"}


def parse_args(argv: list[str], *, table: str | None = None) -> Parsed:
    """Parse one iptables invocation (or one iptables-restore rule line, with `table` fixed)."""
    p = Parsed(table=table or "filter")
    kw: dict = {}
    mbuilders: list[Builder] = []
    tbuilder: Builder | None = None
    target_name: str | None = None
    inv = False
    i = 0
    n = len(argv)

    def need(opt: str) -> str:
        nonlocal i
        if i >= n:
            raise _err(f'option "{opt}" requires an argument')
        v = argv[i]
        i += 1
        return v

    def optional() -> str | None:
        nonlocal i
        if i < n and not argv[i].startswith("-") and argv[i] != "!":
            i += 1
            return argv[i - 1]
        return None

    while i < n:
        tok = argv[i]
        i += 1
        if tok == "!":
            if inv:
                raise _err("multiple `!' flags not allowed")
            inv = True
            continue
        opt, eq, inline = tok.partition("=") if tok.startswith("--") else (tok, "", "")
        if eq:
            argv = argv[:i] + [inline] + argv[i:]
            n += 1
        if opt in COMMANDS:
            if p.op is not None:
                raise _err(f"Cannot use -{COMMANDS[opt]} with -{p.op}\n")
            p.op = COMMANDS[opt]
            if p.op in ("A", "C", "N", "E", "P", "D", "I", "R"):
                p.chain = need(opt)
            else:
                p.chain = optional()
            if p.op in ("D", "I", "L", "S", "Z") and p.chain is not None:
                num = optional()
                if num is not None:
                    if not num.isdigit():
                        raise _err(f"Invalid rule number `{num}'")
                    p.num = int(num)
            elif p.op == "R":
                num = need(opt)
                if not num.isdigit():
                    raise _err(f"Invalid rule number `{num}'")
                p.num = int(num)
            if p.op in ("P", "E"):
                p.arg = need(opt)
            continue
        if opt in FLAGS:
            setattr(p, FLAGS[opt], True)
            p.used.append(opt)
            continue
        if opt in ("-w", "--wait"):
            optional()
            continue
        if opt in ("-c", "--set-counters"):
            a, b = need(opt), need(opt)
            p.counters = (int(a), int(b))
            continue
        if opt in CORE_WITH_ARG:
            val = need(opt)
            if opt in ("-t", "--table"):
                if table is not None:
                    raise _err("The -t option (seen in line) cannot be used in iptables-restore")
                p.table = val
                continue
            p.has_rule_opts = True
            if opt in ("-s", "--source", "--src"):
                kw["src"], kw["src_inv"] = parse_addr(val), inv
            elif opt in ("-d", "--destination", "--dst"):
                kw["dst"], kw["dst_inv"] = parse_addr(val), inv
            elif opt in ("-i", "--in-interface"):
                kw["iif"], kw["iif_inv"] = val, inv
            elif opt in ("-o", "--out-interface"):
                kw["oif"], kw["oif_inv"] = val, inv
            elif opt in ("-p", "--protocol"):
                kw["proto"], kw["proto_inv"] = proto_number(val), inv
            elif opt in ("-m", "--match"):
                b = MATCHES.get(val)
                if b is None:
                    raise _err(f"Couldn't load match `{val}':No such file or directory\n")
                mbuilders.append(b())
            else:
                if target_name is not None:
                    raise _err("multiple -j flags not allowed")
                target_name = val
                kw["goto"] = opt in ("-g", "--goto")
                if val in TARGETS and not kw["goto"]:
                    tbuilder = TARGETS[val]()
            inv = False
            continue
        if opt.startswith("-") and opt != "-":
            if _extension_option(opt, inv, mbuilders, tbuilder, need, kw):
                inv = False
                p.has_rule_opts = True
                continue
            raise _err(f'unknown option "{opt}"')
        err = IptablesError(f"Bad argument `{tok}'", 2, usage=True)
        err.bare = True
        raise err
    if inv:
        raise _err("unexpected '!' at end of arguments")
    if p.has_rule_opts or p.op in RULE_COMMANDS:
        ms = [b.build() for b in mbuilders]
        target = None
        if target_name is not None:
            if tbuilder is not None:
                target = tbuilder.build()
            elif target_name in STANDARD and not kw.get("goto"):
                target = STANDARD[target_name]
            else:
                if len(target_name) > MAX_CHAIN_NAME:
                    raise _err(f"Invalid target name `{target_name}' (28 chars max)")
                target = T.Jump(target_name)
        p.rule = Rule(matches=ms, target=target, **kw)
        _check_ports(p.rule)
    if p.op in RULE_COMMANDS and p.rule is not None and p.chain is not None:
        if p.rule.oif is not None and p.chain in ("PREROUTING", "INPUT"):
            raise _err(f"Can't use -o with {p.chain}\n")
        if p.rule.iif is not None and p.chain in ("POSTROUTING", "OUTPUT"):
            raise _err(f"Can't use -i with {p.chain}\n")
    return p


def _check_ports(rule: Rule) -> None:
    """NAT to a port needs a protocol with ports (the nat targets' check_entry)."""
    t = rule.target
    port = getattr(getattr(t, "to", None), "port_lo", None)
    if port is None and isinstance(t, T.Masquerade):
        port = t.port_lo
    if port is not None and (rule.proto not in (6, 17, 33, 132) or rule.proto_inv):
        raise _err("Need TCP, UDP, SCTP or DCCP with port specification")


def _extension_option(opt: str, inv: bool, mbuilders: list[Builder], tbuilder: Builder | None, need, kw) -> bool:
    """Give `opt` to the first loaded extension that knows it; else load the protocol's match."""
    for b in [*mbuilders, *([tbuilder] if tbuilder is not None else [])]:
        if opt in b.options:
            b.take(opt, inv, [need(opt) for _ in range(b.options[opt])])
            return True
    proto = kw.get("proto")
    implicit = IMPLICIT.get(proto) if isinstance(proto, int) else None
    if implicit is not None and not any(b.name == implicit for b in mbuilders):
        b = MATCHES[implicit]()
        if opt in b.options:
            mbuilders.append(b)
            b.take(opt, inv, [need(opt) for _ in range(b.options[opt])])
            return True
    return False


def check_chain_name(name: str) -> None:
    if len(name) > MAX_CHAIN_NAME:
        raise _err(f"chain name `{name}' too long (must be under {MAX_CHAIN_NAME + 1} chars)")
    if name.startswith("-") or name.startswith("!"):
        raise _err(f"chain name not allowed to start with `{name[0]}'")
