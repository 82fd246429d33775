"""IPVS, the kernel's layer-4 load balancer (net/netfilter/ipvs/), as kube-proxy's ipvs
mode uses it: virtual services, real servers, the schedulers (ipvs_sched.py), persistence
templates and the connection table with its TCP states and timers on the simulated clock.

Where it sits in the packet path (ip_vs_core.c registers these hooks; netlab calls
`Ipvs.hook` from `NetNS._hook` after netfilter's tables at the same hook):

  LOCAL_IN   ip_vs_out (a reply to a local client)  then  ip_vs_in (a request to a VIP)
  LOCAL_OUT  ip_vs_out                              then  ip_vs_in (a node-local client)
  FORWARD    ip_vs_out (a reply being routed back to a remote client)

A request must reach LOCAL_IN, so the VIP must be a local address: kube-proxy puts every
ClusterIP on the `kube-ipvs0` dummy device. ip_vs_in schedules (or finds the connection),
rewrites the destination (Masq), routes to the real server, decrements the TTL and sends
the packet through the LOCAL_OUT hook and ip_output — exactly ip_vs_nat_xmit: the
packet never traverses FORWARD, but does traverse OUTPUT and POSTROUTING, which is why
kube-proxy's MASQUERADE rule in POSTROUTING still applies (with net.ipv4.vs.conntrack=1,
because IPVS then tells conntrack about its NAT; see `_conntrack_update`).

Where the kernel runs IPVS between two netfilter tables of one hook (LOCAL_IN at
priority 99, after filter and before nat; LOCAL_OUT at -98, after nat and before filter),
netlab runs it after all of them: filter INPUT still comes first, and only a rule in
nat INPUT or filter OUTPUT could tell the difference. `HOOK_PRIORITIES` says where the
kernel puts each hook, for a netfilter layer that orders hooks by priority.
"""
from __future__ import annotations

import heapq
from typing import TYPE_CHECKING

from netlab.net import trace as T
from netlab.net.addr import fmt_ip
from netlab.net.fib import LOCAL
# The model is re-exported: `from netlab.net.ipvs import Ipvs, RealServer, MASQ, ...` is the API.
from netlab.net.ipvs_model import (_STATE_INDEX, CONN_TAB_SIZE, FWD_METHODS, HOOK_PRIORITIES,  # noqa: F401
                                   IP_VS_VERSION, IPPROTO_IP, MASQ, PROTO_NAMES, ROUTE, STATES, TCP_TIMEOUTS,
                                   TCP_TRANSITIONS, TEMPLATE_REARM, TUNNEL, UDP_TIMEOUT, Conn, IpvsError, RealServer,
                                   Stats, VirtualService, _ip, _proto)
from netlab.net.ipvs_sched import new_scheduler
from netlab.net.packet import (ICMP, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, ICMP_TIME_EXCEEDED, IPPROTO_TCP,
                               IPPROTO_UDP, TCP, TH_ACK, TH_FIN, TH_RST, TH_SYN, UDP, IPv4, evolve)

if TYPE_CHECKING:
    from netlab.net.netns import NetNS
    from netlab.net.trace import Trace


