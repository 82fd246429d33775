"""The neighbour (ARP) table with Linux's NUD states.

States follow include/net/neighbour.h. Ageing is computed from the simulated
clock when an entry is read (REACHABLE turns STALE after base_reachable_time),
so no timers run between commands.
"""
from __future__ import annotations

from dataclasses import dataclass, field

INCOMPLETE = "INCOMPLETE"
REACHABLE = "REACHABLE"
STALE = "STALE"
DELAY = "DELAY"
PROBE = "PROBE"
FAILED = "FAILED"
NOARP = "NOARP"
PERMANENT = "PERMANENT"
NUD_STATES = (INCOMPLETE, REACHABLE, STALE, DELAY, PROBE, FAILED, NOARP, PERMANENT)
VALID = frozenset((REACHABLE, STALE, DELAY, PROBE, NOARP, PERMANENT))

BASE_REACHABLE_TIME = 30.0
DELAY_FIRST_PROBE_TIME = 5.0


@dataclass(slots=True, eq=False)
class Neighbour:
    ip: int
    dev: object
    lladdr: str | None
    state: str
    confirmed: float = 0.0
    router: bool = False
    proto: str | None = None
    queue: list = field(default_factory=list)  # (packet, trace) waiting for resolution

    def state_at(self, now: float) -> str:
        """The state the kernel's timers would have moved this entry to by `now`. A DELAY entry
        is confirmed by its unicast probe (the neighbour answered), then ages like any other."""
        if self.state == DELAY and now - self.confirmed > DELAY_FIRST_PROBE_TIME:
            self.state = REACHABLE
            self.confirmed += DELAY_FIRST_PROBE_TIME
        if self.state == REACHABLE and now - self.confirmed > BASE_REACHABLE_TIME:
            return STALE
        return self.state

    @property
    def valid(self) -> bool:
        return self.state in VALID


class NeighTable:
    def __init__(self, clock) -> None:
        self._clock = clock  # a callable returning simulated seconds
        self.entries: dict[tuple[int, int], Neighbour] = {}

    def get(self, dev, ip: int) -> Neighbour | None:
        return self.entries.get((dev.ifindex, ip))

    def lookup_valid(self, dev, ip: int) -> Neighbour | None:
        entry = self.entries.get((dev.ifindex, ip))
        if entry is not None and entry.state in VALID:
            if entry.state in (REACHABLE, DELAY):
                entry.state = entry.state_at(self._clock())
            return entry
        return None

    def create(self, dev, ip: int, state: str = INCOMPLETE, lladdr: str | None = None) -> Neighbour:
        entry = Neighbour(ip, dev, lladdr, state, self._clock())
        self.entries[(dev.ifindex, ip)] = entry
        return entry

    def update(self, dev, ip: int, lladdr: str, state: str = REACHABLE, *, override: bool = True) -> tuple[Neighbour, list]:
        """neigh_update: set an address and state; returns the entry and the packets it releases.

        A PERMANENT entry is only changed by an administrative update (override)."""
        entry = self.entries.get((dev.ifindex, ip))
        if entry is None:
            entry = self.create(dev, ip, state, lladdr)
            return entry, []
        if entry.state in (PERMANENT, NOARP) and not override:
            return entry, []
        if state == STALE and entry.state in VALID and entry.lladdr == lladdr and not override:
            # __neigh_update: "If entry was valid and address is not changed, do not change
            # entry state, if new one is STALE" — an ARP request neither asserts nor denies
            # reachability, so a REACHABLE neighbour that asks for us stays REACHABLE.
            return entry, []
        entry.lladdr = lladdr
        entry.state = state
        entry.confirmed = self._clock()
        released, entry.queue = entry.queue, []
        return entry, released

    def delete(self, dev, ip: int) -> Neighbour | None:
        return self.entries.pop((dev.ifindex, ip), None)

    def flush_dev(self, dev) -> None:
        for key in [k for k, e in self.entries.items() if e.dev is dev]:
            del self.entries[key]

    def for_dev(self, dev=None) -> list[Neighbour]:
        now = self._clock()
        out = []
        for entry in self.entries.values():
            if dev is not None and entry.dev is not dev:
                continue
            entry.state = entry.state_at(now)
            out.append(entry)
        return out
