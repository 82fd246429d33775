"""VXLAN tunnel endpoints (drivers/net/vxlan): FDB to remote VTEPs, encap and decap.

flannel's `flannel.1` is one of these: VNI 1, UDP port 8472, `nolearning`, with
FDB entries written by flanneld that map each remote VTEP MAC to its node IP.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from netlab.net import trace as T
from netlab.net.addr import ZERO_MAC, fmt_ip, is_multicast_mac
from netlab.net.device import Device
from netlab.net.packet import (ARP, ARP_REPLY, ARP_REQUEST, ETH_P_ARP, ETH_P_IP, IPPROTO_UDP, UDP, VXLAN,
                               VXLAN_OVERHEAD, Frame, IPv4, evolve, flow_key)

if TYPE_CHECKING:
    from netlab.net.trace import Trace

PORT_RANGE = (32768, 60999)  # net.ipv4.ip_local_port_range: vxlan's default source ports


@dataclass(slots=True, eq=False)
class VxlanFdb:
    mac: str
    dst: int
    permanent: bool = True
    updated: float = 0.0


class Vxlan(Device):
    kind = "vxlan"
    latency = 10e-6

    def __init__(self, name: str, mac: str, vni: int, *, local: int | None = None, dstport: int = 8472,
                 lower: Device | None = None, learning: bool = True, proxy: bool = False,
                 l2miss: bool = False, l3miss: bool = False, mtu: int = 1450, ttl: int = 0) -> None:
        super().__init__(name, mac, mtu)
        self.vni = vni
        self.local = local
        self.dstport = dstport
        self.lower = lower
        self.vxlan_learning = learning
        self.proxy = proxy
        self.l2miss = l2miss
        self.l3miss = l3miss
        self.ttl = ttl
        self.ageing = 300
        self.fdb: dict[str, list[VxlanFdb]] = {}
        # Netlink miss notifications (what flanneld listens for before 0.9).
        self.on_l2miss: Callable[[Vxlan, str], None] | None = None
        self.on_l3miss: Callable[[Vxlan, int], None] | None = None

    @property
    def carrier(self) -> bool:
        return self.admin_up

    # -- FDB -------------------------------------------------------------------
    def fdb_add(self, mac: str, dst: int, *, append: bool = False, replace: bool = False) -> None:
        from netlab.net.errors import EEXIST, NetError

        entries = self.fdb.get(mac, [])
        entry = VxlanFdb(mac, dst, updated=self.ns.world.clock if self.ns else 0.0)
        if replace:
            self.fdb[mac] = [entry]
        elif append:
            if any(e.dst == dst for e in entries):
                raise NetError(EEXIST)
            self.fdb[mac] = entries + [entry]
        else:
            if entries:
                raise NetError(EEXIST)
            self.fdb[mac] = [entry]

    def fdb_del(self, mac: str, dst: int | None = None) -> bool:
        entries = self.fdb.get(mac)
        if not entries:
            return False
        if dst is None:
            del self.fdb[mac]
            return True
        keep = [e for e in entries if e.dst != dst]
        if len(keep) == len(entries):
            return False
        if keep:
            self.fdb[mac] = keep
        else:
            del self.fdb[mac]
        return True

    def fdb_entries(self) -> list[VxlanFdb]:
        return [e for es in self.fdb.values() for e in es]

    # -- transmit: encapsulate -------------------------------------------------
    def xmit(self, frame: Frame, trace: Trace) -> None:
        ns = self.ns
        if frame.ethertype == ETH_P_ARP and self.proxy and frame.payload.op == ARP_REQUEST:
            self._arp_reduce(frame, trace)
            return
        entries = self.fdb.get(frame.dst)
        how = "FDB"
        if not entries:
            entries = self.fdb.get(ZERO_MAC)
            how = "default FDB entry 00:00:00:00:00:00"
        if not entries:
            # vxlan_xmit: a miss is reported to user space (L2MISS) and this frame is dropped;
            # an entry the agent adds serves the next frame, not this one.
            self.stats.tx_dropped += 1
            if self.l2miss and self.on_l2miss is not None and not is_multicast_mac(frame.dst):
                trace.add(ns.name, self.name, T.FDB, f"vxlan {self.name}: no FDB entry for {frame.dst}: L2MISS sent to the agent")
                self.on_l2miss(self, frame.dst)
            trace.end(T.DROPPED, f"vxlan {self.name}: no FDB entry for {frame.dst} (which remote VTEP has this MAC?)", ns.name, self.name)
            return
        self.stats.tx(frame.length)
        trace.t += self.latency
        for entry in entries:
            self._encap(frame, entry, how, trace)

    def _encap(self, frame: Frame, entry: VxlanFdb, how: str, trace: Trace) -> None:
        ns = self.ns
        if ns.is_local(entry.dst):
            self._encap_bypass(frame, entry, how, trace)
            return
        inner_ip = frame.ip
        src = self.local if self.local is not None else 0
        key = flow_key(inner_ip) if inner_ip is not None else (frame.src, frame.dst)
        lo, hi = PORT_RANGE
        sport = lo + zlib.crc32(repr(key).encode()) % (hi - lo + 1)
        payload = VXLAN(self.vni, frame)
        outer = IPv4(src, entry.dst, IPPROTO_UDP, UDP(sport, self.dstport, payload, payload.length),
                     ttl=self.ttl or 64, df=False, tos=inner_ip.tos if inner_ip is not None else 0)
        trace.add(ns.name, self.name, T.ENCAP,
                  f"vxlan {self.name}: {how} {frame.dst} → dst {fmt_ip(entry.dst)}; encapsulate in UDP "
                  f"{fmt_ip(src)}:{sport} → {fmt_ip(entry.dst)}:{self.dstport}, VNI {self.vni} (+{VXLAN_OVERHEAD} bytes)",
                  outer, {"vni": self.vni, "remote": entry.dst})
        ns.ip_local_out(outer, trace, tunnel_inner=frame)

    def _encap_bypass(self, frame: Frame, entry: VxlanFdb, how: str, trace: Trace) -> None:
        """encap_bypass_if_local: a remote that is one of this namespace's own addresses is not
        encapsulated. The frame goes straight to the local VXLAN device with this VNI and port,
        marked PACKET_HOST (vxlan_encap_bypass never looks at its destination MAC). So an FDB
        entry pointing at the node's own IP hands a packet for a remote pod back to this node's
        stack, which routes it out again until its TTL runs out."""
        ns = self.ns
        # vxlan_find_vni: the first device on this port with this VNI (this one, at the latest).
        target = next((d for d in ns.devices.values()
                       if isinstance(d, Vxlan) and d.vni == self.vni and d.dstport == self.dstport), self)
        trace.add(ns.name, self.name, T.ENCAP,
                  f"vxlan {self.name}: {how} {frame.dst} → dst {fmt_ip(entry.dst)} is a local address: not encapsulated, "
                  f"handed to {target.name} (VNI {self.vni}) as a frame for this host", frame,
                  {"vni": self.vni, "remote": entry.dst})
        ns.world.post(target._bypass_rcv, frame, trace)

    def _bypass_rcv(self, frame: Frame, trace: Trace) -> None:
        ns = self.ns
        if not self.admin_up:
            self.stats.rx_dropped += 1
            trace.end(T.DROPPED, f"{self.name} is down", ns.name, self.name)
            return
        self.stats.rx(frame.length)
        trace.t += self.latency
        if self.master is not None:
            self.master.port_input(self, frame, trace)
        elif frame.ethertype == ETH_P_ARP:
            ns.arp_rcv(self, frame, trace)
        elif frame.ethertype == ETH_P_IP:
            ns.ip_rcv(self, frame, trace)
        else:
            ns.l2_rcv(self, frame, trace)

    def _arp_reduce(self, frame: Frame, trace: Trace) -> None:
        """With `proxy`, the VTEP answers ARP itself from the neighbour table (or asks the agent)."""
        ns = self.ns
        arp = frame.payload
        entry = ns.neigh.lookup_valid(self, arp.target_ip)
        if entry is None and self.l3miss and self.on_l3miss is not None:
            trace.add(ns.name, self.name, T.NEIGH, f"vxlan {self.name}: no neighbour for {fmt_ip(arp.target_ip)}: L3MISS sent to the agent")
            self.on_l3miss(self, arp.target_ip)  # the agent sets the entry, which releases the queue
            return
        if entry is None or entry.lladdr is None:
            trace.add(ns.name, self.name, T.ARP, f"vxlan {self.name}: proxy ARP has no answer for {fmt_ip(arp.target_ip)}")
            return
        reply = Frame(entry.lladdr, frame.src, ETH_P_ARP,
                      ARP(ARP_REPLY, entry.lladdr, arp.target_ip, arp.sender_mac, arp.sender_ip))
        trace.add(ns.name, self.name, T.ARP, f"vxlan {self.name}: proxy ARP reply {fmt_ip(arp.target_ip)} is-at {entry.lladdr}")
        ns.world.post(self.receive, reply, trace)

    # -- receive: decapsulate --------------------------------------------------
    def decap(self, outer: IPv4, trace: Trace) -> None:
        ns = self.ns
        payload = outer.l4.payload
        inner = payload.inner
        if inner.src == self.mac:
            self.stats.rx_dropped += 1
            trace.end(T.DROPPED, f"vxlan {self.name}: inner source {inner.src} is this VTEP's own MAC: a loop, dropped", ns.name, self.name)
            return
        if self.vxlan_learning and not self._snoop(inner.src, outer.src, trace):
            return
        trace.t += self.latency
        trace.add(ns.name, self.name, T.DECAP,
                  f"vxlan {self.name}: UDP :{self.dstport} VNI {payload.vni} from {fmt_ip(outer.src)}: decapsulate, inner frame {inner.src} > {inner.dst}",
                  inner)
        self.receive(evolve(inner, meta={}), trace)

    def _snoop(self, mac: str, remote: int, trace: Trace) -> bool:
        """vxlan_snoop (learning on): learn or migrate `mac` to the VTEP it came from.
        Returns False when the packet must be dropped: a static entry is never migrated."""
        entries = self.fdb.get(mac)
        now = self.ns.world.clock
        if not entries:
            self.fdb[mac] = [VxlanFdb(mac, remote, permanent=False, updated=now)]
            return True
        first = entries[0]
        if first.dst == remote:
            return True
        if first.permanent:
            self.stats.rx_dropped += 1
            trace.end(T.DROPPED, f"vxlan {self.name}: {mac} arrived from {fmt_ip(remote)} but a static FDB entry says "
                      f"{fmt_ip(first.dst)}: not migrated, dropped", self.ns.name, self.name)
            return False
        first.dst = remote  # "<mac> migrated from <old> to <new>"
        first.updated = now
        return True


def vxlan_socket(ns, port: int):
    """The UDP receive handler a VXLAN port binds in its namespace (vxlan_rcv): demux by VNI."""

    def rcv(ns_, pkt: IPv4, dev, trace: Trace) -> bool:
        payload = pkt.l4.payload
        if not isinstance(payload, VXLAN):
            trace.end(T.DROPPED, f"UDP :{port} packet is not VXLAN", ns_.name, dev.name if dev else None)
            return True
        for d in ns_.devices.values():
            if isinstance(d, Vxlan) and d.dstport == port and d.vni == payload.vni and d.admin_up:
                d.decap(pkt, trace)
                return True
        trace.end(T.DROPPED, f"no VXLAN device for VNI {payload.vni} on port {port}", ns_.name, dev.name if dev else None)
        return True

    return rcv
