"""iptables, iptables-save and iptables-restore on a node (the nf_tables build, v1.8.9).

Pods have no NET_ADMIN, so the tools are not there (`sh: iptables: not found`)."""
from __future__ import annotations

from netlab.net import netfilter
from netlab.net.netfilter.cli import iptables, iptables_restore, iptables_save
from netlab.shell.registry import Invocation, command


def _run(inv: Invocation, out: str, code: int) -> int:
    inv.write(out)
    return code


@command("iptables", "iptables-nft", where=("node",), summary="administer IPv4 packet filtering and NAT")
def cmd_iptables(inv: Invocation) -> int:
    return _run(inv, *iptables(netfilter.load(inv.ns), inv.argv[1:]))


@command("iptables-save", "iptables-nft-save", where=("node",), summary="dump iptables rules")
def cmd_iptables_save(inv: Invocation) -> int:
    return _run(inv, *iptables_save(netfilter.load(inv.ns), inv.argv[1:]))


@command("iptables-restore", "iptables-nft-restore", where=("node",), summary="restore iptables rules (FILE or stdin)")
def cmd_iptables_restore(inv: Invocation) -> int:
    return _run(inv, *iptables_restore(netfilter.load(inv.ns), inv.argv[1:], inv.stdin))
