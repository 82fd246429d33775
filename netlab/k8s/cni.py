"""The bridge CNI plugin with host-local IPAM: what flannel delegates pod wiring to.

ADD: a veth pair, the pod end renamed eth0 in the pod's namespace, the host end
(`vethXXXXXXXX`) enslaved to the bridge, an address from the node's podCIDR and a
default route via the bridge address. DEL undoes it and frees the address.
"""
from __future__ import annotations

from netlab.net import topology
from netlab.net.addr import broadcast, fmt_ip, network
from netlab.net.device import Bridge
from netlab.net.errors import NetError
from netlab.net.netns import NetNS

HEX = "0123456789abcdef"


class BridgeCni:
    def __init__(self, node_ns: NetNS, bridge_name: str, pod_cidr: tuple[int, int], mtu: int, docker_style: bool) -> None:
        self.node_ns = node_ns
        self.bridge_name = bridge_name
        self.pod_cidr = pod_cidr
        self.mtu = mtu
        self.docker_style = docker_style
        self.allocated: dict[int, str] = {}  # ip -> pod key (host-local IPAM)

    @property
    def gateway(self) -> int:
        return self.pod_cidr[0] + 1

    def ensure_bridge(self) -> Bridge:
        ns = self.node_ns
        br = ns.dev(self.bridge_name)
        if br is None:
            rng = ns.world.rng
            mac = None
            if self.docker_style:  # docker0 takes a 02:42:xx:xx:xx:xx address
                mac = "02:42:" + ":".join(f"{rng.randrange(256):02x}" for _ in range(4))
            br = topology.add_bridge(ns, self.bridge_name, mac=mac, mtu=self.mtu)
            ns.addr_add(br, self.gateway, self.pod_cidr[1], broadcast_addr=broadcast(*self.pod_cidr))
            ns.set_link(br, up=True)
        return br

    def allocate(self, pod_key: str) -> int:
        net, plen = self.pod_cidr
        size = 1 << (32 - plen)
        for offset in range(2, size - 1):
            ip = net + offset
            if ip not in self.allocated:
                self.allocated[ip] = pod_key
                return ip
        raise NetError(f"failed to allocate for range 0: no IP addresses available in range set: {fmt_ip(net + 1)}-{fmt_ip(net + size - 2)}")

    def add(self, pod_ns: NetNS, pod_key: str) -> tuple[int, str]:
        """CNI ADD. Returns (pod IP, host veth name)."""
        br = self.ensure_bridge()
        rng = self.node_ns.world.rng
        while True:
            host_name = "veth" + "".join(rng.choice(HEX) for _ in range(8))
            if host_name not in self.node_ns.devices:
                break
        ip = self.allocate(pod_key)
        pod_if, host_if = topology.veth_pair(pod_ns, "eth0", self.node_ns, host_name, mtu=self.mtu)
        br.add_port(host_if)
        self.node_ns.set_link(host_if, up=True)
        pod_ns.set_link(pod_if, up=True)
        pod_ns.addr_add(pod_if, ip, self.pod_cidr[1], broadcast_addr=broadcast(*self.pod_cidr))
        topology.add_default_route(pod_ns, self.gateway, pod_if)
        return ip, host_name

    def delete(self, pod_ns: NetNS, ip: int | None) -> None:
        eth0 = pod_ns.dev("eth0")
        if eth0 is not None and getattr(eth0, "peer", None) is not None:
            host_if = eth0.peer
            if host_if.ns is not None:
                host_if.ns.remove_device(host_if)
        if ip is not None:
            self.allocated.pop(ip, None)

    def in_range(self, ip: int) -> bool:
        return network(ip, self.pod_cidr[1]) == self.pod_cidr[0]
