"""Turning what a learner types (pod name, node name, IP, host name) into an address
and a namespace."""
from __future__ import annotations

from netlab.net.addr import AddrError, parse_ip


def resolve_host(inv_or_session, ctx, name: str) -> int | None:
    """getaddrinfo: an IPv4 literal, else /etc/hosts, else DNS through resolv.conf (each
    query a real packet, so a blocked or broken DNS path fails the way it would)."""
    try:
        return parse_ip(name)
    except AddrError:
        pass
    from netlab.apps.dns.resolver import lookup

    addrs = lookup(ctx.ns, name).addresses()
    return parse_ip(addrs[0]) if addrs else None


def endpoint(lab, name: str):
    """FROM/TO of `trace`: a pod, a node, or an IP. Returns (NetNS or None, address)."""
    cluster = lab.cluster
    from netlab.shell.session import Session

    ctx = Session.context_for(lab.session, name) if hasattr(lab, "session") else None
    if ctx is not None:
        if ctx.kind == "node":
            return ctx.ns, cluster.nodes[ctx.name].spec.ip
        pod = cluster.api.get("Pod", *ctx.name.split("/", 1))
        ip = (pod or {}).get("status", {}).get("podIP")
        return ctx.ns, parse_ip(ip) if ip else None
    try:
        ip = parse_ip(name)
    except AddrError:
        return None, None
    for ns in lab.world.namespaces.values():
        if ns.kind in ("node", "pod") and ns.is_local(ip) and ip >> 24 != 127:
            return ns, ip
    return None, ip
