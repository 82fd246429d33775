"""IPVS as text: what `ipvsadm` (1.31) and /proc/net/ip_vs* print. One formatter each,
for the shell and the TUI alike.

ipvsadm sorts services and real servers before printing (ipvs_cmp_services,
ipvs_cmp_dests, with glibc's qsort, which is a merge sort). Its comparison subtracts two
unsigned addresses and keeps the result as a signed int, so addresses more than 2^31
apart compare "backwards": 192.168.0.21 sorts before 10.96.0.1. netlab reproduces that,
merge order included.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from netlab.net.addr import fmt_ip
from netlab.net.ipvs import CONN_TAB_SIZE, IP_VS_VERSION, IPPROTO_IP, MASQ, ROUTE, TUNNEL, Conn, Ipvs
from netlab.net.packet import IPPROTO_TCP, IPPROTO_UDP

if TYPE_CHECKING:
    from netlab.net.ipvs import RealServer, VirtualService

# /etc/services (netbase) for the ports a cluster uses: ipvsadm without -n prints these names.
SERVICE_NAMES = {
    (21, IPPROTO_TCP): "ftp", (21, IPPROTO_UDP): "fsp", (22, IPPROTO_TCP): "ssh", (25, IPPROTO_TCP): "smtp",
    (53, IPPROTO_TCP): "domain", (53, IPPROTO_UDP): "domain", (80, IPPROTO_TCP): "http",
    (123, IPPROTO_UDP): "ntp", (443, IPPROTO_TCP): "https", (443, IPPROTO_UDP): "https",
    (3306, IPPROTO_TCP): "mysql", (5432, IPPROTO_TCP): "postgresql", (6379, IPPROTO_TCP): "redis",
    (8080, IPPROTO_TCP): "http-alt",
}
SERVICE_PORTS = {(name, proto): port for (port, proto), name in SERVICE_NAMES.items()}
FWD_SWITCH = {MASQ: "-m", ROUTE: "-g", TUNNEL: "-i"}


def _int(x: int) -> int:
    """An unsigned difference stored in a C int."""
    x &= 0xFFFFFFFF
    return x - (1 << 32) if x & 0x80000000 else x


def cmp_services(a: VirtualService, b: VirtualService) -> int:
    r = _int(a.fwmark - b.fwmark)
    if r:
        return r
    r = a.protocol - b.protocol
    if r:
        return r
    r = _int(a.addr - b.addr)
    if r:
        return r
    return a.port - b.port


def cmp_dests(a: RealServer, b: RealServer) -> int:
    r = _int(a.addr - b.addr)
    return r if r else a.port - b.port


def msort(items: list, cmp: Callable) -> list:
    """glibc msort_with_tmp: halves of n//2 and n-n//2, merged taking the left on <= 0."""
    n = len(items)
    if n <= 1:
        return list(items)
    n1 = n // 2
    left, right = msort(items[:n1], cmp), msort(items[n1:], cmp)
    out = []
    i = j = 0
    while i < len(left) and j < len(right):
        if cmp(left[i], right[j]) <= 0:
            out.append(left[i])
            i += 1
        else:
            out.append(right[j])
            j += 1
    return out + left[i:] + right[j:]


def addrport(addr: int, port: int, proto: int, numeric: bool) -> str:
    if not numeric:
        name = SERVICE_NAMES.get((port, proto))
        if name:
            return f"{fmt_ip(addr)}:{name}"
    return f"{fmt_ip(addr)}:{port}"


def _largenum(i: int, exact: bool) -> str:
    if exact:
        s = str(i)
        return f"{i:>{9 if len(s) <= 8 else len(s) + 1}}"
    if i < 100_000_000:
        return f"{i:9d}"
    if i < 1_000_000_000:
        return f"{i // 1000:8d}K"
    if i < 100_000_000_000:
        return f"{i // 1_000_000:8d}M"
    if i < 100_000_000_000_000:
        return f"{i // 1_000_000_000:8d}G"
    return f"{i // 1_000_000_000_000:8d}T"


