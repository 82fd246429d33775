"""Turning what a learner types (pod name, node name, IP, host name) into an address
and a namespace."""
from __future__ import annotations

from netlab.net.addr import AddrError, parse_ip


NOT_KNOWN = "Name or service not known"  # EAI_NONAME: the servers said no such name
TEMPORARY = "Temporary failure in name resolution"  # EAI_AGAIN: no server answered


def resolve_host(inv_or_session, ctx, name: str) -> int | None:
    """getaddrinfo: an IPv4 literal, else /etc/hosts, else DNS through resolv.conf (each
    query a real packet, so a blocked or broken DNS path fails the way it would)."""
    return getaddrinfo(ctx, name)[0]


def getaddrinfo(ctx, name: str) -> tuple[int | None, str]:
    """(address, error text): the error says whether the name does not exist or whether no
    DNS server could be asked, as gai_strerror words it."""
    try:
        return parse_ip(name), ""
    except AddrError:
        pass
    from netlab.apps.dns.resolver import lookup

    result = lookup(ctx.ns, name)
    addrs = result.addresses()
    if addrs:
        return parse_ip(addrs[0]), ""
    final = result.final
    if result.answers and (final is None or final.response is None):
        return None, TEMPORARY
    return None, NOT_KNOWN


def endpoint(lab, name: str):
    """FROM/TO of `trace`: a pod, a node, or an IP. Returns (NetNS or None, address)."""
    cluster = lab.cluster
    from netlab.shell.session import Session

    ctx = Session.context_for(lab.session, name) if hasattr(lab, "session") else None
    if ctx is not None:
        if ctx.kind == "node":
            node = cluster.nodes.get(ctx.name)
            if node is None:  # `client` or `router`: a machine of the underlay, not a cluster node
                return ctx.ns, next((a.ip for d in ctx.ns.devices.values() if d.kind != "loopback"
                                     for a in d.addrs), None)
            return ctx.ns, node.spec.ip
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
