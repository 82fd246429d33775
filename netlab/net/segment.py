"""The underlay: an L2 segment (a switch) that node NICs are cabled to."""
from __future__ import annotations

from typing import TYPE_CHECKING

from netlab.net import trace as T
from netlab.net.addr import is_multicast_mac

if TYPE_CHECKING:
    from netlab.net.device import Nic
    from netlab.net.packet import Frame
    from netlab.net.trace import Trace


class Segment:
    """A learning switch with no namespace of its own: the physical network."""

    latency = 50e-6

    def __init__(self, world, name: str, cidr: str = "") -> None:
        self.world = world
        self.name = name
        self.cidr = cidr
        self.nics: list[Nic] = []
        self.macs: dict[str, Nic] = {}

    def plug(self, nic: Nic) -> None:
        nic.segment = self
        self.nics.append(nic)

    def unplug(self, nic: Nic) -> None:
        if nic in self.nics:
            self.nics.remove(nic)
        nic.segment = None
        for mac in [m for m, n in self.macs.items() if n is nic]:
            del self.macs[mac]

    def carry(self, src_nic: Nic, frame: Frame, trace: Trace) -> None:
        self.macs[frame.src] = src_nic
        trace.t += self.latency
        out = None if is_multicast_mac(frame.dst) else self.macs.get(frame.dst)
        if out is not None:
            trace.add(f"switch {self.name}", None, T.TX, f"underlay {self.name}: {src_nic.ns.name}/{src_nic.name} → {out.ns.name}/{out.name}", frame)
            self.world.post(out.receive, frame, trace)
            return
        targets = [n for n in self.nics if n is not src_nic]
        trace.add(f"switch {self.name}", None, T.FLOOD, f"underlay {self.name}: {'broadcast' if is_multicast_mac(frame.dst) else 'unknown ' + frame.dst}: flood to {len(targets)} port(s)", frame)
        for nic in targets:
            self.world.post(nic.receive, frame, trace)
