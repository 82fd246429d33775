"""Walking a table's chains with a packet (ipt_do_table), fast.

The kernel compares a packet with every rule of a chain in turn. With 20,000 Services the
nat KUBE-SERVICES chain holds tens of thousands of rules, far too many to test one by one in
Python for every traced packet. So each chain is compiled, on first use after a change, into
an index that yields only the rules that *could* match the packet, in rule order:

  - rules with an exact destination (`-d X/32`) and an exact destination port tested before
    any match with side effects, under (dst, proto, dport);
  - other rules with an exact destination, under dst;
  - rules with no destination but an exact port, under (proto, dport);
  - every other rule, always.

A rule left out can never match the packet, and testing it could have no side effect, so
the first matching rule — and the counters, the random draws, the verdict — are exactly
those of the linear walk. What the Trace reports is the kernel's cost, not ours: in each
chain visited, the number of rules the kernel compared (up to the rule that decided, or all
of them). `walk(..., indexed=False)` is the plain linear walk the tests compare against.
"""
from __future__ import annotations

from heapq import merge

from netlab.net import trace as T
from netlab.net.netfilter.matches import PortMatch
from netlab.net.netfilter.model import Chain
from netlab.net.netfilter.targets import ACCEPT, CONTINUE, DROP, JUMP, RETURN

SMALL_CHAIN = 8  # below this, the index costs more than it saves


class Compiled:
    __slots__ = ("n", "generic", "by_dst_port", "by_dst", "by_port", "plain")

    def __init__(self, chain: Chain) -> None:
        rules = chain.rules
        self.n = len(rules)
        self.plain = self.n < SMALL_CHAIN
        self.generic: list[int] = []
        self.by_dst_port: dict[tuple, list[int]] = {}
        self.by_dst: dict[int, list[int]] = {}
        self.by_port: dict[tuple, list[int]] = {}
        if self.plain:
            self.generic = list(range(self.n))
            return
        for pos, r in enumerate(rules):
            exact_dst = r.dst_plen == 32 and not r.dst_inv
            dport = None
            if r.proto in (6, 17) and not r.proto_inv:
                for m in r.matches:
                    if isinstance(m, PortMatch) and m.proto == r.proto:
                        dport = m.single_dport
                        break
                    if not m.pure:
                        break
            if exact_dst and dport is not None:
                self.by_dst_port.setdefault((r.dst, r.proto, dport), []).append(pos)
            elif exact_dst:
                self.by_dst.setdefault(r.dst, []).append(pos)
            elif dport is not None:
                self.by_port.setdefault((r.proto, dport), []).append(pos)
            else:
                self.generic.append(pos)

    def candidates(self, pkt) -> list[int] | range:
        if self.plain:
            return self.generic
        lists = [self.generic] if self.generic else []
        proto = pkt.proto
        dport = pkt.l4.dport if proto in (6, 17) else None
        if dport is not None:
            if self.by_dst_port:
                hit = self.by_dst_port.get((pkt.dst, proto, dport))
                if hit:
                    lists.append(hit)
            if self.by_port:
                hit = self.by_port.get((proto, dport))
                if hit:
                    lists.append(hit)
        if self.by_dst:
            hit = self.by_dst.get(pkt.dst)
            if hit:
                lists.append(hit)
        if not lists:
            return ()
        if len(lists) == 1:
            return lists[0]
        return list(merge(*lists))


def compiled(chain: Chain) -> Compiled:
    c = chain.compiled
    if c is None or c.n != len(chain.rules):
        c = chain.compiled = Compiled(chain)
    return c


class Frame:
    """One chain visit: where the walk is in the chain and what the kernel has compared."""

    __slots__ = ("chain", "cands", "ptr", "reported")

    def __init__(self, chain: Chain, pkt, indexed: bool) -> None:
        self.chain = chain
        self.cands = compiled(chain).candidates(pkt) if indexed else range(len(chain.rules))
        self.ptr = 0
        self.reported = 0  # rules already counted in an earlier Trace hop of this visit


def walk(nf, table, hook: str, pkt, cx, trace, *, indexed: bool = True):
    """Run the packet through `table`'s built-in chain for `hook`. Returns (verdict, pkt)
    with verdict ACCEPT or DROP (a NAT target's ACCEPT ends the table as the kernel's does)."""
    base = table.chains[hook]
    tname = table.name
    cx.table = tname
    stack: list[Frame] = []
    fr = Frame(base, pkt, indexed)
    ns_name = nf.ns.name
    dev = cx.indev or cx.outdev
    while True:
        chain = fr.chain
        rules = chain.rules
        cands = fr.cands
        matched = None
        while fr.ptr < len(cands):
            pos = cands[fr.ptr]
            fr.ptr += 1
            rule = rules[pos]
            if rule.matches_packet(pkt, cx):
                matched = pos
                break
        if matched is None:
            # Fell off the end: the kernel compared every remaining rule.
            compared = len(rules) - fr.reported
            if chain.policy is not None and not stack:
                cx.last = (tname, chain.name, None)
                chain.pkts += 1
                chain.bytes += pkt.length
                if rules or chain.policy != ACCEPT:
                    _hop(trace, ns_name, dev, tname, chain.name, None, f"-P {chain.name} {chain.policy}", compared,
                         f"{tname} {chain.name}: no rule matched, policy {chain.policy}")
                return chain.policy, pkt
            if compared:
                _hop(trace, ns_name, dev, tname, chain.name, None, "", compared,
                     f"{tname} {chain.name}: no rule matched ({compared} compared), return")
            if not stack:  # a goto from a built-in chain ran out: that chain's policy decides
                cx.last = (tname, base.name, None)
                base.pkts += 1
                base.bytes += pkt.length
                _hop(trace, ns_name, dev, tname, base.name, None, f"-P {base.name} {base.policy}", 0,
                     f"{tname} {base.name}: policy {base.policy}")
                return base.policy, pkt
            fr = stack.pop()
            continue
        rule = rules[matched]
        rule.pkts += 1
        rule.bytes += pkt.length
        compared = matched + 1 - fr.reported
        fr.reported = matched + 1
        target = rule.target
        cx.last = (tname, chain.name, matched + 1)
        text = f"-A {chain.name} {rule.spec()}"
        _hop(trace, ns_name, dev, tname, chain.name, matched + 1, text, compared,
             f"{tname} {chain.name} rule {matched + 1}: {text}")
        if target is None:
            continue
        verdict, pkt = target.fire(pkt, cx)
        if verdict == CONTINUE:
            continue
        if verdict == JUMP:
            sub = table.chains.get(target.chain)
            if sub is None:  # cannot happen: a chain in use cannot be deleted
                return DROP, pkt
            if not rule.goto:
                stack.append(fr)
            fr = Frame(sub, pkt, indexed)
            continue
        if verdict == RETURN:
            if not stack:
                cx.last = (tname, base.name, None)
                if chain.policy is not None:
                    chain.pkts += 1
                    chain.bytes += pkt.length
                    return chain.policy, pkt
                base.pkts += 1
                base.bytes += pkt.length
                return base.policy, pkt
            fr = stack.pop()
            continue
        return verdict, pkt


def _hop(trace, ns_name, dev, table, chain, number, text, compared, sentence) -> None:
    if trace is None:
        return
    trace.add(ns_name, dev, T.NETFILTER, sentence,
              detail={"compared": compared, "table": table, "chain": chain, "rule": number, "text": text})
