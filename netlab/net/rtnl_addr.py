"""RTM_NEWADDR / RTM_DELADDR: the kernel's side of `ip addr` and `ifconfig`.

inet_rtm_newaddr and inet_rtm_deladdr: an address is identified by its local address and
prefix length; a second address in the subnet of a primary one becomes secondary; deleting
a primary promotes the next secondary of its subnet (promote_secondaries=1, as systemd sets
it on every distribution netlab imitates).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from netlab.net.addr import mask, network
from netlab.net.fib import SCOPE_HOST, SCOPE_UNIVERSE
from netlab.net.rtnl import RtnlError

if TYPE_CHECKING:
    from netlab.net.device import Device, IfAddr
    from netlab.net.netns import NetNS


@dataclass
class AddrSpec:
    ip: int
    plen: int = 32
    broadcast: int | None = None
    scope: int | None = None  # None: host for 127/8, else global (iproute2's default_scope)
    label: str | None = None
    metric: int = 0
    noprefixroute: bool = False


def default_scope(ip: int) -> int:
    return SCOPE_HOST if ip >> 24 == 127 else SCOPE_UNIVERSE


def find(dev: Device, ip: int, plen: int | None) -> IfAddr | None:
    for a in dev.addrs:
        if a.ip == ip and (plen is None or a.plen == plen):
            return a
    return None


def addr_new(ns: NetNS, dev: Device, spec: AddrSpec, *, replace: bool = False) -> IfAddr:
    scope = default_scope(spec.ip) if spec.scope is None else spec.scope
    existing = find(dev, spec.ip, spec.plen)
    if existing is not None:
        if not replace:
            raise RtnlError("EEXIST", "ipv4: Address already assigned")
        existing.metric = spec.metric  # inet_rtm_newaddr with NLM_F_REPLACE: lifetimes and metric
        return existing
    for a in dev.addrs:
        if not a.secondary and a.plen == spec.plen and network(a.ip, a.plen) == network(spec.ip, spec.plen) \
                and a.scope != scope:
            raise RtnlError("EINVAL", "ipv4: Invalid scope value")
    return ns.addr_add(dev, spec.ip, spec.plen, broadcast_addr=spec.broadcast, scope=scope, label=spec.label,
                       metric=spec.metric, noprefixroute=spec.noprefixroute)


def addr_del(ns: NetNS, dev: Device, ip: int, plen: int | None, label: str | None = None) -> IfAddr:
    """`plen` None is iproute2's wildcard deletion: the first address with that local IP."""
    target = next((a for a in dev.addrs if a.ip == ip and (plen is None or a.plen == plen)
                   and (label is None or (a.label or dev.name) == label)), None)
    if target is None:
        raise RtnlError("EADDRNOTAVAIL", "ipv4: Address not found")
    ns.addr_del(dev, target.ip, target.plen)
    if not target.secondary:
        _promote(ns, dev, target)
    return target


def _promote(ns: NetNS, dev: Device, gone: IfAddr) -> None:
    net = network(gone.ip, gone.plen)
    for a in list(dev.addrs):
        if a.secondary and a.plen == gone.plen and a.ip & mask(a.plen) == net:
            ns.addr_del(dev, a.ip, a.plen)
            ns.addr_add(dev, a.ip, a.plen, broadcast_addr=a.broadcast, scope=a.scope, label=a.label,
                        metric=a.metric, noprefixroute=a.noprefixroute)
            return
