"""The IPVS schedulers, with the kernel's selection rules (net/netfilter/ipvs/ip_vs_*.c).

Each scheduler sees the service's real servers in the kernel's list order: `ipvsadm -a`
puts a new real server at the *head* of the list (list_add_rcu), so the most recently
added one is looked at first, while `ipvsadm -ln` prints them sorted. Ties, weight-0
("quiesced") servers and overloaded servers are handled exactly as the C code does,
because those details decide which pod a learner's request reaches.

`schedule(svc, pkt)` returns `(dest or None, why)`; `why` explains the choice in the
scheduler's own terms for the Trace.
"""
from __future__ import annotations

from math import gcd
from typing import TYPE_CHECKING

from netlab.net.addr import fmt_ip

if TYPE_CHECKING:
    from netlab.net.ipvs import RealServer, VirtualService
    from netlab.net.packet import IPv4

TAB_BITS = 8  # CONFIG_IP_VS_SH_TAB_BITS / CONFIG_IP_VS_DH_TAB_BITS
TAB_SIZE = 1 << TAB_BITS
GOLDEN_RATIO_32 = 0x61C88647


def hash_32(val: int, bits: int) -> int:
    """include/linux/hash.h: multiply by the golden ratio, keep the high bits."""
    return ((val * GOLDEN_RATIO_32) & 0xFFFFFFFF) >> (32 - bits)


def available(d: RealServer) -> bool:
    """Weight above zero and not over its upper connection threshold."""
    return d.weight > 0 and not d.overloaded


class Scheduler:
    name = ""

    def init_service(self, svc: VirtualService) -> None:
        """ip_vs_bind_scheduler → init_service."""

    def add_dest(self, svc: VirtualService, d: RealServer) -> None:
        """Called after `d` was linked at the head of svc.dests."""

    def del_dest(self, svc: VirtualService, d: RealServer, index: int) -> None:
        """Called after `d` (which was at `index`) was unlinked."""

    def upd_dest(self, svc: VirtualService, d: RealServer) -> None:
        """Called after `ipvsadm -e` changed the weight or thresholds of `d`."""

    def schedule(self, svc: VirtualService, pkt: IPv4) -> tuple[RealServer | None, str]:
        raise NotImplementedError


class RoundRobin(Scheduler):
    """ip_vs_rr.c: a cursor into the list; the next available server after it wins,
    wrapping round once. The server the cursor is on may be chosen again if it is the
    only available one."""

    name = "rr"

    def __init__(self) -> None:
        self.cursor: RealServer | None = None  # None: the list head

    def init_service(self, svc):
        self.cursor = None

    def del_dest(self, svc, d, index):
        # The kernel moves the cursor back to the deleted entry's predecessor.
        if self.cursor is d:
            self.cursor = svc.dests[index - 1] if index > 0 else None

    def schedule(self, svc, pkt):
        dests = svc.dests
        last = self.cursor
        start = 0 if last is None else dests.index(last) + 1
        skipped = []
        for d in dests[start:]:
            if available(d):
                return self._hit(d, last, skipped)
            skipped.append(d)
        if last is not None:  # second pass: from the head up to and including the cursor
            for d in dests[:start]:
                if available(d):
                    return self._hit(d, last, skipped)
                skipped.append(d)
        return None, "rr: no destination available" + _skipped_text(skipped)

    def _hit(self, d, last, skipped):
        self.cursor = d
        where = "first in list" if last is None else f"next after {last.label}"
        return d, f"rr: {where}" + _skipped_text(skipped)


