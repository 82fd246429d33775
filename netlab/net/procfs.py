"""/proc/net files of one namespace, as the kernel writes them: what net-tools parse and what
a learner `cat`s. Addresses are the __be32 value printed as a host (little-endian) integer."""
from __future__ import annotations

from typing import TYPE_CHECKING

from netlab.net import neigh as N
from netlab.net.addr import fmt_ip, mask
from netlab.net.fib import BLACKHOLE, PROHIBIT, RT_TABLE_MAIN, UNICAST, UNREACHABLE

if TYPE_CHECKING:
    from netlab.net.netns import NetNS

RTF_UP, RTF_GATEWAY, RTF_HOST, RTF_REJECT = 0x1, 0x2, 0x4, 0x200
ATF_COM, ATF_PERM = 0x2, 0x4


def be32(ip: int) -> str:
    return f"{int.from_bytes(ip.to_bytes(4, 'big'), 'little'):08X}"


def route_file(ns: NetNS) -> str:
    """fib_route_seq_show: the main table, each line padded to 127 characters."""
    lines = ["Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT"]
    for r in ns.fib.table(RT_TABLE_MAIN).routes():
        if r.type not in (UNICAST, BLACKHOLE, UNREACHABLE, PROHIBIT):
            continue
        flags = RTF_UP | (RTF_REJECT if r.type in (UNREACHABLE, PROHIBIT) else 0)
        flags |= (RTF_GATEWAY if r.gateway is not None else 0) | (RTF_HOST if r.plen == 32 else 0)
        iface = r.dev.name if r.dev is not None else "*"
        lines.append(f"{iface}\t{be32(r.dst)}\t{be32(r.gateway or 0)}\t{flags:04X}\t0\t0\t{r.metric}\t"
                     f"{be32(mask(r.plen))}\t{r.mtu}\t0\t0")
    return "".join(f"{line:<127}\n" for line in lines)


def arp_file(ns: NetNS) -> str:
    """arp_seq_show: every neighbour but NOARP ones."""
    out = ["IP address       HW type     Flags       HW address            Mask     Device\n"]
    for e in ns.neigh.for_dev():
        if e.state == N.NOARP:
            continue
        flags = (ATF_COM if e.state in N.VALID else 0) | (ATF_PERM if e.state == N.PERMANENT else 0)
        hw = e.lladdr if e.lladdr is not None and e.state in N.VALID else "00:00:00:00:00:00"
        out.append(f"{fmt_ip(e.ip):<16} 0x{1:<10x}0x{flags:<10x}{hw:<17}     *        {e.dev.name}\n")
    return "".join(out)


def dev_file(ns: NetNS) -> str:
    """dev_seq_show: the counters behind ifconfig and ip -s link."""
    out = ["Inter-|   Receive                                                |  Transmit\n",
           " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo "
           "colls carrier compressed\n"]
    for d in sorted(ns.devices.values(), key=lambda d: d.ifindex):
        s = d.stats
        out.append(f"{d.name:>6}: {s.rx_bytes:7d} {s.rx_packets:7d} {s.rx_errors:4d} {s.rx_dropped:4d} {0:4d} {0:5d} "
                   f"{0:10d} {0:9d} {s.tx_bytes:8d} {s.tx_packets:7d} {s.tx_errors:4d} {s.tx_dropped:4d} {0:4d} "
                   f"{0:5d} {0:7d} {0:10d}\n")
    return "".join(out)


FILES = {"/proc/net/route": route_file, "/proc/net/arp": arp_file, "/proc/net/dev": dev_file}


def proc_net(ns: NetNS, path: str) -> str | None:
    make = FILES.get(path)
    return make(ns) if make is not None else None
