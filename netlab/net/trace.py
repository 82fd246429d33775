"""The Trace: what looked at a packet, what it matched, what it changed, and how it ended.

Levels, the shell (`trace`, `traceroute`), the TUI and the tests all read this one
structure. Hops are appended on the hot path, so a hop is a small slotted value
and its text is built once, when the hop happens.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Hop kinds. A consumer may switch on these; the text is for people.
RX = "rx"
TX = "tx"
FDB = "fdb"
FLOOD = "flood"
ROUTE = "route"
NEIGH = "neigh"
ARP = "arp"
FORWARD = "forward"
LOCAL = "local"
ENCAP = "encap"
DECAP = "decap"
ICMP = "icmp"
NETFILTER = "netfilter"
NAT = "nat"
CONNTRACK = "conntrack"
IPVS = "ipvs"
POLICY = "policy"
APP = "app"
DROP = "drop"
DELIVER = "deliver"

# Verdicts.
DELIVERED = "delivered"
DROPPED = "dropped"


@dataclass(slots=True)
class Hop:
    ns: str
    dev: str | None
    kind: str
    text: str
    frame: Any = None  # the frame or packet as this hop saw (or produced) it
    t: float = 0.0  # simulated time since the packet was sent, seconds
    detail: dict | None = None  # machine-readable facts (rule, route, counts)

    def where(self) -> str:
        return f"{self.ns}/{self.dev}" if self.dev else self.ns


@dataclass(slots=True)
class Verdict:
    kind: str  # DELIVERED or DROPPED
    reason: str
    ns: str
    dev: str | None = None

    @property
    def delivered(self) -> bool:
        return self.kind == DELIVERED

    def __str__(self) -> str:
        where = f"{self.ns}/{self.dev}" if self.dev else self.ns
        return f"{self.kind.upper()} at {where}: {self.reason}"


@dataclass(eq=False)
class Trace:
    """One packet's journey (and of the copies and ARP exchanges it caused)."""

    summary: str
    origin: str
    packet: Any = None
    hops: list[Hop] = field(default_factory=list)
    ends: list[Verdict] = field(default_factory=list)
    t: float = 0.0
    label: str = ""  # e.g. "echo request", "echo reply", "ARP"
    quiet_end: Verdict | None = None  # the latest quiet end: the verdict when nothing else decides

    def add(self, ns: str, dev: str | None, kind: str, text: str, frame: Any = None, detail: dict | None = None) -> None:
        self.hops.append(Hop(ns, dev, kind, text, frame, self.t, detail))

    def end(self, kind: str, reason: str, ns: str, dev: str | None = None, *, quiet: bool = False, frame: Any = None) -> None:
        """Record where one copy of the packet stopped. `quiet` ends (a flooded copy that
        reached a host it was not for) do not decide the verdict unless nothing else does."""
        verdict = Verdict(kind, reason, ns, dev)
        self.hops.append(Hop(ns, dev, DELIVER if kind == DELIVERED else DROP, reason, frame, self.t, {"quiet": quiet}))
        if not quiet:
            self.ends.append(verdict)
        elif not self.ends:
            self.quiet_end = verdict

    @property
    def verdict(self) -> Verdict | None:
        for v in self.ends:
            if v.delivered:
                return v
        if self.ends:
            return self.ends[0]
        return self.quiet_end

    @property
    def delivered(self) -> bool:
        v = self.verdict
        return v is not None and v.delivered

    def first_drop(self) -> Hop | None:
        for hop in self.hops:
            if hop.kind == DROP and not (hop.detail or {}).get("quiet"):
                return hop
        return None

    def rules_compared(self) -> int:
        """Netfilter rules (and IPVS lookups) the packet was compared against."""
        return sum((h.detail or {}).get("compared", 0) for h in self.hops)

    def render(self, *, verbose: bool = False) -> str:
        from netlab.net.trace_format import render_trace

        return render_trace(self, verbose=verbose)
