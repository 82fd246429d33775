"""Network devices and what each does with a frame it transmits or receives.

`xmit` is dev_queue_xmit for this kind of device; `receive` is netif_receive_skb.
Frames cross between devices only through `Dataplane.post`, so a flood or an ARP
exchange is processed breadth-first and a loop cannot recurse without bound.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from netlab.net import trace as T
from netlab.net.addr import BROADCAST_MAC, is_multicast_mac

if TYPE_CHECKING:
    from netlab.net.netns import NetNS
    from netlab.net.packet import Frame
    from netlab.net.trace import Trace


@dataclass(slots=True)
class IfAddr:
    ip: int
    plen: int
    broadcast: int | None = None
    scope: int = 0
    label: str | None = None
    metric: int = 0
    noprefixroute: bool = False
    secondary: bool = False


@dataclass(slots=True)
class Stats:
    rx_packets: int = 0
    rx_bytes: int = 0
    rx_errors: int = 0
    rx_dropped: int = 0
    tx_packets: int = 0
    tx_bytes: int = 0
    tx_errors: int = 0
    tx_dropped: int = 0

    def rx(self, n: int) -> None:
        self.rx_packets += 1
        self.rx_bytes += n

    def tx(self, n: int) -> None:
        self.tx_packets += 1
        self.tx_bytes += n


class Device:
    kind = "ether"
    latency = 2e-6  # simulated seconds a frame spends in this device
    arp = True  # IFF_NOARP is the inverse
    broadcast_capable = True
    qdisc = "noqueue"
    txqlen = 1000

    def __init__(self, name: str, mac: str, mtu: int = 1500) -> None:
        self.name = name
        self.mac = mac
        self.mtu = mtu
        self.ifindex = 0
        self.ns: NetNS | None = None
        self.admin_up = False
        self.master: Bridge | None = None
        self.addrs: list[IfAddr] = []
        self.stats = Stats()
        self.alias: str | None = None
        # bridge-port attributes (meaningful when master is set)
        self.hairpin = False
        self.learning = True
        self.port_state = "forwarding"

    # -- state -----------------------------------------------------------------
    @property
    def carrier(self) -> bool:
        return self.admin_up

    @property
    def is_up(self) -> bool:
        return self.admin_up and self.carrier

    def flags(self) -> list[str]:
        """The flag words `ip link` prints between < >, in iproute2's order."""
        out = []
        if self.admin_up and not self.carrier:
            out.append("NO-CARRIER")
        if self.kind == "loopback":
            out.append("LOOPBACK")
        elif self.broadcast_capable:
            out.append("BROADCAST")
        if not self.arp and self.kind != "loopback":  # lo is IFF_LOOPBACK, never IFF_NOARP
            out.append("NOARP")
        if self.kind != "loopback":
            out.append("MULTICAST")
        if self.admin_up:
            out.append("UP")
        if self.is_up:
            out.append("LOWER_UP")
        return out

    def operstate(self) -> str:
        if self.kind == "loopback":
            return "UNKNOWN"
        if not self.admin_up:
            return "DOWN"
        return "UP" if self.carrier else "DOWN"

    def link_suffix(self) -> str:
        """`@ifN` / `@NONE` / `@eth0` after the name in `ip link`."""
        return ""

    # -- packet path -----------------------------------------------------------
    def xmit(self, frame: Frame, trace: Trace) -> None:
        raise NotImplementedError

    def receive(self, frame: Frame, trace: Trace) -> None:
        """A frame arrived on this device from the wire (or from the peer)."""
        ns = self.ns
        if not self.is_up:
            self.stats.rx_dropped += 1
            trace.end(T.DROPPED, f"{self.name} is down", ns.name, self.name)
            return
        self.stats.rx(frame.length)
        if self.master is not None:
            self.master.port_input(self, frame, trace)
            return
        ns.l2_rcv(self, frame, trace)

    def accepts(self, frame: Frame) -> bool:
        """Would the stack take this frame (PACKET_HOST/BROADCAST/MULTICAST)?"""
        dst = frame.dst
        return dst == self.mac or dst == BROADCAST_MAC or is_multicast_mac(dst)


class Loopback(Device):
    kind = "loopback"
    latency = 1e-6
    arp = False
    broadcast_capable = False
    qdisc = "noqueue"

    def __init__(self) -> None:
        super().__init__("lo", "00:00:00:00:00:00", 65536)

    def xmit(self, frame: Frame, trace: Trace) -> None:
        self.stats.tx(frame.length)
        self.ns.world.post(self.receive, frame, trace)

    def accepts(self, frame: Frame) -> bool:
        return True


