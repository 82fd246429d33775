"""RTM_NEWNEIGH / RTM_DELNEIGH: the kernel's side of `ip neigh`, `arp` and `bridge fdb`.

For AF_INET it is neigh_add/neigh_delete on the ARP table. For AF_BRIDGE (`bridge fdb`)
rtnl_fdb_add/rtnl_fdb_del route the request: `master` to the bridge a port belongs to
(br_fdb_add), `self` to the device's own driver: a VXLAN device's FDB of remote VTEPs
(vxlan_fdb_add), a bridge's own addresses, or for any other device its unicast and
multicast address lists (ndo_dflt_fdb_add).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from netlab.net import neigh as N
from netlab.net.addr import ZERO_MAC, is_multicast_mac
from netlab.net.device import Bridge, FdbEntry
from netlab.net.rtnl import RtnlError
from netlab.net.vxlan import Vxlan, VxlanFdb

if TYPE_CHECKING:
    from netlab.net.device import Device
    from netlab.net.netns import NetNS

NUD_NAMES = {"permanent": N.PERMANENT, "reachable": N.REACHABLE, "noarp": N.NOARP, "stale": N.STALE,
             "incomplete": N.INCOMPLETE, "delay": N.DELAY, "probe": N.PROBE, "failed": N.FAILED, "none": "NONE"}


# -- ARP table ---------------------------------------------------------------------------------
def neigh_new(ns: NetNS, dev: Device, ip: int, lladdr: str | None, state: str, *, create: bool = True,
              excl: bool = True) -> N.Neighbour | None:
    """neigh_add + __neigh_update(NEIGH_UPDATE_F_ADMIN) for `ip neigh add|change|replace`."""
    entry = ns.neigh.get(dev, ip)
    if entry is not None:
        if excl:
            raise RtnlError("EEXIST")
    elif not create:
        raise RtnlError("ENOENT")
    if state == "NONE":
        if entry is not None:
            ns.neigh.delete(dev, ip)
        return None
    if state in N.VALID and lladdr is None:
        if entry is None or entry.state not in N.VALID or entry.lladdr is None:
            raise RtnlError("EINVAL", "No link layer address given")
        lladdr = entry.lladdr
    if state not in N.VALID:
        lladdr = entry.lladdr if entry is not None and lladdr is None else lladdr
    entry, released = ns.neigh.update(dev, ip, lladdr, state, override=True)
    if entry.state != state:  # a fresh entry is created with the state asked for
        entry.state = state
    if released and lladdr is not None:
        ns.release_queued(dev, entry, released)
    return entry


def neigh_del(ns: NetNS, dev: Device, ip: int) -> N.Neighbour:
    entry = ns.neigh.get(dev, ip)
    if entry is None:
        raise RtnlError("ENOENT")
    ns.neigh.delete(dev, ip)
    return entry


# -- FDB ---------------------------------------------------------------------------------------
def uc_list(dev: Device) -> list[str]:
    """dev->uc and dev->mc entries added by `bridge fdb add ... self` on a plain device."""
    lst = getattr(dev, "fdb_self", None)
    if lst is None:
        lst = dev.fdb_self = []
    return lst


def fdb_add(ns: NetNS, dev: Device, mac: str, *, self_: bool, master: bool, state: str, dst: int | None = None,
            create: bool = True, excl: bool = True, replace: bool = False, append: bool = False) -> None:
    """rtnl_fdb_add. `state` is "permanent", "static" or "dynamic" (NUD_PERMANENT,
    NUD_NOARP, NUD_REACHABLE as iproute2 sends them)."""
    if not self_ and not master:
        self_ = True  # iproute2: "Assume self"
    done = False
    if master and dev.master is not None:
        _bridge_fdb_add(dev.master, dev, mac, state, create=create, excl=excl)
        done = True
    if self_:
        if isinstance(dev, Vxlan):
            _vxlan_fdb_add(dev, mac, dst, state, create=create, excl=excl, replace=replace, append=append)
        elif isinstance(dev, Bridge):
            _bridge_fdb_add(dev, None, mac, state, create=create, excl=excl)
        else:
            if state != "permanent":
                raise RtnlError("EINVAL")  # "FDB only supports static addresses"
            lst = uc_list(dev)
            if mac in lst:
                if excl:
                    raise RtnlError("EEXIST")
            else:
                lst.append(mac)
        done = True
    if not done:
        raise RtnlError("EOPNOTSUPP")


def _bridge_fdb_add(br: Bridge, port: Device | None, mac: str, state: str, *, create: bool, excl: bool) -> None:
    """br_fdb_add → fdb_add_entry. `permanent` makes a local entry (frames for it go up to the
    host), `static` a forwarding entry that never ages, `dynamic` one that ages like a learned one."""
    if port is None and state != "permanent":
        raise RtnlError("EINVAL")
    entry = br.fdb.get(mac)
    if entry is not None and excl:
        raise RtnlError("EEXIST")
    if entry is None and not create:
        raise RtnlError("ENOENT")
    br.fdb[mac] = FdbEntry(mac, port or br, local=state == "permanent", static=state in ("permanent", "static"),
                           updated=br.ns.world.clock)


def _vxlan_fdb_add(dev: Vxlan, mac: str, dst: int | None, state: str, *, create: bool, excl: bool, replace: bool,
                   append: bool) -> None:
    """vxlan_fdb_update: replace changes the first remote of a unicast entry; append adds a
    remote to the all-zeros (or a multicast) entry and leaves unicast entries alone."""
    group = mac == ZERO_MAC or is_multicast_mac(mac)
    permanent = state != "dynamic"
    remotes = dev.fdb.get(mac)
    now = dev.ns.world.clock
    dst = dst or 0
    if remotes:
        if excl:
            raise RtnlError("EEXIST")
        if replace:
            if group:
                raise RtnlError("EOPNOTSUPP", "Cannot replace non-unicast FDB entries")
            remotes[0].dst, remotes[0].permanent, remotes[0].updated = dst, permanent, now
        if append and group and not any(r.dst == dst for r in remotes):
            remotes.append(VxlanFdb(mac, dst, permanent, now))
        return
    if not create:
        raise RtnlError("ENOENT")
    if replace and group:
        raise RtnlError("EOPNOTSUPP")
    dev.fdb[mac] = [VxlanFdb(mac, dst, permanent, now)]


def fdb_del(ns: NetNS, dev: Device, mac: str, *, self_: bool, master: bool, dst: int | None = None) -> None:
    """rtnl_fdb_del."""
    if not self_ and not master:
        self_ = True
    done = False
    if master and dev.master is not None:
        br = dev.master
        entry = br.fdb.get(mac)
        if entry is None or entry.port is not dev:
            raise RtnlError("ENOENT")
        del br.fdb[mac]
        done = True
    if self_:
        if isinstance(dev, Vxlan):
            remotes = dev.fdb.get(mac)
            if not remotes:
                raise RtnlError("ENOENT")
            if dst:
                keep = [r for r in remotes if r.dst != dst]
                if len(keep) == len(remotes):
                    raise RtnlError("ENOENT")
                if keep:
                    dev.fdb[mac] = keep
                    return
            del dev.fdb[mac]
        elif isinstance(dev, Bridge):
            entry = dev.fdb.get(mac)
            if entry is None or entry.port is not dev:
                raise RtnlError("ENOENT")
            del dev.fdb[mac]
        else:
            lst = uc_list(dev)
            if mac not in lst:
                raise RtnlError("ENOENT")
            lst.remove(mac)
        done = True
    if not done:
        raise RtnlError("EOPNOTSUPP")