class WeightedRoundRobin(Scheduler):
    """ip_vs_wrr.c: passes over the list with a current weight `cw` that steps down by
    the gcd of the weights from the maximum (less gcd-1) to 1; a server is chosen when
    its weight ≥ cw."""

    name = "wrr"

    def __init__(self) -> None:
        self.cl: RealServer | None = None
        self.cw = self.mw = self.di = 0

    def _weights(self, svc):
        g = 0
        for d in svc.dests:
            if d.weight > 0:
                g = gcd(d.weight, g) if g > 0 else d.weight
        di = g or 1
        mw = max((d.weight for d in svc.dests), default=0)
        return di, mw - (di - 1)

    def init_service(self, svc):
        self.cl = None
        self.di, self.mw = self._weights(svc)
        self.cw = self.mw

    def _changed(self, svc):
        self.cl = None
        self.di, self.mw = self._weights(svc)
        if self.cw > self.mw or not self.cw:
            self.cw = self.mw
        elif self.di > 1:
            self.cw = (self.cw // self.di) * self.di + 1

    def add_dest(self, svc, d):
        self._changed(svc)

    def del_dest(self, svc, d, index):
        self._changed(svc)

    def upd_dest(self, svc, d):
        self._changed(svc)

    def schedule(self, svc, pkt):
        dests = svc.dests
        if self.mw == 0:
            return None, "wrr: no destination available (all weights are 0)"
        last = self.cl
        stop = None
        last_pass = restarted = False
        pos = 0 if last is None else dests.index(last) + 1
        while True:
            for d in dests[pos:]:
                if not d.overloaded and d.weight >= self.cw:
                    self.cl = d
                    return d, (f"wrr: weight {d.weight} ≥ current weight {self.cw} "
                               f"(max {self.mw + self.di - 1}, gcd {self.di})")
                if d is stop:
                    self.cl = d
                    return None, "wrr: no destination available: all destinations are overloaded"
            pos = 0
            self.cw -= self.di
            if self.cw <= 0:
                self.cw = self.mw
                if last_pass or last is None:
                    self.cl = None
                    return None, "wrr: no destination available: all destinations are overloaded"
                restarted = True
            last_pass = self.cw <= self.di
            if last_pass and restarted and last is not None:
                stop = last


class LeastConnection(Scheduler):
    """ip_vs_lc.c: the least overhead (active×256 + inactive); weight-0 servers are
    skipped; on a tie the first in list order stays."""

    name = "lc"

    def schedule(self, svc, pkt):
        least = None
        loh = 0
        seen = []
        for d in svc.dests:
            if not available(d):
                continue
            doh = d.overhead
            seen.append((d, doh))
            if least is None or doh < loh:
                least, loh = d, doh
        if least is None:
            return None, "lc: no destination available"
        others = [f"{oh} ({o.label})" for o, oh in seen if o is not least][:3]
        vs = f" vs {', '.join(others)}" if others else ""
        return least, f"lc: overhead {loh} = {least.activeconns}×256 + {least.inactconns}{vs}"


class _Weighted(Scheduler):
    """The h1·w2 > h2·w1 comparison of wlc and sed: the first available server is the
    starting point, later servers replace it only when strictly less loaded."""

    term = ""

    def overhead(self, d: RealServer) -> int:
        raise NotImplementedError

    def schedule(self, svc, pkt):
        dests = svc.dests
        start = next((i for i, d in enumerate(dests) if available(d)), None)
        if start is None:
            return None, f"{self.name}: no destination available"
        least = dests[start]
        loh = self.overhead(least)
        cmp = []
        for d in dests[start + 1:]:
            if d.overloaded:
                continue
            doh = self.overhead(d)
            lhs, rhs = loh * d.weight, doh * least.weight
            if lhs > rhs:
                cmp.append(f"{doh}×{least.weight} < {loh}×{d.weight}: {d.label} beats {least.label}")
                least, loh = d, doh
            else:
                rel = "=" if lhs == rhs else "<"
                cmp.append(f"{loh}×{d.weight} {rel} {doh}×{least.weight}: {least.label} stays" +
                           (" (tie: earlier in list wins)" if rel == "=" else ""))
        detail = "; ".join(cmp[-3:]) if cmp else "only candidate"
        return least, f"{self.name}: {self.term} {loh}×weight: {detail}"


class WeightedLeastConnection(_Weighted):
    name = "wlc"
    term = "overhead"

    def overhead(self, d):
        return d.overhead


class ShortestExpectedDelay(_Weighted):
    name = "sed"
    term = "(active+1)"

    def overhead(self, d):
        return d.activeconns + 1


class NeverQueue(Scheduler):
    """ip_vs_nq.c: an idle server (no active connections) is taken at once, in list
    order; otherwise the shortest expected delay, (active+1)/weight."""

    name = "nq"

    def schedule(self, svc, pkt):
        least = None
        loh = 0
        for d in svc.dests:
            if not available(d):
                continue
            doh = d.activeconns + 1
            if d.activeconns == 0:
                return d, f"nq: {d.label} is idle (0 active connections)"
            if least is None or loh * d.weight > doh * least.weight:
                least, loh = d, doh
        if least is None:
            return None, "nq: no destination available"
        return least, f"nq: no idle server; least (active+1)/weight = {loh}/{least.weight} at {least.label}"


class _Hashing(Scheduler):
    """sh and dh: a 256-bucket table filled from the list in order (sh gives a server
    as many consecutive buckets as its weight), indexed by a hash of one address."""

    weighted = False

    def __init__(self) -> None:
        self.buckets: list[RealServer | None] = [None] * TAB_SIZE

    def reassign(self, svc):
        dests = svc.dests
        if not dests:
            self.buckets = [None] * TAB_SIZE
            return
        out = []
        i = count = 0
        while len(out) < TAB_SIZE:
            d = dests[i % len(dests)]
            out.append(d)
            count += 1
            if not self.weighted or count >= d.weight:
                i += 1
                count = 0
        self.buckets = out

    def init_service(self, svc):
        self.reassign(svc)

    def add_dest(self, svc, d):
        self.reassign(svc)

    def del_dest(self, svc, d, index):
        self.reassign(svc)


class SourceHashing(_Hashing):
    """ip_vs_sh.c: hash_32(port + source address) — port only with the sh-port flag;
    sh-fallback walks the table from the hashed bucket when that server is unavailable."""

    name = "sh"
    weighted = True

    def upd_dest(self, svc, d):
        self.reassign(svc)

    @staticmethod
    def bucket(addr: int, port: int = 0, offset: int = 0) -> int:
        return (offset + hash_32((port + addr) & 0xFFFFFFFF, TAB_BITS)) & (TAB_SIZE - 1)

    def schedule(self, svc, pkt):
        port = pkt.l4.sport if "sh-port" in svc.flags and hasattr(pkt.l4, "sport") else 0
        ihash = self.bucket(pkt.src, port)
        d = self.buckets[ihash]
        what = f"{fmt_ip(pkt.src)}:{port}" if port else fmt_ip(pkt.src)
        if d is None:
            return None, "sh: no destination available"
        if available(d):
            return d, f"sh: hash({what}) = bucket {ihash} → {d.label}"
        if "sh-fallback" not in svc.flags:
            return None, f"sh: hash({what}) = bucket {ihash} → {d.label}, which is unavailable (weight {d.weight})"
        for offset in range(TAB_SIZE):
            roffset = (offset + ihash) % TAB_SIZE
            h = self.bucket(pkt.src, port, roffset)
            alt = self.buckets[h]
            if alt is None:
                break
            if available(alt):
                return alt, f"sh: bucket {ihash} → {d.label} unavailable; fallback bucket {h} → {alt.label}"
        return None, "sh: no destination available"


class DestinationHashing(_Hashing):
    """ip_vs_dh.c: hash_32 of the destination address; one bucket per server in turn
    (weights do not matter, except that weight 0 makes the server unavailable)."""

    name = "dh"

    @staticmethod
    def bucket(addr: int) -> int:
        return hash_32(addr, TAB_BITS)

    def schedule(self, svc, pkt):
        h = self.bucket(pkt.dst)
        d = self.buckets[h]
        if d is None or not available(d):
            return None, "dh: no destination available" + (f" ({d.label} has weight {d.weight})" if d else "")
        return d, f"dh: hash({fmt_ip(pkt.dst)}) = bucket {h} → {d.label}"


def _skipped_text(skipped: list) -> str:
    if not skipped:
        return ""
    parts = [f"{d.label} weight 0" if d.weight <= 0 else f"{d.label} overloaded" for d in skipped[:3]]
    return " (skipped " + ", ".join(parts) + ")"


SCHEDULERS: dict[str, type[Scheduler]] = {
    cls.name: cls for cls in (RoundRobin, WeightedRoundRobin, LeastConnection, WeightedLeastConnection,
                              ShortestExpectedDelay, NeverQueue, SourceHashing, DestinationHashing)
}


def new_scheduler(name: str) -> Scheduler | None:
    cls = SCHEDULERS.get(name)
    return cls() if cls is not None else None
