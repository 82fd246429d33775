"""The netfilter layer of one namespace: the hooks, conntrack and NAT.

At each hook the tables run in the kernel's priority order (declared once, in HOOK_ORDER):

  PREROUTING   raw → conntrack → mangle → nat (DNAT)
  INPUT        mangle → filter → [IPVS] → nat (SNAT) → conntrack confirm
  FORWARD      mangle → filter → [IPVS]
  OUTPUT       raw → conntrack → mangle → nat (DNAT) → [IPVS] → filter
  POSTROUTING  mangle → nat (SNAT) → conntrack confirm

IPVS (ip_vs_ops4, priorities 98/99 at LOCAL_IN, -99/-98 at LOCAL_OUT, 99/100 at FORWARD)
runs where its priority puts it, when the namespace passes its `ipvs` to hook(): it sees a
packet of one of its connections before the LOCAL_IN SNAT manip, and a packet it steals
(forwards to a real server) goes no further through this hook.
The nat table sees only the first packet of a connection; what it decides is kept in the
conntrack entry's reply tuple, and every packet (both directions) is rewritten from it.
"""
from __future__ import annotations

from netlab.net import trace as T
from netlab.net.addr import fmt_ip
from netlab.net.conntrack import (CONFIRMED, DST_NAT, DST_NAT_DONE, ORIG, REPLY, SEEN_REPLY, SRC_NAT, SRC_NAT_DONE, Conn,
                                  ConntrackTable, Tuple, packet_tuple, tcp_invalid_first)
from netlab.net.netfilter.matches import Ctx
from netlab.net.netfilter.model import Table, TABLE_ORDER
from netlab.net.netfilter.ops import TableOps
from netlab.net.netfilter.recent import RecentTables
from netlab.net.netfilter.targets import DROP, NatRange
from netlab.net.netfilter.walk import walk
from netlab.net.packet import ICMP, IPPROTO_ICMP, IPPROTO_TCP, TCP, TH_ACK, TH_RST, TH_SYN, UDP, IPv4, evolve

CT, CONFIRM, NAT, IPVS = "conntrack", "confirm", "nat", "ipvs"
HOOK_ORDER = {
    "PREROUTING": ("raw", CT, "mangle", NAT),
    "INPUT": ("mangle", "filter", IPVS, NAT, CONFIRM),
    "FORWARD": ("mangle", "filter", IPVS),
    "OUTPUT": ("raw", CT, "mangle", NAT, IPVS, "filter"),
    "POSTROUTING": ("mangle", NAT, CONFIRM),
}
MANIP = {"PREROUTING": "dst", "OUTPUT": "dst", "POSTROUTING": "src", "INPUT": "src"}


class CtRef:
    """skb->_nfct: the entry, the packet's direction, and its ctstate, for one namespace."""

    __slots__ = ("table", "conn", "dir", "info")

    def __init__(self, table: ConntrackTable | None, conn: Conn | None, direction: int, info: str) -> None:
        self.table = table
        self.conn = conn
        self.dir = direction
        self.info = info


