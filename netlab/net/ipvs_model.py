"""IPVS's tables as values: virtual services, real servers, connection entries, their
counters, and the TCP state machine of ip_vs_proto_tcp.c (states, timeouts, transitions).
The behaviour that uses them lives in ipvs.py."""
from __future__ import annotations

from dataclasses import dataclass, field

from netlab.net.addr import fmt_ip, parse_ip
from netlab.net.ipvs_sched import Scheduler
from netlab.net.packet import IPPROTO_TCP, IPPROTO_UDP

IP_VS_VERSION = "1.2.1"
CONN_TAB_SIZE = 4096
IPPROTO_IP = 0
PROTO_NAMES = {IPPROTO_TCP: "TCP", IPPROTO_UDP: "UDP", IPPROTO_IP: "IP"}

MASQ, ROUTE, TUNNEL = "Masq", "Route", "Tunnel"
FWD_METHODS = (MASQ, ROUTE, TUNNEL)

HOOK_PRIORITIES = {  # ip_vs_ops4: (hook, priority, function)
    "INPUT": ((98, "ip_vs_out"), (99, "ip_vs_in")),
    "OUTPUT": ((-99, "ip_vs_out"), (-98, "ip_vs_in")),
    "FORWARD": ((99, "ip_vs_forward_icmp"), (100, "ip_vs_out")),
}

# ip_vs_proto_tcp.c: state names, timeouts (seconds) and the transition table
# (INPUT, OUTPUT and INPUT-ONLY rows; columns in STATES order).
STATES = ("NONE", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT", "TIME_WAIT", "CLOSE", "CLOSE_WAIT",
          "LAST_ACK", "LISTEN", "SYNACK")
TCP_TIMEOUTS = {"NONE": 2, "ESTABLISHED": 900, "SYN_SENT": 120, "SYN_RECV": 60, "FIN_WAIT": 120,
                "TIME_WAIT": 120, "CLOSE": 10, "CLOSE_WAIT": 60, "LAST_ACK": 30, "LISTEN": 120, "SYNACK": 120}
UDP_TIMEOUT = 300
_NO, _ES, _SS, _SR, _FW, _TW, _CL, _CW, _LA, _LI, _SA = STATES
TCP_TRANSITIONS = {
    "INPUT": {
        "syn": (_SR, _ES, _ES, _SR, _SR, _SR, _SR, _SR, _SR, _SR, _SR),
        "fin": (_CL, _CW, _SS, _TW, _TW, _TW, _CL, _CW, _LA, _LI, _TW),
        "ack": (_ES, _ES, _SS, _ES, _FW, _TW, _CL, _CW, _CL, _LI, _ES),
        "rst": (_CL, _CL, _CL, _SR, _CL, _CL, _CL, _CL, _LA, _LI, _SR),
    },
    "OUTPUT": {
        "syn": (_SS, _ES, _SS, _SR, _SS, _SS, _SS, _SS, _SS, _LI, _SR),
        "fin": (_TW, _FW, _SS, _TW, _FW, _TW, _CL, _TW, _LA, _LI, _TW),
        "ack": (_ES, _ES, _SS, _ES, _FW, _TW, _CL, _CW, _LA, _ES, _ES),
        "rst": (_CL, _CL, _SS, _CL, _CL, _TW, _CL, _CL, _CL, _CL, _CL),
    },
    "INPUT_ONLY": {
        "syn": (_SR, _ES, _ES, _SR, _SR, _SR, _SR, _SR, _SR, _SR, _SR),
        "fin": (_CL, _FW, _SS, _TW, _FW, _TW, _CL, _CW, _LA, _LI, _TW),
        "ack": (_ES, _ES, _SS, _ES, _FW, _TW, _CL, _CW, _CL, _LI, _ES),
        "rst": (_CL, _CL, _CL, _SR, _CL, _CL, _CL, _CL, _LA, _LI, _CL),
    },
}
_STATE_INDEX = {s: i for i, s in enumerate(STATES)}
TEMPLATE_REARM = 60.0  # a template that still controls connections is kept 60 s more


class IpvsError(Exception):
    """A refused control operation, with the kernel's errno name (EEXIST, ESRCH, ENOENT,
    EINVAL). `ipvsadm` turns it into its own words."""

    def __init__(self, errno: str, op: str):
        super().__init__(f"{op}: {errno}")
        self.errno = errno
        self.op = op