class Veth(Device):
    kind = "veth"
    latency = 4e-6

    def __init__(self, name: str, mac: str, mtu: int = 1500) -> None:
        super().__init__(name, mac, mtu)
        self.peer: Veth | None = None

    @property
    def carrier(self) -> bool:
        return self.admin_up and self.peer is not None and self.peer.admin_up

    def link_suffix(self) -> str:
        if self.peer is None:
            return "@NONE"
        return f"@if{self.peer.ifindex}" if self.peer.ns is not self.ns else f"@{self.peer.name}"

    def xmit(self, frame: Frame, trace: Trace) -> None:
        peer = self.peer
        if not self.is_up or peer is None:
            self.stats.tx_dropped += 1
            trace.end(T.DROPPED, f"{self.name}: no carrier (peer is down)", self.ns.name, self.name)
            return
        self.stats.tx(frame.length)
        trace.t += self.latency
        trace.add(self.ns.name, self.name, T.TX, f"veth {self.name} → peer {peer.name} in {peer.ns.name}", frame)
        self.ns.world.post(peer.receive, frame, trace)


class Dummy(Device):
    kind = "dummy"
    arp = False

    @property
    def carrier(self) -> bool:
        return self.admin_up

    def flags(self) -> list[str]:
        out = ["BROADCAST", "NOARP"]
        if self.admin_up:
            out += ["UP", "LOWER_UP"]
        return out

    def operstate(self) -> str:
        return "UNKNOWN" if self.admin_up else "DOWN"

    def xmit(self, frame: Frame, trace: Trace) -> None:
        self.stats.tx(frame.length)
        trace.end(T.DROPPED, f"{self.name} is a dummy device: it discards what it sends", self.ns.name, self.name)


@dataclass(slots=True, eq=False)
class FdbEntry:
    mac: str
    port: Device  # the bridge itself for the bridge's own address
    local: bool = False  # one of our own addresses: deliver up, never forward
    static: bool = False  # added by hand (`bridge fdb add ... master static`)
    updated: float = 0.0
    vlan: int | None = None

    def flags(self, now: float) -> str:
        return "permanent" if self.local else ("static" if self.static else "")


