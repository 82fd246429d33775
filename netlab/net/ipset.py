"""ipset: the set types kube-proxy's ipvs mode uses, with the semantics and the words of
ipset v7.17 on this kernel (checked against the real tool in a namespace).

Sets live per namespace in `ns.ipsets` (name → IpSet, in creation order). iptables'
`-m set --match-set NAME dst,dst` calls `IpSet.test(pkt, ("dst", "dst"))`: one direction
per dimension of the set type.

What is approximate: the kernel lists a hash set's members in hash-bucket order (jhash
with the set's initval); netlab lists them in the order they were added. "Size in memory"
follows the kernel's accounting (regions, 2-slot buckets, comment strings) assuming no
two members share a bucket, which holds for most small sets.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from netlab.net.addr import AddrError, fmt_ip, network, parse_ip
from netlab.net.packet import IPPROTO_TCP, IPPROTO_UDP, TCP, UDP, IPv4

if TYPE_CHECKING:
    from netlab.net.netns import NetNS

VERSION = "v7.17"
PROTO_NAMES = {IPPROTO_TCP: "tcp", IPPROTO_UDP: "udp", 132: "sctp", 136: "udplite"}
PROTO_NUMBERS = {v: k for k, v in PROTO_NAMES.items()}


@dataclass(frozen=True)
class SetType:
    name: str
    dims: tuple[str, ...]  # "ip", "port" (proto, port), "net" (ip, plen)
    revision: int
    base: int  # bytes before the region locks (hash) or fixed part (bitmap)
    dsize: int  # element size in a bucket


TYPES = {t.name: t for t in (
    SetType("hash:ip", ("ip",), 6, 192, 4),
    SetType("hash:ip,port", ("ip", "port"), 7, 192, 8),
    SetType("hash:ip,port,ip", ("ip", "port", "ip"), 6, 184, 12),
    SetType("hash:ip,port,net", ("ip", "port", "net"), 8, 440, 12),
    SetType("hash:net", ("net",), 7, 432, 8),
    SetType("bitmap:port", ("port",), 3, 72, 0),
)}


class IpsetError(Exception):
    """A refused operation. `message` is what ipset prints after "ipset v7.17: "; `code`
    its exit status (1 for kernel refusals and syntax errors, 2 for usage errors)."""

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.message = message
        self.code = code


def _port(text: str, proto_default: str = "tcp") -> tuple[int, int, int]:
    """`[proto:]port[-port]` → (proto, first, last)."""
    proto_name, colon, rest = text.partition(":")
    if not colon:
        proto_name, rest = proto_default, text
    proto = PROTO_NUMBERS.get(proto_name)
    if proto is None:
        raise IpsetError(f"Syntax error: cannot parse '{text}' as a {proto_default} port")
    lo_text, dash, hi_text = rest.partition("-")
    lo, hi = _num(lo_text, proto_name), _num(hi_text, proto_name) if dash else None
    return proto, lo, lo if hi is None else hi


def _num(text: str, proto_name: str) -> int:
    if not text.isdigit():
        raise IpsetError(f"Syntax error: cannot parse '{text}' as a {proto_name} port")
    n = int(text)
    if n > 65535:
        raise IpsetError(f"Syntax error: '{text}' is out of range 0-65535\nSyntax error: '{proto_name}' is invalid "
                         f"as number\ncannot parse '{text}' as a {proto_name} port")
    return n


def _ip(text: str) -> int:
    try:
        return parse_ip(text)
    except AddrError:
        raise IpsetError(f"Syntax error: cannot parse {text}: resolving to IPv4 address failed") from None


def _ips(text: str) -> list[int]:
    """An address, a range a-b, or a CIDR block (expanded, as hash:ip does)."""
    if "/" in text:
        ip_text, _, plen_text = text.partition("/")
        ip = _ip(ip_text)
        if not plen_text.isdigit() or not 1 <= int(plen_text) <= 32:
            raise IpsetError("The value of the CIDR parameter of the IP address is invalid")
        plen = int(plen_text)
        start = network(ip, plen)
        return list(range(start, start + (1 << (32 - plen))))
    if "-" in text:
        a, _, b = text.partition("-")
        lo, hi = _ip(a), _ip(b)
        return list(range(lo, hi + 1))
    return [_ip(text)]


def _net(text: str) -> tuple[int, int]:
    ip_text, slash, plen_text = text.partition("/")
    ip = _ip(ip_text)
    plen = 32
    if slash:
        if not plen_text.isdigit() or not 1 <= int(plen_text) <= 32:
            raise IpsetError("The value of the CIDR parameter of the IP address is invalid")
        plen = int(plen_text)
    return network(ip, plen), plen


def _fmt_port(proto: int, port: int) -> str:
    return f"{PROTO_NAMES[proto]}:{port}"


def _fmt_net(net: tuple[int, int]) -> str:
    ip, plen = net
    return fmt_ip(ip) if plen == 32 else f"{fmt_ip(ip)}/{plen}"


@dataclass(eq=False)
class IpSet:
    name: str
    type: SetType
    hashsize: int = 1024
    maxelem: int = 65536
    comment: bool = False
    range: tuple[int, int] = (0, 65535)  # bitmap:port
    initval: int = 0
    members: dict = field(default_factory=dict)  # element → comment (or None), in insertion order
    references: int = 0
    _plens: dict = field(default_factory=dict)  # net dimension: prefix length → count of members

    @property
    def is_bitmap(self) -> bool:
        return self.type.name.startswith("bitmap:")

    # -- elements --------------------------------------------------------------
    def parse(self, text: str) -> list[tuple]:
        """The elements an entry text stands for (ranges and CIDR blocks expand)."""
        dims = self.type.dims
        if self.is_bitmap:
            proto, lo, hi = _port(text)
            return [(p,) for p in range(lo, hi + 1)]
        parts = text.split(",")
        if len(parts) < len(dims):
            what = {1: "Second", 2: "Third"}[len(parts)]
            raise IpsetError(f"Syntax error: {what} element is missing from {text}.")
        if len(parts) > len(dims):
            raise IpsetError(f"Syntax error: Elem separator in {text}, but settype {self.type.name} supports none.")
        options: list[list] = []
        for kind, part in zip(dims, parts):
            if kind == "ip":
                options.append(_ips(part))
            elif kind == "port":
                proto, lo, hi = _port(part)
                options.append([(proto, p) for p in range(lo, hi + 1)])
            else:
                options.append([_net(part)])
        out = [()]
        for opts in options:
            out = [e + (o,) for e in out for o in opts]
        return out

    def format(self, elem: tuple) -> str:
        if self.is_bitmap:
            return str(elem[0])
        parts = []
        for kind, v in zip(self.type.dims, elem):
            parts.append(fmt_ip(v) if kind == "ip" else _fmt_port(*v) if kind == "port" else _fmt_net(v))
        return ",".join(parts)

    def add(self, text: str, *, comment: str | None = None, exist: bool = False) -> None:
        if comment is not None and not self.comment:
            raise IpsetError("Comment cannot be used: set was created without comment support")
        for elem in self.parse(text):
            if self.is_bitmap and not self.range[0] <= elem[0] <= self.range[1]:
                raise IpsetError("Element is out of the range of the set")
            if elem in self.members:
                if exist:
                    self.members[elem] = comment if comment is not None else self.members[elem]
                    continue
                raise IpsetError("Element cannot be added to the set: it's already added")
            if len(self.members) >= self.maxelem and not self.is_bitmap:
                raise IpsetError("Hash is full, cannot add more elements")
            self.members[elem] = comment
            if "net" in self.type.dims:
                plen = elem[self.type.dims.index("net")][1]
                self._plens[plen] = self._plens.get(plen, 0) + 1

    def delete(self, text: str, *, exist: bool = False) -> None:
        for elem in self.parse(text):
            if elem not in self.members:
                if exist:
                    continue
                raise IpsetError("Element cannot be deleted from the set: it's not added")
            del self.members[elem]
            if "net" in self.type.dims:
                plen = elem[self.type.dims.index("net")][1]
                self._plens[plen] -= 1
                if not self._plens[plen]:
                    del self._plens[plen]

    def flush(self) -> None:
        self.members.clear()
        self._plens.clear()

    def contains(self, elem: tuple) -> bool:
        """Kernel lookup: a net dimension matches the most specific member net first."""
        if "net" not in self.type.dims:
            return elem in self.members
        i = self.type.dims.index("net")
        ip, plen = elem[i]
        for p in sorted(self._plens, reverse=True):
            if p > plen:
                continue
            probe = elem[:i] + ((network(ip, p), p),) + elem[i + 1:]
            if probe in self.members:
                return True
        return False

    def test_text(self, text: str) -> bool:
        """`ipset test`: a net given with its prefix length must be a member as such; a
        plain address is looked up as a packet's address would be."""
        exact = "net" in self.type.dims and "/" in text.split(",")[self.type.dims.index("net")] \
            if len(text.split(",")) == len(self.type.dims) else False
        elems = self.parse(text)
        return all((e in self.members) if exact else self.contains(e) for e in elems)

    def test(self, pkt: IPv4, dirs) -> bool:
        """The set match: build this packet's element from `dirs` ("src"/"dst" per
        dimension) and look it up."""
        l4 = pkt.l4
        elem = []
        for kind, d in zip(self.type.dims, dirs):
            src = d == "src"
            if kind == "ip":
                elem.append(pkt.src if src else pkt.dst)
            elif kind == "net":
                elem.append((pkt.src if src else pkt.dst, 32))
            else:
                if not isinstance(l4, (TCP, UDP)):
                    return False
                port = l4.sport if src else l4.dport
                elem.append(port if self.is_bitmap else (pkt.proto, port))
        if len(elem) < len(self.type.dims):
            return False
        return self.contains(tuple(elem))

    # -- text ------------------------------------------------------------------
    def header(self) -> str:
        if self.is_bitmap:
            return f"range {self.range[0]}-{self.range[1]}" + (" comment" if self.comment else "")
        return (f"family inet hashsize {self.hashsize} maxelem {self.maxelem}" + (" comment" if self.comment else "") +
                f" bucketsize 12 initval 0x{self.initval:08x}")

    def memsize(self) -> int:
        comments = sum(16 + len(c) + 1 for c in self.members.values() if c is not None)
        if self.is_bitmap:
            n = self.range[1] - self.range[0] + 1
            bitmap = ((n + 7) // 8 + 7) // 8 * 8
            return self.type.base + bitmap + (8 * n if self.comment else 0) + comments
        bits = self.hashsize.bit_length() - 1
        regions = 1 if bits < 10 else 1 << (bits - 10)
        dsize = (self.type.dsize + 7) // 8 * 8 + 8 if self.comment else self.type.dsize
        n = len(self.members)
        if n <= self.hashsize:
            buckets = n * (32 + 2 * dsize)
        else:
            per = -(-n // self.hashsize)
            buckets = self.hashsize * (32 + (per + per % 2) * dsize)
        return self.type.base + 24 * regions + buckets + comments

    def member_lines(self) -> list[str]:
        out = []
        for elem, c in self.members.items():
            text = self.format(elem)
            out.append(text + (f' comment "{c}"' if c is not None else ""))
        return out

    def listing(self, *, terse: bool = False, sort: bool = False) -> str:
        lines = [f"Name: {self.name}", f"Type: {self.type.name}", f"Revision: {self.type.revision}",
                 f"Header: {self.header()}", f"Size in memory: {self.memsize()}", f"References: {self.references}",
                 f"Number of entries: {len(self.members)}"]
        if not terse:
            lines.append("Members:")
            members = self.member_lines()
            lines += sorted(members) if sort else members
        return "\n".join(lines) + "\n"

    def save(self) -> str:
        out = [f"create {self.name} {self.type.name} {self.header()}"]
        out += [f"add {self.name} {m}" for m in self.member_lines()]
        return "\n".join(out) + "\n"


def sets_of(ns: NetNS) -> dict[str, IpSet]:
    sets = getattr(ns, "ipsets", None)
    if sets is None:
        sets = ns.ipsets = {}
    return sets


def create(ns: NetNS, name: str, type_name: str, *, hashsize: int = 1024, maxelem: int = 65536,
           comment: bool = False, range_: tuple[int, int] | None = None, exist: bool = False) -> IpSet:
    """`ipset create`. With `exist`, an identical existing set is fine (-exist)."""
    stype = TYPES.get(type_name)
    if stype is None:
        raise IpsetError(f"Syntax error: typename '{type_name}' is unknown")
    if stype.name.startswith("bitmap:") and range_ is None:
        raise IpsetError("Mandatory option `range' is missing\nTry `ipset help' for more information.", 2)
    sets = sets_of(ns)
    hashsize = max(64, 1 << max(0, (max(hashsize, 1) - 1).bit_length()))
    old = sets.get(name)
    if old is not None:
        same = old.type is stype and (old.is_bitmap or (old.hashsize, old.maxelem) == (hashsize, maxelem)) \
            and old.comment == comment
        if exist and same:
            return old
        raise IpsetError("Set cannot be created: set with the same name already exists")
    rng = tuple(sorted(range_)) if range_ is not None else (0, 65535)
    s = IpSet(name, stype, hashsize, maxelem, comment, rng, ns.world.stream("ipset").getrandbits(32))
    sets[name] = s
    return s


def get(ns: NetNS, name: str) -> IpSet:
    s = sets_of(ns).get(name)
    if s is None:
        raise IpsetError("The set with the given name does not exist")
    return s


def destroy(ns: NetNS, name: str | None = None) -> None:
    sets = sets_of(ns)
    targets = [get(ns, name)] if name is not None else list(sets.values())
    for s in targets:
        if s.references:
            raise IpsetError("Set cannot be destroyed: it is in use by a kernel component")
    for s in targets:
        del sets[s.name]


def swap(ns: NetNS, a: str, b: str) -> None:
    """`ipset swap`: the two names trade contents (the names and references stay)."""
    sets = sets_of(ns)
    sa = sets.get(a)
    if sa is None:
        raise IpsetError("The set with the given name does not exist")
    sb = sets.get(b)
    if sb is None:
        raise IpsetError("Sets cannot be swapped: the second set does not exist")
    if sa.type is not sb.type:
        raise IpsetError("The sets cannot be swapped: their type does not match")
    for attr in ("hashsize", "maxelem", "comment", "range", "initval", "members", "_plens"):
        va, vb = getattr(sa, attr), getattr(sb, attr)
        setattr(sa, attr, vb)
        setattr(sb, attr, va)


def rename(ns: NetNS, old: str, new: str) -> None:
    sets = sets_of(ns)
    s = get(ns, old)
    if new in sets:
        raise IpsetError("Set cannot be renamed: a set with the new name already exists")
    if s.references:
        raise IpsetError("Set cannot be renamed: it is in use by a kernel component")
    items = [(new if k == old else k, v) for k, v in sets.items()]
    s.name = new
    sets.clear()
    sets.update(items)


def count_references(ns: NetNS) -> None:
    """References: how many iptables rules name each set (`-m set --match-set`)."""
    sets = sets_of(ns)
    for s in sets.values():
        s.references = 0
    nf = getattr(ns, "netfilter", None)
    if nf is None or not sets:
        return
    for table in nf.tables.values():
        for chain in table.chains.values():
            for name in chain.sets():  # a chain whose rules are not built yet declares its sets
                if name in sets:
                    sets[name].references += 1


__all__ = ["IpSet", "IpsetError", "TYPES", "VERSION", "create", "destroy", "get", "rename", "sets_of", "swap",
           "count_references"]