def _svc_name(svc: VirtualService, numeric: bool, rule: bool) -> str:
    if svc.fwmark:
        return f"-f {svc.fwmark}" if rule else f"FWM  {svc.fwmark}"
    vname = addrport(svc.addr, svc.port, svc.protocol, numeric)
    if rule:
        return f"{'-t' if svc.protocol == IPPROTO_TCP else '-u'} {vname}"
    return f"{'TCP' if svc.protocol == IPPROTO_TCP else 'UDP'}  {vname}"[:33]


def _mask_text(svc: VirtualService) -> str:
    return fmt_ip(svc.netmask)


def list_services(ipvs: Ipvs, *, numeric: bool = False, stats: bool = False, rate: bool = False,
                  exact: bool = False, sort: bool = True, only: VirtualService | None = None,
                  header: bool = True, thresholds: bool = False, persistent_conn: bool = False) -> str:
    """`ipvsadm -L` in its plain, --stats, --rate, --thresholds and --persistent-conn forms."""
    out = []
    if header:
        out.append(f"IP Virtual Server version {IP_VS_VERSION} (size={CONN_TAB_SIZE})")
    if stats or rate:
        cols = ("Conns", "InPkts", "OutPkts", "InBytes", "OutBytes") if stats else \
            ("CPS", "InPPS", "OutPPS", "InBPS", "OutBPS")
        out.append(f"{'Prot LocalAddress:Port':<33} " + " ".join(f"{c:>8}" for c in cols))
        out.append("  -> RemoteAddress:Port")
    elif thresholds:
        out.append(f"{'Prot LocalAddress:Port':<33} {'Uthreshold':<10} {'Lthreshold':<10} {'ActiveConn':<10} {'InActConn':<10}")
        out.append("  -> RemoteAddress:Port")
    elif persistent_conn:
        out.append(f"{'Prot LocalAddress:Port':<33} {'Weight':<9} {'PersistConn':<11} {'ActiveConn':<10} {'InActConn':<10}")
        out.append("  -> RemoteAddress:Port")
    else:
        out.append("Prot LocalAddress:Port Scheduler Flags")
        out.append("  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn")
    ipvs.expire()
    services = [only] if only is not None else ipvs.all_services()
    if sort:
        services = msort(services, cmp_services)
    now = ipvs.now
    for svc in services:
        name = _svc_name(svc, numeric, False)
        if stats:
            s = svc.stats
            out.append(f"{name:<33}" + "".join(_largenum(v, exact) for v in (s.conns, s.inpkts, s.outpkts, s.inbytes,
                                                                              s.outbytes)))
        elif rate:
            out.append(f"{name:<33}" + "".join(_largenum(v, exact) for v in svc.stats.estimate(now)))
        else:
            line = f"{name} {svc.scheduler.name}"
            if svc.flags:
                line += " (" + ",".join(sorted(svc.flags)) + ")"
            if svc.persistent:
                line += f" persistent {svc.timeout}"
                if svc.netmask != 0xFFFFFFFF:
                    line += f" mask {_mask_text(svc)}"
            out.append(line)
        dests = msort(svc.dests, cmp_dests) if sort else list(svc.dests)
        for d in dests:
            dname = addrport(d.addr, d.port, svc.protocol, numeric)[:28]
            if stats:
                s = d.stats
                out.append(f"  -> {dname:<28}" + "".join(_largenum(v, exact) for v in (s.conns, s.inpkts, s.outpkts,
                                                                                       s.inbytes, s.outbytes)))
            elif rate:
                cps, inpps, outpps, inbps, outbps = d.stats.estimate(now)
                out.append(f"  -> {dname:<28} {cps:8d} {inpps:8d} {outpps:8d}" + _largenum(inbps, exact) +
                           _largenum(outbps, exact))
            elif thresholds:
                out.append(f"  -> {dname:<28} {d.u_threshold:<10} {d.l_threshold:<10} {d.activeconns:<10} {d.inactconns:<10}")
            elif persistent_conn:
                out.append(f"  -> {dname:<28} {d.weight:<9} {d.persistconns:<11} {d.activeconns:<10} {d.inactconns:<10}")
            else:
                out.append(f"  -> {dname:<28} {d.fwd:<7} {d.weight:<6} {d.activeconns:<10} {d.inactconns:<10}")
    return "\n".join(out) + "\n"


