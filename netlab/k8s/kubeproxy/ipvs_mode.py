"""kube-proxy's ipvs mode (pkg/proxy/ipvs/proxier.go, Kubernetes 1.26): every ClusterIP on
the `kube-ipvs0` dummy device, one IPVS virtual service per Service port (and per node
address for NodePorts) with the endpoints as Masq real servers, a few ipsets, and a small
fixed set of iptables rules that match those sets instead of one rule per Service.

A full sync reconciles all of it (and undoes hand edits); it also counts how many service
ports want each virtual service, set entry and address. After a change to a few Services,
`sync_changed` reconciles only what those want or wanted, by those counts — one endpoint
change at 20,000 Services costs what one Service costs — and leaves what a full sync would.
"""
from __future__ import annotations

from collections import Counter
from operator import itemgetter

from netlab.k8s.kubeproxy.model import ServicePort
from netlab.net import ipset as ipsets
from netlab.net import netfilter as nf
from netlab.net.addr import parse_ip
from netlab.net.device import Dummy
from netlab.net.ipvs import MASQ, Ipvs
from netlab.net.netns import NetNS
from netlab.net.packet import IPPROTO_TCP, IPPROTO_UDP

MASQ_MARK = 0x4000
DUMMY = "kube-ipvs0"
PROTOCOLS = {"tcp": IPPROTO_TCP, "udp": IPPROTO_UDP}
# name: (type, comment) as the ipvs proxier declares them (ipsetInfo).
SETS = {
    "KUBE-CLUSTER-IP": ("hash:ip,port", "Kubernetes service cluster ip + port for masquerade purpose"),
    "KUBE-LOOP-BACK": ("hash:ip,port,ip", "Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose"),
    "KUBE-EXTERNAL-IP": ("hash:ip,port", "Kubernetes service external ip + port for masquerade and filter purpose"),
    "KUBE-LOAD-BALANCER": ("hash:ip,port", "Kubernetes service lb portal"),
    "KUBE-NODE-PORT-TCP": ("bitmap:port", "Kubernetes nodeport TCP port for masquerade purpose"),
    "KUBE-NODE-PORT-UDP": ("bitmap:port", "Kubernetes nodeport UDP port for masquerade purpose"),
    "KUBE-NODE-PORT-LOCAL-TCP": ("bitmap:port", "Kubernetes nodeport TCP port with externalTrafficPolicy=local"),
    "KUBE-NODE-PORT-LOCAL-UDP": ("bitmap:port", "Kubernetes nodeport UDP port with externalTrafficPolicy=local"),
}
JUMPS = [  # (table, built-in chain, kube chain, comment), each ensured as a prepend
    ("nat", "OUTPUT", "KUBE-SERVICES", "kubernetes service portals"),
    ("nat", "PREROUTING", "KUBE-SERVICES", "kubernetes service portals"),
    ("nat", "POSTROUTING", "KUBE-POSTROUTING", "kubernetes postrouting rules"),
    ("filter", "FORWARD", "KUBE-FORWARD", "kubernetes forwarding rules"),
    ("filter", "INPUT", "KUBE-NODE-PORT", "kubernetes health check rules"),
]


class _Wanted:
    """What the service ports ask of the node, as the last sync left it: how many of them
    want each set entry, kube-ipvs0 address and virtual service (a count, since two Services
    may share an endpoint's KUBE-LOOP-BACK entry or an external IP), and the node name and
    addresses (`ident`) it was computed for."""

    __slots__ = ("entries", "ident", "vips", "vs")

    def __init__(self, ident: tuple) -> None:
        self.ident = ident
        self.entries: dict[str, dict[str, int]] = {name: {} for name in SETS}  # set -> entry text -> count
        self.vips: dict[int, int] = {}
        self.vs: dict[tuple, int] = {}


