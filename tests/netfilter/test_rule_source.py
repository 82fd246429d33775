"""Chains whose rules come from a RuleSource: nothing builds them until something reads
them, and everything a person sees (iptables-save, -L, counters, edits, errors) is what it
would be had the rules been handed over as a list."""
from __future__ import annotations

import pytest

from netlab.net import netfilter as nf
from netlab.net.netfilter.listing import list_table
from netlab.net.netfilter.save import restore, save
from netlab.net.world import Dataplane


def netfilter():
    return nf.load(Dataplane(seed=7).add_netns("node"))


class Endpoint(nf.RuleSource):
    """What kube-proxy's KUBE-SEP- source does: a MARK-MASQ jump and a DNAT."""

    __slots__ = ("ip", "builds")
    targets = ("MASQ",)

    def __init__(self, ip: str) -> None:
        super().__init__()
        self.ip = ip
        self.builds = 0

    def build(self):
        self.builds += 1
        return [nf.Rule(src=f"{self.ip}/32", target=nf.Jump("MASQ")),
                nf.Rule(proto="tcp", matches=[nf.Tcp()], target=nf.Dnat(f"{self.ip}:8080"))]


class Liar(Endpoint):
    __slots__ = ()
    targets = ()


def tables(lazy: bool):
    """The same nat table written with sources (lazy) or with the sources' rules as lists."""
    f = netfilter()
    sources = {f"SEP-{i}": Endpoint(f"10.244.0.{i}") for i in (1, 2)}
    chains = {"MASQ": [nf.Rule(target=nf.MarkTarget(0x4000, 0x4000))],
              "SVC": [nf.Rule(matches=[nf.Statistic(probability=0.5)], target=nf.Jump("SEP-1")),
                      nf.Rule(target=nf.Jump("SEP-2"))]}
    chains.update(sources if lazy else {name: list(src.build()) for name, src in sources.items()})
    f.replace_chains("nat", chains)
    f.append("nat", "OUTPUT", nf.Rule(dst="10.96.0.1/32", target=nf.Jump("SVC")))
    return f, sources


def test_nothing_is_built_by_writing_counting_or_listing_another_chain():
    f, sources = tables(lazy=True)
    t = f.table("nat")
    assert not t.chains["SEP-1"].built and all(s.builds == 0 for s in sources.values())
    assert t.references("MASQ") == 2 and t.references("SEP-1") == 1
    assert "Chain MASQ (2 references)" in list_table(t, "MASQ")
    assert all(s.builds == 0 for s in sources.values())


def test_what_people_see_is_what_lists_would_show():
    lazy, _ = tables(lazy=True)
    eager, _ = tables(lazy=False)
    assert save(lazy) == save(eager)
    assert list_table(lazy.table("nat"), numeric=True) == list_table(eager.table("nat"), numeric=True)


def test_a_chain_is_built_once_and_keeps_its_rules():
    f, sources = tables(lazy=True)
    chain = f.table("nat").chains["SEP-1"]
    first = chain.rules
    assert chain.built and chain.rules is first and sources["SEP-1"].builds == 1
    assert chain.origin is sources["SEP-1"]  # unchanged: still what the source describes


def test_a_hand_edit_changes_the_chain_not_the_source():
    f, sources = tables(lazy=True)
    f.delete("nat", "SEP-1", 1)
    chain = f.table("nat").chains["SEP-1"]
    assert len(chain.rules) == 1 and chain.origin is None
    assert len(sources["SEP-1"].rules()) == 2  # a resync from the same source puts the rule back
    f.replace_chains("nat", {"SEP-1": sources["SEP-1"]})
    assert len(f.table("nat").chains["SEP-1"].rules) == 2


def test_counters_live_on_the_rules_a_source_keeps():
    f, sources = tables(lazy=True)
    rule = f.table("nat").chains["SEP-2"].rules[0]
    rule.pkts = 5
    f.flush("nat", "SEP-2")
    f.replace_chains("nat", {"SEP-2": sources["SEP-2"]})
    assert f.table("nat").chains["SEP-2"].rules[0].pkts == 5  # the same Rule object, as a program reusing it gets


def test_zeroing_counters_builds_nothing_and_reaches_rules_a_source_keeps():
    f, sources = tables(lazy=True)
    f.table("nat").chains["SEP-1"].rules[0].pkts = 3
    f.flush("nat", "SEP-1")
    f.replace_chains("nat", {"SEP-1": sources["SEP-1"]})  # unbuilt again; the source keeps the counted rule
    f.zero("nat")
    assert not f.table("nat").chains["SEP-1"].built and sources["SEP-2"].builds == 0
    assert f.table("nat").chains["SEP-1"].rules[0].pkts == 0


def test_references_from_unbuilt_chains_refuse_deleting_what_they_jump_to():
    f, sources = tables(lazy=True)
    with pytest.raises(nf.IptablesError, match="CHAIN_DEL failed"):
        f.replace_chains("nat", {"NEW": [nf.Rule(target=nf.Jump("SVC"))]}, delete=["MASQ"])
    f.flush("nat", "MASQ")
    with pytest.raises(nf.IptablesError, match="CHAIN_DEL failed"):
        f.delete_chain("nat", "MASQ")
    assert not f.table("nat").chains["SEP-1"].built
    assert "NEW" not in f.table("nat").chains and f.table("nat").references("MASQ") == 2  # refused: nothing changed


def test_a_source_jumping_to_a_missing_chain_is_refused_whole():
    f = netfilter()
    with pytest.raises(nf.IptablesError, match="Chain 'MASQ' does not exist"):
        f.replace_chains("nat", {"SEP-1": Endpoint("10.244.0.1")})
    assert "SEP-1" not in f.table("nat").chains


def test_a_source_whose_rules_disagree_with_its_targets_is_caught_when_built():
    f = netfilter()
    f.replace_chains("nat", {"MASQ": [], "SEP-1": Liar("10.244.0.1")})
    with pytest.raises(AssertionError, match="targets differ"):
        f.table("nat").chains["SEP-1"].rules


def test_restore_noflush_leaves_other_chains_unbuilt_and_rename_retargets():
    f, sources = tables(lazy=True)
    restore(f, "*nat\n-A SVC -j RETURN\nCOMMIT\n", noflush=True)
    t = f.table("nat")
    assert not t.chains["SEP-1"].built and len(t.chains["SVC"].rules) == 3
    f.rename_chain("nat", "MASQ", "MASQ2")
    assert "-A SEP-1 -s 10.244.0.1/32 -j MASQ2" in save(f)
