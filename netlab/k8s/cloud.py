"""The cloud outside the cluster: an internet segment with an external client, and the
cloud provider's load balancer for `type: LoadBalancer` Services.

The load balancer lives in the router, in the path between the internet and the nodes —
as a cloud network load balancer sits in the provider's network. For each LoadBalancer
Service port it takes an address from the pool, spreads new connections over the nodes'
NodePorts (DNAT, so the client's source address reaches the node), and writes the address
into `status.loadBalancer`. With `externalTrafficPolicy: Local` only nodes that run a
ready endpoint receive traffic (the provider's health check on healthCheckNodePort says
which: here the controller reads the endpoints directly). `loadBalancerSourceRanges` is
enforced here too, as a provider's firewall would.
"""
from __future__ import annotations

import copy

from netlab.k8s.api import ApiStore, Event
from netlab.net import netfilter as nf
from netlab.net import topology
from netlab.net.addr import fmt_ip, parse_ip
from netlab.net.netns import NetNS

INTERNET = ("internet", parse_ip("203.0.113.0"), 24)  # TEST-NET-3: documentation addresses
CLIENT_IP = parse_ip("203.0.113.10")
POOL = range(parse_ip("203.0.113.100"), parse_ip("203.0.113.200"))
CHAIN = "CLOUD-LB"


def build_internet(world, router: NetNS, nic_index: int) -> NetNS:
    """The segment, the router's leg on it, and the client machine (`ssh client`)."""
    name, net, plen = INTERNET
    seg = world.add_segment(name, f"{fmt_ip(net)}/{plen}")
    topology.attach_nic(router, seg, net + 1, plen, name=f"eth{nic_index}")
    client = world.add_netns("client", hostname="client", kind="client")
    eth0 = topology.attach_nic(client, seg, CLIENT_IP, plen)
    topology.add_default_route(client, net + 1, eth0)
    client.files["/etc/hosts"] = f"127.0.0.1\tlocalhost\n{fmt_ip(CLIENT_IP)}\tclient\n"
    client.files["/etc/resolv.conf"] = f"nameserver {fmt_ip(net + 1)}\n"
    return client


class CloudLoadBalancer:
    def __init__(self, api: ApiStore, router: NetNS, nodes: dict[str, int]) -> None:
        self.api = api
        self.router = router
        self.nodes = nodes  # node name -> node IP
        self.nic = router.devices[f"eth{len([d for d in router.devices.values() if d.kind == 'ether']) - 1}"]
        self.assigned: dict[str, int] = {}  # ns/name -> LB address
        self.dirty = True
        self.nf = nf.load(router)
        api.watch({"Service", "Endpoints"}, self._changed)

    def _changed(self, event: Event) -> None:
        self.dirty = True

    def sync(self) -> None:
        self.dirty = False
        services = [s for s in self.api.list("Service") if s.get("spec", {}).get("type") == "LoadBalancer"]
        live = {f"{s['metadata'].get('namespace', 'default')}/{s['metadata']['name']}" for s in services}
        for key in [k for k in self.assigned if k not in live]:
            self.router.addr_del(self.nic, self.assigned.pop(key), 24)
        prerouting, lb_chains, drops = [], {}, []
        for svc in services:
            key = f"{svc['metadata'].get('namespace', 'default')}/{svc['metadata']['name']}"
            ip = self._address(svc, key)
            if ip is None:
                continue
            self._write_status(svc, ip)
            spec = svc["spec"]
            targets = self._targets(svc)
            for i, port in enumerate(spec.get("ports", [])):
                proto = port.get("protocol", "TCP").lower()
                chain = f"CLOUD-LB-{len(lb_chains)}"
                sources = spec.get("loadBalancerSourceRanges") or [None]
                for src in sources:
                    prerouting.append(nf.Rule(src=src, dst=(ip, 32), proto=proto, matches=[
                        nf.Comment(f"{key}:{port.get('name') or i} load balancer"),
                        (nf.Tcp if proto == "tcp" else nf.Udp)(dport=int(port["port"]))], target=nf.Jump(chain)))
                rules = []
                for n, node_ip in enumerate(targets):
                    stat = [nf.Statistic(probability=1.0 / (len(targets) - n))] if n < len(targets) - 1 else []
                    rules.append(nf.Rule(proto=proto, matches=stat + [(nf.Tcp if proto == "tcp" else nf.Udp)()],
                                         target=nf.Dnat(f"{fmt_ip(node_ip)}:{port['nodePort']}")))
                lb_chains[chain] = rules
                drops.append(nf.Rule(dst=(ip, 32), matches=[nf.Comment(f"{key} load balancer: not allowed or no healthy node")],
                                     target=nf.DROP))
        stale = [c for c in self.nf.table("nat").chains if c.startswith("CLOUD-LB-") and c not in lb_chains]
        self.nf.replace_chains("nat", {CHAIN: prerouting, **lb_chains}, delete=stale)
        if not any(r.target.__class__ is nf.Jump and r.target.chain == CHAIN for r in self.nf.chain("nat", "PREROUTING").rules):
            self.nf.append("nat", "PREROUTING", nf.Rule(target=nf.Jump(CHAIN)))
        self.nf.replace_chains("filter", {"CLOUD-LB-DROP": drops})
        if not any(r.target.__class__ is nf.Jump for r in self.nf.chain("filter", "INPUT").rules):
            self.nf.append("filter", "INPUT", nf.Rule(target=nf.Jump("CLOUD-LB-DROP")))

    def _address(self, svc: dict, key: str) -> int | None:
        if key in self.assigned:
            return self.assigned[key]
        wanted = svc["spec"].get("loadBalancerIP")
        used = set(self.assigned.values())
        if wanted:
            ip = parse_ip(wanted)
            if ip in used:
                return None
        else:
            ip = next((a for a in POOL if a not in used), None)
            if ip is None:
                return None
        self.assigned[key] = ip
        self.router.addr_add(self.nic, ip, 24)
        return ip

    def _write_status(self, svc: dict, ip: int) -> None:
        status = {"ingress": [{"ip": fmt_ip(ip), "ipMode": "VIP"}]}
        if svc.get("status", {}).get("loadBalancer") != status:
            updated = copy.deepcopy(svc)
            updated.setdefault("status", {})["loadBalancer"] = status
            self.api.update(updated)

    def _targets(self, svc: dict) -> list[int]:
        if svc["spec"].get("externalTrafficPolicy") != "Local":
            return list(self.nodes.values())
        ep = self.api.get("Endpoints", svc["metadata"].get("namespace", "default"), svc["metadata"]["name"]) or {}
        local = {a.get("nodeName") for s in ep.get("subsets") or [] for a in s.get("addresses", [])}
        return [ip for name, ip in self.nodes.items() if name in local]
