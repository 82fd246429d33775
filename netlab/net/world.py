"""The Dataplane: every namespace and underlay segment of one world, its simulated
clock, its seeded RNG, and the event queue that moves frames between devices."""
from __future__ import annotations

import random
from collections import deque

from netlab.net import trace as T
from netlab.net.netns import NetNS
from netlab.net.segment import Segment
from netlab.net.trace import Trace

MAX_EVENTS = 200_000  # per run: a bridge loop floods forever on Linux too; we stop it


class Dataplane:
    def __init__(self, seed: int = 0) -> None:
        self.clock = 0.0
        self.seed = seed
        self.rng = random.Random(seed)  # the dataplane's own stream: MACs, interface names
        self._streams: dict[str, random.Random] = {"dataplane": self.rng}
        self.namespaces: dict[str, NetNS] = {}
        self.segments: dict[str, Segment] = {}
        self._queue: deque = deque()
        self._idle: list = []
        self.traces: list[Trace] = []  # the traces of the command being run
        self.version = 0  # bumped when topology changes; the UI redraws on it

    def stream(self, purpose: str) -> random.Random:
        """A seeded RNG for one purpose (pod names, UIDs, ClusterIPs, iptables statistic...).
        Separate streams keep generated names stable when another feature draws numbers."""
        rng = self._streams.get(purpose)
        if rng is None:
            rng = self._streams[purpose] = random.Random(f"{self.seed}:{purpose}")
        return rng

    # -- topology --------------------------------------------------------------
    def add_netns(self, name: str, **kw) -> NetNS:
        if name in self.namespaces:
            raise ValueError(f"namespace {name} exists")
        ns = NetNS(self, name, **kw)
        self.namespaces[name] = ns
        self.version += 1
        return ns

    def remove_netns(self, name: str) -> None:
        ns = self.namespaces.pop(name)
        for dev in list(ns.devices.values()):
            peer = getattr(dev, "peer", None)
            if peer is not None and peer.ns is not None and peer.ns is not ns:
                peer.ns.remove_device(peer)  # deleting one end of a veth deletes both
            if getattr(dev, "segment", None) is not None:
                dev.segment.unplug(dev)
        self.version += 1

    def add_segment(self, name: str, cidr: str = "") -> Segment:
        seg = self.segments[name] = Segment(self, name, cidr)
        return seg

    # -- the event queue -------------------------------------------------------
    def post(self, fn, *args) -> None:
        self._queue.append((fn, args))

    def when_idle(self, fn, *args) -> None:
        """Run once nothing is in flight (ARP retries give up, timers fire)."""
        self._idle.append((fn, args))

    def run(self) -> None:
        queue = self._queue
        events = 0
        while True:
            while queue:
                fn, args = queue.popleft()
                fn(*args)
                events += 1
                if events > MAX_EVENTS:
                    dropped = len(queue)
                    queue.clear()
                    for trace in self.traces:
                        if not trace.ends:
                            trace.end(T.DROPPED, f"packet storm: {MAX_EVENTS} frames in flight (a forwarding loop?), {dropped} dropped", "dataplane")
                    return
            if not self._idle:
                return
            idle, self._idle = self._idle, []
            for fn, args in idle:
                fn(*args)

    # -- traces ----------------------------------------------------------------
    def new_trace(self, summary: str, origin: str, packet=None, label: str = "") -> Trace:
        trace = Trace(summary, origin, packet, label=label)
        self.traces.append(trace)
        return trace

    def take_traces(self) -> list[Trace]:
        out, self.traces = self.traces, []
        return out

    def advance(self, seconds: float) -> None:
        self.clock += seconds
