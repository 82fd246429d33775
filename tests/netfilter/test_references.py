"""`(N references)` in iptables -L and the busy check of -X come from the reference counts
the table keeps (taken once, then kept up to date), not from a scan of every chain per
chain listed: after any sequence of edits — commands, programs' replace_chains and splice,
iptables-restore — they equal a count from scratch, and listing N chains reads each
chain's targets about once, not N times."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netlab.net import netfilter as nf
from netlab.net.netfilter.listing import list_table
from netlab.net.netfilter.model import Chain, IptablesError, rule_targets
from netlab.net.netfilter.save import RestoreError, restore
from netlab.net.world import Dataplane

NAMES = [f"C{i}" for i in range(4)]


class Jumps(nf.RuleSource):
    """A program's chain, built only when read: one jump per target."""

    __slots__ = ("to",)

    def __init__(self, *to: str) -> None:
        super().__init__()
        self.to = to

    @property
    def targets(self):  # type: ignore[override]
        return self.to

    def build(self):
        return [nf.Rule(target=nf.Jump(name)) for name in self.to]


def netfilter():
    f = nf.load(Dataplane(seed=3).add_netns("node"))
    f.replace_chains("nat", {name: [] for name in NAMES})
    return f


def from_scratch(t, name: str) -> int:
    return sum(rule_targets(c.rules).count(name) for c in t.chains.values())


def jump(name: str) -> nf.Rule:
    return nf.Rule(target=nf.Jump(name))


def step(f, op: str, a: int, b: int) -> None:
    src, dst = NAMES[a], NAMES[b]
    if op == "append":
        f.append("nat", src, jump(dst))
    elif op == "insert":
        f.insert("nat", "OUTPUT", jump(dst), 1)
    elif op == "delete":
        f.delete("nat", src, 1)
    elif op == "flush":
        f.flush("nat", src)
    elif op == "new":
        f.new_chain("nat", src)
    elif op == "delete_chain":
        f.delete_chain("nat", src)
    elif op == "rename":  # and back, so the names stay in play
        f.rename_chain("nat", src, "TMP")
        f.rename_chain("nat", "TMP", src)
    elif op == "replace":
        f.replace_chains("nat", {src: Jumps(dst, dst) if b % 2 else [jump(dst)]})
    elif op == "replace_delete":
        f.replace_chains("nat", {}, delete=[src])
    elif op == "splice":
        f.splice("nat", src, 0, min(1, len(f.chain("nat", src).rules)), [jump(dst)])
    elif op == "restore":  # a declared chain is flushed; -X must see that and the new jumps
        restore(f, f"*nat\n:{src} - [0:0]\n-A {src} -j {dst}\n-X {NAMES[(a + 1) % 4]}\nCOMMIT\n", noflush=True)


OPS = st.lists(st.tuples(st.sampled_from(["append", "insert", "delete", "flush", "new", "delete_chain", "rename",
                                          "replace", "replace_delete", "splice", "restore"]),
                         st.integers(0, 3), st.integers(0, 3)), max_size=25)


@settings(max_examples=80, deadline=None)
@given(ops=OPS)
def test_reference_counts_equal_a_count_from_scratch(ops):
    f = netfilter()
    t = f.table("nat")
    for op, a, b in ops:
        try:
            step(f, op, a, b)
        except (IptablesError, RestoreError):  # refused: nothing changes
            pass
        t = f.table("nat")
        for name in t.chains:
            assert t.references(name) == from_scratch(t, name), (op, a, b, name)


def test_restore_deleting_a_chain_a_rule_earlier_in_it_jumps_to_is_refused():
    f = netfilter()
    f.append("nat", "C0", jump("C1"))
    text = "*nat\n-X C3\n:C0 - [0:0]\n-X C1\nCOMMIT\n"  # C0 flushed: nothing jumps to C1 any more
    restore(f, text, noflush=True)
    t = f.table("nat")
    assert "C1" not in t.chains and "C3" not in t.chains
    f = netfilter()
    text = "*nat\n-X C3\n-A C0 -j C1\n-X C1\nCOMMIT\n"  # counted for -X C3, then a new jump to C1
    with pytest.raises(RestoreError) as err:
        restore(f, text, noflush=True)
    assert "CHAIN_DEL failed (Device or resource busy): chain C1" in err.value.text
    assert "C3" in f.table("nat").chains  # nothing committed


def test_listing_every_chain_reads_each_chain_once(monkeypatch):
    f = nf.load(Dataplane(seed=3).add_netns("node"))
    n = 300
    f.replace_chains("nat", {f"S{i}": Jumps(f"S{i + 1}") if i + 1 < n else [] for i in range(n)})
    t = f.table("nat")
    t.refs = None  # as after a hand edit: counted again when -L asks
    calls = 0
    targets = Chain.targets

    def counting(self):
        nonlocal calls
        calls += 1
        return targets(self)

    monkeypatch.setattr(Chain, "targets", counting)
    text = list_table(t, numeric=True)
    assert "Chain S1 (1 references)" in text and "Chain S0 (0 references)" in text
    assert calls <= len(t.chains) + 5  # one pass, not one per chain listed (that was n * n)
