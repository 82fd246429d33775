"""xt_recent: named tables of addresses with the times they were seen, on the simulated clock."""
from __future__ import annotations

from netlab.net.addr import fmt_ip

MAX_STAMPS = 20  # ip_pkt_list_tot


class RecentTables:
    def __init__(self, nf) -> None:
        self.nf = nf
        self.tables: dict[str, dict[int, list[float]]] = {}

    def table(self, name: str) -> dict[int, list[float]]:
        t = self.tables.get(name)
        if t is None:
            t = self.tables[name] = {}
            self.nf.ns.files[f"/proc/net/xt_recent/{name}"] = lambda name=name: self.proc_text(name)
        return t

    def check(self, m, pkt, now: float) -> bool:
        """recent_mt: True when the test holds (before the rule's `!`)."""
        addr = (pkt.src if m.rsource else pkt.dst) & m.mask
        table = self.table(m.table)
        stamps = table.get(addr)
        if m.mode == "set":
            stamps = table.setdefault(addr, [])
            stamps.append(now)
            del stamps[:-MAX_STAMPS]
            return True
        if stamps is None:
            return False
        if m.mode == "remove":
            del table[addr]
            return True
        ok = True
        if m.seconds or m.hitcount:
            since = now - m.seconds if m.seconds else None
            hits = sum(1 for t in stamps if since is None or t >= since)
            ok = hits >= max(1, m.hitcount)
            if m.reap and since is not None:
                stamps[:] = [t for t in stamps if t >= since]
                if not stamps:
                    del table[addr]
        if ok and m.mode == "update":
            stamps = table.setdefault(addr, stamps)
            stamps.append(now)
            del stamps[:-MAX_STAMPS]
        return ok

    def proc_text(self, name: str) -> str:
        hz = 250
        lines = []
        for addr, stamps in self.tables.get(name, {}).items():
            jiffies = [int((4294667296 / hz + t) * hz) & 0xFFFFFFFF for t in stamps]
            lines.append(f"src={fmt_ip(addr)} ttl: 64 last_seen: {jiffies[-1]} oldest_pkt: {len(stamps)} "
                         + ", ".join(str(j) for j in jiffies))
        return "".join(line + "\n" for line in lines)
