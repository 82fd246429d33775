"""Packets as values: Ethernet, ARP, IPv4, ICMP, UDP and TCP headers.

A packet that a hop changes is copied first (`evolve`), so a Trace can keep a
reference to the exact headers a hop saw. VXLAN puts a whole inner Frame in a
UDP payload, which is the encapsulation stack.
"""
from __future__ import annotations

import copy
import dataclasses
import functools
from dataclasses import dataclass, field
from typing import Any, Union

from netlab.net.addr import fmt_ip

ETH_P_IP = 0x0800
ETH_P_ARP = 0x0806

IPPROTO_ICMP = 1
IPPROTO_TCP = 6
IPPROTO_UDP = 17
IPPROTO_SCTP = 132
PROTO_NAMES = {IPPROTO_ICMP: "icmp", IPPROTO_TCP: "tcp", IPPROTO_UDP: "udp", IPPROTO_SCTP: "sctp"}
PROTO_NUMBERS = {v: k for k, v in PROTO_NAMES.items()}

# ICMP types and codes used by the stack.
ICMP_ECHOREPLY = 0
ICMP_DEST_UNREACH = 3
ICMP_ECHO = 8
ICMP_TIME_EXCEEDED = 11
ICMP_NET_UNREACH = 0
ICMP_HOST_UNREACH = 1
ICMP_PROT_UNREACH = 2
ICMP_PORT_UNREACH = 3
ICMP_FRAG_NEEDED = 4
ICMP_NET_ANO = 9
ICMP_HOST_ANO = 10
ICMP_PKT_FILTERED = 13

ETH_HLEN = 14
IP_HLEN = 20
UDP_HLEN = 8
ICMP_HLEN = 8
TCP_HLEN = 20
VXLAN_HLEN = 8
VXLAN_OVERHEAD = ETH_HLEN + IP_HLEN + UDP_HLEN + VXLAN_HLEN  # 50 bytes


def evolve(value, **changes):
    """A shallow copy with some fields changed: packets are never changed in place."""
    names = _slotted_fields(value.__class__)
    if names is None:
        new = copy.copy(value)
    else:  # the same shallow copy, three times faster than copy.copy's __reduce_ex__ round trip
        new = object.__new__(value.__class__)
        for name in names:
            setattr(new, name, getattr(value, name))
    for key, val in changes.items():
        setattr(new, key, val)
    return new


@functools.cache
def _slotted_fields(cls) -> tuple[str, ...] | None:
    """The fields of a slotted dataclass, which are all its instance state; None for any
    other class. Cached per class: a class's fields are fixed when it is created."""
    if dataclasses.is_dataclass(cls) and "__slots__" in cls.__dict__:
        return tuple(f.name for f in dataclasses.fields(cls))
    return None


@dataclass(slots=True)
class ICMP:
    type: int
    code: int = 0
    id: int = 0
    seq: int = 0
    data_len: int = 56
    quoted: "IPv4 | None" = None  # the offending packet, for errors
    mtu: int = 0  # for frag-needed

    @property
    def length(self) -> int:
        if self.quoted is not None:
            return ICMP_HLEN + IP_HLEN + 8
        return ICMP_HLEN + self.data_len

    def describe(self) -> str:
        if self.type == ICMP_ECHO:
            return f"ICMP echo request, id {self.id}, seq {self.seq}"
        if self.type == ICMP_ECHOREPLY:
            return f"ICMP echo reply, id {self.id}, seq {self.seq}"
        return "ICMP " + icmp_error_text(self.type, self.code, self.mtu)


def icmp_error_text(type_: int, code: int, mtu: int = 0) -> str:
    if type_ == ICMP_TIME_EXCEEDED:
        return "time exceeded in-transit"
    if type_ == ICMP_DEST_UNREACH:
        return {
            ICMP_NET_UNREACH: "net unreachable",
            ICMP_HOST_UNREACH: "host unreachable",
            ICMP_PROT_UNREACH: "protocol unreachable",
            ICMP_PORT_UNREACH: "port unreachable",
            ICMP_FRAG_NEEDED: f"need to frag (mtu {mtu})",
            ICMP_NET_ANO: "net prohibited",
            ICMP_HOST_ANO: "host prohibited",
            ICMP_PKT_FILTERED: "admin prohibited filter",
        }.get(code, f"unreachable code {code}")
    return f"type {type_} code {code}"


