"""netfilter for netlab's namespaces: iptables tables, conntrack, NAT, br_netfilter.

`load(ns)` gives a namespace its netfilter layer (`ns.netfilter`); namespaces without one
pay nothing on their packet path. Programs build rules directly and swap them in whole:

    from netlab.net import netfilter as nf
    f = nf.load(node.ns)
    f.replace_chains("nat", {
        "KUBE-SERVICES": [nf.Rule(dst="10.96.0.10/32", proto="tcp",
                                  matches=[nf.Comment("kube-system/kube-dns:dns-tcp cluster IP"), nf.Tcp(dport=53)],
                                  target=nf.Jump("KUBE-SVC-ERIFXISQEP7F7OF4"))],
        ...})

A user chain's rules may also be a `RuleSource`: a compact description that declares the
chains its rules jump to and builds the rules only when something reads them (kube-proxy's
per-Service chains, most of which no packet ever walks).

Wrap a big build in `with nf.paused_gc():` (CPython's cycle collector otherwise rescans
the growing heap). People use `iptables`, `iptables-save` and `iptables-restore` (cli.py), or `f.restore(text)`.
"""
from __future__ import annotations

from netlab.net.netfilter.engine import Netfilter
from netlab.net.netfilter.matches import (AddrType, Comment, Conntrack, Icmp, Mark, Multiport, Physdev, Recent,
                                          SetMatch, Statistic, Tcp, Udp)
from netlab.net.netfilter.model import Chain, IptablesError, Rule, RuleSource, Table
from netlab.net.netfilter.ops import paused_gc
from netlab.net.netfilter.targets import (ACCEPT_T, DROP_T, RETURN_T, ConnMark, Dnat, Jump, Log, MarkTarget,
                                          Masquerade, NatRange, NoTrack, Reject, Snat)

ACCEPT, DROP, RETURN = ACCEPT_T, DROP_T, RETURN_T

__all__ = ["load", "Netfilter", "Rule", "RuleSource", "Chain", "Table", "IptablesError", "Tcp", "Udp", "Icmp", "Multiport",
           "Comment", "Mark", "Conntrack", "AddrType", "Statistic", "SetMatch", "Recent", "Physdev", "Jump",
           "Reject", "Dnat", "Snat", "Masquerade", "MarkTarget", "ConnMark", "Log", "NoTrack", "NatRange",
           "ACCEPT", "DROP", "RETURN", "paused_gc"]


def load(ns) -> Netfilter:
    """The namespace's netfilter layer, created on first use; wires br_netfilter into its
    bridges and offers conntrack to IPVS (`ns.conntrack`)."""
    nf = ns.netfilter
    if nf is None:
        nf = ns.netfilter = Netfilter(ns)
        ns.conntrack = nf
    wire_bridges(ns)
    return nf


def wire_bridges(ns) -> None:
    from netlab.net.device import Bridge
    from netlab.net.netfilter.bridge import br_nf_forward

    for dev in ns.devices.values():
        if isinstance(dev, Bridge) and dev.nf_call_iptables is None:
            dev.nf_call_iptables = br_nf_forward
