"""Rules, chains and tables: the values iptables reads and writes.

A Rule is the kernel's `ipt_entry`: the IP header part (addresses, interfaces, protocol,
each invertible), a list of matches in the order they were given, a target, and counters.
Rules are built either by the iptables parser (parse.py) or directly by programs such as
kube-proxy, which is the fast path: no text is parsed.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from netlab.net.addr import AddrError, fmt_ip, mask, parse_ip
from netlab.net.packet import PROTO_NAMES, PROTO_NUMBERS

if TYPE_CHECKING:
    from netlab.net.netfilter.matches import Match
    from netlab.net.netfilter.targets import Target

# Tables in the order the nf_tables iptables-save prints them (NFT_TABLE_* enum order),
# their built-in chains in hook order, and the order tables run at each hook.
TABLE_ORDER = ("mangle", "raw", "filter", "nat")
BUILTIN_CHAINS = {
    "raw": ("PREROUTING", "OUTPUT"),
    "mangle": ("PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"),
    "filter": ("INPUT", "FORWARD", "OUTPUT"),
    "nat": ("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"),
}
VERDICTS = ("ACCEPT", "DROP", "RETURN")
POLICIES = ("ACCEPT", "DROP")
MAX_CHAIN_NAME = 28  # "must be under 29 chars"

PROTO_ANY = 0


class IptablesError(Exception):
    """A failure with the real tool's message and exit status."""

    def __init__(self, message: str, code: int = 1, *, usage: bool = False, versioned: bool | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.usage = usage  # followed by "Try `iptables -h' ..." as the tool prints
        # "iptables v1.8.9 (nf_tables): msg" (parameter problems, nf_tables errors) or "iptables: msg"
        self.versioned = code != 1 if versioned is None else versioned
        self.bare = False  # no program name at all ("Bad argument `X'")

    def render(self, prog: str = "iptables") -> str:
        head = "" if self.bare else (f"{prog} v1.8.9 (nf_tables): " if self.versioned else f"{prog}: ")
        out = head + self.message + "\n"
        if self.usage:
            out += f"Try `{prog} -h' or '{prog} --help' for more information.\n"
        return out


def parse_addr(text: str) -> tuple[int, int]:
    """`a.b.c.d[/n|/mask]` as iptables reads it: host bits are cleared."""
    ip_text, slash, plen_text = text.partition("/")
    try:
        ip = parse_ip(ip_text)
        if not slash:
            plen = 32
        elif plen_text.isdigit() and int(plen_text) <= 32:
            plen = int(plen_text)
        else:
            m = parse_ip(plen_text)
            plen = bin(m).count("1")
            if mask(plen) != m:
                raise AddrError(text)
    except AddrError:
        raise IptablesError(f"host/network `{ip_text}' not found", 2, usage=True) from None
    return ip & mask(plen), plen


def fmt_addr(ip: int, plen: int) -> str:
    return f"{fmt_ip(ip)}/{plen}"


def proto_number(text: str) -> int:
    low = text.lower()
    if low in ("all", "0"):
        return PROTO_ANY
    if low in PROTO_NUMBERS:
        return PROTO_NUMBERS[low]
    if low.isdigit() and int(low) < 256:
        return int(low)
    raise IptablesError(f'unknown protocol "{text}" specified', 2, usage=True)


def proto_name(num: int) -> str:
    return PROTO_NAMES.get(num, str(num))


class Rule:
    """One rule. Addresses are ints with a prefix length; `plen` -1 means "not given".

    Build it directly (`Rule(dst="10.96.0.1/32", proto="tcp", matches=[...], target=...)`) or
    through `parse_rule`. A rule is never changed once it is in a chain, apart from its
    counters; `iptables -R` puts a new Rule in its place.
    """

    __slots__ = ("src", "src_plen", "src_inv", "dst", "dst_plen", "dst_inv", "iif", "iif_inv", "oif", "oif_inv",
                 "proto", "proto_inv", "matches", "target", "goto", "pkts", "bytes", "_text")

    def __init__(self, *, src: str | tuple[int, int] | None = None, dst: str | tuple[int, int] | None = None,
                 src_inv: bool = False, dst_inv: bool = False, iif: str | None = None, iif_inv: bool = False,
                 oif: str | None = None, oif_inv: bool = False, proto: int | str = PROTO_ANY, proto_inv: bool = False,
                 matches: list[Match] | tuple = (), target: Target | None = None, goto: bool = False,
                 pkts: int = 0, bytes: int = 0) -> None:
        # Fast paths first: kube-proxy builds hundreds of thousands of rules per sync.
        if src is None:
            self.src, self.src_plen = 0, -1
        else:
            self.src, self.src_plen = _addr(src)
        if dst is None:
            self.dst, self.dst_plen = 0, -1
        elif type(dst) is tuple and dst[1] == 32:
            self.dst, self.dst_plen = dst
        else:
            self.dst, self.dst_plen = _addr(dst)
        self.src_inv = src_inv
        self.dst_inv = dst_inv
        self.iif = iif
        self.iif_inv = iif_inv
        self.oif = oif
        self.oif_inv = oif_inv
        self.proto = proto if type(proto) is int else proto_number(proto)
        self.proto_inv = proto_inv
        self.matches = matches if type(matches) is list else list(matches)
        self.target = target
        self.goto = goto
        self.pkts = pkts
        self.bytes = bytes
        self._text: str | None = None

    # -- the iptables-save form: one source of truth for -S, -D by spec, -C and the Trace ----------
    def spec(self) -> str:
        """The rule as iptables-save prints it after `-A CHAIN ` (canonical order)."""
        text = self._text
        if text is None:
            text = self._text = self._format()
        return text

    def spec_split(self) -> tuple[str, str]:
        """(matches part, target part) of spec(): `iptables -S -v` puts counters between."""
        full = self.spec()
        target = self.target
        if target is None:
            return full, ""
        tail = ("-g " if self.goto else "-j ") + target.save()
        return full[: len(full) - len(tail)].rstrip(), tail

    def _format(self) -> str:
        parts: list[str] = []
        if self.src_plen >= 0:
            parts.append(("! -s " if self.src_inv else "-s ") + fmt_addr(self.src, self.src_plen))
        if self.dst_plen >= 0:
            parts.append(("! -d " if self.dst_inv else "-d ") + fmt_addr(self.dst, self.dst_plen))
        if self.iif is not None:
            parts.append(("! -i " if self.iif_inv else "-i ") + self.iif)
        if self.oif is not None:
            parts.append(("! -o " if self.oif_inv else "-o ") + self.oif)
        if self.proto != PROTO_ANY or self.proto_inv:
            parts.append(("! -p " if self.proto_inv else "-p ") + proto_name(self.proto))
        for m in self.matches:
            parts.append(m.save())
        target = self.target
        if target is not None:
            parts.append(("-g " if self.goto else "-j ") + target.save())
        return " ".join(parts)

    def __repr__(self) -> str:
        return f"Rule({self.spec()!r})"

    # -- matching the IP header part (ip_packet_match) ----------------------------------------------
    def header_matches(self, pkt, cx) -> bool:
        if self.src_plen > 0 and ((pkt.src & mask(self.src_plen)) == self.src) == self.src_inv:
            return False
        if self.src_plen == 0 and self.src_inv:
            return False
        if self.dst_plen > 0 and ((pkt.dst & mask(self.dst_plen)) == self.dst) == self.dst_inv:
            return False
        if self.dst_plen == 0 and self.dst_inv:
            return False
        if self.iif is not None and iface_matches(self.iif, cx.indev) == self.iif_inv:
            return False
        if self.oif is not None and iface_matches(self.oif, cx.outdev) == self.oif_inv:
            return False
        if self.proto != PROTO_ANY and (pkt.proto == self.proto) == self.proto_inv:
            return False
        return True

    def matches_packet(self, pkt, cx) -> bool:
        if not self.header_matches(pkt, cx):
            return False
        for m in self.matches:
            if not m.match(pkt, cx):
                return False
        return True


def _addr(value) -> tuple[int, int]:
    if value is None:
        return 0, -1
    if isinstance(value, tuple):
        ip, plen = value
        return ip & mask(plen), plen
    return parse_addr(value)


def iface_matches(pattern: str, name: str | None) -> bool:
    """`eth+` matches every name starting with eth; no device never matches a name."""
    if name is None:
        return False
    if pattern.endswith("+"):
        return name.startswith(pattern[:-1])
    return name == pattern


class RuleSource:
    """A user chain's rules as the program that owns them describes them, built only when
    something reads them: a packet walks the chain, iptables-save or -L prints it, a hand
    edit changes it. kube-proxy writes ~100,000 chains per sync at 20,000 Services and
    almost none is ever read; building every Rule would cost seconds.

    A subclass sets `targets`: the chains its rules jump or go to, one entry per such rule,
    in rule order, and `sets`: the ipsets its rules match (usually none). Reference counts,
    validation and `ipset list` use those, so they never build the rules. `build()` makes
    the rules; `rules()` keeps them, so a chain rebuilt from the same source gets the same
    Rule objects and their counters, as a program that reuses its Rule objects would."""

    __slots__ = ("_built",)
    targets: tuple[str, ...] | list[str] = ()
    sets: tuple[str, ...] = ()

    def __init__(self) -> None:
        self._built: list[Rule] | None = None

    def build(self) -> list[Rule]:  # pragma: no cover - every source overrides it
        raise NotImplementedError

    def rules(self) -> list[Rule]:
        built = self._built
        if built is None:
            built = self._built = self.build()
        return built

    def __iter__(self):
        return iter(self.rules())


def rule_targets(rules: list[Rule]) -> list[str]:
    """The chains `rules` jump or go to, one entry per such rule."""
    out = []
    for r in rules:
        t = r.target
        if t is not None and t.chain is not None:
            out.append(t.chain)
    return out


class Chain:
    """A built-in chain (with a policy and policy counters) or a user chain.

    A user chain's rules may come from a RuleSource and be built on first read (`rules`).
    `origin` is the source the rules came from, for as long as nothing has changed them:
    the owning program compares it to know the chain is still as it wrote it."""

    __slots__ = ("name", "policy", "_rules", "origin", "pkts", "bytes", "compiled", "table")

    def __init__(self, name: str, policy: str | None = None, rules: list[Rule] | None = None, *,
                 source: RuleSource | None = None) -> None:
        self.name = name
        self.policy = policy  # None for a user chain
        self._rules: list[Rule] | None = rules if rules is not None else (None if source is not None else [])
        self.origin = source
        self.pkts = 0
        self.bytes = 0
        self.compiled = None  # the walk index (walk.py), rebuilt after any change
        self.table: Table | None = None

    @property
    def rules(self) -> list[Rule]:
        rules = self._rules
        if rules is None:
            src = self.origin
            rules = self._rules = list(src.rules())  # our own list: edits must not reach the source
            # References were counted from the declared targets; a source that lied would
            # leave them wrong for good, so say so at once.
            assert rule_targets(rules) == list(src.targets), f"{self.name}: targets differ from the rules"
        return rules

    @rules.setter
    def rules(self, rules: list[Rule]) -> None:
        self._rules = rules
        self.origin = None

    @property
    def built(self) -> bool:
        return self._rules is not None

    def targets(self) -> list[str] | tuple[str, ...]:
        """The chains the rules jump or go to, without building a source's rules."""
        rules = self._rules
        return self.origin.targets if rules is None else rule_targets(rules)

    def sets(self) -> list[str] | tuple[str, ...]:
        """The ipsets the rules match, without building a source's rules."""
        rules = self._rules
        if rules is None:
            return self.origin.sets
        return [m.set_name for r in rules for m in r.matches if getattr(m, "set_name", None) is not None]

    def counted_rules(self) -> list[Rule]:
        """The Rule objects that hold this chain's counters, without building a source's rules
        for `iptables -Z`: a source that never built its rules has no counters yet."""
        if self._rules is not None:
            return self._rules
        return self.origin._built or []

    def copy(self) -> Chain:
        """A copy with its own rule list (the same Rule objects); a source stays unbuilt."""
        c = Chain(self.name, self.policy, None if self._rules is None else list(self._rules), source=self.origin)
        c.pkts, c.bytes = self.pkts, self.bytes
        return c

    @property
    def builtin(self) -> bool:
        return self.policy is not None

    def changed(self) -> None:
        """The rules were edited: drop the walk index, and the origin (they are no longer
        what the source describes). Rules never built cannot have been edited."""
        self.compiled = None
        if self._rules is not None:
            self.origin = None

    def __repr__(self) -> str:  # never builds a source's rules
        return f"Chain({self.name!r}, {len(self._rules)} rules)" if self.built else f"Chain({self.name!r}, not built)"


class Table:
    """One table. `exists` is False until something writes to it: nf_tables creates the
    table (with all its base chains) on first use, and iptables-save prints only those."""

    __slots__ = ("name", "chains", "exists", "refs")

    def __init__(self, name: str) -> None:
        self.name = name
        self.exists = False
        self.refs: dict[str, int] | None = None  # chain name → rules jumping to it; None: recount
        self.chains: dict[str, Chain] = {}
        for c in BUILTIN_CHAINS[name]:
            self._attach(Chain(c, "ACCEPT"))

    def _attach(self, chain: Chain) -> Chain:
        chain.table = self
        self.chains[chain.name] = chain
        self.refs = None
        return chain

    def builtin(self) -> list[Chain]:
        return [self.chains[c] for c in BUILTIN_CHAINS[self.name]]

    def user_chains(self) -> list[Chain]:
        return sorted((c for c in self.chains.values() if c.policy is None), key=lambda c: c.name)

    def ref_counts(self) -> dict[str, int]:
        """Chain name → how many rules jump or go to it. Kept up to date by the programs'
        replace_chains and splice; anything else that changes the table sets `refs` to None,
        and the counts are taken again here, once, when next asked."""
        refs = self.refs
        if refs is None:
            refs = {}
            get = refs.get
            for chain in self.chains.values():
                for name in chain.targets():  # a chain not built yet declares its targets
                    refs[name] = get(name, 0) + 1
            self.refs = refs
        return refs

    def references(self, name: str) -> int:
        """How many rules jump or go to `name` (the `(N references)` of iptables -L): one
        lookup, so listing every chain costs one pass over the table, not one per chain."""
        return self.ref_counts().get(name, 0)