def contribution(sp: ServicePort, node: str, node_ips: tuple[int, ...]) -> tuple[tuple, tuple, tuple]:
    """What one service port asks for: virtual services as (key, (persistence timeout, real
    servers)) with key (protocol, address, port) and real servers as (address, port) pairs;
    set entries as (set, entry texts); kube-ipvs0 addresses. The full and the partial sync
    both ask this, so they cannot disagree. Tuples of numbers and strings only, which the
    cyclic GC stops tracking: 20,000 Services remember theirs (IpvsMode._contribution)."""
    proto, port, eps = sp.protocol, sp.port, sp.endpoints
    timeout = sp.affinity_seconds
    servers = (timeout, tuple([(e.ip_int, e.port) for e in eps]))
    if sp.external_local:
        ext = (timeout, tuple([(e.ip_int, e.port) for e in eps if e.node == node]))
    else:
        ext = servers
    cip = sp.cluster_ip_int
    vs = [((proto, cip, port), servers)]
    vips = [cip]
    suffix = f",{proto}:{port}"
    entries = [("KUBE-CLUSTER-IP", (sp.cluster_ip + suffix,))]
    # Only this node's endpoints can hairpin through it (upstream: `if !ep.IsLocal { continue }`).
    loop = tuple([f"{e.ip},{proto}:{e.port},{e.ip}" for e in eps if e.node == node])
    if loop:
        entries.append(("KUBE-LOOP-BACK", loop))
    for ip in sp.external_ips:
        addr = parse_ip(ip)
        vs.append(((proto, addr, port), ext))
        vips.append(addr)
        entries.append(("KUBE-EXTERNAL-IP", (ip + suffix,)))
    for ip in sp.lb_ips:
        addr = parse_ip(ip)
        vs.append(((proto, addr, port), ext))
        vips.append(addr)
        entries.append(("KUBE-LOAD-BALANCER", (ip + suffix,)))
    if sp.node_port:
        entries.append((f"KUBE-NODE-PORT-{proto.upper()}", (str(sp.node_port),)))
        if sp.external_local:
            entries.append((f"KUBE-NODE-PORT-LOCAL-{proto.upper()}", (str(sp.node_port),)))
        for ip in node_ips:
            vs.append(((proto, ip, sp.node_port), ext))
    return tuple(vs), tuple(entries), tuple(vips)


def _apply(counts: dict, deltas: dict) -> None:
    """Add `deltas` to `counts`, dropping what nothing wants any more."""
    for key, d in deltas.items():
        if d:
            n = counts.get(key, 0) + d
            if n:
                counts[key] = n
            else:
                del counts[key]


def _consistent(counts: dict, deltas: dict) -> bool:
    """Would no count go below zero? (It cannot, unless the ports said to have been synced
    are not the ones that were: then a full sync puts things right.)"""
    get = counts.get
    return all(get(key, 0) + d >= 0 for key, d in deltas.items())