class Ipvs:
    """The IPVS state of one network namespace (`ns.ipvs`)."""

    def __init__(self, ns: NetNS) -> None:
        self.ns = ns
        self.services: dict[tuple, VirtualService] = {}
        self.fwm_services: dict[int, VirtualService] = {}
        self.nullsvc = 0  # port-zero services: the catch-all lookup is tried only if one exists
        self.trash: dict[tuple, RealServer] = {}  # deleted real servers that still have connections
        self.conns_in: dict[tuple, Conn] = {}
        self.conns_out: dict[tuple, Conn] = {}
        self.templates: dict[tuple, Conn] = {}
        self.conns: dict[int, Conn] = {}  # every entry, in creation order (/proc/net/ip_vs_conn)
        self._timers: list = []
        self._seq = 0
        self.tcp_timeout = TCP_TIMEOUTS["ESTABLISHED"]
        self.tcpfin_timeout = TCP_TIMEOUTS["FIN_WAIT"]
        self.udp_timeout = UDP_TIMEOUT
        self.stats = Stats()

    @classmethod
    def of(cls, ns: NetNS) -> Ipvs:
        """The namespace's IPVS table, loading the module (and its hooks) on first use."""
        vs = getattr(ns, "ipvs", None)
        if vs is None:
            from netlab.net import ipvs_text

            vs = ns.ipvs = cls(ns)
            ns.files["/proc/net/ip_vs"] = lambda: ipvs_text.proc_services(vs)
            ns.files["/proc/net/ip_vs_conn"] = lambda: ipvs_text.proc_conn(vs)
        return vs

    @property
    def now(self) -> float:
        return self.ns.world.clock

    # -- services --------------------------------------------------------------
    def find(self, protocol, addr=0, port=0, *, fwmark: int = 0) -> VirtualService | None:
        if fwmark:
            return self.fwm_services.get(fwmark)
        return self.services.get((_proto(protocol), _ip(addr), int(port)))

    def _get(self, op: str, protocol, addr, port, fwmark) -> VirtualService:
        svc = self.find(protocol, addr, port, fwmark=fwmark)
        if svc is None:
            raise IpvsError("ESRCH", op)
        return svc

    def add_service(self, protocol="tcp", addr=0, port=0, *, scheduler: str = "wlc", fwmark: int = 0,
                    persistent: int | None = None, netmask: int = 0xFFFFFFFF, flags=()) -> VirtualService:
        """ipvsadm -A. `persistent` is the timeout in seconds (ipvsadm's -p default is 300)."""
        proto = _proto(protocol) if not fwmark else IPPROTO_TCP
        addr, port = (0, 0) if fwmark else (_ip(addr), int(port))
        if self.find(proto, addr, port, fwmark=fwmark) is not None:
            raise IpvsError("EEXIST", "add_service")
        sched = new_scheduler(scheduler)
        if sched is None:
            raise IpvsError("ENOENT", "add_service")
        svc = VirtualService(proto, addr, port, sched, fwmark=fwmark, persistent=persistent is not None,
                             timeout=persistent or 0, netmask=netmask, flags=frozenset(flags))
        svc.stats.est_at = self.now
        sched.init_service(svc)
        if fwmark:
            self.fwm_services[fwmark] = svc
        else:
            self.services[svc.key] = svc
            if port == 0:
                self.nullsvc += 1
        return svc

    def edit_service(self, protocol="tcp", addr=0, port=0, *, scheduler: str = "wlc", fwmark: int = 0,
                     persistent: int | None = None, netmask: int = 0xFFFFFFFF, flags=()) -> VirtualService:
        """ipvsadm -E: a new scheduler starts from a clean state (ip_vs_edit_service)."""
        svc = self._get("edit_service", protocol, addr, port, fwmark)
        if scheduler != svc.scheduler.name:
            sched = new_scheduler(scheduler)
            if sched is None:
                raise IpvsError("ENOENT", "edit_service")
            svc.scheduler = sched
            sched.init_service(svc)
        svc.persistent = persistent is not None
        svc.timeout = persistent or 0
        svc.netmask = netmask
        svc.flags = frozenset(flags)
        return svc

    def del_service(self, protocol="tcp", addr=0, port=0, *, fwmark: int = 0) -> None:
        svc = self._get("del_service", protocol, addr, port, fwmark)
        self._unlink_service(svc)

    def _unlink_service(self, svc: VirtualService) -> None:
        for d in list(svc.dests):
            self._unlink_dest(svc, d)
        if svc.fwmark:
            del self.fwm_services[svc.fwmark]
        else:
            del self.services[svc.key]
            if svc.port == 0:
                self.nullsvc -= 1

    def clear(self) -> None:
        """ipvsadm -C: every service goes; existing connections live on until they expire."""
        for svc in list(self.services.values()) + list(self.fwm_services.values()):
            self._unlink_service(svc)

    def zero(self, svc: VirtualService | None = None) -> None:
        for s in [svc] if svc else self.all_services():
            s.stats.zero()
            for d in s.dests:
                d.stats.zero()
        if svc is None:
            self.stats.zero()

    def all_services(self) -> list[VirtualService]:
        return list(self.services.values()) + list(self.fwm_services.values())

    # -- real servers ----------------------------------------------------------
    def add_dest(self, protocol="tcp", addr=0, port=0, *, rip, rport: int | None = None, weight: int = 1,
                 fwd: str = MASQ, fwmark: int = 0, u_threshold: int = 0, l_threshold: int = 0) -> RealServer:
        """ipvsadm -a. A new real server goes to the head of the list, as list_add_rcu puts it."""
        svc = self._get("add_dest", protocol, addr, port, fwmark)
        rip = _ip(rip)
        rport = svc.port if rport is None else int(rport)
        if svc.dest(rip, rport) is not None:
            raise IpvsError("EEXIST", "add_dest")
        d = self.trash.pop((svc.key, rip, rport), None)  # ip_vs_trash_get_dest: counters come back
        if d is None:
            d = RealServer(rip, rport)
            d.stats.est_at = self.now
        d.available = True
        self._update_dest(d, weight, fwd, u_threshold, l_threshold)
        svc.dests.insert(0, d)
        svc.scheduler.add_dest(svc, d)
        return d

    @staticmethod
    def _update_dest(d: RealServer, weight: int, fwd: str, u: int, l: int) -> None:
        d.weight, d.fwd = weight, fwd
        if u == 0 or u > d.u_threshold:
            d.overloaded = False
        d.u_threshold, d.l_threshold = u, l

    def edit_dest(self, protocol="tcp", addr=0, port=0, *, rip, rport: int | None = None, weight: int = 1,
                  fwd: str = MASQ, fwmark: int = 0, u_threshold: int = 0, l_threshold: int = 0) -> RealServer:
        svc = self.find(protocol, addr, port, fwmark=fwmark)
        if svc is None:
            raise IpvsError("ESRCH", "update_dest")
        rip = _ip(rip)
        d = svc.dest(rip, svc.port if rport is None else int(rport))
        if d is None:
            raise IpvsError("ENOENT", "update_dest")
        self._update_dest(d, weight, fwd, u_threshold, l_threshold)
        svc.scheduler.upd_dest(svc, d)
        return d

    def del_dest(self, protocol="tcp", addr=0, port=0, *, rip, rport: int | None = None, fwmark: int = 0) -> None:
        svc = self.find(protocol, addr, port, fwmark=fwmark)
        if svc is None:
            raise IpvsError("ESRCH", "del_dest")
        d = svc.dest(_ip(rip), svc.port if rport is None else int(rport))
        if d is None:
            raise IpvsError("ENOENT", "del_dest")
        self._unlink_dest(svc, d)

    def _unlink_dest(self, svc: VirtualService, d: RealServer) -> None:
        index = svc.dests.index(d)
        del svc.dests[index]
        d.available = False
        svc.scheduler.del_dest(svc, d, index)
        if d.activeconns or d.inactconns or d.persistconns:
            self.trash[(svc.key, d.addr, d.port)] = d

    def set_timeouts(self, tcp: int, tcpfin: int, udp: int) -> None:
        """ipvsadm --set: 0 leaves a value unchanged."""
        self.tcp_timeout = tcp or self.tcp_timeout
        self.tcpfin_timeout = tcpfin or self.tcpfin_timeout
        self.udp_timeout = udp or self.udp_timeout

    # -- the connection table --------------------------------------------------
    def _timeout_for(self, cp: Conn) -> float:
        if cp.protocol == IPPROTO_UDP:
            return self.udp_timeout
        if cp.state == "ESTABLISHED":
            return self.tcp_timeout
        if cp.state == "FIN_WAIT":
            return self.tcpfin_timeout
        return TCP_TIMEOUTS[cp.state]

    def _arm(self, cp: Conn, at: float | None = None) -> None:
        """ip_vs_conn_put: (re)start the connection's timer with its current timeout."""
        cp.expires = (self.now if at is None else at) + cp.timeout
        heapq.heappush(self._timers, (cp.expires, cp.seq, cp))

    def expire(self) -> None:
        """Run the timers that are due, in time order (a template outlives its connections)."""
        timers = self._timers
        now = self.now
        while timers and timers[0][0] <= now:
            when, _, cp = heapq.heappop(timers)
            if not cp.alive or cp.expires != when:
                continue
            if cp.n_control:  # "expire_later": still controls connections
                cp.timeout = TEMPLATE_REARM
                self._arm(cp, when)
                continue
            self._unlink(cp)

    def _unlink(self, cp: Conn) -> None:
        cp.alive = False
        self.conns.pop(cp.seq, None)
        if self.conns_in.get(cp.in_key) is cp:
            del self.conns_in[cp.in_key]
        if self.conns_out.get(cp.out_key) is cp:
            del self.conns_out[cp.out_key]
        if cp.tkey is not None and self.templates.get(cp.tkey) is cp:
            del self.templates[cp.tkey]
        if cp.control is not None:
            cp.control.n_control -= 1
            cp.control = None
        self._unbind_dest(cp)

    def _bind_dest(self, cp: Conn, d: RealServer) -> None:
        if cp.template:
            d.persistconns += 1
        else:
            d.inactconns += 1  # dest->conn_flags always carries IP_VS_CONN_F_INACTIVE
        if d.u_threshold and d.activeconns + d.inactconns >= d.u_threshold:
            d.overloaded = True

    def _unbind_dest(self, cp: Conn) -> None:
        d = cp.dest
        if d is None:
            return
        if cp.template:
            d.persistconns -= 1
        elif cp.inactive:
            d.inactconns -= 1
        else:
            d.activeconns -= 1
        total = d.activeconns + d.inactconns
        if d.l_threshold:
            if total < d.l_threshold:
                d.overloaded = False
        elif d.u_threshold:
            if total * 4 < d.u_threshold * 3:
                d.overloaded = False
        else:
            d.overloaded = False
        if not d.available and not (d.activeconns or d.inactconns or d.persistconns):
            for key, t in list(self.trash.items()):
                if t is d:
                    del self.trash[key]

    def _new_conn(self, proto, caddr, cport, vaddr, vport, d: RealServer, dport: int, *, template: bool = False,
                  timeout: float = 3.0) -> Conn:
        self._seq += 1
        cp = Conn(proto, caddr, cport, vaddr, vport, d.addr, dport, d, d.fwd, template=template,
                  state="NONE", timeout=timeout, seq=self._seq, no_output=d.fwd != MASQ)
        self.conns[cp.seq] = cp
        if template:
            cp.inactive = False
        else:
            self.conns_in[cp.in_key] = cp
            if d.fwd == MASQ:
                self.conns_out[cp.out_key] = cp
        self._bind_dest(cp, d)
        return cp

    def entries(self) -> list[Conn]:
        """Connection entries and templates, as /proc/net/ip_vs_conn lists them."""
        self.expire()
        return list(self.conns.values())

    def state_name(self, cp: Conn) -> str:
        if cp.template:
            return cp.state  # NONE, or ASSURED once a controlled connection was established
        return "UDP" if cp.protocol == IPPROTO_UDP else cp.state

    def _set_tcp_state(self, cp: Conn, direction: str, tcp: TCP, trace: Trace | None = None) -> None:
        """set_tcp_state: the transition table, and the active/inactive counters."""
        if cp.no_output:
            direction = "INPUT_ONLY" if direction == "INPUT" else direction
            if direction == "OUTPUT":
                cp.no_output = False
        f = tcp.flags
        idx = "rst" if f & TH_RST else "syn" if f & TH_SYN else "fin" if f & TH_FIN else "ack" if f & TH_ACK else None
        new = TCP_TRANSITIONS[direction][idx][_STATE_INDEX[cp.state]] if idx else "CLOSE"
        if new != cp.state:
            d = cp.dest
            if d is not None:
                if not cp.inactive and new != "ESTABLISHED":
                    d.activeconns -= 1
                    d.inactconns += 1
                    cp.inactive = True
                elif cp.inactive and new == "ESTABLISHED":
                    d.activeconns += 1
                    d.inactconns -= 1
                    cp.inactive = False
            if new == "ESTABLISHED" and cp.control is not None:
                cp.control.state = "ASSURED"
            cp.state = new
        cp.timeout = self._timeout_for(cp)

    def _state_transition(self, cp: Conn, direction: str, pkt: IPv4) -> None:
        if isinstance(pkt.l4, TCP):
            self._set_tcp_state(cp, direction, pkt.l4)
        else:
            cp.timeout = self.udp_timeout

    # -- scheduling --------------------------------------------------------------
    def service_for(self, pkt: IPv4) -> VirtualService | None:
        """ip_vs_service_find: fwmark first, then <proto, addr, port>, then a port-zero service."""
        if pkt.mark and self.fwm_services:
            svc = self.fwm_services.get(pkt.mark)
            if svc is not None:
                return svc
        svc = self.services.get((pkt.proto, pkt.dst, pkt.l4.dport))
        if svc is None and self.nullsvc:
            svc = self.services.get((pkt.proto, pkt.dst, 0))
        return svc

    def schedule(self, svc: VirtualService, pkt: IPv4) -> tuple[Conn | None, str]:
        """ip_vs_schedule (and ip_vs_sched_persist): a new connection entry, or None."""
        l4 = pkt.l4
        sched = svc.scheduler
        if svc.persistent:
            return self._sched_persist(svc, pkt)
        d, why = sched.schedule(svc, pkt)
        if d is None:
            return None, why
        cp = self._new_conn(pkt.proto, pkt.src, l4.sport, pkt.dst, l4.dport, d, d.port or l4.dport)
        svc.stats.conns += 1
        d.stats.conns += 1
        self.stats.conns += 1
        return cp, why

    def _sched_persist(self, svc: VirtualService, pkt: IPv4) -> tuple[Conn | None, str]:
        l4 = pkt.l4
        snet = pkt.src & svc.netmask
        if svc.fwmark:
            tkey = (IPPROTO_IP, snet, 0, svc.fwmark, 0)
        else:
            tkey = (pkt.proto, snet, 0, pkt.dst, l4.dport if l4.dport == svc.port else 0)
        ct = self.templates.get(tkey)
        if ct is not None and not self._check_template(ct):
            ct = None
        if ct is None:
            d, why = svc.scheduler.schedule(svc, pkt)
            if d is None:
                return None, why
            dport = d.port if (svc.port and l4.dport == svc.port and not svc.fwmark) else 0
            ct = self._new_conn(tkey[0], snet, 0, tkey[3], tkey[4], d, dport, template=True, timeout=svc.timeout)
            self.templates[tkey] = ct
            ct.tkey = tkey
            why = f"{why}; new persistent template for {fmt_ip(snet)} ({svc.timeout} s)"
        else:
            d = ct.dest
            why = (f"persistence: template {fmt_ip(snet)} → {d.label} (expires in {_mmss(ct.expires - self.now)}), "
                   f"same real server, scheduler not asked")
        self._arm(ct)  # ip_vs_conn_put(ct): every new connection refreshes the template
        cp = self._new_conn(pkt.proto, pkt.src, l4.sport, pkt.dst, l4.dport, d, d.port or l4.dport)
        cp.control = ct
        ct.n_control += 1
        svc.stats.conns += 1
        d.stats.conns += 1
        self.stats.conns += 1
        return cp, why

    def _check_template(self, ct: Conn) -> bool:
        """ip_vs_check_template: a template whose server was deleted is invalidated (its
        ports become 65535 and it can no longer be found) and left to expire."""
        d = ct.dest
        quiescent = self.ns.sysctl.get("net.ipv4.vs.expire_quiescent_template", "0") == "1" and d is not None \
            and d.weight == 0
        if d is not None and d.available and not quiescent:
            return True
        if ct.tkey is not None and self.templates.get(ct.tkey) is ct:
            del self.templates[ct.tkey]
        ct.tkey = None
        ct.vport = ct.dport = 0xFFFF
        ct.cport = 0
        return False

    # -- the packet path -----------------------------------------------------------
    def hook(self, hook: str, pkt: IPv4, in_dev, out_dev, trace: Trace) -> IPv4 | None:
        if hook in ("PREROUTING", "POSTROUTING"):
            return pkt
        l4 = pkt.l4
        if not isinstance(l4, (TCP, UDP)) and not (isinstance(l4, ICMP) and l4.quoted is not None):
            return pkt
        if not (self.conns or self.services or self.fwm_services):
            return pkt
        self.expire()
        out = self._out(pkt, in_dev or out_dev, trace)
        if out is not None or hook == "FORWARD":
            return out if out is not None else pkt
        return self._in(pkt, in_dev or out_dev, trace, local_out=hook == "OUTPUT")

    def _out(self, pkt: IPv4, dev, trace: Trace) -> IPv4 | None:
        """ip_vs_out: a packet from a real server back to a client of a Masq connection
        gets the virtual address as its source again. None: not ours."""
        l4 = pkt.l4
        if isinstance(l4, ICMP):
            return self._out_icmp(pkt, l4, dev, trace)
        cp = self.conns_out.get((pkt.proto, pkt.src, l4.sport, pkt.dst, l4.dport))
        if cp is None:
            return None
        self._state_transition(cp, "OUTPUT", pkt)
        self._arm(cp)
        self._count(cp, pkt, out=True)
        new = evolve(pkt, src=cp.vaddr, l4=evolve(l4, sport=cp.vport))
        new = self._conntrack_update(cp, pkt, new, trace, reply=True)
        trace.add(self.ns.name, _devname(dev), T.IPVS,
                  f"IPVS: reply of {cp.describe()} [{self.state_name(cp)}]: source "
                  f"{fmt_ip(pkt.src)}:{l4.sport} → {fmt_ip(cp.vaddr)}:{cp.vport}", new,
                  {"compared": 1, "service": _svc_label(cp), "connection": cp.describe(), "state": cp.state})
        return new

    def _out_icmp(self, pkt: IPv4, icmp: ICMP, dev, trace: Trace) -> IPv4 | None:
        """ip_vs_out_icmp: an ICMP error from a real server about a connection is made to
        look as if it came from the virtual address, quoted packet included."""
        q = icmp.quoted
        ql4 = q.l4
        if not isinstance(ql4, (TCP, UDP)):
            return None
        cp = self.conns_out.get((q.proto, q.dst, ql4.dport, q.src, ql4.sport))
        if cp is None:
            return None
        quoted = evolve(q, dst=cp.vaddr, l4=evolve(ql4, dport=cp.vport))
        new = evolve(pkt, src=cp.vaddr, l4=evolve(icmp, quoted=quoted))
        trace.add(self.ns.name, _devname(dev), T.IPVS,
                  f"IPVS: ICMP error about {cp.describe()}: source and quoted destination → {fmt_ip(cp.vaddr)}:{cp.vport}",
                  new, {"compared": 1, "service": _svc_label(cp), "connection": cp.describe()})
        return new

    def _in(self, pkt: IPv4, dev, trace: Trace, *, local_out: bool) -> IPv4 | None:
        """ip_vs_in: find the connection (or schedule a new one) and send the packet on."""
        l4 = pkt.l4
        if isinstance(l4, ICMP):
            return pkt
        ns = self.ns
        cp = self.conns_in.get((pkt.proto, pkt.src, l4.sport, pkt.dst, l4.dport))
        new_conn = isinstance(l4, TCP) and (l4.flags & (TH_SYN | TH_ACK | TH_RST)) == TH_SYN
        if cp is not None and new_conn and self._reuse(cp):
            trace.add(ns.name, _devname(dev), T.IPVS,
                      f"IPVS: SYN reuses the ports of {cp.describe()} [{cp.state}]: old entry expired, scheduling anew",
                      pkt, {"compared": 1, "connection": cp.describe()})
            self._unlink(cp)
            cp = None
        if cp is None:
            svc = self.service_for(pkt)
            if svc is None:
                return pkt
            if isinstance(l4, TCP) and not new_conn and self.ns.sysctl.get("net.ipv4.vs.sloppy_tcp", "0") != "1":
                trace.add(ns.name, _devname(dev), T.IPVS,
                          f"IPVS: {svc.label} has no connection entry for {fmt_ip(pkt.src)}:{l4.sport} "
                          f"[{l4.flag_text()}]: only a SYN is scheduled, the packet goes to the local stack",
                          pkt, {"compared": 1, "service": svc.label})
                return pkt
            cp, why = self.schedule(svc, pkt)
            if cp is None:
                trace.add(ns.name, _devname(dev), T.IPVS, f"IPVS: {svc.label} {svc.scheduler.name}: {why}", pkt,
                          {"compared": 1, "service": svc.label, "scheduler": svc.scheduler.name, "chosen": None,
                           "why": why})
                trace.end(T.DROPPED, f"IPVS: no real server available for {svc.label}: ICMP port unreachable sent",
                          ns.name, _devname(dev))
                ns.icmp_send(pkt, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, trace)
                return None
            detail = {"compared": 1, "service": svc.label, "scheduler": svc.scheduler.name,
                      "chosen": cp.dest.label, "why": why, "connection": cp.describe()}
            text = f"IPVS: {svc.label} {svc.scheduler.name} → {cp.dest.label} ({why})"
        else:
            detail = {"compared": 1, "service": _svc_label(cp), "chosen": f"{fmt_ip(cp.daddr)}:{cp.dport}",
                      "why": "existing connection entry", "connection": cp.describe(), "state": cp.state}
            text = (f"IPVS: connection entry {cp.describe()} [{self.state_name(cp)}, expires in "
                    f"{_mmss(cp.expires - self.now)}]")
        self._state_transition(cp, "INPUT", pkt)
        self._arm(cp)
        self._count(cp, pkt, out=False)
        trace.add(ns.name, _devname(dev), T.IPVS, text, pkt, detail)
        return self._xmit(cp, pkt, dev, trace, local_out=local_out)

    def _reuse(self, cp: Conn) -> bool:
        """conn_reuse_mode: a SYN on the ports of a closing TCP connection starts afresh."""
        if self.ns.sysctl.get("net.ipv4.vs.conn_reuse_mode", "1") == "0" or cp.control is not None:
            return False
        return cp.protocol == IPPROTO_TCP and cp.state in ("TIME_WAIT", "CLOSE")

    def _count(self, cp: Conn, pkt: IPv4, *, out: bool) -> None:
        n = pkt.length
        targets = [self.stats] + ([cp.dest.stats] if cp.dest is not None else [])
        svc = self._svc_of(cp)
        if svc is not None:
            targets.append(svc.stats)
        for s in targets:
            if out:
                s.outpkts += 1
                s.outbytes += n
            else:
                s.inpkts += 1
                s.inbytes += n

    def _svc_of(self, cp: Conn) -> VirtualService | None:
        if cp.control is not None and cp.control.protocol == IPPROTO_IP:
            return self.fwm_services.get(cp.control.vaddr)
        svc = self.services.get((cp.protocol, cp.vaddr, cp.vport)) or self.services.get((cp.protocol, cp.vaddr, 0))
        if svc is None and self.fwm_services:
            for s in self.fwm_services.values():
                if cp.dest in s.dests:
                    return s
        return svc

    def _xmit(self, cp: Conn, pkt: IPv4, dev, trace: Trace, *, local_out: bool) -> IPv4 | None:
        """ip_vs_nat_xmit / ip_vs_dr_xmit: route to the real server and send."""
        from netlab.net.netns import OUTPUT, RouteError

        ns = self.ns
        where = _devname(dev)
        try:
            res = ns.route_output(cp.daddr)
        except RouteError as err:
            trace.end(T.DROPPED, f"IPVS: no route to real server {fmt_ip(cp.daddr)} ({err.errno_text})", ns.name, where)
            return None
        if cp.fwd == TUNNEL:
            trace.end(T.DROPPED, "IPVS: IP-in-IP tunnelling to real servers is not modelled", ns.name, where)
            return None
        l4 = pkt.l4
        if cp.fwd == MASQ:
            new = evolve(pkt, dst=cp.daddr, l4=evolve(l4, dport=cp.dport))
            nat = f"DNAT {fmt_ip(pkt.dst)}:{l4.dport} → {fmt_ip(cp.daddr)}:{cp.dport}"
        else:  # Route (direct routing): the frame goes to the real server's MAC, the IP header stays
            new = pkt
            nat = f"direct routing: destination stays {fmt_ip(pkt.dst)}, frame sent to {fmt_ip(cp.daddr)}"
        if res.type == LOCAL:  # the real server is this host: on up the local stack
            trace.add(ns.name, where, T.NAT, f"IPVS {nat} (local real server)", new)
            return self._conntrack_update(cp, pkt, new, trace, reply=False)
        if new.ttl <= 1:
            trace.end(T.DROPPED, "IPVS: TTL exceeded on the way to the real server: ICMP time exceeded sent",
                      ns.name, where)
            ns.icmp_send(pkt, ICMP_TIME_EXCEEDED, 0, trace)
            return None
        new = evolve(new, ttl=new.ttl - 1)
        trace.add(ns.name, res.dev.name, T.NAT,
                  f"IPVS {nat}, TTL {new.ttl + 1} → {new.ttl}; route {fmt_ip(cp.daddr)}: {res.route.describe()}; "
                  f"sent through OUTPUT and POSTROUTING (not FORWARD)", new, {"route": res.route})
        new = self._conntrack_update(cp, pkt, new, trace, reply=False)
        nf = ns.netfilter
        if nf is not None:  # NF_HOOK(LOCAL_OUT, ..., dst_output) with skb->ipvs_property set
            new = nf.hook(OUTPUT, new, None, res.dev, trace)
            if new is None:
                return None
        ns.ip_output(new, res.dev, res.nexthop, trace, forwarded=True, route_type=res.type)
        return None

    def _conntrack_update(self, cp: Conn, before: IPv4, after: IPv4, trace: Trace, *, reply: bool) -> IPv4:
        """The one place IPVS meets conntrack. With net.ipv4.vs.conntrack=1 (kube-proxy sets
        it) ip_vs_update_conntrack tells the entry that the reply will come from the real
        server, so netfilter's NAT — kube-proxy's MASQUERADE in POSTROUTING — still applies
        (`Netfilter.ipvs_update`). With 0 (the default) ip_vs_notrack leaves the packet
        untracked, and no nat rule ever sees it: a MASQUERADE rule is silently skipped."""
        nf = self.ns.netfilter
        if nf is None:
            return after
        if self.ns.sysctl.get("net.ipv4.vs.conntrack", "0") == "1":
            if cp.fwd == MASQ:
                nf.ipvs_update(before, after, reply=reply, trace=trace)
            return after
        from netlab.net.netfilter.engine import CtRef

        return evolve(after, nfct=CtRef(nf.ct, None, 0, "UNTRACKED"))


def _svc_label(cp: Conn) -> str:
    return f"{PROTO_NAMES.get(cp.protocol, cp.protocol)} {fmt_ip(cp.vaddr)}:{cp.vport}"


def _devname(dev) -> str | None:
    return dev.name if dev is not None else None


def _mmss(seconds: float) -> str:
    s = max(0, int(seconds))
    return f"{s // 60:02d}:{s % 60:02d}"


__all__ = ["Ipvs", "IpvsError", "VirtualService", "RealServer", "Conn", "Stats", "MASQ", "ROUTE", "TUNNEL",
           "FWD_METHODS", "IP_VS_VERSION", "CONN_TAB_SIZE", "IPPROTO_IP", "PROTO_NAMES", "STATES", "TCP_TIMEOUTS",
           "UDP_TIMEOUT", "HOOK_PRIORITIES"]