def save(ipvs: Ipvs, *, numeric: bool = False) -> str:
    """`ipvsadm -S`: the rules that `ipvsadm -R` reads back."""
    out = []
    for svc in msort(ipvs.all_services(), cmp_services):
        name = _svc_name(svc, numeric, True)
        line = f"-A {name} -s {svc.scheduler.name}"
        if svc.flags:
            line += " -b " + ",".join(sorted(svc.flags))
        if svc.persistent:
            line += f" -p {svc.timeout}"
            if svc.netmask != 0xFFFFFFFF:
                line += f" -M {_mask_text(svc)}"
        out.append(line)
        for d in msort(svc.dests, cmp_dests):
            out.append(f"-a {name} -r {addrport(d.addr, d.port, svc.protocol, numeric)} {FWD_SWITCH[d.fwd]} -w {d.weight}")
    return "".join(line + "\n" for line in out)


def _expire_text(cp: Conn, now: float) -> str:
    s = max(0, int(cp.expires - now))
    return f"{s // 60:02d}:{s % 60:02d}"


def _conn_proto(cp: Conn) -> str:
    return {IPPROTO_TCP: "TCP", IPPROTO_UDP: "UDP", IPPROTO_IP: "IP"}.get(cp.protocol, str(cp.protocol))


def list_conns(ipvs: Ipvs, *, numeric: bool = False) -> str:
    """`ipvsadm -L -c`: /proc/net/ip_vs_conn, made readable."""
    out = ["IPVS connection entries", f"pro expire {'state':<11} {'source':<18} {'virtual':<18} destination"]
    now = ipvs.now
    for cp in ipvs.entries():
        proto = cp.protocol
        cname = addrport(cp.caddr, cp.cport, proto, numeric)
        vname = addrport(cp.vaddr, cp.vport, proto, numeric)
        dname = addrport(cp.daddr, cp.dport, proto, numeric)
        out.append(f"{_conn_proto(cp):<3} {_expire_text(cp, now):<6} {ipvs.state_name(cp):<11} {cname:<18} {vname:<18} {dname}")
    return "\n".join(out) + "\n"


def proc_conn(ipvs: Ipvs) -> str:
    """/proc/net/ip_vs_conn (ip_vs_conn_seq_show)."""
    out = ["Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData"]
    now = ipvs.now
    for cp in ipvs.entries():
        out.append(f"{_conn_proto(cp):<3} {cp.caddr:08X} {cp.cport:04X} {cp.vaddr:08X} {cp.vport:04X} "
                   f"{cp.daddr:08X} {cp.dport:04X} {ipvs.state_name(cp):<11} {max(0, int(cp.expires - now)):7d}")
    return "\n".join(out) + "\n"


def proc_services(ipvs: Ipvs) -> str:
    """/proc/net/ip_vs (ip_vs_info_seq_show): real servers in the kernel's own list order."""
    out = [f"IP Virtual Server version {IP_VS_VERSION} (size={CONN_TAB_SIZE})",
           "Prot LocalAddress:Port Scheduler Flags", "  -> RemoteAddress:Port Forward Weight ActiveConn InActConn"]
    for svc in ipvs.all_services():
        if svc.fwmark:
            line = f"FWM  {svc.fwmark:08X} {svc.scheduler.name} "
        else:
            line = f"{'TCP' if svc.protocol == IPPROTO_TCP else 'UDP'}  {svc.addr:08X}:{svc.port:04X} {svc.scheduler.name} "
        if svc.persistent:
            line += f"persistent {svc.timeout} {svc.netmask:08X}"
        out.append(line)
        for d in svc.dests:
            out.append(f"  -> {d.addr:08X}:{d.port:04X}      {d.fwd:<7} {d.weight:<6} {d.activeconns:<10} {d.inactconns:<10}")
    return "\n".join(out) + "\n"


def timeouts(ipvs: Ipvs) -> str:
    return f"Timeout (tcp tcpfin udp): {ipvs.tcp_timeout} {ipvs.tcpfin_timeout} {ipvs.udp_timeout}\n"