class IpvsMode:
    def __init__(self, ns: NetNS, netfilter, *, cluster_cidr: str, scheduler: str = "rr") -> None:
        self.ns = ns
        self.nf = netfilter
        self.cluster_cidr = cluster_cidr
        self.scheduler = scheduler or "rr"
        self.ipvs = Ipvs.of(ns)
        self.owned: set[tuple] = set()  # the virtual services this proxier made
        self._parsed: dict[tuple[str, str], tuple] = {}  # (set, entry text) -> parsed elements
        self.wanted: _Wanted | None = None  # what the last sync left; None: the next one is full
        self._ident_last: tuple = ()
        ns.sysctl.update({"net.ipv4.vs.conntrack": "1", "net.ipv4.conf.all.arp_ignore": "1",
                          "net.ipv4.conf.all.arp_announce": "2", "net.ipv4.vs.expire_nodest_conn": "1"})
        self.dummy = None
        self._ensure()

    def _ensure(self) -> None:
        """EnsureDummyDevice and ensureIPSet, as every sync upstream does: after `kube-proxy
        --cleanup` the running proxier puts kube-ipvs0 and its sets back."""
        ns = self.ns
        dev = ns.dev(DUMMY)
        if dev is None:
            from netlab.net.addr import random_mac

            dev = Dummy(DUMMY, random_mac(ns.world.rng))
            ns.add_device(dev)  # left DOWN, as kube-proxy leaves it: the local routes are what matter
        self.dummy = dev
        sets = ipsets.sets_of(ns)
        for name, (stype, _) in SETS.items():
            if name not in sets:
                ipsets.create(ns, name, stype, comment=False, range_=(0, 65535) if stype.startswith("bitmap") else None)

    # -- syncing -----------------------------------------------------------------
    def sync(self, ports: list[ServicePort], node: str) -> None:
        """The full sync: every virtual service, real server, set entry and kube-ipvs0
        address made to match `ports` (hand edits undone). It also counts, for each of them,
        how many service ports want it: what lets `sync_changed` handle a few Services."""
        self.wanted = None  # until this sync is done, the counts are not to be trusted
        ns = self.ns
        sets = ipsets.sets_of(ns)
        if ns.dev(DUMMY) is not self.dummy or any(name not in sets for name in SETS):
            self._ensure()
        ident = self._ident(node)
        vs_items: list = []
        vips: list[int] = []
        texts: dict[str, list[str]] = {name: [] for name in SETS}
        for sp in ports:
            c = self._contribution(sp, ident)
            vs_items += c[0]
            for name, more in c[1]:
                texts[name] += more
            vips += c[2]
        counts = _Wanted(ident)
        counts.vs = Counter(map(itemgetter(0), vs_items))
        counts.vips = Counter(vips)
        counts.entries = {name: Counter(more) for name, more in texts.items()}
        wanted = dict(vs_items)  # two service ports with one key: the later one's real servers
        ns.host_addrs_sync(self.dummy, counts.vips.keys())
        self._sync_services(wanted, self.owned - wanted.keys())
        for name, want in counts.entries.items():
            self._sync_set(ipsets.get(ns, name), want)
        self._sync_iptables(counts.entries)
        self.wanted = counts

    def sync_changed(self, changes: list[tuple[list[ServicePort], list[ServicePort]]], node: str) -> bool:
        """The partial sync: `changes` holds, per changed Service, the service ports the last
        sync wrote and the ones it has now. Only what those ask (or asked) for is reconciled —
        their virtual services and real servers, set entries and kube-ipvs0 addresses — and
        the few iptables rules are rewritten, so the result is what `sync` would leave. False
        (nothing done) when a full sync is needed: none yet, kube-ipvs0 or a set gone, the
        node's addresses changed, or two Services share a virtual service (whose real
        servers then depend on Services that did not change)."""
        counts = self.wanted
        ns = self.ns
        sets = ipsets.sets_of(ns)
        if counts is None or ns.dev(DUMMY) is not self.dummy or any(sets.get(name) is None for name in SETS):
            return False
        ident = self._ident(node)
        if ident != counts.ident:
            return False
        d_vs: dict[tuple, int] = {}
        d_entries: dict[str, dict[str, int]] = {name: {} for name in SETS}
        d_vips: dict[int, int] = {}
        wanted: dict[tuple, tuple] = {}
        for sign, side in ((-1, 0), (1, 1)):
            for change in changes:
                for sp in change[side]:
                    vs, entries, vips = self._contribution(sp, ident)
                    for key, servers in vs:
                        d_vs[key] = d_vs.get(key, 0) + sign
                        if sign > 0:
                            wanted[key] = servers
                    for name, more in entries:
                        d = d_entries[name]
                        for text in more:
                            d[text] = d.get(text, 0) + sign
                    for ip in vips:
                        d_vips[ip] = d_vips.get(ip, 0) + sign
        vs_n = counts.vs
        for key, d in d_vs.items():
            after = vs_n.get(key, 0) + d
            if after > 1 or (after == 1 and key not in wanted):
                return False  # shared with another Service: which one's real servers win, a full sync decides
        if not (_consistent(vs_n, d_vs) and _consistent(counts.vips, d_vips)
                and all(_consistent(counts.entries[name], d) for name, d in d_entries.items())):
            return False
        self.wanted = None  # if anything below fails, the next sync is a full one
        _apply(vs_n, d_vs)
        _apply(counts.vips, d_vips)
        for name, d in d_entries.items():
            _apply(counts.entries[name], d)
        vips = counts.vips
        ns.host_addrs_sync(self.dummy, {ip for ip in d_vips if ip in vips}, only=d_vips.keys())
        self._sync_services(wanted, {key for key in d_vs if key not in vs_n and key in self.owned})
        for name, d in d_entries.items():
            if d:
                self._sync_set(ipsets.get(ns, name), counts.entries[name], only=d)
        self._sync_iptables(counts.entries)
        self.wanted = counts
        return True

    def _ident(self, node: str) -> tuple:
        """What a service port's contribution depends on besides the port: the node's name
        and the addresses NodePorts listen on (every address but kube-ipvs0's and lo's). The
        same object while they stay the same, so a remembered contribution is checked fast."""
        dummy = self.dummy
        ident = (node, tuple(a.ip for d in self.ns.devices.values() if d is not dummy and d.kind != "loopback"
                             for a in d.addrs))
        if ident != self._ident_last:
            self._ident_last = ident
        return self._ident_last

    def _contribution(self, sp: ServicePort, ident: tuple) -> tuple[tuple, tuple, tuple]:
        """contribution(), remembered on the service port: it never changes, and an unchanged
        Service keeps its ServicePort objects from sync to sync (the port cache)."""
        c = sp.ipvs_cache
        if c is None or c[0] is not ident:
            c = sp.ipvs_cache = (ident, contribution(sp, ident[0], ident[1]))
        return c[1]

    def _sync_set(self, s, want, only=None) -> None:
        """Add what is missing and delete what is extra (hand edits included), instead of
        flushing and refilling 20,000 entries; entries are parsed once and remembered. With
        `only` (entry texts), just those entries: each is made present or absent as `want`
        (entry text -> how many service ports want it) says."""
        parsed = self._parsed
        members = s.members
        wanted = {}
        if only is None:
            for text in want:
                elems = parsed.get((s.name, text))
                if elems is None:
                    elems = parsed[(s.name, text)] = tuple(s.parse(text))
                for e in elems:
                    wanted[e] = text
            for e in [e for e in members if e not in wanted]:
                s.delete(s.format(e))
        else:
            for text in only:
                elems = parsed.get((s.name, text))
                if elems is None:
                    elems = parsed[(s.name, text)] = tuple(s.parse(text))
                if text in want:
                    for e in elems:
                        wanted[e] = text
                else:
                    for e in elems:
                        if e in members:
                            s.delete(s.format(e))
        for e in sorted(e for e in wanted if e not in members):
            s.add(wanted[e])

    def _sync_services(self, wanted: dict[tuple, tuple[int, tuple]], stale) -> None:
        """Delete the `stale` virtual services we made, then make each of `wanted` (key ->
        (persistence timeout, real servers as (address, port))) exist with our scheduler and
        that persistence, and exactly those real servers."""
        vs = self.ipvs
        for key in sorted(stale):
            if vs.find(*key) is not None:
                vs.del_service(*key)
            self.owned.discard(key)
        scheduler = self.scheduler
        owned = self.owned
        services = vs.services
        for key, (timeout, servers) in sorted(wanted.items()):
            proto, addr, port = key
            persistent = timeout or None
            svc = services.get((PROTOCOLS[proto], addr, port))
            if svc is None:
                svc = vs.add_service(proto, addr, port, scheduler=scheduler, persistent=persistent)
            elif svc.scheduler.name != scheduler or svc.persistent != bool(timeout) or svc.timeout != timeout:
                svc = vs.edit_service(proto, addr, port, scheduler=scheduler, persistent=persistent)
            owned.add(key)
            have = {(d.addr, d.port) for d in svc.dests}
            want = set(servers)
            if have == want:
                continue
            for rip, rport in sorted(have - want):
                vs.del_dest(proto, addr, port, rip=rip, rport=rport)
            for rip, rport in sorted(want - have):
                vs.add_dest(proto, addr, port, rip=rip, rport=rport, weight=1, fwd=MASQ)

    def _sync_iptables(self, members: dict[str, dict[str, int]]) -> None:
        """The few iptables rules, which depend only on which sets are wanted non-empty."""
        f = self.nf
        c = nf.Comment
        nat: dict[str, list[nf.Rule]] = {"KUBE-SERVICES": [], "KUBE-POSTROUTING": [], "KUBE-MARK-MASQ": [],
                                         "KUBE-NODE-PORT": [], "KUBE-MARK-DROP": []}
        filt: dict[str, list[nf.Rule]] = {"KUBE-FORWARD": [], "KUBE-NODE-PORT": []}
        if members["KUBE-LOOP-BACK"]:
            nat["KUBE-POSTROUTING"].append(nf.Rule(matches=[c(SETS["KUBE-LOOP-BACK"][1]),
                                                            nf.SetMatch("KUBE-LOOP-BACK", "dst,dst,src")], target=nf.Masquerade()))
        nat["KUBE-POSTROUTING"] += [
            nf.Rule(matches=[nf.Mark(MASQ_MARK, MASQ_MARK, inv=True)], target=nf.RETURN),
            nf.Rule(target=nf.MarkTarget(MASQ_MARK, 0)),
            nf.Rule(matches=[c("kubernetes service traffic requiring SNAT")], target=nf.Masquerade(random_fully=True))]
        nat["KUBE-MARK-MASQ"].append(nf.Rule(target=nf.MarkTarget(MASQ_MARK, MASQ_MARK)))
        nat["KUBE-MARK-DROP"].append(nf.Rule(target=nf.MarkTarget(0x8000, 0x8000)))
        for name in ("KUBE-EXTERNAL-IP", "KUBE-LOAD-BALANCER"):
            if members[name]:
                nat["KUBE-SERVICES"].append(nf.Rule(matches=[c(SETS[name][1]), nf.SetMatch(name, "dst,dst")],
                                                    target=nf.Jump("KUBE-MARK-MASQ")))
        if members["KUBE-CLUSTER-IP"]:
            nat["KUBE-SERVICES"].append(nf.Rule(src=self.cluster_cidr, src_inv=True, matches=[
                c(SETS["KUBE-CLUSTER-IP"][1]), nf.SetMatch("KUBE-CLUSTER-IP", "dst,dst")], target=nf.Jump("KUBE-MARK-MASQ")))
        if members["KUBE-NODE-PORT-TCP"] or members["KUBE-NODE-PORT-UDP"]:
            nat["KUBE-SERVICES"].append(nf.Rule(matches=[nf.AddrType(dst_type="LOCAL")], target=nf.Jump("KUBE-NODE-PORT")))
        for proto in ("TCP", "UDP"):
            if members[f"KUBE-NODE-PORT-LOCAL-{proto}"]:
                nat["KUBE-NODE-PORT"].append(nf.Rule(proto=proto.lower(), matches=[
                    c(SETS[f"KUBE-NODE-PORT-LOCAL-{proto}"][1]), nf.SetMatch(f"KUBE-NODE-PORT-LOCAL-{proto}", "dst")],
                    target=nf.RETURN))
            if members[f"KUBE-NODE-PORT-{proto}"]:
                nat["KUBE-NODE-PORT"].append(nf.Rule(proto=proto.lower(), matches=[
                    c(SETS[f"KUBE-NODE-PORT-{proto}"][1]), nf.SetMatch(f"KUBE-NODE-PORT-{proto}", "dst")],
                    target=nf.Jump("KUBE-MARK-MASQ")))
        if members["KUBE-CLUSTER-IP"]:
            nat["KUBE-SERVICES"].append(nf.Rule(matches=[nf.SetMatch("KUBE-CLUSTER-IP", "dst,dst")], target=nf.ACCEPT))
        filt["KUBE-FORWARD"] += [
            nf.Rule(matches=[nf.Conntrack(states={"INVALID"})], target=nf.DROP),
            nf.Rule(matches=[c("kubernetes forwarding rules"), nf.Mark(MASQ_MARK, MASQ_MARK)], target=nf.ACCEPT),
            nf.Rule(matches=[c("kubernetes forwarding conntrack rule"), nf.Conntrack(states={"RELATED", "ESTABLISHED"})],
                    target=nf.ACCEPT)]
        with nf.paused_gc():
            for table, chains in (("nat", nat), ("filter", filt)):
                missing = {n: [] for n in chains if n not in f.table(table).chains}
                if missing:
                    f.replace_chains(table, missing)
                for t, builtin, chain, comment in JUMPS:
                    if t != table:
                        continue
                    rule = nf.Rule(matches=[c(comment)], target=nf.Jump(chain))
                    if not any(r.spec() == rule.spec() for r in f.chain(table, builtin).rules):
                        f.insert(table, builtin, rule, 1)
                f.replace_chains(table, chains)
