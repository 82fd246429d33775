"""flanneld: one agent per node that programs the routes to every other node's pod subnet.

vxlan backend, flannel >= 0.9: `flannel.1` holds X.0/32; per remote subnet a route
`<subnet> via <subnet>.0 dev flannel.1 onlink`, a PERMANENT neighbour entry for
<subnet>.0 → remote VTEP MAC, and an FDB entry remote VTEP MAC → remote node IP.

vxlan backend, before 0.9 (the seed article's cluster): one route for the whole pod
network `dev flannel.1`, FDB entries per remote VTEP, and neighbour entries learned
on demand from the kernel's L3MISS notifications (REACHABLE, ageing to STALE).

host-gw backend: per remote subnet a route via the remote node's IP on eth0 — which
only works when the nodes share a layer-2 segment; otherwise the kernel refuses the
route ("Nexthop has invalid gateway") and flanneld logs the error.
"""
from __future__ import annotations

from dataclasses import dataclass

from netlab.net import neigh as N
from netlab.net import topology
from netlab.net.addr import fmt_ip, fmt_prefix, in_prefix
from netlab.net.errors import NetError
from netlab.net.fib import SCOPE_LINK, SCOPE_UNIVERSE, Route
from netlab.net.netns import NetNS
from netlab.spec import CniSpec


@dataclass
class Lease:
    node: str
    public_ip: int
    subnet: tuple[int, int]
    vtep_mac: str | None


