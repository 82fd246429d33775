"""br_netfilter: bridged IPv4 frames through the host's iptables hooks.

With net.bridge.bridge-nf-call-iptables=1 a frame the bridge forwards from one port to
another passes PREROUTING, FORWARD and POSTROUTING of the bridge's namespace, with
`-i`/`-o` naming the bridge and `-m physdev` the ports. This is what un-NATs a pod's reply
to a same-node client of a Service: the reply is bridged, not routed. A DNAT in PREROUTING
to an address the bridge does not lead to hands the packet to the IP stack instead
(br_nf_pre_routing_finish re-routes it).
"""
from __future__ import annotations

from netlab.net import trace as T
from netlab.net.fib import BROADCAST, LOCAL
from netlab.net.packet import Frame


def br_nf_forward(bridge, port, out, frame: Frame, trace) -> bool:
    """Bridge.nf_call_iptables: True lets the bridge forward the frame as it is; False means
    netfilter dropped it or sent it on itself (changed, or routed)."""
    pkt = frame.ip
    ns = bridge.ns
    nf = ns.netfilter
    if pkt is None or nf is None or ns.sysctl.get("net.bridge.bridge-nf-call-iptables", "0") != "1":
        return True
    # IPVS hooks FORWARD too (ip_vs_reply4): it un-NATs a real server's reply bridged to a
    # same-node client, as conntrack's NAT does for kube-proxy's iptables DNAT.
    kw = dict(physin=port.name, bridged=True, ipvs=ns.ipvs)
    p = nf.hook("PREROUTING", pkt, bridge, None, trace, **kw)
    if p is None:
        return False
    if p.dst != pkt.dst:
        route = ns.fib.lookup(p.dst)
        trace.add(ns.name, bridge.name, T.ROUTE, "br_netfilter: destination changed by DNAT: the packet is routed")
        if route is not None and route.type in (LOCAL, BROADCAST):
            ns.local_deliver(bridge, p, trace)
        elif route is not None:
            ns.ip_forward(bridge, p, route, trace)
        else:
            trace.end(T.DROPPED, "br_netfilter: no route after DNAT", ns.name, bridge.name)
        return False
    kw["physout"] = out.name
    p = nf.hook("FORWARD", p, bridge, bridge, trace, **kw)
    if p is None:
        return False
    p = nf.hook("POSTROUTING", p, None, bridge, trace, **kw)
    if p is None:
        return False
    if p is pkt or (p.src == pkt.src and p.dst == pkt.dst and p.l4 is pkt.l4 and p.mark == pkt.mark):
        return True
    new = Frame(frame.src, frame.dst, frame.ethertype, p, dict(frame.meta))
    trace.add(ns.name, bridge.name, T.FDB, f"bridge {bridge.name}: FDB {frame.dst} → port {out.name}", new)
    out.xmit(new, trace)
    return False