class Bridge(Device):
    """A learning bridge. As a device it is the bridge's own port into the host stack."""

    kind = "bridge"
    latency = 2e-6

    def __init__(self, name: str, mac: str, mtu: int = 1500) -> None:
        super().__init__(name, mac, mtu)
        self.ports: list[Device] = []
        self.fdb: dict[str, FdbEntry] = {}
        self.ageing_time = 300.0
        self.stp = False
        self.nf_call_iptables = None  # br_netfilter hook, set by the netfilter layer when loaded
        self.fdb[mac] = FdbEntry(mac, self, local=True)  # the bridge's own address

    @property
    def carrier(self) -> bool:
        # A bridge has carrier when at least one port is up (or it has no ports yet: DOWN).
        return self.admin_up and any(p.is_up for p in self.ports)

    # -- ports -----------------------------------------------------------------
    def add_port(self, dev: Device) -> None:
        dev.master = self
        self.ports.append(dev)
        self.fdb[dev.mac] = FdbEntry(dev.mac, dev, local=True)

    def remove_port(self, dev: Device) -> None:
        if dev in self.ports:
            self.ports.remove(dev)
        dev.master = None
        for mac in [m for m, e in self.fdb.items() if e.port is dev]:
            del self.fdb[mac]

    # -- the FDB ---------------------------------------------------------------
    def fdb_get(self, mac: str) -> FdbEntry | None:
        entry = self.fdb.get(mac)
        if entry is not None and not entry.local and not entry.static:
            if self.ns.world.clock - entry.updated >= self.ageing_time:  # has_expired: updated + ageing <= now
                del self.fdb[mac]  # aged out
                return None
        return entry

    def fdb_entries(self) -> list[FdbEntry]:
        now = self.ns.world.clock
        for mac in [m for m, e in self.fdb.items() if not e.local and not e.static and now - e.updated >= self.ageing_time]:
            del self.fdb[mac]
        return list(self.fdb.values())

    def learn(self, port: Device, mac: str) -> None:
        entry = self.fdb.get(mac)
        now = self.ns.world.clock
        if entry is None:
            self.fdb[mac] = FdbEntry(mac, port, updated=now)
        elif not entry.local and not entry.static:
            entry.port = port
            entry.updated = now

    # -- forwarding ------------------------------------------------------------
    def port_input(self, port: Device, frame: Frame, trace: Trace) -> None:
        """br_handle_frame: learn the source, then deliver up, forward, or flood."""
        ns = self.ns
        if not self.admin_up:
            trace.end(T.DROPPED, f"bridge {self.name} is down", ns.name, port.name)
            return
        if port.learning and not is_multicast_mac(frame.src):
            self.learn(port, frame.src)
        trace.t += self.latency
        dst = frame.dst
        if is_multicast_mac(dst):
            trace.add(ns.name, self.name, T.FLOOD, f"bridge {self.name}: {'broadcast' if dst == BROADCAST_MAC else 'multicast'} from {port.name}: flood to {self._flood_names(port)} and up to {self.name}", frame)
            self._flood(port, frame, trace)
            self.stats.rx(frame.length)  # br_pass_frame_up counts on the bridge device
            ns.world.post(ns.l2_rcv, self, frame, trace)
            return
        entry = self.fdb_get(dst)
        if entry is None:
            trace.add(ns.name, self.name, T.FLOOD, f"bridge {self.name}: no FDB entry for {dst}: flood to {self._flood_names(port) or 'no other port'}", frame)
            self._flood(port, frame, trace)
            return
        if entry.local:
            # The bridge's MAC or a port's: br_pass_frame_up. The frame was PACKET_HOST when it
            # arrived on the port, so the bridge device's stack takes it whichever local MAC it named.
            trace.add(ns.name, self.name, T.FDB, f"bridge {self.name}: {dst} is the bridge's own address: up to the host stack", frame)
            self.stats.rx(frame.length)  # br_pass_frame_up counts on the bridge device
            ns.l2_rcv(self, frame, trace, host=True)
            return
        out = entry.port
        if out is port and not port.hairpin:
            trace.add(ns.name, self.name, T.FDB, f"bridge {self.name}: FDB {dst} → {out.name}, the port it came in on", frame)
            trace.end(T.DROPPED, f"bridge {self.name} does not send a frame back out its ingress port {port.name} (hairpin off)", ns.name, self.name)
            return
        if self.nf_call_iptables is not None and not self.nf_call_iptables(self, port, out, frame, trace):
            return
        trace.add(ns.name, self.name, T.FDB, f"bridge {self.name}: FDB {dst} → port {out.name}", frame)
        out.xmit(frame, trace)

    def _flood_names(self, ingress: Device) -> str:
        return ", ".join(p.name for p in self.ports if (p is not ingress or p.hairpin) and p.is_up)

    def _flood(self, ingress: Device | None, frame: Frame, trace: Trace) -> None:
        for p in self.ports:
            if (p is ingress and not p.hairpin) or not p.is_up:
                continue
            p.xmit(frame, trace)

    def xmit(self, frame: Frame, trace: Trace) -> None:
        """br_dev_xmit: the host stack sends out of the bridge device."""
        ns = self.ns
        self.stats.tx(frame.length)
        dst = frame.dst
        if is_multicast_mac(dst):
            trace.add(ns.name, self.name, T.FLOOD, f"bridge {self.name}: {'broadcast' if dst == BROADCAST_MAC else 'multicast'}: flood to {self._flood_names(None)}", frame)
            self._flood(None, frame, trace)
            return
        entry = self.fdb_get(dst)
        if entry is None or entry.local:
            trace.add(ns.name, self.name, T.FLOOD, f"bridge {self.name}: no FDB entry for {dst}: flood to {self._flood_names(None) or 'no port'}", frame)
            self._flood(None, frame, trace)
            return
        trace.add(ns.name, self.name, T.FDB, f"bridge {self.name}: FDB {dst} → port {entry.port.name}", frame)
        entry.port.xmit(frame, trace)


class Nic(Device):
    """A physical NIC cabled to an underlay Segment (a switch)."""

    kind = "ether"
    latency = 60e-6

    def __init__(self, name: str, mac: str, mtu: int = 1500) -> None:
        super().__init__(name, mac, mtu)
        self.segment = None
        self.qdisc = "mq"

    @property
    def carrier(self) -> bool:
        return self.admin_up and self.segment is not None

    def xmit(self, frame: Frame, trace: Trace) -> None:
        if not self.is_up or self.segment is None:
            self.stats.tx_dropped += 1
            trace.end(T.DROPPED, f"{self.name}: no carrier", self.ns.name, self.name)
            return
        self.stats.tx(frame.length)
        trace.t += self.latency
        self.segment.carry(self, frame, trace)