class Netfilter(TableOps):
    def __init__(self, ns) -> None:
        self.ns = ns
        self.tables: dict[str, Table] = {name: Table(name) for name in TABLE_ORDER}
        self.ct = ConntrackTable(lambda: ns.world.clock,
                                 int(ns.sysctl.get("net.netfilter.nf_conntrack_max", "262144")))
        self.recent = RecentTables(self)
        self.log_lines: list[str] = []

    @property
    def rng(self):
        return self.ns.world.rng

    # -- the hook entry point (NetNS._hook) -------------------------------------------------------
    def hook(self, hook: str, pkt: IPv4, in_dev, out_dev, trace, *, physin=None, physout=None,
             bridged: bool = False, ipvs=None) -> IPv4 | None:
        cx = Ctx(self, hook, in_dev, out_dev, trace, physin=physin, physout=physout, bridged=bridged)
        ref = pkt.nfct
        if ref is not None and ref.table is not self.ct:
            if hook in ("PREROUTING", "OUTPUT"):
                pkt = evolve(pkt, nfct=None, mark=0)  # crossed into this namespace: skb_scrub_packet
                ref = None
        if ref is not None:
            cx.ct, cx.ctdir, cx.info = ref.conn, ref.dir, ref.info
        for stage in HOOK_ORDER[hook]:
            if stage == CT:
                pkt = self._ct_in(pkt, cx, trace)
            elif stage == CONFIRM:
                if cx.ct is not None and not cx.ct.confirmed:
                    self.ct.confirm(cx.ct)
            elif stage == IPVS:
                if ipvs is not None:
                    pkt = ipvs.hook(hook, pkt, in_dev, out_dev, trace)
                    if pkt is None:
                        return None  # stolen (sent on to a real server) or dropped by IPVS
            else:
                if stage == NAT:
                    verdict, pkt = self._nat(hook, pkt, cx, trace)
                else:
                    table = self.tables[stage]
                    if not table.exists or not _busy(table.chains[hook]):
                        continue
                    verdict, pkt = walk(self, table, hook, pkt, cx, trace)
                if verdict == DROP:
                    self._dropped(cx, trace)
                    return None
        return pkt

    def _dropped(self, cx: Ctx, trace) -> None:
        where = cx.last
        if where is None:
            reason = f"dropped by netfilter at {cx.hook}"
        elif where[2] is None:
            reason = f"dropped by the policy of {where[0]} {where[1]} (DROP)"
        else:
            reason = f"dropped by {where[0]} {where[1]} rule {where[2]}"
        if cx.rejected:
            reason = reason.replace("dropped", "rejected") + f": {cx.rejected}"
        trace.end(T.DROPPED, reason, self.ns.name, cx.indev or cx.outdev)

    # -- conntrack --------------------------------------------------------------------------------
    def _ct_in(self, pkt: IPv4, cx: Ctx, trace) -> IPv4:
        ref = pkt.nfct
        if ref is not None:  # looped back, or a REJECT's answer with its connection attached
            return pkt
        if cx.notracked:
            return evolve(pkt, nfct=CtRef(self.ct, None, ORIG, "UNTRACKED"))
        l4 = pkt.l4
        if isinstance(l4, ICMP) and l4.quoted is not None:
            return self._ct_related(pkt, l4.quoted, cx, trace)
        tup = packet_tuple(pkt)
        if tup is None:
            cx.info = "INVALID"
            return evolve(pkt, nfct=CtRef(self.ct, None, ORIG, "INVALID"))
        hit = self.ct.lookup(tup)
        if hit is not None and isinstance(l4, TCP) and hit[1] == ORIG and l4.flags & TH_SYN and not l4.flags & TH_ACK \
                and hit[0].state in ("TIME_WAIT", "CLOSE"):
            self.ct.remove(hit[0])  # a new SYN reopens a closed connection
            hit = None
        if hit is None:
            if isinstance(l4, TCP) and tcp_invalid_first(l4.flags):
                cx.info = "INVALID"
                trace.add(self.ns.name, cx.indev or cx.outdev, T.CONNTRACK,
                          f"conntrack: TCP [{l4.flag_text()}] opens no connection: ctstate INVALID")
                return evolve(pkt, nfct=CtRef(self.ct, None, ORIG, "INVALID"))
            conn, direction = self.ct.new(tup), ORIG
        else:
            conn, direction = hit
        self.ct.refresh(conn, pkt, direction)
        info = "ESTABLISHED" if (direction == REPLY or conn.status & SEEN_REPLY) else "NEW"
        cx.ct, cx.ctdir, cx.info = conn, direction, info
        what = "new connection" if hit is None else ("reply" if direction == REPLY else "original direction")
        trace.add(self.ns.name, cx.indev or cx.outdev, T.CONNTRACK,
                  f"conntrack: {info} ({what}) {conn.describe()}" + (f" {conn.state}" if conn.state else ""),
                  detail={"conn": conn, "dir": direction, "state": info})
        return evolve(pkt, nfct=CtRef(self.ct, conn, direction, info))

    def _ct_related(self, pkt: IPv4, quoted: IPv4, cx: Ctx, trace) -> IPv4:
        qref = quoted.nfct
        if qref is not None and qref.table is self.ct and qref.conn is not None:
            conn, qdir = qref.conn, qref.dir
        else:
            # nf_conntrack_icmp_error: invert the quoted tuple and look that up. The error
            # travels in the direction the inverted tuple is found in; after NAT the quoted
            # packet carries translated addresses, so only the inverted form can match.
            qt = packet_tuple(quoted)
            hit = self.ct.lookup(qt.invert()) if qt is not None else None
            if hit is None:
                cx.info = "INVALID"
                trace.add(self.ns.name, cx.indev or cx.outdev, T.CONNTRACK,
                          "conntrack: ICMP error about no known connection: ctstate INVALID")
                return evolve(pkt, nfct=CtRef(self.ct, None, ORIG, "INVALID"))
            conn, found = hit
            qdir = 1 - found
        direction = 1 - qdir
        cx.ct, cx.ctdir, cx.info = conn, direction, "RELATED"
        trace.add(self.ns.name, cx.indev or cx.outdev, T.CONNTRACK,
                  f"conntrack: RELATED: ICMP error about {conn.describe()}", detail={"conn": conn, "dir": direction,
                                                                                    "state": "RELATED"})
        return evolve(pkt, nfct=CtRef(self.ct, conn, direction, "RELATED"))

    def ct_states(self, cx: Ctx) -> frozenset[str]:
        ct = cx.ct
        states = {cx.info}
        if ct is not None:
            if ct.status & SRC_NAT:
                states.add("SNAT")
            if ct.status & DST_NAT:
                states.add("DNAT")
        return frozenset(states)

    def notrack(self, cx: Ctx) -> None:
        cx.info = "UNTRACKED"
        cx.notracked = True

    # -- NAT --------------------------------------------------------------------------------------
    def _nat(self, hook: str, pkt: IPv4, cx: Ctx, trace):
        ct = cx.ct
        if ct is None:
            return "ACCEPT", pkt
        manip = MANIP[hook]
        if cx.info == "RELATED" and isinstance(pkt.l4, ICMP) and pkt.l4.quoted is not None:
            return "ACCEPT", self._nat_icmp_error(pkt, ct, cx.ctdir, manip, cx, trace)
        done = DST_NAT_DONE if manip == "dst" else SRC_NAT_DONE
        if not ct.status & done:
            table = self.tables["nat"]
            if cx.info == "NEW" and cx.ctdir == ORIG and table.exists and _busy(table.chains[hook]):
                verdict, pkt = walk(self, table, hook, pkt, cx, trace)
                if verdict == DROP:
                    return DROP, pkt
            ct.status |= done
        return "ACCEPT", self._manip(pkt, ct, cx.ctdir, manip, cx, trace)

    def nat_bind(self, pkt: IPv4, cx: Ctx, manip: str, rng: NatRange, *, random_fully: bool) -> IPv4:
        """A DNAT/SNAT/MASQUERADE target fired: change the entry's reply tuple (the binding)."""
        ct = cx.ct
        if ct is None or ct.confirmed:
            return pkt
        cur = ct.reply
        ports = cur.proto in (6, 17, 132)
        if manip == "dst":
            ip = rng.ip_lo if rng.ip_lo is not None else cur.src
            port = rng.port_lo if (rng.port_lo is not None and ports) else cur.a
            reply = Tuple(ip, cur.dst, cur.proto, port, cur.b)
            status = DST_NAT
        else:
            ip = rng.ip_lo if rng.ip_lo is not None else cur.dst
            reply = self._free_source(ct, cur, ip, rng, ports, random_fully)
            status = SRC_NAT
        self.ct.set_reply(ct, reply, status)
        return pkt

    def _free_source(self, ct: Conn, cur: Tuple, ip: int, rng: NatRange, ports: bool, random_fully: bool) -> Tuple:
        """nf_nat_l4proto_unique_tuple: keep the source port if it is free, else search."""
        want = Tuple(cur.src, ip, cur.proto, cur.a, cur.b)
        if not ports:
            return want
        lo, hi = (rng.port_lo, rng.port_hi) if rng.port_lo is not None else (None, None)
        if lo is None and not random_fully and not self.ct.used(want, ct):
            return want
        if lo is None:
            sport = cur.b
            lo, hi = (1, 511) if sport < 512 else ((600, 1023) if sport < 1024 else (1024, 65535))
        if lo <= cur.b <= hi and not random_fully and not self.ct.used(want, ct):
            return want
        size = hi - lo + 1
        start = self.rng.randrange(size) if random_fully else 0
        for i in range(size):
            port = lo + (start + i) % size
            cand = Tuple(cur.src, ip, cur.proto, cur.a, port)
            if not self.ct.used(cand, ct):
                return cand
        return want

    def _manip(self, pkt: IPv4, ct: Conn, direction: int, manip: str, cx: Ctx, trace) -> IPv4:
        """nf_nat_packet: rewrite from the tuples. Original direction: apply the binding;
        reply direction: undo the other kind of binding."""
        bit = SRC_NAT if manip == "src" else DST_NAT
        if direction == REPLY:
            bit = DST_NAT if bit == SRC_NAT else SRC_NAT
        if not ct.status & bit:
            return pkt
        target = ct.tuple(1 - direction).invert()
        new = _rewrite(pkt, target, manip)
        if new is not pkt:
            label = {("dst", ORIG): "DNAT", ("src", ORIG): "SNAT", ("dst", REPLY): "reply un-SNAT (destination restored)",
                     ("src", REPLY): "reply un-DNAT (source restored)"}[(manip, direction)]
            trace.add(self.ns.name, cx.indev or cx.outdev, T.NAT,
                      f"{label}: {_ends(pkt, manip)} → {_ends(new, manip)}", new,
                      detail={"manip": manip, "dir": direction, "conn": ct})
        return new

    def _nat_icmp_error(self, pkt: IPv4, ct: Conn, direction: int, manip: str, cx: Ctx, trace) -> IPv4:
        """nf_nat_icmp_reply_translation: the quoted packet gets the opposite manip."""
        bit = SRC_NAT if manip == "src" else DST_NAT
        if direction == REPLY:
            bit = DST_NAT if bit == SRC_NAT else SRC_NAT
        if not ct.status & bit:
            return pkt
        other = ct.tuple(1 - direction)
        inner = _rewrite(pkt.l4.quoted, other, "src" if manip == "dst" else "dst")
        target = other.invert()
        outer = evolve(pkt, src=target.src) if manip == "src" else evolve(pkt, dst=target.dst)
        new = evolve(outer, l4=evolve(pkt.l4, quoted=inner))
        trace.add(self.ns.name, cx.indev or cx.outdev, T.NAT,
                  f"ICMP error NAT: {fmt_ip(pkt.src)} > {fmt_ip(pkt.dst)} → {fmt_ip(new.src)} > {fmt_ip(new.dst)}, "
                  f"quoted packet {pkt.l4.quoted.describe()} → {inner.describe()}", new)
        return new

    def ipvs_bind(self, pkt: IPv4, dst: int, dport: int, trace=None) -> IPv4:
        """For IPVS (net.ipv4.vs.conntrack=1): record that this connection is forwarded to
        dst:dport (ip_vs_update_conntrack) and return the rewritten packet. Replies are then
        un-NATed by conntrack like any DNAT."""
        ref = pkt.nfct
        if ref is None or ref.table is not self.ct or ref.conn is None:
            return evolve(pkt, dst=dst, l4=evolve(pkt.l4, dport=dport)) if isinstance(pkt.l4, (TCP, UDP)) else \
                evolve(pkt, dst=dst)
        ct = ref.conn
        cur = ct.reply
        port = dport if cur.proto in (6, 17) else cur.a
        self.ct.set_reply(ct, Tuple(dst, cur.dst, cur.proto, port, cur.b), DST_NAT)
        ct.status |= DST_NAT_DONE
        return _rewrite(pkt, ct.reply.invert(), "dst")

    def ipvs_update(self, before: IPv4, after: IPv4, *, reply: bool, trace=None) -> None:
        """ip_vs_update_conntrack (net.ipv4.vs.conntrack=1): IPVS forwarded `before` as `after`.
        The entry learns the real server as its reply source. IPVS steals the packet at LOCAL_IN
        before conntrack confirms it, so the entry goes back to unconfirmed: MASQUERADE in
        POSTROUTING may still bind it, and POSTROUTING confirms it."""
        if reply:
            return  # the reply tuple already names the real server: nothing to learn
        hit = self.find_conn(before)
        if hit is None:
            return
        ct, _ = hit
        if ct.confirmed:
            self.ct.remove(ct)
            ct.status &= ~(CONFIRMED | SRC_NAT_DONE)
        cur = ct.reply
        l4 = after.l4
        port = l4.dport if isinstance(l4, (TCP, UDP)) else cur.a
        # nf_conntrack_alter_reply only: no IPS_DST_NAT. Later packets of the connection keep the
        # virtual address through PREROUTING and reach IPVS at LOCAL_IN (which moves its TCP
        # state to ESTABLISHED and counts the connection active); IPVS, not conntrack, rewrites
        # the reply's source back to the virtual address.
        self.ct.set_reply(ct, Tuple(after.dst, cur.dst, cur.proto, port, cur.b), 0)
        ct.status |= DST_NAT_DONE
        if trace is not None:
            trace.add(self.ns.name, None, T.CONNTRACK, f"conntrack: IPVS binding recorded: {ct.describe()}",
                      detail={"conn": ct})

    # -- text forms (people's path; programs use replace_table / replace_chains) -----------------
    def restore(self, text: str, *, noflush: bool = False, table: str | None = None, counters: bool = False) -> None:
        """iptables-restore; raises save.RestoreError with the tool's message."""
        from netlab.net.netfilter.save import restore

        restore(self, text, noflush=noflush, only=table, counters=counters)

    def save(self, table: str | None = None, counters: bool = False) -> str:
        from netlab.net.netfilter.save import save

        return save(self, table, counters)

    def find_conn(self, pkt: IPv4) -> tuple[Conn, int] | None:
        """The entry a packet belongs to (for IPVS and tools), by attachment or by tuple."""
        ref = pkt.nfct
        if ref is not None and ref.table is self.ct and ref.conn is not None:
            return ref.conn, ref.dir
        tup = packet_tuple(pkt)
        return self.ct.lookup(tup) if tup is not None else None

    # -- helpers for matches and targets ----------------------------------------------------------
    def addr_type(self, ip: int, dev) -> str:
        if ip >> 28 == 0xE:
            return "MULTICAST"
        if ip == 0xFFFFFFFF:
            return "BROADCAST"
        route = self.ns.fib.lookup(ip)
        if route is None:
            return "UNREACHABLE" if dev is None else "UNICAST"
        kind = {"local": "LOCAL", "broadcast": "BROADCAST", "blackhole": "BLACKHOLE", "unreachable": "UNREACHABLE",
                "prohibit": "PROHIBIT"}.get(route.type, "UNICAST")
        if dev is not None and route.dev is not dev and kind in ("LOCAL", "BROADCAST"):
            return "UNICAST"
        return kind

    def send_reject(self, pkt: IPv4, cx: Ctx, with_: str) -> None:
        from netlab.net.netfilter.targets import REJECT_TYPES

        ns = self.ns
        if with_ == "tcp-reset":
            l4 = pkt.l4
            if not isinstance(l4, TCP) or l4.flags & TH_RST:
                return
            ack = l4.seq + 1 if l4.flags & TH_SYN else l4.seq + l4.payload_len
            ref = pkt.nfct
            nfct = CtRef(self.ct, ref.conn, 1 - ref.dir, "RELATED") if ref is not None and ref.conn is not None else None
            rst = IPv4(pkt.dst, pkt.src, IPPROTO_TCP, TCP(l4.dport, l4.sport, TH_RST | TH_ACK, 0, ack), nfct=nfct)
            cx.rejected = "TCP RST sent"
            rtrace = ns.world.new_trace(f"{fmt_ip(rst.src)} > {fmt_ip(rst.dst)} TCP RST (REJECT)", ns.name, rst, "reset")
            rtrace.t = cx.trace.t if cx.trace is not None else 0.0
            ns.ip_local_out(rst, rtrace)
            return
        type_, code = REJECT_TYPES[with_]
        cx.rejected = f"ICMP {with_} sent"
        ns.icmp_send(pkt, type_, code, cx.trace)

    def log_packet(self, pkt: IPv4, cx: Ctx, prefix: str) -> None:
        """nf_log_ip_packet: one kernel log line, appended to /var/log/kern.log."""
        l4 = pkt.l4
        text = (f"{prefix}IN={cx.indev or ''} OUT={cx.outdev or ''} SRC={fmt_ip(pkt.src)} DST={fmt_ip(pkt.dst)} "
                f"LEN={pkt.length} TOS=0x{pkt.tos:02X} PREC=0x00 TTL={pkt.ttl} ID={pkt.id}{' DF' if pkt.df else ''} ")
        if isinstance(l4, TCP):
            text += f"PROTO=TCP SPT={l4.sport} DPT={l4.dport} WINDOW=64240 RES=0x00 {_tcp_log_flags(l4.flags)}URGP=0 "
        elif isinstance(l4, UDP):
            text += f"PROTO=UDP SPT={l4.sport} DPT={l4.dport} LEN={l4.length} "
        elif isinstance(l4, ICMP):
            text += f"PROTO=ICMP TYPE={l4.type} CODE={l4.code} "
            if l4.quoted is None:
                text += f"ID={l4.id} SEQ={l4.seq} "
        if pkt.mark:
            text += f"MARK=0x{pkt.mark:x} "
        clock = self.ns.world.clock
        line = f"{_syslog_time(clock)} {self.ns.hostname} kernel: [{clock + 100:12.6f}] {text.rstrip()}"
        self.log_lines.append(line)
        self.ns.files["/var/log/kern.log"] = "\n".join(self.log_lines) + "\n"
        if cx.trace is not None:
            cx.trace.add(self.ns.name, cx.indev or cx.outdev, T.NETFILTER, f"LOG: {text.rstrip()}")


