"""kube-proxy's partial sync (iptables mode): after a full sync the agent remembers, per
service port in KUBE-SERVICES order, the rules it contributed; a change to a few Services
then rebuilds only their rules, replaces their own chains, and splices their slice of each
shared chain (KUBE-SERVICES, KUBE-NODEPORTS, ...), so one change at 20,000 Services costs
about what one Service costs. The result is identical to a full rebuild (a test compares).
"""
from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field

from netlab.k8s.kubeproxy.iptables_rules import NO_CHAINS, TABLES, Part, RuleSet, build_part
from netlab.k8s.kubeproxy.model import ServicePort, ports_of

OWN_PREFIXES = ("KUBE-SVC-", "KUBE-SVL-", "KUBE-SEP-", "KUBE-FW-", "KUBE-EXT-", "KUBE-XLB-")


@dataclass
class SyncState:
    """What the last full sync wrote, kept so that later syncs can be partial."""

    order: list[str]  # service-port sort keys, in KUBE-SERVICES order
    parts: dict[str, Part]
    counts: dict[str, dict[str, list[int]]]  # table -> shared chain -> rules per service port (aligned with order)
    heads: dict[str, dict[str, int]]
    lengths: dict[str, dict[str, int]]  # table -> shared chain -> length as we left it
    params: dict = field(default_factory=dict)

    @classmethod
    def from_full(cls, ports: list[ServicePort], rules: RuleSet, params: dict) -> "SyncState":
        order = [sp.sort_key for sp in ports]
        parts = dict(zip(order, rules.parts))
        counts, lengths = {}, {}
        for t in TABLES:
            # one pass over the parts (a part touches two or three chains, not all of them)
            per_chain = {c: [0] * len(order) for c in rules.chains[t] if not c.startswith(OWN_PREFIXES)}
            for i, part in enumerate(rules.parts):
                for c, slice_ in part.chains.get(t, NO_CHAINS).items():
                    per_port = per_chain.get(c)
                    if per_port is not None:
                        per_port[i] = len(slice_)
            counts[t] = per_chain
            lengths[t] = {c: len(rules.chains[t][c]) for c in per_chain}
        return cls(order, parts, counts, rules.heads, lengths, params)

    def keys_of(self, namespace: str, name: str) -> list[str]:
        """The service's port keys, in order: `ns/name/proto` (its unnamed port) and
        `ns/name:port/proto`. No name holds '/' or ':', so the prefixes are the service's alone."""
        order = self.order
        out = []
        for prefix in (f"{namespace}/{name}/", f"{namespace}/{name}:"):
            i = bisect_left(order, prefix)
            while i < len(order) and order[i].startswith(prefix):
                out.append(order[i])
                i += 1
        return out


def partial_sync(state: SyncState, nf, api, services: set[tuple[str, str]]) -> bool:
    """Apply the changes of `services`; False when a full sync is needed instead (a shared
    chain is not as the agent left it — a hand edit — or a new shared chain would appear)."""
    for t in TABLES:
        for chain, length in state.lengths[t].items():
            c = nf.table(t).chains.get(chain)
            if c is None or len(c.rules) != length:
                return False
    p = state.params
    for svc_id in sorted(services):
        ns, name = svc_id
        svc = api.get("Service", ns, name)
        new_ports = ports_of(svc, api.get("Endpoints", ns, name) or {}) if svc is not None else []
        new = {sp.sort_key: build_part(sp, node=p["node"], cluster_cidr=p["cluster_cidr"], style=p["style"],
                                        node_ip=p["node_ip"]) for sp in new_ports}
        old_keys = state.keys_of(ns, name)
        for part in new.values():
            for t in TABLES:
                if any(c not in state.counts[t] and not c.startswith(OWN_PREFIXES) for c in part.chains.get(t, NO_CHAINS)):
                    return False
        stale: dict[str, list[str]] = {}
        for t in TABLES:  # first the service's own chains, so the shared slices can jump to them
            old_own = {c for k in old_keys for c in state.parts[k].chains.get(t, NO_CHAINS) if c.startswith(OWN_PREFIXES)}
            new_own: dict[str, list] = {}
            for part in new.values():
                for c, rules in part.chains.get(t, NO_CHAINS).items():
                    if c.startswith(OWN_PREFIXES):
                        new_own[c] = rules  # a list or a RuleSource; each port's own chains are its alone
            if new_own:
                nf.replace_chains(t, new_own)
            stale[t] = sorted(old_own - set(new_own))
        for key in sorted(set(old_keys) | set(new)):
            _splice(state, nf, key, new.get(key))
        for t in TABLES:  # last, what nothing jumps to any more
            if stale[t]:
                nf.replace_chains(t, {}, delete=stale[t])
        for key in old_keys:
            if key not in new:
                state.parts.pop(key, None)
        state.parts.update(new)
    return True


def _splice(state: SyncState, nf, key: str, part: Part | None) -> None:
    """Put one service port's slice of every shared chain in place (or remove it), then move
    the bookkeeping (order and counts are shared by both tables)."""
    order = state.order
    i = bisect_left(order, key)
    present = i < len(order) and order[i] == key
    for table in TABLES:
        for chain, per_port in state.counts[table].items():
            new_rules = part.chains.get(table, NO_CHAINS).get(chain, []) if part is not None else []
            old_n = per_port[i] if present else 0
            if not old_n and not new_rules:
                continue
            start = state.heads[table][chain] + sum(per_port[:i])
            nf.splice(table, chain, start, start + old_n, list(new_rules))
            state.lengths[table][chain] += len(new_rules) - old_n
    if part is None:
        if present:
            del order[i]
            for table in TABLES:
                for per_port in state.counts[table].values():
                    del per_port[i]
        return
    if not present:
        order.insert(i, key)
        for table in TABLES:
            for per_port in state.counts[table].values():
                per_port.insert(i, 0)
    for table in TABLES:
        for chain, per_port in state.counts[table].items():
            per_port[i] = len(part.chains.get(table, NO_CHAINS).get(chain, ()))