@dataclass(slots=True)
class Stats:
    conns: int = 0
    inpkts: int = 0
    outpkts: int = 0
    inbytes: int = 0
    outbytes: int = 0
    # ip_vs_est.c: rates estimated every 2 s (EWMA, weight 1/4), kept scaled as the kernel does
    est_at: float = 0.0
    est_last: tuple = (0, 0, 0, 0, 0)
    rates: list = field(default_factory=lambda: [0, 0, 0, 0, 0])

    def zero(self) -> None:
        self.conns = self.inpkts = self.outpkts = self.inbytes = self.outbytes = 0
        self.est_last = (0, 0, 0, 0, 0)
        self.rates = [0, 0, 0, 0, 0]

    def estimate(self, now: float) -> tuple[int, int, int, int, int]:
        """(CPS, InPPS, OutPPS, InBPS, OutBPS) as `ipvsadm --rate` shows them."""
        ticks = int((now - self.est_at) // 2)
        if ticks > 0:
            cur = (self.conns, self.inpkts, self.outpkts, self.inbytes, self.outbytes)
            for i in range(min(ticks, 64)):
                delta = [c - p for c, p in zip(cur, self.est_last)] if i == 0 else [0] * 5
                for k in range(5):
                    scale = 5 if k >= 3 else 9  # bps <<5, others <<9, per 2 s interval
                    rate = (delta[k] << scale) // 2
                    self.rates[k] += (rate - self.rates[k]) >> 2
                self.est_last = cur
            self.est_at += 2 * ticks
        r = self.rates
        return ((r[0] + 0x1FF) >> 9, (r[1] + 0x1FF) >> 9, (r[2] + 0x1FF) >> 9, (r[3] + 0xF) >> 5, (r[4] + 0xF) >> 5)


@dataclass(eq=False, slots=True)
class RealServer:
    """ip_vs_dest: one real server of one virtual service."""

    addr: int
    port: int
    weight: int = 1
    fwd: str = MASQ
    u_threshold: int = 0
    l_threshold: int = 0
    activeconns: int = 0
    inactconns: int = 0
    persistconns: int = 0
    overloaded: bool = False  # IP_VS_DEST_F_OVERLOAD
    available: bool = True  # IP_VS_DEST_F_AVAILABLE: cleared when deleted (kept in the trash)
    stats: Stats = field(default_factory=Stats)

    @property
    def label(self) -> str:
        return f"{fmt_ip(self.addr)}:{self.port}"

    @property
    def overhead(self) -> int:
        """ip_vs_dest_conn_overhead: active connections weigh 256 inactive ones."""
        return (self.activeconns << 8) + self.inactconns


@dataclass(eq=False)
class VirtualService:
    """ip_vs_service: TCP/UDP address:port, or a firewall mark."""

    protocol: int  # IPPROTO_TCP / IPPROTO_UDP; for fwmark services the mark is the key
    addr: int
    port: int
    scheduler: Scheduler
    fwmark: int = 0
    persistent: bool = False
    timeout: int = 0  # persistence timeout, seconds
    netmask: int = 0xFFFFFFFF  # persistence granularity
    flags: frozenset = frozenset()  # scheduler flags: sh-fallback, sh-port
    dests: list[RealServer] = field(default_factory=list)  # kernel list order: newest first
    stats: Stats = field(default_factory=Stats)

    @property
    def key(self) -> tuple:
        return ("fwm", self.fwmark) if self.fwmark else (self.protocol, self.addr, self.port)

    @property
    def label(self) -> str:
        if self.fwmark:
            return f"FWM {self.fwmark}"
        return f"{PROTO_NAMES.get(self.protocol, self.protocol)} {fmt_ip(self.addr)}:{self.port}"

    def dest(self, addr: int, port: int) -> RealServer | None:
        for d in self.dests:
            if d.addr == addr and d.port == port:
                return d
        return None


@dataclass(eq=False, slots=True)
class Conn:
    """ip_vs_conn: client → virtual address → real server, or a persistence template."""

    protocol: int
    caddr: int
    cport: int
    vaddr: int
    vport: int
    daddr: int
    dport: int
    dest: RealServer | None
    fwd: str
    template: bool = False
    state: str = "NONE"
    inactive: bool = True  # IP_VS_CONN_F_INACTIVE (dest->conn_flags carries it at bind time)
    timeout: float = 3.0
    expires: float = 0.0
    control: "Conn | None" = None  # the persistence template this connection belongs to
    n_control: int = 0
    no_output: bool = False  # IP_VS_CONN_F_NOOUTPUT: not Masq, IPVS never sees replies
    alive: bool = True
    seq: int = 0
    tkey: tuple | None = None  # a template's lookup key while it can still be found

    @property
    def in_key(self) -> tuple:
        return (self.protocol, self.caddr, self.cport, self.vaddr, self.vport)

    @property
    def out_key(self) -> tuple:
        return (self.protocol, self.daddr, self.dport, self.caddr, self.cport)

    def describe(self) -> str:
        return (f"{PROTO_NAMES.get(self.protocol, self.protocol)} {fmt_ip(self.caddr)}:{self.cport} → "
                f"{fmt_ip(self.vaddr)}:{self.vport} → {fmt_ip(self.daddr)}:{self.dport}")


def _ip(value) -> int:
    return parse_ip(value) if isinstance(value, str) else int(value)


def _proto(value) -> int:
    if isinstance(value, str):
        return {"tcp": IPPROTO_TCP, "udp": IPPROTO_UDP}[value.lower()]
    return int(value)
