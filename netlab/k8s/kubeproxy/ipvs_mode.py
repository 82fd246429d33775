"""kube-proxy's ipvs mode (pkg/proxy/ipvs/proxier.go, Kubernetes 1.26): every ClusterIP on
the `kube-ipvs0` dummy device, one IPVS virtual service per Service port (and per node
address for NodePorts) with the endpoints as Masq real servers, a few ipsets, and a small
fixed set of iptables rules that match those sets instead of one rule per Service.
"""
from __future__ import annotations

from netlab.k8s.kubeproxy.model import ServicePort
from netlab.net import ipset as ipsets
from netlab.net import netfilter as nf
from netlab.net.addr import fmt_ip, parse_ip
from netlab.net.device import Dummy
from netlab.net.ipvs import MASQ, Ipvs
from netlab.net.netns import NetNS

MASQ_MARK = 0x4000
DUMMY = "kube-ipvs0"
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


class IpvsMode:
    def __init__(self, ns: NetNS, netfilter, *, cluster_cidr: str, scheduler: str = "rr") -> None:
        self.ns = ns
        self.nf = netfilter
        self.cluster_cidr = cluster_cidr
        self.scheduler = scheduler or "rr"
        self.ipvs = Ipvs.of(ns)
        self.owned: set[tuple] = set()  # the virtual services this proxier made
        self._parsed: dict[tuple[str, str], tuple] = {}  # (set, entry text) -> parsed elements
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

    # -- one sync --------------------------------------------------------------
    def sync(self, ports: list[ServicePort], node: str) -> None:
        ns = self.ns
        sets = ipsets.sets_of(ns)
        if ns.dev(DUMMY) is not self.dummy or any(name not in sets for name in SETS):
            self._ensure()
        node_ips = [a.ip for d in ns.devices.values() if d is not self.dummy and d.kind != "loopback" for a in d.addrs]
        wanted_vips: set[int] = set()
        wanted: dict[tuple, tuple[ServicePort, list]] = {}
        members: dict[str, set[str]] = {name: set() for name in SETS}
        for sp in ports:
            eps = [e for e in sp.endpoints]
            ext_eps = [e for e in eps if e.node == node] if sp.external_local else eps
            proto = sp.protocol
            wanted[(proto, parse_ip(sp.cluster_ip), sp.port)] = (sp, eps)
            wanted_vips.add(parse_ip(sp.cluster_ip))
            members["KUBE-CLUSTER-IP"].add(f"{sp.cluster_ip},{proto}:{sp.port}")
            for e in eps:
                members["KUBE-LOOP-BACK"].add(f"{e.ip},{proto}:{e.port},{e.ip}")
            for ip in sp.external_ips:
                wanted[(proto, parse_ip(ip), sp.port)] = (sp, ext_eps)
                wanted_vips.add(parse_ip(ip))
                members["KUBE-EXTERNAL-IP"].add(f"{ip},{proto}:{sp.port}")
            for ip in sp.lb_ips:
                wanted[(proto, parse_ip(ip), sp.port)] = (sp, ext_eps)
                wanted_vips.add(parse_ip(ip))
                members["KUBE-LOAD-BALANCER"].add(f"{ip},{proto}:{sp.port}")
            if sp.node_port:
                members[f"KUBE-NODE-PORT-{proto.upper()}"].add(str(sp.node_port))
                if sp.external_local:
                    members[f"KUBE-NODE-PORT-LOCAL-{proto.upper()}"].add(str(sp.node_port))
                for ip in node_ips:
                    wanted[(proto, ip, sp.node_port)] = (sp, ext_eps)
        self._sync_addresses(wanted_vips)
        self._sync_services(wanted)
        for name, want in members.items():
            self._sync_set(ipsets.get(ns, name), want)
        self._sync_iptables(members)

    def _sync_set(self, s, want: set[str]) -> None:
        """Add what is missing and delete what is extra (hand edits included), instead of
        flushing and refilling 20,000 entries; entries are parsed once and remembered."""
        parsed = self._parsed
        wanted = {}
        for text in want:
            elems = parsed.get((s.name, text))
            if elems is None:
                elems = parsed[(s.name, text)] = tuple(s.parse(text))
            for e in elems:
                wanted[e] = text
        members = s.members
        for e in [e for e in members if e not in wanted]:
            s.delete(s.format(e))
        for e in sorted(e for e in wanted if e not in members):
            s.add(wanted[e])

    def _sync_addresses(self, wanted: set[int]) -> None:
        self.ns.host_addrs_sync(self.dummy, wanted)

    def _sync_services(self, wanted: dict[tuple, tuple[ServicePort, list]]) -> None:
        vs = self.ipvs
        for key in sorted(self.owned - set(wanted)):
            if vs.find(*key) is not None:
                vs.del_service(*key)
            self.owned.discard(key)
        for key, (sp, eps) in sorted(wanted.items()):
            proto, addr, port = key
            persistent = sp.affinity_seconds or None
            svc = vs.find(proto, addr, port)
            if svc is None:
                svc = vs.add_service(proto, addr, port, scheduler=self.scheduler, persistent=persistent)
            elif svc.scheduler.name != self.scheduler or svc.persistent != bool(persistent):
                svc = vs.edit_service(proto, addr, port, scheduler=self.scheduler, persistent=persistent)
            self.owned.add(key)
            want = {(parse_ip(e.ip), e.port) for e in eps}
            have = {(d.addr, d.port) for d in svc.dests}
            for rip, rport in sorted(have - want):
                vs.del_dest(proto, addr, port, rip=rip, rport=rport)
            for rip, rport in sorted(want - have):
                vs.add_dest(proto, addr, port, rip=fmt_ip(rip), rport=rport, weight=1, fwd=MASQ)

    def _sync_iptables(self, members: dict[str, set[str]]) -> None:
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
