"""A network namespace and its IPv4 stack: the packet path of net/ipv4.

The path, in the order Linux takes it (see README.md beside this file):

  receive:  l2_rcv → arp_rcv | ip_rcv → [PREROUTING] → route input
                → local_deliver → [INPUT] → icmp / udp / tcp socket
                → ip_forward → [FORWARD] → ip_output
  send:     ip_local_out → route output → [OUTPUT] → ip_output
  output:   ip_output → [POSTROUTING] → MTU → neigh_output (ARP) → dev.xmit

The bracketed hooks are where netfilter (and IPVS) attach: `self.netfilter`,
when set, is called at each one and may change or drop the packet.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from netlab.net import neigh as N
from netlab.net import trace as T
from netlab.net.addr import BROADCAST_MAC, broadcast, fmt_ip, fmt_prefix, network
from netlab.net.device import Device, IfAddr, Loopback
from netlab.net.errors import EADDRNOTAVAIL, EEXIST, NetError
from netlab.net.fib import (BLACKHOLE, BROADCAST, LOCAL, PROHIBIT, RT_TABLE_LOCAL, RT_TABLE_MAIN, SCOPE_HOST,
                            SCOPE_LINK, SCOPE_UNIVERSE, UNICAST, UNREACHABLE, Fib, Route)
from netlab.net.neigh import NeighTable
from netlab.net.packet import (ARP, ARP_REPLY, ARP_REQUEST, ETH_P_ARP, ETH_P_IP, ICMP, ICMP_DEST_UNREACH,
                               ICMP_ECHO, ICMP_ECHOREPLY, ICMP_FRAG_NEEDED, ICMP_HOST_UNREACH, ICMP_NET_UNREACH,
                               ICMP_PKT_FILTERED, ICMP_PORT_UNREACH, ICMP_TIME_EXCEEDED, IPPROTO_ICMP,
                               IPPROTO_TCP, IPPROTO_UDP, TCP, TH_ACK, TH_RST, TH_SYN, UDP, Frame, IPv4,
                               evolve, icmp_error_text)
from netlab.net.socket import Socket

if TYPE_CHECKING:
    from netlab.net.trace import Trace
    from netlab.net.world import Dataplane

PREROUTING, INPUT, FORWARD, OUTPUT, POSTROUTING = "PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"
HOOKS = (PREROUTING, INPUT, FORWARD, OUTPUT, POSTROUTING)

DEFAULT_SYSCTLS = {
    "net.ipv4.ip_forward": "0",
    "net.ipv4.icmp_echo_ignore_all": "0",
    "net.ipv4.icmp_echo_ignore_broadcasts": "1",
    "net.ipv4.conf.all.rp_filter": "0",
    "net.ipv4.conf.default.rp_filter": "0",
    "net.ipv4.conf.all.arp_ignore": "0",
    "net.ipv4.conf.all.proxy_arp": "0",
    "net.ipv4.ip_default_ttl": "64",
    "net.ipv4.ip_local_port_range": "32768\t60999",
    "net.ipv4.neigh.default.base_reachable_time_ms": "30000",
    "net.ipv4.neigh.default.gc_stale_time": "60",
    "net.ipv4.vs.conntrack": "0",
    "net.netfilter.nf_conntrack_max": "262144",
}

# Route errors as the socket layer reports them (errno text, as `ping: connect: ...` prints).
ERR_NETUNREACH = "Network is unreachable"
ERR_HOSTUNREACH = "No route to host"
ERR_INVAL = "Invalid argument"
ERR_ACCES = "Permission denied"
ERR_MSGSIZE = "Message too long"


class RouteError(Exception):
    def __init__(self, errno_text: str, route: Route | None = None):
        super().__init__(errno_text)
        self.errno_text = errno_text
        self.route = route


@dataclass(slots=True)
class RouteResult:
    route: Route
    dev: Device
    nexthop: int  # gateway, or the destination itself when on-link
    src: int
    type: str


class NetNS:
    def __init__(self, world: Dataplane, name: str, *, hostname: str | None = None, kind: str = "host") -> None:
        self.world = world
        self.name = name
        self.kind = kind  # host, pod, router, client
        self.hostname = hostname or name
        self.netns_name: str | None = None  # the name `ip netns` lists on the node, for pod namespaces
        self.devices: dict[str, Device] = {}
        self.by_index: dict[int, Device] = {}
        # address -> the (device, IfAddr) pairs that hold it, for "is this one of our addresses?"
        # per packet: a scan of every address is 20,000 long with kube-ipvs0 in ipvs mode.
        # Kept by addr_add, addr_del, host_addrs_sync, add_device and remove_device, the only
        # ways addresses come and go.
        self.addr_index: dict[int, list[tuple[Device, IfAddr]]] = {}
        self._next_ifindex = 1
        self.fib = Fib()
        self.neigh = NeighTable(lambda: world.clock)
        self.sysctl: dict[str, str] = dict(DEFAULT_SYSCTLS)
        self.sockets: dict[tuple[int, int], Socket] = {}
        self.icmp_sockets: dict[int, Socket] = {}
        self.netfilter = None  # the netfilter layer, when loaded: .hook(name, pkt, in_dev, out_dev, trace)
        self.ipvs = None  # IPVS (net/ipvs.py), once a virtual service exists: hooked after netfilter
        self.files: dict[str, str | Callable[[], str]] = {}
        self.env: dict[str, str] = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root"}
        self._ip_id = 0
        self._next_port = 32768
        lo = Loopback()
        self.add_device(lo)
        self.set_link(lo, up=True)
        self.addr_add(lo, 0x7F000001, 8, scope=SCOPE_HOST)

    # -- devices ---------------------------------------------------------------
    def add_device(self, dev: Device, ifindex: int | None = None) -> Device:
        if dev.name in self.devices:
            raise NetError(EEXIST)
        if ifindex is None or ifindex in self.by_index:
            ifindex = self._next_ifindex
        dev.ifindex = ifindex
        self._next_ifindex = max(self._next_ifindex, ifindex + 1)
        dev.ns = self
        self.devices[dev.name] = dev
        self.by_index[dev.ifindex] = dev
        for a in dev.addrs:
            self._index_add(dev, a)
        return dev

    def remove_device(self, dev: Device) -> None:
        self.fib.flush_dev(dev)
        self.neigh.flush_dev(dev)
        if dev.master is not None:
            dev.master.remove_port(dev)
        for port in list(getattr(dev, "ports", [])):
            dev.remove_port(port)
        del self.devices[dev.name]
        del self.by_index[dev.ifindex]
        for a in dev.addrs:
            self._index_del(dev, a)
        dev.ns = None

    def rename_device(self, dev: Device, new: str) -> None:
        if new in self.devices:
            raise NetError(EEXIST)
        del self.devices[dev.name]
        dev.name = new
        self.devices[new] = dev

    def dev(self, name: str) -> Device | None:
        return self.devices.get(name)

    def set_link(self, dev: Device, *, up: bool) -> None:
        """`ip link set dev up|down`. Down flushes the routes and neighbours through the device,
        as the kernel does; up re-adds the routes its addresses imply."""
        if dev.admin_up == up:
            return
        dev.admin_up = up
        if up:
            for a in dev.addrs:
                self._addr_routes(dev, a)
        else:
            self.fib.flush_dev(dev)
            self.neigh.flush_dev(dev)
            for a in dev.addrs:  # the local route of an address stays while the address exists
                self._local_route(dev, a)

    # -- addresses -------------------------------------------------------------
    def addr_add(self, dev: Device, ip: int, plen: int, *, broadcast_addr: int | None = None, scope: int = SCOPE_UNIVERSE,
                 label: str | None = None, metric: int = 0, noprefixroute: bool = False) -> IfAddr:
        for a in dev.addrs:
            if a.ip == ip and a.plen == plen:
                raise NetError(EEXIST)
        secondary = any(network(a.ip, a.plen) == network(ip, plen) and a.plen == plen for a in dev.addrs)
        a = IfAddr(ip, plen, broadcast_addr, scope, label, metric, noprefixroute, secondary)
        dev.addrs.append(a)
        self._index_add(dev, a)
        self._local_route(dev, a)
        if dev.admin_up:
            self._addr_routes(dev, a)
        return a

    def host_addrs_sync(self, dev: Device, wanted: set[int], only=None) -> None:
        """Make `dev`'s /32 addresses exactly `wanted` (kube-proxy's ipvs mode: one per
        ClusterIP on kube-ipvs0), in one pass: addr_add/addr_del per address scan the
        device's whole list, which is quadratic over 20,000 Service addresses. A /32 is never
        secondary (only an identical address shares its prefix), so the result is what
        addr_add/addr_del one by one would leave. With `only` (a collection of addresses),
        just those are made present or absent; every other address stays as it is."""
        if only is None:
            have = {a.ip for a in dev.addrs if a.plen == 32}
        else:
            have = {a.ip for a in dev.addrs if a.plen == 32 and a.ip in only}
            wanted = {ip for ip in wanted if ip in only}
        gone = have - wanted
        if gone:
            keep = []
            for a in dev.addrs:
                if a.plen == 32 and a.ip in gone:
                    self._index_del(dev, a)
                else:
                    keep.append(a)
            dev.addrs[:] = keep
            fib = self.fib
            # _drop_addr_routes, for all of them at once (and without sorting every table)
            doomed = [r for t in fib.tables.values() for bucket in t.by_plen.values() for routes in bucket.values()
                      for r in routes if r.dev is dev and r.src in gone]
            for route in doomed:
                fib.remove(route)
        for ip in sorted(wanted - have):
            a = IfAddr(ip, 32, None, SCOPE_UNIVERSE, None, 0, False, False)
            dev.addrs.append(a)
            self._index_add(dev, a)
            self._local_route(dev, a)
            if dev.admin_up:
                self._addr_routes(dev, a)

    def addr_del(self, dev: Device, ip: int, plen: int | None) -> IfAddr:
        for a in dev.addrs:
            if a.ip == ip and (plen is None or a.plen == plen):
                dev.addrs.remove(a)
                self._index_del(dev, a)
                self._drop_addr_routes(dev, a)
                return a
        raise NetError(EADDRNOTAVAIL)

    def _index_add(self, dev: Device, a: IfAddr) -> None:
        self.addr_index.setdefault(a.ip, []).append((dev, a))

    def _index_del(self, dev: Device, a: IfAddr) -> None:
        held = self.addr_index.get(a.ip)
        if held is None:
            return
        held[:] = [(d, x) for d, x in held if not (d is dev and x is a)]
        if not held:
            del self.addr_index[a.ip]

    def has_addr(self, ip: int) -> bool:
        """Is `ip` an address of any device in this namespace? (Not the local table: a
        route can make an address local without any device holding it.)"""
        return ip in self.addr_index

    def _local_route(self, dev: Device, a: IfAddr) -> None:
        table = self.fib.table(RT_TABLE_LOCAL)
        if not any(r.dev is dev for r in table.find(a.ip, 32)):
            self.fib.add(Route(a.ip, 32, LOCAL, dev, table=RT_TABLE_LOCAL, proto="kernel", scope=SCOPE_HOST, src=a.ip),
                         append=True)

    def _addr_routes(self, dev: Device, a: IfAddr) -> None:
        """fib_add_ifaddr: the local, broadcast and prefix routes an address implies."""
        self._local_route(dev, a)
        prefix = network(a.ip, a.plen)
        if a.secondary or prefix == 0 or (prefix == a.ip and a.plen == 32):
            return
        if not a.noprefixroute:
            if dev.kind == "loopback":
                route = Route(prefix, a.plen, LOCAL, dev, table=RT_TABLE_LOCAL, proto="kernel", scope=SCOPE_HOST, src=a.ip)
            else:
                route = Route(prefix, a.plen, UNICAST, dev, table=RT_TABLE_MAIN, proto="kernel", scope=SCOPE_LINK,
                              src=a.ip, metric=a.metric)
            if not any(r.dev is dev for r in self.fib.table(route.table).find(prefix, a.plen, route.metric)):
                self.fib.add(route, append=True)
        if a.plen < 31:
            bcast = broadcast(a.ip, a.plen) if a.broadcast is None else a.broadcast
            if not any(r.dev is dev for r in self.fib.table(RT_TABLE_LOCAL).find(bcast, 32)):
                self.fib.add(Route(bcast, 32, BROADCAST, dev, table=RT_TABLE_LOCAL, proto="kernel", scope=SCOPE_LINK,
                                   src=a.ip), append=True)

    def _drop_addr_routes(self, dev: Device, a: IfAddr) -> None:
        """The address's own routes go, and so does every route through the device that used
        it as preferred source (the kernel flushes them)."""
        for route in list(self.fib.all_routes()):
            if route.src == a.ip and route.dev is dev:
                self.fib.remove(route)

    def is_local(self, ip: int) -> bool:
        route = self.fib.table(RT_TABLE_LOCAL).lookup(ip)
        return route is not None and route.type == LOCAL

    def select_src(self, dev: Device | None, dst: int, scope: int = SCOPE_UNIVERSE) -> int:
        """inet_select_addr: a primary address of `dev` in dst's subnet, else the first with a
        wide enough scope, else one from any other device."""
        if dev is not None:
            first = None
            for a in dev.addrs:
                if a.secondary or a.scope > scope:
                    continue
                if network(dst, a.plen) == network(a.ip, a.plen):
                    return a.ip
                if first is None:
                    first = a.ip
            if first is not None:
                return first
        for d in self.devices.values():
            for a in d.addrs:
                if not a.secondary and a.scope < SCOPE_LINK and a.scope <= scope:
                    return a.ip
        return 0

    # -- routing ---------------------------------------------------------------
    def route_output(self, dst: int, src: int = 0, oif: Device | None = None) -> RouteResult:
        """ip_route_output: where a locally generated packet to `dst` goes."""
        route = self.fib.lookup(dst, oif)
        if route is None:
            raise RouteError(ERR_NETUNREACH)
        if route.type in (BLACKHOLE, UNREACHABLE, PROHIBIT):
            raise RouteError({BLACKHOLE: ERR_INVAL, UNREACHABLE: ERR_HOSTUNREACH, PROHIBIT: ERR_ACCES}[route.type], route)
        if route.type == LOCAL:
            # The route's preferred source, else the destination itself: 127.0.0.5 is sent from
            # 127.0.0.1 (prefsrc of `local 127.0.0.0/8`), as ip_route_output_key_hash_rcu does.
            return RouteResult(route, self.devices["lo"], dst, src or (route.src if route.src is not None else dst), LOCAL)
        dev = route.dev
        nexthop = route.gateway if route.gateway is not None else dst
        if not src:
            src = route.src if route.src is not None else self.select_src(dev, nexthop, route.scope if route.gateway is None else SCOPE_LINK)
        return RouteResult(route, dev, nexthop, src, route.type)

    # -- receive ---------------------------------------------------------------
    def l2_rcv(self, dev: Device, frame: Frame, trace: Trace, *, host: bool = False) -> None:
        """After the device (and any bridge) is done: is this frame for our stack?
        `host` says the frame is already known to be PACKET_HOST (a bridge passing up a
        frame addressed to one of its ports' MACs)."""
        if not host and not dev.accepts(frame):
            trace.end(T.DROPPED, f"frame for {frame.dst} is not for {dev.name} ({dev.mac}): PACKET_OTHERHOST, dropped",
                      self.name, dev.name, quiet=True)
            return
        if frame.ethertype == ETH_P_ARP:
            self.arp_rcv(dev, frame, trace)
        elif frame.ethertype == ETH_P_IP:
            self.ip_rcv(dev, frame, trace)
        else:
            trace.end(T.DROPPED, f"unknown ethertype {frame.ethertype:#06x}", self.name, dev.name)

    def arp_rcv(self, dev: Device, frame: Frame, trace: Trace) -> None:
        arp: ARP = frame.payload
        if arp.op == ARP_REQUEST:
            if self.is_local(arp.target_ip) and self._arp_answers_on(dev, arp.target_ip):
                entry, released = self.neigh.update(dev, arp.sender_ip, arp.sender_mac, N.STALE, override=False)
                reply = Frame(dev.mac, arp.sender_mac, ETH_P_ARP, ARP(ARP_REPLY, dev.mac, arp.target_ip, arp.sender_mac, arp.sender_ip))
                trace.add(self.name, dev.name, T.ARP, f"ARP request for {fmt_ip(arp.target_ip)}, a local address: reply is-at {dev.mac}", reply)
                dev.xmit(reply, trace)
                self.release_queued(dev, entry, released)
            else:
                entry = self.neigh.get(dev, arp.sender_ip)
                if entry is not None and entry.state not in (N.PERMANENT, N.NOARP):
                    self.release_queued(dev, *self.neigh.update(dev, arp.sender_ip, arp.sender_mac, N.STALE, override=False))
                trace.end(T.DROPPED, f"ARP who-has {fmt_ip(arp.target_ip)}: not a local address here", self.name, dev.name, quiet=True)
            return
        entry = self.neigh.get(dev, arp.sender_ip)
        if entry is None or entry.state in (N.PERMANENT, N.NOARP):
            trace.end(T.DROPPED, f"unsolicited ARP reply from {fmt_ip(arp.sender_ip)} ignored", self.name, dev.name, quiet=True)
            return
        entry, released = self.neigh.update(dev, arp.sender_ip, arp.sender_mac, N.REACHABLE)
        trace.add(self.name, dev.name, T.NEIGH, f"ARP reply: neighbour {fmt_ip(arp.sender_ip)} lladdr {arp.sender_mac} REACHABLE")
        trace.end(T.DELIVERED, f"ARP reply for {fmt_ip(arp.sender_ip)} consumed by the neighbour table", self.name, dev.name, quiet=True)
        self.release_queued(dev, entry, released)

    def _arp_answers_on(self, dev: Device, target: int) -> bool:
        # arp_ignore=0: answer for any local address, whichever interface asked.
        if self.sysctl.get("net.ipv4.conf.all.arp_ignore", "0") == "0":
            return True
        return any(d is dev for d, _ in self.addr_index.get(target, ()))

    def release_queued(self, dev: Device, entry, released: list) -> None:
        for pkt, trace in released:
            trace.add(self.name, dev.name, T.NEIGH, f"neighbour {fmt_ip(entry.ip)} resolved to {entry.lladdr}: queued packet sent")
            self._neigh_xmit(dev, entry.lladdr, pkt, trace)

    def ip_rcv(self, dev: Device, frame: Frame, trace: Trace) -> None:
        pkt = frame.payload
        trace.add(self.name, dev.name, T.RX, f"{dev.name} receives {pkt.describe()}", frame)
        pkt = self._hook(PREROUTING, pkt, dev, None, trace)
        if pkt is None:
            return
        if dev.kind != "loopback" and self._martian_source(pkt.src):
            trace.end(T.DROPPED, f"martian source {fmt_ip(pkt.src)} on {dev.name}: a packet from one of this host's own "
                      "addresses came back in (net.ipv4.conf.all.accept_local=0)", self.name, dev.name)
            return
        route = self.fib.lookup(pkt.dst)
        if route is not None and route.type in (LOCAL, BROADCAST):
            trace.add(self.name, dev.name, T.ROUTE, f"route input: {fmt_ip(pkt.dst)} is {'a local address' if route.type == LOCAL else 'a broadcast address'} ({route.describe()})", detail={"route": route})
            self.local_deliver(dev, pkt, trace)
            return
        if pkt.dst == 0xFFFFFFFF:
            self.local_deliver(dev, pkt, trace)
            return
        if self.sysctl.get("net.ipv4.ip_forward") != "1":
            trace.end(T.DROPPED, f"{fmt_ip(pkt.dst)} is not a local address and net.ipv4.ip_forward=0: not forwarded", self.name, dev.name)
            return
        if route is None:
            trace.add(self.name, dev.name, T.ROUTE, f"route input: no route to {fmt_ip(pkt.dst)}")
            trace.end(T.DROPPED, f"no route to {fmt_ip(pkt.dst)}: ICMP net unreachable sent", self.name, dev.name)
            self.icmp_send(pkt, ICMP_DEST_UNREACH, ICMP_NET_UNREACH, trace)
            return
        if route.type in (BLACKHOLE, UNREACHABLE, PROHIBIT):
            trace.add(self.name, dev.name, T.ROUTE, f"route input: {route.describe()}", detail={"route": route})
            if route.type == BLACKHOLE:
                trace.end(T.DROPPED, f"blackhole route {fmt_prefix(route.dst, route.plen)}: silently discarded", self.name, dev.name)
            else:
                code = ICMP_HOST_UNREACH if route.type == UNREACHABLE else ICMP_PKT_FILTERED
                trace.end(T.DROPPED, f"{route.type} route {fmt_prefix(route.dst, route.plen)}: ICMP {icmp_error_text(ICMP_DEST_UNREACH, code)} sent", self.name, dev.name)
                self.icmp_send(pkt, ICMP_DEST_UNREACH, code, trace)
            return
        self.ip_forward(dev, pkt, route, trace)

    def _martian_source(self, src: int) -> bool:
        """fib_validate_source with rp_filter off: a packet received from outside whose source
        is one of our own addresses is martian and dropped (only what arrives on lo carries
        its output route and is not checked). Why kube-proxy masquerades hairpin traffic."""
        if self.sysctl.get("net.ipv4.conf.all.accept_local", "0") == "1":
            return False
        return src in self.addr_index

    def ip_forward(self, in_dev: Device, pkt: IPv4, route: Route, trace: Trace) -> None:
        if pkt.ttl <= 1:
            trace.end(T.DROPPED, "TTL exceeded in transit: ICMP time exceeded sent", self.name, in_dev.name)
            self.icmp_send(pkt, ICMP_TIME_EXCEEDED, 0, trace)
            return
        out = route.dev
        nexthop = route.gateway if route.gateway is not None else pkt.dst
        trace.add(self.name, in_dev.name, T.ROUTE, f"route {fmt_ip(pkt.dst)}: {route.describe()}", detail={"route": route})
        if pkt.df and pkt.length > out.mtu:
            # ip_forward checks the MTU before the FORWARD hook and before decrementing the TTL,
            # so the ICMP error quotes the packet as it arrived and a FORWARD DROP cannot hide it.
            trace.end(T.DROPPED, f"packet of {pkt.length} bytes with DF set exceeds {out.name} MTU {out.mtu}: ICMP need-to-frag sent", self.name, out.name)
            self.icmp_send(pkt, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, trace, mtu=out.mtu)
            return
        pkt = self._hook(FORWARD, pkt, in_dev, out, trace)
        if pkt is None:
            return
        pkt = evolve(pkt, ttl=pkt.ttl - 1)
        trace.add(self.name, out.name, T.FORWARD, f"forward {in_dev.name} → {out.name}, TTL {pkt.ttl + 1} → {pkt.ttl}", pkt)
        self.ip_output(pkt, out, nexthop, trace, forwarded=True)

    def local_deliver(self, dev: Device, pkt: IPv4, trace: Trace) -> None:
        pkt = self._hook(INPUT, pkt, dev, None, trace)
        if pkt is None:
            return
        l4 = pkt.l4
        if isinstance(l4, ICMP):
            self._icmp_rcv(dev, pkt, l4, trace)
        elif isinstance(l4, UDP):
            sock = self.sockets.get((IPPROTO_UDP, l4.dport))
            if sock is not None:
                trace.add(self.name, dev.name, T.LOCAL, f"UDP :{l4.dport} delivered to {sock.owner or 'a socket'}", pkt)
                if sock.on_data is None:
                    trace.end(T.DELIVERED, f"delivered to {sock.owner or 'socket'} on UDP port {l4.dport}", self.name, dev.name)
                sock.deliver(self, pkt, dev, trace)
                return
            trace.end(T.DROPPED, f"nothing listens on UDP port {l4.dport}: ICMP port unreachable sent", self.name, dev.name)
            self.icmp_send(pkt, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, trace)
        elif isinstance(l4, TCP):
            sock = self.sockets.get((IPPROTO_TCP, l4.dport))
            if sock is None and (l4.flags & TH_SYN) and not (l4.flags & TH_ACK):
                trace.end(T.DROPPED, f"nothing listens on TCP port {l4.dport}: connection refused (RST sent)", self.name, dev.name)
                rst = IPv4(pkt.dst, pkt.src, IPPROTO_TCP, TCP(l4.dport, l4.sport, TH_RST | TH_ACK, 0, l4.seq + 1))
                self.ip_local_out(rst, self.world.new_trace(f"{fmt_ip(pkt.dst)} > {fmt_ip(pkt.src)} TCP RST", self.name, rst, "reset"))
                return
            if sock is None:
                sock = self.sockets.get((IPPROTO_TCP, -l4.dport))  # a client's connected socket
            if sock is None:
                trace.end(T.DROPPED, f"no socket for TCP port {l4.dport}", self.name, dev.name)
                return
            trace.add(self.name, dev.name, T.LOCAL, f"TCP :{l4.dport} [{l4.flag_text()}] delivered to {sock.owner or 'a socket'}", pkt)
            if sock.on_data is None:
                trace.end(T.DELIVERED, f"TCP [{l4.flag_text()}] delivered to {sock.owner or 'socket'} on port {l4.dport}", self.name, dev.name)
            sock.deliver(self, pkt, dev, trace)
        else:
            trace.end(T.DROPPED, f"protocol {pkt.proto} unreachable", self.name, dev.name)

    def _icmp_rcv(self, dev: Device, pkt: IPv4, icmp: ICMP, trace: Trace) -> None:
        if icmp.type == ICMP_ECHO:
            if self.sysctl.get("net.ipv4.icmp_echo_ignore_all") == "1":
                trace.end(T.DROPPED, "echo request ignored (net.ipv4.icmp_echo_ignore_all=1)", self.name, dev.name)
                return
            trace.end(T.DELIVERED, f"echo request reached {self.name}: the kernel answers it", self.name, dev.name)
            # The kernel's ICMP socket sends with IP_PMTUDISC_DONT: replies never set DF, and a big
            # one is fragmented rather than refused.
            reply = IPv4(pkt.dst, pkt.src, IPPROTO_ICMP, ICMP(ICMP_ECHOREPLY, 0, icmp.id, icmp.seq, icmp.data_len),
                         id=self.next_ip_id(), df=False)
            rtrace = self.world.new_trace(f"{fmt_ip(reply.src)} > {fmt_ip(reply.dst)} ICMP echo reply seq {icmp.seq}", self.name, reply, "echo reply")
            rtrace.t = trace.t
            self.ip_local_out(reply, rtrace)
            return
        if icmp.type == ICMP_ECHOREPLY:
            sock = self.icmp_sockets.get(icmp.id)
            if sock is None:
                trace.end(T.DROPPED, f"echo reply id {icmp.id}: no ping socket waits for it", self.name, dev.name)
                return
            trace.end(T.DELIVERED, f"echo reply delivered to ping (id {icmp.id})", self.name, dev.name)
            sock.deliver(self, pkt, dev, trace)
            return
        quoted = icmp.quoted
        sock = self._socket_for_quoted(quoted) if quoted is not None else None
        what = icmp_error_text(icmp.type, icmp.code, icmp.mtu)
        if sock is None:
            trace.end(T.DELIVERED, f"ICMP {what} consumed by the kernel", self.name, dev.name)
            return
        trace.end(T.DELIVERED, f"ICMP {what} from {fmt_ip(pkt.src)} delivered to {sock.owner or 'the sending socket'}", self.name, dev.name)
        sock.error(self, pkt, trace)

    def _socket_for_quoted(self, quoted: IPv4) -> Socket | None:
        l4 = quoted.l4
        if isinstance(l4, ICMP):
            return self.icmp_sockets.get(l4.id)
        if isinstance(l4, (UDP, TCP)):
            return self.sockets.get((quoted.proto, l4.sport)) or self.sockets.get((quoted.proto, -l4.sport))
        return None

    # -- send ------------------------------------------------------------------
    def next_ip_id(self) -> int:
        self._ip_id = (self._ip_id + 1) & 0xFFFF
        return self._ip_id

    def ephemeral_port(self, proto: int) -> int:
        while True:
            self._next_port = self._next_port + 1 if self._next_port < 60999 else 32768
            if (proto, self._next_port) not in self.sockets and (proto, -self._next_port) not in self.sockets:
                return self._next_port

    def ip_local_out(self, pkt: IPv4, trace: Trace, *, oif: Device | None = None, tunnel_inner: Frame | None = None) -> str | None:
        """Send a locally generated packet. Returns an errno text when routing fails (the
        caller's `connect` would fail), else None."""
        try:
            res = self.route_output(pkt.dst, pkt.src, oif)
        except RouteError as err:
            why = f"route output: {err.errno_text}" + (f" ({err.route.describe()})" if err.route else f": no route to {fmt_ip(pkt.dst)}")
            trace.add(self.name, None, T.ROUTE, why)
            trace.end(T.DROPPED, f"{err.errno_text}: no usable route to {fmt_ip(pkt.dst)}", self.name)
            return err.errno_text
        if not pkt.src:
            pkt = evolve(pkt, src=res.src)
        trace.add(self.name, res.dev.name, T.ROUTE, f"route {fmt_ip(pkt.dst)}: {res.route.describe()} (src {fmt_ip(pkt.src)})", detail={"route": res.route})
        hooked = self._hook(OUTPUT, pkt, None, res.dev, trace)
        if hooked is None:
            return None
        if hooked.dst != pkt.dst:  # DNAT in OUTPUT: route again (ip_route_me_harder)
            try:
                res = self.route_output(hooked.dst, hooked.src)
            except RouteError as err:
                trace.end(T.DROPPED, f"{err.errno_text} after NAT to {fmt_ip(hooked.dst)}", self.name)
                return err.errno_text
            trace.add(self.name, res.dev.name, T.ROUTE, f"re-route after NAT {fmt_ip(hooked.dst)}: {res.route.describe()}", detail={"route": res.route})
        return self.ip_output(hooked, res.dev, res.nexthop, trace, forwarded=False, route_type=res.type)

    def ip_output(self, pkt: IPv4, dev: Device, nexthop: int, trace: Trace, *, forwarded: bool, route_type: str = UNICAST) -> str | None:
        """Returns ERR_MSGSIZE when a locally generated DF packet does not fit: the sender's
        sendmsg fails with EMSGSIZE (`ping: local error: message too long, mtu=1450`)."""
        pkt = self._hook(POSTROUTING, pkt, None, dev, trace)
        if pkt is None:
            return None
        if pkt.length > dev.mtu:
            if pkt.df:
                if forwarded:
                    trace.end(T.DROPPED, f"packet of {pkt.length} bytes with DF set exceeds {dev.name} MTU {dev.mtu}: ICMP need-to-frag sent", self.name, dev.name)
                    self.icmp_send(pkt, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, trace, mtu=dev.mtu)
                    return None
                trace.end(T.DROPPED, f"message too long: {pkt.length} bytes with DF set, {dev.name} MTU is {dev.mtu}", self.name, dev.name)
                return ERR_MSGSIZE
            trace.add(self.name, dev.name, T.TX, f"{pkt.length} bytes exceed {dev.name} MTU {dev.mtu}: fragmented")
        if dev.kind == "loopback" or route_type == LOCAL:
            self._neigh_xmit(dev, "00:00:00:00:00:00", pkt, trace)
        elif route_type == BROADCAST or pkt.dst == 0xFFFFFFFF or not dev.arp:
            self._neigh_xmit(dev, BROADCAST_MAC, pkt, trace)
        else:
            self.neigh_output(dev, nexthop, pkt, trace)
        return None

    def neigh_output(self, dev: Device, nexthop: int, pkt: IPv4, trace: Trace) -> None:
        neigh = self.neigh
        entry = neigh.lookup_valid(dev, nexthop)
        if entry is not None:
            state = entry.state
            trace.add(self.name, dev.name, T.NEIGH, f"neighbour {fmt_ip(nexthop)} lladdr {entry.lladdr} {state}",
                      detail={"neigh": entry})
            if state == N.STALE:
                # Used while STALE: DELAY, then a unicast probe 5 s later confirms it.
                entry.state = N.DELAY
                entry.confirmed = self.world.clock
            self._neigh_xmit(dev, entry.lladdr, pkt, trace)
            return
        entry = neigh.get(dev, nexthop)
        if entry is None or entry.state == N.FAILED:
            entry = neigh.create(dev, nexthop, N.INCOMPLETE)
        entry.queue.append((pkt, trace))
        trace.add(self.name, dev.name, T.NEIGH, f"no neighbour entry for {fmt_ip(nexthop)} on {dev.name}: INCOMPLETE, packet queued, ARP request sent")
        if len(entry.queue) == 1:
            self._arp_solicit(dev, nexthop, pkt.src, trace)
            self.world.when_idle(self._neigh_timeout, dev, entry)

    def _arp_solicit(self, dev: Device, target: int, pkt_src: int, trace: Trace, unicast: str | None = None) -> None:
        src = pkt_src if pkt_src and self.is_local(pkt_src) else self.select_src(dev, target, SCOPE_LINK)
        req = Frame(dev.mac, unicast or BROADCAST_MAC, ETH_P_ARP, ARP(ARP_REQUEST, dev.mac, src, "00:00:00:00:00:00", target))
        trace.add(self.name, dev.name, T.ARP, f"ARP who-has {fmt_ip(target)} tell {fmt_ip(src)}" + (" (unicast probe)" if unicast else ""), req)
        dev.xmit(req, trace)

    def _neigh_timeout(self, dev: Device, entry) -> None:
        if entry.state != N.INCOMPLETE:
            return
        entry.state = N.FAILED
        queued, entry.queue = entry.queue, []
        for pkt, trace in queued:
            trace.end(T.DROPPED, f"neighbour {fmt_ip(entry.ip)} on {dev.name} unreachable: no ARP reply (FAILED)", self.name, dev.name)
            if self.is_local(pkt.src):
                self._local_error(pkt, ICMP_DEST_UNREACH, ICMP_HOST_UNREACH, trace)
            else:
                self.icmp_send(pkt, ICMP_DEST_UNREACH, ICMP_HOST_UNREACH, trace)

    def _neigh_xmit(self, dev: Device, mac: str, pkt: IPv4, trace: Trace) -> None:
        frame = Frame(dev.mac, mac, ETH_P_IP, pkt)
        dev.xmit(frame, trace)

    # -- ICMP errors -----------------------------------------------------------
    def icmp_send(self, offending: IPv4, type_: int, code: int, trace: Trace, *, mtu: int = 0) -> None:
        """icmp_send: report a problem to the packet's source (never about an ICMP error)."""
        if isinstance(offending.l4, ICMP) and offending.l4.type not in (ICMP_ECHO, ICMP_ECHOREPLY):
            return
        if offending.src == 0:
            return
        err = IPv4(0, offending.src, IPPROTO_ICMP, ICMP(type_, code, quoted=offending, mtu=mtu), id=self.next_ip_id(), df=False)
        what = icmp_error_text(type_, code, mtu)
        trace.add(self.name, None, T.ICMP, f"ICMP {what} → {fmt_ip(offending.src)}")
        etrace = self.world.new_trace(f"ICMP {what} to {fmt_ip(offending.src)}", self.name, err, "ICMP error")
        etrace.t = trace.t
        self.ip_local_out(err, etrace)

    def _local_error(self, pkt: IPv4, type_: int, code: int, trace: Trace) -> None:
        """A locally generated packet failed here: report to its own socket (ip_local_error)."""
        err = IPv4(pkt.src, pkt.src, IPPROTO_ICMP, ICMP(type_, code, quoted=pkt))
        sock = self._socket_for_quoted(pkt)
        if sock is not None:
            sock.error(self, err, trace)

    # -- netfilter -------------------------------------------------------------
    def _hook(self, hook: str, pkt: IPv4, in_dev: Device | None, out_dev: Device | None, trace: Trace) -> IPv4 | None:
        nf = self.netfilter
        vs = self.ipvs
        if nf is not None:  # IPVS runs inside, at its hook priority (netfilter/engine.py HOOK_ORDER)
            return nf.hook(hook, pkt, in_dev, out_dev, trace, ipvs=vs)
        if vs is None:
            return pkt
        return vs.hook(hook, pkt, in_dev, out_dev, trace)

    # -- sockets ---------------------------------------------------------------
    def bind(self, sock: Socket) -> Socket:
        key = (sock.proto, sock.port)
        if key in self.sockets:
            raise NetError("Address already in use")
        self.sockets[key] = sock
        return sock

    def unbind(self, sock: Socket) -> None:
        self.sockets.pop((sock.proto, sock.port), None)

    # -- files a learner can `cat` ---------------------------------------------
    def read_file(self, path: str) -> str | None:
        if path.startswith("/proc/sys/"):
            from netlab.net.sysctl import dotted, sysctl_get

            value = sysctl_get(self, dotted(path[len("/proc/sys/"):]))
            if value is not None:
                return value + "\n"
        elif path.startswith("/proc/net/"):
            from netlab.net.procfs import proc_net

            text = proc_net(self, path)
            if text is not None:
                return text
        content = self.files.get(path)
        if callable(content):
            return content()
        return content

    def __repr__(self) -> str:
        return f"NetNS({self.name!r})"