class Flanneld:
    def __init__(self, ns: NetNS, cni: CniSpec, network: tuple[int, int], lease: Lease, eth0) -> None:
        self.ns = ns
        self.cni = cni
        self.network = network
        self.lease = lease
        self.eth0 = eth0
        self.vtep = None
        self.log: list[str] = []
        self.peers: dict[str, Lease] = {}

    @property
    def mtu(self) -> int:
        return self.eth0.mtu - 50 if self.cni.backend == "vxlan" else self.eth0.mtu

    def start(self) -> Lease:
        ns = self.ns
        if self.cni.backend == "vxlan":
            legacy = self.cni.legacy_vxlan
            self.vtep = topology.add_vxlan(ns, f"flannel.{self.cni.vni}", self.cni.vni, local=self.lease.public_ip,
                                           lower=self.eth0, dstport=self.cni.port, learning=False, mtu=self.mtu,
                                           proxy=legacy, l2miss=legacy, l3miss=legacy)
            ns.addr_add(self.vtep, self.lease.subnet[0], 32)
            ns.set_link(self.vtep, up=True)
            self.lease.vtep_mac = self.vtep.mac
            if legacy:
                self.vtep.on_l3miss = self._l3miss
                ns.fib.add(Route(self.network[0], self.network[1], dev=self.vtep, scope=SCOPE_LINK, proto="boot"))
        self._ip_masq()
        ns.files["/run/flannel/subnet.env"] = self.subnet_env()
        ns.files["/var/log/flanneld.log"] = lambda: "".join(line + "\n" for line in self.log)
        self._log("I", "main.go:539", f"Using interface with name {self.eth0.name} and address {fmt_ip(self.lease.public_ip)}")
        self._log("I", "main.go:710", f"Running backend: {self.cni.backend}")
        self._log("I", "local_manager.go:147", f"Found lease ({fmt_prefix(*self.lease.subnet)}) for current IP ({fmt_ip(self.lease.public_ip)}), reusing")
        return self.lease

    def _ip_masq(self) -> None:
        """--ip-masq (FLANNEL_IPMASQ=true): pod traffic leaving the pod network is masqueraded,
        so replies from outside find their way back to the node."""
        from netlab.net import netfilter as nf

        net = fmt_prefix(*self.network)
        sub = fmt_prefix(*self.lease.subnet)
        if self.cni.legacy_vxlan:
            rules = [f"-A POSTROUTING -s {net} -d {net} -j RETURN",
                     f"-A POSTROUTING -s {net} ! -d 224.0.0.0/4 -j MASQUERADE",
                     f"-A POSTROUTING ! -s {net} -d {sub} -j RETURN",
                     f"-A POSTROUTING ! -s {net} -d {net} -j MASQUERADE"]
            text = "*nat\n" + "\n".join(rules) + "\nCOMMIT\n"
        else:
            c = '-m comment --comment "flanneld masq"'
            f = '-m comment --comment "flanneld forward"'
            text = ("*nat\n:FLANNEL-POSTRTG - [0:0]\n"
                    f"-A POSTROUTING {c} -j FLANNEL-POSTRTG\n"
                    f"-A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 {c} -j RETURN\n"
                    f"-A FLANNEL-POSTRTG -s {sub} -d {net} {c} -j RETURN\n"
                    f"-A FLANNEL-POSTRTG -s {net} -d {sub} {c} -j RETURN\n"
                    f"-A FLANNEL-POSTRTG ! -s {net} -d {sub} {c} -j RETURN\n"
                    f"-A FLANNEL-POSTRTG -s {net} ! -d 224.0.0.0/4 {c} -j MASQUERADE --random-fully\n"
                    f"-A FLANNEL-POSTRTG ! -s {net} -d {net} {c} -j MASQUERADE --random-fully\n"
                    "COMMIT\n*filter\n:FLANNEL-FWD - [0:0]\n"
                    f"-A FORWARD {f} -j FLANNEL-FWD\n"
                    f"-A FLANNEL-FWD -s {net} {f} -j ACCEPT\n"
                    f"-A FLANNEL-FWD -d {net} {f} -j ACCEPT\nCOMMIT\n")
        nf.load(self.ns).restore(text, noflush=True)

    def subnet_env(self) -> str:
        net = fmt_prefix(*self.network)
        sub = fmt_prefix(self.lease.subnet[0] + 1, self.lease.subnet[1])
        return f"FLANNEL_NETWORK={net}\nFLANNEL_SUBNET={sub}\nFLANNEL_MTU={self.mtu}\nFLANNEL_IPMASQ=true\n"

    # -- lease events (what flanneld's watch on the subnet registry delivers) -----------------
    def add_peer(self, peer: Lease) -> None:
        self.peers[peer.node] = peer
        ns = self.ns
        net, plen = peer.subnet
        if self.cni.backend == "host-gw":
            try:
                gw_route = ns.fib.lookup(peer.public_ip)
                if gw_route is None or gw_route.gateway is not None or gw_route.dev is not self.eth0:
                    raise NetError("Error: Nexthop has invalid gateway.")
                ns.fib.add(Route(net, plen, gateway=peer.public_ip, dev=self.eth0, scope=SCOPE_UNIVERSE), replace=True)
            except NetError as err:
                self._log("E", "route_network.go:168", f"Error adding route to {{Ifindex: {self.eth0.ifindex} Dst: {fmt_prefix(net, plen)} "
                          f"Src: <nil> Gw: {fmt_ip(peer.public_ip)} Flags: [] Table: 0 Realm: 0}}: {err.message.removeprefix('Error: ')}")
            return
        vtep = self.vtep
        if self.cni.legacy_vxlan:
            vtep.fdb_add(peer.vtep_mac, peer.public_ip, replace=True)
            return
        ns.fib.add(Route(net, plen, gateway=net, dev=vtep, onlink=True), replace=True)
        ns.neigh.update(vtep, net, peer.vtep_mac, N.PERMANENT)
        vtep.fdb_add(peer.vtep_mac, peer.public_ip, replace=True)

    def remove_peer(self, node: str) -> None:
        peer = self.peers.pop(node, None)
        if peer is None:
            return
        ns = self.ns
        for route in list(ns.fib.all_routes()):
            if (route.dst, route.plen) == peer.subnet:
                ns.fib.remove(route)
        if self.vtep is not None:
            ns.neigh.delete(self.vtep, peer.subnet[0])
            self.vtep.fdb_del(peer.vtep_mac)

    def _l3miss(self, vtep, ip: int) -> None:
        """Legacy flannel: answer the kernel's L3MISS with a neighbour entry for the pod IP."""
        for peer in self.peers.values():
            if in_prefix(ip, *peer.subnet):
                entry, released = self.ns.neigh.update(vtep, ip, peer.vtep_mac, N.REACHABLE)
                self.ns.release_queued(vtep, entry, released)
                return
        self._log("I", "vxlan_network.go:171", f"L3 miss but route for {fmt_ip(ip)} not found")

    def _log(self, level: str, where: str, message: str) -> None:
        """A klog line as flanneld writes it (time from the simulated clock)."""
        t = self.ns.world.clock
        h, m, s = int(t // 3600) % 24, int(t // 60) % 60, t % 60
        self.log.append(f"{level}1122 {h:02d}:{m:02d}:{s:09.6f}       1 {where}] {message}")