def _busy(chain) -> bool:
    return bool(chain.rules) or chain.policy != "ACCEPT"


def _rewrite(pkt: IPv4, target: Tuple, manip: str) -> IPv4:
    l4 = pkt.l4
    ports = isinstance(l4, (TCP, UDP))
    if manip == "dst":
        if pkt.dst == target.dst and (not ports or l4.dport == target.b):
            return pkt
        return evolve(pkt, dst=target.dst, l4=evolve(l4, dport=target.b) if ports else l4)
    if isinstance(l4, ICMP) and l4.quoted is None and l4.id != target.a and target.proto == IPPROTO_ICMP:
        return evolve(pkt, src=target.src, l4=evolve(l4, id=target.a))
    if pkt.src == target.src and (not ports or l4.sport == target.a):
        return pkt
    return evolve(pkt, src=target.src, l4=evolve(l4, sport=target.a) if ports else l4)


def _ends(pkt: IPv4, manip: str) -> str:
    l4 = pkt.l4
    ip = pkt.dst if manip == "dst" else pkt.src
    if isinstance(l4, (TCP, UDP)):
        return f"{fmt_ip(ip)}:{l4.dport if manip == 'dst' else l4.sport}"
    return fmt_ip(ip)


def _tcp_log_flags(flags: int) -> str:
    names = (("URG", 0x20), ("ACK", 0x10), ("PSH", 0x08), ("RST", 0x04), ("SYN", 0x02), ("FIN", 0x01))
    return "".join(f"{n} " for n, b in names if flags & b)


_MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


def _syslog_time(clock: float) -> str:
    base = 9 * 3600  # the lab's clock starts at 09:00:00 on Jan 1
    t = int(base + clock)
    day, rem = divmod(t, 86400)
    return f"{_MONTHS[0]} {day + 1:2d} {rem // 3600:02d}:{rem % 3600 // 60:02d}:{rem % 60:02d}"
