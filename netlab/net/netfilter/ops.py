"""Changing tables: the operations behind `iptables -A/-I/-D/-R/-F/-N/-X/-P/-E/-Z` and the
structured API programs use (kube-proxy builds Rule objects and swaps whole chain sets).

Every operation validates first and changes nothing when it fails, with the message the
real tool prints (IptablesError carries it and the exit status).
"""
from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterable

from netlab.net.netfilter.matches import SetMatch
from netlab.net.netfilter.targets import Jump
from netlab.net.netfilter.model import (BUILTIN_CHAINS, MAX_CHAIN_NAME, POLICIES, Chain, IptablesError, Rule,
                                        RuleSource, Table, rule_targets)

NO_CHAIN = "No chain/target/match by that name."


@contextmanager
def paused_gc():
    """Bulk rule building makes hundreds of thousands of acyclic objects; CPython's cyclic
    collector would scan the growing heap again and again for nothing. Pause it."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            # No gc.freeze() here: it would make everything alive now immortal, including
            # every Lab (namespaces and devices reference each other), which a long-running
            # classroom server cannot afford. The price is one full collection later.
            gc.enable()


def _has_set(rule: Rule) -> bool:
    for m in rule.matches:
        if m.__class__ is SetMatch:
            return True
    return False


class TableOps:
    tables: dict[str, Table]

    # -- lookups --------------------------------------------------------------------------------
    def table(self, name: str) -> Table:
        t = self.tables.get(name)
        if t is None:
            raise IptablesError(f"table '{name}' does not exist\nPerhaps iptables or your kernel needs to be upgraded.", 3)
        return t

    def chain(self, table: str, name: str) -> Chain:
        c = self.table(table).chains.get(name)
        if c is None:
            raise IptablesError(NO_CHAIN)
        return c

    # -- validation -----------------------------------------------------------------------------
    def _check_rule(self, t: Table, chain: Chain, rule: Rule, chains: dict[str, Chain] | _Pending | None = None) -> None:
        for m in rule.matches:
            if m.__class__ is SetMatch and m.set_name not in (getattr(self.ns, "ipsets", None) or {}):
                raise IptablesError(f"Set {m.set_name} doesn't exist.\n", 2, usage=True)
        target = rule.target
        if target is None:
            return
        if target.chain is not None:
            known = chains if chains is not None else t.chains
            sub = known.get(target.chain)
            if sub is None or sub.policy is not None:
                raise IptablesError(f"Chain '{target.chain}' does not exist", 2, usage=True)
            return
        bad = (target.tables is not None and t.name not in target.tables) or \
              (target.hooks is not None and chain.policy is not None and chain.name not in target.hooks)
        if bad:
            raise IptablesError(f" RULE_APPEND failed (Invalid argument): rule in chain {chain.name}", 4)

    def _check_sets(self, names) -> None:
        """The sets a RuleSource's rules match exist (_check_rule's test, for unbuilt rules)."""
        known = getattr(self.ns, "ipsets", None) or {}
        for name in names:
            if name not in known:
                raise IptablesError(f"Set {name} doesn't exist.\n", 2, usage=True)

    def _touch(self, t: Table, *chains: Chain) -> None:
        t.exists = True
        t.refs = None  # a hand edit: recount references when next needed
        for c in chains:
            c.changed()

    # -- rule commands --------------------------------------------------------------------------
    def append(self, table: str, chain: str, rule: Rule) -> None:
        t, c = self.table(table), self.chain(table, chain)
        self._check_rule(t, c, rule)
        c.rules.append(rule)
        self._touch(t, c)

    def insert(self, table: str, chain: str, rule: Rule, num: int = 1) -> None:
        t, c = self.table(table), self.chain(table, chain)
        if num < 1 or num > len(c.rules) + 1:
            raise IptablesError("Index of insertion too big.")
        self._check_rule(t, c, rule)
        c.rules.insert(num - 1, rule)
        self._touch(t, c)

    def replace(self, table: str, chain: str, num: int, rule: Rule) -> None:
        t, c = self.table(table), self.chain(table, chain)
        if num < 1 or num > len(c.rules):
            raise IptablesError("Index of replacement too big.")
        self._check_rule(t, c, rule)
        c.rules[num - 1] = rule
        self._touch(t, c)

    def find(self, table: str, chain: str, rule: Rule) -> int | None:
        """The position (1-based) of the first rule equal to `rule`, as -D and -C compare."""
        c = self.chain(table, chain)
        spec = rule.spec()
        for i, r in enumerate(c.rules):
            if r.spec() == spec:
                return i + 1
        return None

    def delete(self, table: str, chain: str, rule: Rule | int) -> Rule:
        t, c = self.table(table), self.chain(table, chain)
        if isinstance(rule, int):
            if rule < 1 or rule > len(c.rules):
                raise IptablesError("Index of deletion too big.")
            num = rule
        else:
            found = self.find(table, chain, rule)
            if found is None:
                raise IptablesError("Bad rule (does a matching rule exist in that chain?).")
            num = found
        gone = c.rules.pop(num - 1)
        self._touch(t, c)
        return gone

    def check(self, table: str, chain: str, rule: Rule) -> None:
        self.chain(table, chain)
        if self.find(table, chain, rule) is None:
            raise IptablesError("Bad rule (does a matching rule exist in that chain?).")

    # -- chain commands -------------------------------------------------------------------------
    def flush(self, table: str, chain: str | None = None) -> None:
        t = self.table(table)
        chains = [self.chain(table, chain)] if chain is not None else list(t.chains.values())
        for c in chains:
            c.rules = []
        self._touch(t, *chains)

    def zero(self, table: str, chain: str | None = None, num: int | None = None) -> None:
        t = self.table(table)
        chains = [self.chain(table, chain)] if chain is not None else list(t.chains.values())
        for c in chains:
            rules = c.counted_rules() if num is None else c.rules[num - 1:num]
            for r in rules:
                r.pkts = r.bytes = 0
            if num is None:
                c.pkts = c.bytes = 0

    def new_chain(self, table: str, name: str) -> Chain:
        from netlab.net.netfilter.parse import check_chain_name

        t = self.table(table)
        check_chain_name(name)
        if name in t.chains:
            raise IptablesError("Chain already exists.")
        c = t._attach(Chain(name))
        self._touch(t)
        return c

    def delete_chain(self, table: str, name: str | None = None) -> None:
        t = self.table(table)
        if name is None:
            users = [c for c in t.chains.values() if c.policy is None]
            names = {c.name for c in users}
            for c in users:
                if c.rules or any(r.target is not None and r.target.chain == c.name
                                  for ch in t.chains.values() if ch.name not in names for r in ch.rules):
                    raise IptablesError(f" CHAIN_DEL failed (Device or resource busy): chain {c.name}", 4)
            for c in users:
                del t.chains[c.name]
            self._touch(t)
            return
        c = t.chains.get(name)
        if c is None or (c.policy is not None and not c.rules):
            raise IptablesError(NO_CHAIN)
        if c.rules or c.policy is not None or t.references(name):
            raise IptablesError(f" CHAIN_DEL failed (Device or resource busy): chain {name}", 4)
        del t.chains[name]
        self._touch(t)

    def rename_chain(self, table: str, old: str, new: str) -> None:
        from netlab.net.netfilter.parse import check_chain_name

        t = self.table(table)
        c = self.chain(table, old)
        check_chain_name(new)
        if c.policy is not None:
            raise IptablesError(NO_CHAIN)
        if new in t.chains:
            raise IptablesError("File exists.")
        del t.chains[old]
        c.name = new
        t.chains[new] = c
        for ch in t.chains.values():
            if old not in ch.targets():  # leaves a source's rules unbuilt
                continue
            for i, r in enumerate(ch.rules):
                if r.target is not None and r.target.chain == old:
                    nr = _copy_rule(r)
                    nr.target = Jump(new)
                    ch.rules[i] = nr
                    ch.changed()
        self._touch(t)

    def set_policy(self, table: str, chain: str, policy: str, counters: tuple[int, int] | None = None) -> None:
        t = self.table(table)
        c = t.chains.get(chain)
        if c is None or c.policy is None:
            raise IptablesError("Bad built-in chain name.")
        if policy not in POLICIES:
            raise IptablesError("Bad policy name. Run `dmesg' for more information.")
        c.policy = policy
        if counters is not None:
            c.pkts, c.bytes = counters
        self._touch(t, c)

    # -- the structured API: whole tables or chain sets, atomically -----------------------------
    def replace_table(self, table: str, chains: dict[str, Iterable[Rule]], policies: dict[str, str] | None = None,
                      counters: dict[str, tuple[int, int]] | None = None) -> None:
        """What `iptables-restore` does to one table: every chain not named is deleted, every
        built-in chain is flushed, and the named chains get exactly these rules. Validated as a
        whole before anything changes."""
        t = self.table(table)
        new: dict[str, Chain] = {}
        for name in BUILTIN_CHAINS[table]:
            old = t.chains[name]
            c = Chain(name, (policies or {}).get(name, old.policy))
            c.pkts, c.bytes = (counters or {}).get(name, (old.pkts, old.bytes) if counters is None else (0, 0))
            new[name] = c
        for name, rules in chains.items():
            if name not in new:
                if len(name) > MAX_CHAIN_NAME:
                    raise IptablesError(f"chain name `{name}' too long (must be under {MAX_CHAIN_NAME + 1} chars)", 2)
                new[name] = _chain(name, None, rules)
            else:
                new[name].rules = list(rules)
        self._commit(t, _Pending(new, {}, ()), list(new.values()), whole=True)

    def replace_chains(self, table: str, chains: dict[str, Iterable[Rule]], delete: Iterable[str] = (),
                       policies: dict[str, str] | None = None) -> None:
        """`iptables-restore --noflush` for one table: the named chains are created or flushed and
        get these rules, the chains in `delete` are removed, everything else stays. Only what
        changes is checked or copied, so a kube-proxy sync that touches one Service costs little
        even when the table holds hundreds of thousands of chains. A user chain's rules may be a
        RuleSource, built when first read."""
        t = self.table(table)
        current = t.chains
        deleted = list(delete)
        gone: set[str] = set()
        for name in deleted:
            c = current.get(name)
            if c is None or c.policy is not None or name in gone:
                raise IptablesError(NO_CHAIN)
            gone.add(name)
        changes: dict[str, Chain] = {}
        for name, rules in chains.items():
            old = None if name in gone else current.get(name)
            c = _chain(name, old.policy if old is not None else None, rules)
            if old is not None:
                c.pkts, c.bytes = old.pkts, old.bytes
            changes[name] = c
        view = _Pending(changes, current, gone)
        for name, policy in (policies or {}).items():
            c = view.get(name)
            if c is None or c.policy is None:
                raise IptablesError("Bad built-in chain name.")
            c.policy = policy
        self._commit(t, view, list(changes.values()), deleted=deleted)

    def splice(self, table: str, chain: str, start: int, stop: int, rules: list[Rule]) -> None:
        """Replace rules[start:stop] of one chain (what a program that owns a slice of a shared
        chain rewrites — kube-proxy's partial sync). Only the new rules are checked, and the
        reference counts change by the rules that leave and the ones that arrive."""
        t = self.table(table)
        c = self.chain(table, chain)
        if not 0 <= start <= stop <= len(c.rules):
            raise IptablesError("Index of insertion too big.")
        for rule in rules:
            self._check_rule(t, c, rule)
        refs = _references(t)
        _count(refs, rule_targets(c.rules[start:stop]), -1)
        _count(refs, rule_targets(rules), +1)
        c.rules[start:stop] = rules
        c.changed()
        t.exists = True

    def _commit(self, t: Table, view: _Pending, changed: list[Chain], *, deleted: list[str] = (),
                whole: bool = False) -> None:
        """Validate `changed` (the chains written) against the table as `view` shows it after
        the change; then apply it in place, or with `whole` make `view.changes` the table. A
        deleted chain must have no jumps left to it (reference counts kept in `t.refs`)."""
        with paused_gc():
            check = self._check_rule
            changes, base, gone = view.changes, view.base, view.gone
            arriving: list = []  # per chain: the chains a source's rules jump to (asked once)
            for c in changed:
                if c._rules is None:
                    src = c.origin
                    targets = src.targets
                    if src.sets:
                        self._check_sets(src.sets)
                    for name in targets:  # _check_rule's jump check, inline: ~100,000 chains at a kube-proxy sync
                        sub = changes.get(name)
                        if sub is None and name not in gone:
                            sub = base.get(name)
                        if sub is None or sub.policy is not None:
                            raise IptablesError(f"Chain '{name}' does not exist", 2, usage=True)
                    arriving.append(targets)
                    continue
                arriving.append(None)
                # rules already in a replaced chain were checked when added
                old = base.get(c.name)
                seen = {id(r) for r in old._rules} if old is not None and old.built else ()
                for rule in c.rules:
                    target = rule.target
                    if seen and id(rule) in seen:
                        if target is None or target.chain is None or view.get(target.chain) is not None:
                            continue
                    # the common case inline: a jump to an existing user chain, no set match
                    if target.__class__ is Jump and not _has_set(rule):
                        name = target.chain
                        sub = changes.get(name)
                        if sub is None and name not in gone:
                            sub = base.get(name)
                        if sub is not None and sub.policy is None:
                            continue
                    check(t, c, rule, view)
            refs = None
            if not whole:
                refs = _references(t)
                count = refs.get
                for name in deleted:
                    _count(refs, base[name].targets(), -1)
                for c, targets in zip(changed, arriving):
                    old = None if c.name in gone else base.get(c.name)
                    if old is not None:
                        _count(refs, old.targets(), -1)
                    for name in (c.targets() if targets is None else targets):  # _count, inline
                        refs[name] = count(name, 0) + 1
                for name in deleted:
                    if refs.get(name):
                        t.refs = None  # counted as if done: recount from the table when next needed
                        raise IptablesError(f" CHAIN_DEL failed (Device or resource busy): chain {name}", 4)
            if whole:
                t.chains = changes
                for c in changed:
                    c.table = t
            else:
                chains = t.chains
                for name in deleted:
                    del chains[name]
                for c in changed:
                    chains[c.name] = c  # a replaced chain keeps its place, a new one comes last
                    c.table = t  # (a new Chain: not compiled; jumps resolve by name, others stay compiled)
            t.refs = refs
            t.exists = True


class _Pending:
    """A table's chains as a change would leave them, without copying the table: `changes`
    (chains written) over `base` (the table now), less `gone` (chains deleted)."""

    __slots__ = ("changes", "base", "gone")

    def __init__(self, changes: dict[str, Chain], base: dict[str, Chain], gone) -> None:
        self.changes, self.base, self.gone = changes, base, gone

    def get(self, name: str, default=None):
        c = self.changes.get(name)
        if c is None:
            if name in self.gone:
                return default
            c = self.base.get(name, default)
        return c


def _chain(name: str, policy: str | None, rules: Iterable[Rule] | RuleSource) -> Chain:
    if isinstance(rules, RuleSource):
        if policy is not None:
            raise ValueError(f"{name}: a built-in chain's rules cannot come from a RuleSource")
        return Chain(name, source=rules)
    return Chain(name, policy, list(rules))


def _references(t: Table) -> dict[str, int]:
    return t.ref_counts()


def _count(refs: dict[str, int], names, delta: int) -> None:
    get = refs.get
    for name in names:
        refs[name] = get(name, 0) + delta


def _copy_rule(r: Rule) -> Rule:
    nr = Rule.__new__(Rule)
    for slot in Rule.__slots__:
        setattr(nr, slot, getattr(r, slot))
    nr._text = None
    return nr