@dataclass(slots=True)
class UDP:
    sport: int
    dport: int
    payload: Any = None  # bytes, an app message, or a VXLAN header with its inner frame
    payload_len: int = 0

    @property
    def length(self) -> int:
        return UDP_HLEN + self.payload_len

    def describe(self) -> str:
        return f"UDP {self.sport} > {self.dport}"


TCP_FLAG_NAMES = (("S", 0x02), ("F", 0x01), ("R", 0x04), ("P", 0x08), (".", 0x10))
TH_FIN, TH_SYN, TH_RST, TH_PUSH, TH_ACK = 0x01, 0x02, 0x04, 0x08, 0x10


@dataclass(slots=True)
class TCP:
    sport: int
    dport: int
    flags: int = TH_SYN
    seq: int = 0
    ack: int = 0
    payload: Any = None
    payload_len: int = 0

    @property
    def length(self) -> int:
        return TCP_HLEN + self.payload_len

    def flag_text(self) -> str:
        return "".join(name for name, bit in TCP_FLAG_NAMES if self.flags & bit) or "none"

    def describe(self) -> str:
        return f"TCP {self.sport} > {self.dport} [{self.flag_text()}]"


L4 = Union[ICMP, UDP, TCP]


@dataclass(slots=True)
class IPv4:
    src: int
    dst: int
    proto: int
    l4: L4
    ttl: int = 64
    id: int = 0
    df: bool = True
    tos: int = 0
    mark: int = 0  # skb->mark: not on the wire, but carried with the packet inside one host
    # skb->_nfct: the conntrack entry netfilter attached in one namespace (netfilter/engine.py).
    nfct: Any = field(default=None, compare=False, repr=False)

    @property
    def length(self) -> int:
        return IP_HLEN + self.l4.length

    def describe(self) -> str:
        l4 = self.l4
        if isinstance(l4, (UDP, TCP)):
            ends = f"{fmt_ip(self.src)}:{l4.sport} > {fmt_ip(self.dst)}:{l4.dport}"
            kind = "UDP" if isinstance(l4, UDP) else f"TCP [{l4.flag_text()}]"
            if isinstance(l4, UDP) and isinstance(l4.payload, VXLAN):
                kind = f"UDP VXLAN vni {l4.payload.vni}"
            return f"{ends} {kind} ttl {self.ttl}"
        return f"{fmt_ip(self.src)} > {fmt_ip(self.dst)} {l4.describe()} ttl {self.ttl}"


ARP_REQUEST = 1
ARP_REPLY = 2


@dataclass(slots=True)
class ARP:
    op: int
    sender_mac: str
    sender_ip: int
    target_mac: str
    target_ip: int

    length = 28

    def describe(self) -> str:
        if self.op == ARP_REQUEST:
            return f"ARP who-has {fmt_ip(self.target_ip)} tell {fmt_ip(self.sender_ip)}"
        return f"ARP {fmt_ip(self.sender_ip)} is-at {self.sender_mac}"


@dataclass(slots=True)
class Frame:
    """An Ethernet frame. `payload` is an IPv4 packet or an ARP message."""

    src: str
    dst: str
    ethertype: int
    payload: IPv4 | ARP
    meta: dict = field(default_factory=dict)  # per-host skb state (physdev, VNI seen...)

    @property
    def length(self) -> int:
        return ETH_HLEN + self.payload.length

    @property
    def ip(self) -> IPv4 | None:
        p = self.payload
        return p if isinstance(p, IPv4) else None

    def describe(self) -> str:
        return f"{self.src} > {self.dst}, {self.payload.describe()}"


@dataclass(slots=True)
class VXLAN:
    """The VXLAN header and the inner Ethernet frame it carries (RFC 7348)."""

    vni: int
    inner: Frame

    @property
    def length(self) -> int:
        return VXLAN_HLEN + self.inner.length


def flow_key(ip: IPv4) -> tuple:
    """The 5-tuple, used for hashing (VXLAN source port, ECMP)."""
    l4 = ip.l4
    if isinstance(l4, (UDP, TCP)):
        return (ip.src, ip.dst, ip.proto, l4.sport, l4.dport)
    if isinstance(l4, ICMP):
        return (ip.src, ip.dst, ip.proto, l4.id, 0)
    return (ip.src, ip.dst, ip.proto, 0, 0)
