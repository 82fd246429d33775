"""The rules kube-proxy's iptables mode writes, built as netfilter Rule objects (the
structured fast path; no text is parsed). Matches are listed in the order kube-proxy passes
its arguments, so iptables-save prints exactly what it prints on a real node.

The per-Service chains that make up almost all of the rules (KUBE-SVC-/KUBE-SVL- and
KUBE-SEP-) are handed to netfilter as RuleSources: compact descriptions whose Rule objects
are built only when a packet, iptables-save or a hand edit reads the chain. At 20,000
Services that is ~200,000 rules a sync need not build.

`modern` follows pkg/proxy/iptables/proxier.go of Kubernetes 1.26 (KUBE-SVC/SVL/EXT/FW/SEP
chains, KUBE-POSTROUTING with RETURN/--xor-mark/MASQUERADE --random-fully, probabilities
written with %0.10f). `legacy` follows the ~1.9 proxier the seed article's cluster ran
(--set-xmark marks, one MASQUERADE rule, KUBE-XLB chains, %0.5f probabilities, no comments
on the per-endpoint rules).
"""
from __future__ import annotations

from netlab.k8s.kubeproxy.model import ServicePort
from netlab.net import netfilter as nf
from netlab.net.addr import AddrError, in_prefix, parse_ip, parse_prefix

MASQ_MARK = 0x4000
DROP_MARK = 0x8000
TABLES = ("filter", "nat")


class Part:
    """What one service port (`sp`) contributes, per table it writes to: its own chains (a list
    of rules, or a RuleSource for the KUBE-SVC/SVL/SEP chains) and its slice of each shared
    chain, in declaration order."""

    __slots__ = ("chains", "sp")

    def __init__(self, sp: ServicePort | None = None) -> None:
        self.chains: dict[str, dict[str, list[nf.Rule] | nf.RuleSource]] = {}
        self.sp = sp

    def table(self, table: str) -> dict[str, list[nf.Rule] | nf.RuleSource]:
        chains = self.chains.get(table)
        if chains is None:
            chains = self.chains[table] = {}
        return chains

    def chain(self, table: str, name: str) -> list[nf.Rule]:
        chains = self.table(table)
        rules = chains.get(name)
        if rules is None:
            rules = chains[name] = []
        return rules

    def add(self, table: str, chain: str, rule: nf.Rule) -> None:
        self.chain(table, chain).append(rule)


NO_CHAINS: dict = {}  # what a part has in a table it does not write to (read, never written)


class RuleSet(Part):
    """Per table: the chains kube-proxy owns (in declaration order) with their rules, and the
    jumps it ensures at the top of built-in chains."""

    __slots__ = ("jumps", "heads", "parts")

    def __init__(self) -> None:
        super().__init__()
        self.chains = {t: {} for t in TABLES}
        self.jumps: dict[str, list[tuple[str, nf.Rule]]] = {t: [] for t in TABLES}
        self.heads: dict[str, dict[str, int]] = {}  # table -> chain -> rules before the services' rules
        self.parts: list[Part] = []  # per service port (in `ports` order): its fragment


def probability(n: int, style: str) -> str:
    return f"{1.0 / n:0.5f}" if style == "legacy" else f"{1.0 / n:0.10f}"


def _tcpudp(proto: str, **ports) -> nf.Tcp | nf.Udp:
    return nf.Tcp(**ports) if proto == "tcp" else nf.Udp(**ports)


def _c(text: str) -> nf.Comment:
    return nf.Comment(text)


def _j(chain: str) -> nf.Jump:
    return nf.Jump(chain)


NEW = nf.Conntrack(states={"NEW"})

# Jumps from the built-in chains, in the order kube-proxy ensures them (each a prepend).
JUMPS_MODERN = [
    ("filter", "KUBE-EXTERNAL-SERVICES", "INPUT", "kubernetes externally-visible service portals", True),
    ("filter", "KUBE-EXTERNAL-SERVICES", "FORWARD", "kubernetes externally-visible service portals", True),
    ("filter", "KUBE-NODEPORTS", "INPUT", "kubernetes health check service ports", False),
    ("filter", "KUBE-SERVICES", "FORWARD", "kubernetes service portals", True),
    ("filter", "KUBE-SERVICES", "OUTPUT", "kubernetes service portals", True),
    ("filter", "KUBE-FORWARD", "FORWARD", "kubernetes forwarding rules", False),
    ("filter", "KUBE-PROXY-FIREWALL", "INPUT", "kubernetes load balancer firewall", True),
    ("filter", "KUBE-PROXY-FIREWALL", "OUTPUT", "kubernetes load balancer firewall", True),
    ("filter", "KUBE-PROXY-FIREWALL", "FORWARD", "kubernetes load balancer firewall", True),
    ("nat", "KUBE-SERVICES", "OUTPUT", "kubernetes service portals", False),
    ("nat", "KUBE-SERVICES", "PREROUTING", "kubernetes service portals", False),
    ("nat", "KUBE-POSTROUTING", "POSTROUTING", "kubernetes postrouting rules", False),
]
JUMPS_LEGACY = [
    ("filter", "KUBE-EXTERNAL-SERVICES", "INPUT", "kubernetes externally-visible service portals", True),
    ("filter", "KUBE-SERVICES", "OUTPUT", "kubernetes service portals", True),
    ("filter", "KUBE-FORWARD", "FORWARD", "kubernetes forwarding rules", False),
    ("nat", "KUBE-SERVICES", "OUTPUT", "kubernetes service portals", False),
    ("nat", "KUBE-SERVICES", "PREROUTING", "kubernetes service portals", False),
    ("nat", "KUBE-POSTROUTING", "POSTROUTING", "kubernetes postrouting rules", False),
]


def kubelet_rules(rs: RuleSet, style: str) -> None:
    """What kubelet itself ensures: KUBE-MARK-DROP, KUBE-FIREWALL and its jumps. Since 1.16 kubelet
    also blocks connections to 127.0.0.0/8 from outside (kube-proxy sets route_localnet=1, which
    would otherwise expose localhost-only servers); the ~1.9 kubelet did not."""
    rs.add("nat", "KUBE-MARK-DROP", nf.Rule(target=nf.MarkTarget(DROP_MARK, DROP_MARK)))
    rs.add("filter", "KUBE-FIREWALL", nf.Rule(matches=[_c("kubernetes firewall for dropping marked packets"),
                                                        nf.Mark(DROP_MARK, DROP_MARK)], target=nf.DROP))
    if style != "legacy":
        rs.add("filter", "KUBE-FIREWALL", nf.Rule(
            src="127.0.0.0/8", src_inv=True, dst="127.0.0.0/8",
            matches=[_c("block incoming localnet connections"),
                     nf.Conntrack(states={"RELATED", "ESTABLISHED", "DNAT"}, states_inv=True)], target=nf.DROP))
    rs.jumps["filter"] += [("INPUT", nf.Rule(target=_j("KUBE-FIREWALL"))), ("OUTPUT", nf.Rule(target=_j("KUBE-FIREWALL")))]


def build_part(sp: ServicePort, *, node: str, cluster_cidr: str, style: str, node_ip: str | None) -> Part:
    """The rules one service port contributes: its own chains and its slice of the shared ones."""
    part = Part(sp)
    if node_ip is None and _is_ip(node):
        node_ip = node
    (_legacy_service if style == "legacy" else _modern_service)(part, sp, node, cluster_cidr, node_ip)
    return part


def build(ports: list[ServicePort], *, node: str, cluster_cidr: str, style: str = "modern",
          node_ip: str | None = None, cache: dict | None = None) -> RuleSet:
    """The whole rule set for one node. `node` is the node name endpoints are compared with;
    `node_ip` (default: `node`, when it is an address) decides loadBalancerSourceRanges'
    allowFromNode.

    `cache` (kept by the caller for one node, style and cluster CIDR) maps a service port's
    sort key to the rules it wrote last time: a sync after one change builds that service's
    rules only — upstream's partial sync — and the result is identical to a full build,
    because each service only appends to the shared chains, in service order. A cached part
    is reused when it was built from the same ServicePort object (unchanged resourceVersions)
    or from one with an equal key()."""
    rs = RuleSet()
    legacy = style == "legacy"
    for table, dst, src, comment, new_only in (JUMPS_LEGACY if legacy else JUMPS_MODERN):
        matches = ([NEW] if new_only else []) + [_c(comment)]
        rs.jumps[table].append((src, nf.Rule(matches=matches, target=_j(dst))))
    for c in ("KUBE-SERVICES", "KUBE-EXTERNAL-SERVICES", "KUBE-FORWARD", "KUBE-NODEPORTS"):
        rs.chain("filter", c)
    if not legacy:
        rs.chain("filter", "KUBE-PROXY-FIREWALL")
    for c in ("KUBE-SERVICES", "KUBE-NODEPORTS", "KUBE-POSTROUTING", "KUBE-MARK-MASQ"):
        rs.chain("nat", c)
    kubelet_rules(rs, style)
    snat = _c("kubernetes service traffic requiring SNAT")
    if legacy:
        rs.add("nat", "KUBE-POSTROUTING", nf.Rule(matches=[snat, nf.Mark(MASQ_MARK, MASQ_MARK)], target=nf.Masquerade()))
        rs.add("nat", "KUBE-MARK-MASQ", nf.Rule(target=nf.MarkTarget(MASQ_MARK, MASQ_MARK)))
    else:
        rs.add("nat", "KUBE-POSTROUTING", nf.Rule(matches=[nf.Mark(MASQ_MARK, MASQ_MARK, inv=True)], target=nf.RETURN))
        rs.add("nat", "KUBE-POSTROUTING", nf.Rule(target=nf.MarkTarget(MASQ_MARK, 0)))  # --xor-mark 0x4000
        rs.add("nat", "KUBE-POSTROUTING", nf.Rule(matches=[snat], target=nf.Masquerade(random_fully=True)))
        rs.add("nat", "KUBE-MARK-MASQ", nf.Rule(target=nf.MarkTarget(MASQ_MARK, MASQ_MARK)))  # --or-mark 0x4000
    if node_ip is None and _is_ip(node):
        node_ip = node
    # Where each shared chain's per-service rules begin: the partial sync splices there.
    rs.heads = {t: {name: len(rules) for name, rules in rs.chains[t].items()} for t in TABLES}
    fresh: dict[str, Part] = {}
    parts = rs.parts
    for sp in ports:
        ident = sp.sort_key
        part = cache.get(ident) if cache is not None else None
        if part is None or (part.sp is not sp and part.sp.key() != sp.key()):
            part = Part(sp)
            if legacy:
                _legacy_service(part, sp, node, cluster_cidr, node_ip)
            else:
                _modern_service(part, sp, node, cluster_cidr, node_ip)
        fresh[ident] = part
        parts.append(part)
        for table, chains in part.chains.items():
            into = rs.chains[table]
            for name, rules in chains.items():
                shared = into.get(name)
                if shared is not None:
                    shared.extend(rules)
                elif rules.__class__ is list:
                    into[name] = list(rules)  # our own list: the cached part's must not grow
                else:
                    into[name] = rules  # a RuleSource: the service's own chain, built when read
    if cache is not None:
        cache.clear()
        cache.update(fresh)
    rs.add("nat", "KUBE-SERVICES", nf.Rule(
        matches=[_c("kubernetes service nodeports; NOTE: this must be the last rule in this chain"),
                 nf.AddrType(dst_type="LOCAL")], target=_j("KUBE-NODEPORTS")))
    if not legacy:
        rs.add("filter", "KUBE-FORWARD", nf.Rule(matches=[nf.Conntrack(states={"INVALID"})], target=nf.DROP))
    rs.add("filter", "KUBE-FORWARD", nf.Rule(matches=[_c("kubernetes forwarding rules"), nf.Mark(MASQ_MARK, MASQ_MARK)],
                                             target=nf.ACCEPT))
    established = nf.Conntrack(states={"RELATED", "ESTABLISHED"})
    if legacy:
        rs.add("filter", "KUBE-FORWARD", nf.Rule(src=cluster_cidr, matches=[
            _c("kubernetes forwarding conntrack pod source rule"), established], target=nf.ACCEPT))
        rs.add("filter", "KUBE-FORWARD", nf.Rule(dst=cluster_cidr, matches=[
            _c("kubernetes forwarding conntrack pod destination rule"), established], target=nf.ACCEPT))
    else:
        rs.add("filter", "KUBE-FORWARD", nf.Rule(matches=[_c("kubernetes forwarding conntrack rule"), established],
                                                 target=nf.ACCEPT))
    return rs


class _EndpointRules(nf.RuleSource):
    """KUBE-SEP-…: mark the endpoint's own traffic for masquerade (hairpin), remember the
    client for session affinity, DNAT to the endpoint. If the Endpoints object lists the same
    address twice, the rules come twice (`more`), as they would from upstream."""

    __slots__ = ("sp", "ep", "more", "chain", "comment")

    def __init__(self, sp: ServicePort, ep, chain: str, comment: bool) -> None:
        self._built = None  # RuleSource.__init__, without the call: 60,000 of these at 20,000 Services
        self.sp, self.ep, self.more, self.chain, self.comment = sp, ep, 0, chain, comment

    @property
    def targets(self) -> tuple[str, ...]:  # type: ignore[override]
        return ("KUBE-MARK-MASQ",) * (1 + self.more)

    def build(self) -> list[nf.Rule]:
        sp, chain, proto, ep = self.sp, self.chain, self.sp.protocol, self.ep
        out = []
        for _ in range(1 + self.more):
            head = [_c(sp.name_string)] if self.comment else []
            out.append(nf.Rule(src=(ep.ip_int, 32), matches=list(head), target=_j("KUBE-MARK-MASQ")))
            matches = list(head)
            if sp.affinity_seconds:
                matches.append(nf.Recent("set", name=chain))
            matches.append(_tcpudp(proto))
            out.append(nf.Rule(proto=proto, matches=matches, target=nf.Dnat(ep.text)))
        return out


def _endpoint_chains(rs: Part, sp: ServicePort, endpoints, *, comment: bool) -> list[str]:
    """A KUBE-SEP- chain per endpoint; returns their names, one per endpoint."""
    nat = rs.table("nat")
    seps = []
    for ep in endpoints:
        chain = sp.sep(ep)
        src = nat.get(chain)
        if src is None:
            nat[chain] = _EndpointRules(sp, ep, chain, comment)
        else:  # the same address and port again: the same chain name
            src.more += 1
        seps.append(chain)
    return seps


class _BalanceRules(nf.RuleSource):
    """KUBE-SVC-/KUBE-SVL- (legacy: KUBE-SVC-): in modern style, first the masquerade mark for
    cluster-IP traffic from outside the cluster CIDR (when this is the service's internal
    chain); then, with session affinity, a `recent --rcheck` per endpoint; then one rule per
    endpoint, each but the last taken with probability 1/(endpoints left)."""

    __slots__ = ("sp", "endpoints", "seps", "style", "comments", "masq_cidr")

    def __init__(self, sp: ServicePort, endpoints, seps: list[str], style: str, comments: bool,
                 masq_cidr: str | None) -> None:
        self._built = None
        self.sp, self.endpoints, self.seps, self.style, self.comments = sp, endpoints, seps, style, comments
        self.masq_cidr = masq_cidr

    @property
    def targets(self) -> list[str]:  # type: ignore[override]
        seps = self.seps
        return (["KUBE-MARK-MASQ"] if self.masq_cidr is not None else []) + (seps * 2 if self.sp.affinity_seconds else seps)

    def build(self) -> list[nf.Rule]:
        sp, proto, endpoints, seps = self.sp, self.sp.protocol, self.endpoints, self.seps
        rules = []
        if self.masq_cidr is not None:
            rules.append(nf.Rule(src=self.masq_cidr, src_inv=True, dst=(sp.cluster_ip_int, 32), proto=proto, matches=[
                _c(f"{sp.name_string} cluster IP"), _tcpudp(proto, dport=sp.port)], target=_j("KUBE-MARK-MASQ")))
        if sp.affinity_seconds:
            for ep, sep in zip(endpoints, seps):
                c = [_c(f"{sp.name_string} -> {ep.text}")] if self.comments else []
                rules.append(nf.Rule(matches=c + [nf.Recent("rcheck", name=sep, seconds=sp.affinity_seconds, reap=True)],
                                     target=_j(sep)))
        n = len(endpoints)
        for i, (ep, sep) in enumerate(zip(endpoints, seps)):
            c = [_c(f"{sp.name_string} -> {ep.text}")] if self.comments else []
            stat = [nf.Statistic(probability=float(probability(n - i, self.style)))] if i < n - 1 else []
            rules.append(nf.Rule(matches=c + stat, target=_j(sep)))
        return rules


def _balance(rs: Part, sp: ServicePort, chain: str, endpoints, style: str, *, comments: bool,
             masq_cidr: str | None = None, seps: list[str] | None = None) -> None:
    """`seps`: the endpoints' KUBE-SEP- chain names, when the caller has them already."""
    nat = rs.table("nat")
    assert not nat.get(chain), chain  # declared (so it keeps its place) but empty: the source is the whole chain
    if seps is None:
        seps = [sp.sep(ep) for ep in endpoints]
    nat[chain] = _BalanceRules(sp, endpoints, seps, style, comments, masq_cidr)


def _modern_service(rs: Part, sp: ServicePort, node: str, cluster_cidr: str, node_ip: str | None) -> None:
    """One service port as the 1.26 proxier writes it. Filter-table rules REJECT traffic for a
    service with no endpoints at all and DROP traffic whose traffic policy is Local when this
    node has no local endpoint; KUBE-PROXY-FIREWALL drops what the FW chain did not accept."""
    proto, name = sp.protocol, sp.name_string
    all_eps = sp.endpoints
    local_eps = [e for e in all_eps if e.node == node]
    has_endpoints = bool(all_eps)
    has_internal = bool(local_eps if sp.internal_local else all_eps)
    has_external = bool(local_eps if sp.external_local else all_eps)
    # UsesClusterEndpoints: even with externalTrafficPolicy Local the cluster endpoints are
    # needed for the short-circuit of pod and node traffic to external destinations.
    uses_cluster = not sp.internal_local or sp.externally_accessible
    uses_local = sp.internal_local or sp.external_local
    # the endpoints with a KUBE-SEP- chain: all, or only the local ones (a subset, in the same
    # order: sp.endpoints is sorted by "ip:port" text, as upstream's endpoints cache is)
    reachable = all_eps if uses_cluster else local_eps
    cluster_chain, local_chain = "KUBE-SVC-" + sp.hash, "KUBE-SVL-" + sp.hash
    ext_chain, fw_chain = "KUBE-EXT-" + sp.hash, "KUBE-FW-" + sp.hash
    internal_chain = local_chain if sp.internal_local else cluster_chain
    external_policy_chain = local_chain if sp.external_local else cluster_chain
    uses_ext = has_endpoints and sp.externally_accessible
    uses_fw = has_endpoints and bool(sp.lb_ips) and bool(sp.lb_source_ranges)
    if not has_endpoints:
        filter_target, filter_comment = nf.Reject(), f"{name} has no endpoints"
    else:
        filter_target, filter_comment = nf.DROP, f"{name} has no local endpoints"
    if has_endpoints and uses_cluster:
        rs.chain("nat", cluster_chain)
    if local_eps and uses_local:
        rs.chain("nat", local_chain)
    vip = (sp.cluster_ip_int, 32)

    def to_port(chain: str, table: str, comment: str, target, dst=vip, port=sp.port, *more) -> None:
        rs.add(table, chain, nf.Rule(dst=dst, proto=proto, matches=[_c(comment), *more, _tcpudp(proto, dport=port)],
                                     target=target))

    if has_internal:
        to_port("KUBE-SERVICES", "nat", f"{name} cluster IP", _j(internal_chain))
    else:
        to_port("KUBE-SERVICES", "filter", filter_comment, filter_target)
    for ext_ip in sp.external_ips:
        if has_endpoints:
            to_port("KUBE-SERVICES", "nat", f"{name} external IP", _j(ext_chain), f"{ext_ip}/32")
        if not has_external:
            to_port("KUBE-EXTERNAL-SERVICES", "filter", filter_comment, filter_target, f"{ext_ip}/32")
    for lb in sp.lb_ips:
        if has_endpoints:
            to_port("KUBE-SERVICES", "nat", f"{name} loadbalancer IP", _j(fw_chain if uses_fw else ext_chain), f"{lb}/32")
        if uses_fw:
            to_port("KUBE-PROXY-FIREWALL", "filter", f"{name} traffic not accepted by {fw_chain}", nf.DROP, f"{lb}/32")
    if not has_external:
        for lb in sp.lb_ips:
            to_port("KUBE-EXTERNAL-SERVICES", "filter", filter_comment, filter_target, f"{lb}/32")
    if sp.node_port:
        if has_endpoints:
            to_port("KUBE-NODEPORTS", "nat", name, _j(ext_chain), None, sp.node_port)
        if not has_external:
            to_port("KUBE-EXTERNAL-SERVICES", "filter", filter_comment, filter_target, None, sp.node_port,
                    nf.AddrType(dst_type="LOCAL"))
    if sp.health_check_node_port:
        rs.add("filter", "KUBE-NODEPORTS", nf.Rule(proto="tcp", matches=[
            _c(f"{name} health check node port"), nf.Tcp(dport=sp.health_check_node_port)], target=nf.ACCEPT))
    if uses_ext:
        if not sp.external_local:
            rs.add("nat", ext_chain, nf.Rule(matches=[_c(f"masquerade traffic for {name} external destinations")],
                                             target=_j("KUBE-MARK-MASQ")))
        else:
            rs.add("nat", ext_chain, nf.Rule(src=cluster_cidr, matches=[_c(f"pod traffic for {name} external destinations")],
                                             target=_j(cluster_chain)))
            rs.add("nat", ext_chain, nf.Rule(matches=[_c(f"masquerade LOCAL traffic for {name} external destinations"),
                                                      nf.AddrType(src_type="LOCAL")], target=_j("KUBE-MARK-MASQ")))
            rs.add("nat", ext_chain, nf.Rule(matches=[_c(f"route LOCAL traffic for {name} external destinations"),
                                                      nf.AddrType(src_type="LOCAL")], target=_j(cluster_chain)))
        if has_external:
            rs.add("nat", ext_chain, nf.Rule(target=_j(external_policy_chain)))
    if uses_fw:
        lb_comment = _c(f"{name} loadbalancer IP")
        node_addr = parse_ip(node_ip) if node_ip else None
        allow_from_node = False
        for src in sp.lb_source_ranges:
            rs.add("nat", fw_chain, nf.Rule(src=src, matches=[lb_comment], target=_j(ext_chain)))
            net, plen = parse_prefix(src)
            allow_from_node |= node_addr is not None and in_prefix(node_addr, net, plen)
        if allow_from_node:
            for lb in sp.lb_ips:
                rs.add("nat", fw_chain, nf.Rule(src=f"{lb}/32", matches=[lb_comment], target=_j(ext_chain)))
        rs.add("nat", fw_chain, nf.Rule(matches=[_c(f"other traffic to {name} will be dropped by KUBE-PROXY-FIREWALL")]))
    # The internal chain starts with the masquerade mark for cluster-IP traffic from outside
    # the cluster CIDR; it always is one of the two balanced here (has_internal implies it).
    masq = cluster_cidr if has_internal else None
    seps = _endpoint_chains(rs, sp, reachable, comment=True)
    if has_endpoints and uses_cluster:
        _balance(rs, sp, cluster_chain, all_eps, "modern", comments=True,
                 masq_cidr=masq if internal_chain == cluster_chain else None, seps=seps if reachable is all_eps else None)
    if local_eps and uses_local:
        _balance(rs, sp, local_chain, local_eps, "modern", comments=True,
                 masq_cidr=masq if internal_chain == local_chain else None, seps=seps if reachable is local_eps else None)


def _is_ip(text: str) -> bool:
    try:
        parse_ip(text)
    except AddrError:
        return False
    return True


def _legacy_load_balancer(rs: Part, sp: ServicePort, node_ip: str | None, svc_chain: str, xlb_chain: str) -> None:
    """1.9: every ingress IP jumps to KUBE-FW-, which masquerades (Cluster policy), lets the
    allowed sources on to the SVC (or XLB) chain, and marks everything else for DROP."""
    fw_chain = "KUBE-FW-" + sp.hash
    chosen = xlb_chain if sp.external_local else svc_chain
    node_addr = parse_ip(node_ip) if node_ip else None
    for lb in sp.lb_ips:
        rs.add("nat", "KUBE-SERVICES", nf.Rule(dst=f"{lb}/32", proto=sp.protocol, matches=[
            _c(f"{sp.name_string} loadbalancer IP"), _tcpudp(sp.protocol, dport=sp.port)], target=_j(fw_chain)))
        comment = _c(f"{sp.name_string} loadbalancer IP")
        if not sp.external_local:
            rs.add("nat", fw_chain, nf.Rule(matches=[comment], target=_j("KUBE-MARK-MASQ")))
        if not sp.lb_source_ranges:
            rs.add("nat", fw_chain, nf.Rule(matches=[comment], target=_j(chosen)))
        else:
            allow_from_node = False
            for src in sp.lb_source_ranges:
                rs.add("nat", fw_chain, nf.Rule(src=src, matches=[comment], target=_j(chosen)))
                allow_from_node |= node_addr is not None and in_prefix(node_addr, *parse_prefix(src))
            if allow_from_node:
                rs.add("nat", fw_chain, nf.Rule(src=f"{lb}/32", matches=[comment], target=_j(chosen)))
        rs.add("nat", fw_chain, nf.Rule(matches=[comment], target=_j("KUBE-MARK-DROP")))


def _legacy_service(rs: Part, sp: ServicePort, node: str, cluster_cidr: str, node_ip: str | None) -> None:
    proto, name = sp.protocol, sp.name_string
    eps = sp.endpoints
    has_endpoints = bool(eps)
    svc_chain, xlb_chain = "KUBE-SVC-" + sp.hash, "KUBE-XLB-" + sp.hash
    vip = (sp.cluster_ip_int, 32)

    def cluster_ip_rule(target, **extra) -> nf.Rule:
        return nf.Rule(dst=vip, proto=proto, matches=[_c(f"{name} cluster IP"), _tcpudp(proto, dport=sp.port)],
                       target=target, **extra)

    if has_endpoints:
        rs.chain("nat", svc_chain)
        rs.add("nat", "KUBE-SERVICES", cluster_ip_rule(_j("KUBE-MARK-MASQ"), src=cluster_cidr, src_inv=True))
        rs.add("nat", "KUBE-SERVICES", cluster_ip_rule(_j(svc_chain)))
    else:
        rs.add("filter", "KUBE-SERVICES", nf.Rule(dst=vip, proto=proto, matches=[
            _c(f"{name} has no endpoints"), _tcpudp(proto, dport=sp.port)], target=nf.Reject()))
    if sp.external_local and has_endpoints:
        rs.chain("nat", xlb_chain)
    for ext_ip in sp.external_ips:
        if has_endpoints:
            def ext(*more, target):
                return nf.Rule(dst=f"{ext_ip}/32", proto=proto, matches=[_c(f"{name} external IP"), _tcpudp(proto, dport=sp.port),
                                                                          *more], target=target)
            rs.add("nat", "KUBE-SERVICES", ext(target=_j("KUBE-MARK-MASQ")))
            rs.add("nat", "KUBE-SERVICES", ext(nf.Physdev(is_in=True, is_in_inv=True), nf.AddrType(src_type="LOCAL", src_inv=True),
                                               target=_j(svc_chain)))
            rs.add("nat", "KUBE-SERVICES", ext(nf.AddrType(dst_type="LOCAL"), target=_j(svc_chain)))
        else:
            rs.add("filter", "KUBE-EXTERNAL-SERVICES", nf.Rule(dst=f"{ext_ip}/32", proto=proto, matches=[
                _c(f"{name} has no endpoints"), _tcpudp(proto, dport=sp.port)], target=nf.Reject()))
    if has_endpoints:
        _legacy_load_balancer(rs, sp, node_ip, svc_chain, xlb_chain)
    if sp.node_port:
        if has_endpoints:
            def np(target, **extra):
                return nf.Rule(proto=proto, matches=[_c(name), _tcpudp(proto, dport=sp.node_port)], target=target, **extra)
            if sp.external_local:
                rs.add("nat", "KUBE-NODEPORTS", np(_j("KUBE-MARK-MASQ"), src="127.0.0.0/8"))
                rs.add("nat", "KUBE-NODEPORTS", np(_j(xlb_chain)))
            else:
                rs.add("nat", "KUBE-NODEPORTS", np(_j("KUBE-MARK-MASQ")))
                rs.add("nat", "KUBE-NODEPORTS", np(_j(svc_chain)))
        else:
            rs.add("filter", "KUBE-EXTERNAL-SERVICES", nf.Rule(proto=proto, matches=[
                _c(f"{name} has no endpoints"), nf.AddrType(dst_type="LOCAL"), _tcpudp(proto, dport=sp.node_port)],
                target=nf.Reject()))
    if not has_endpoints:
        return
    _balance(rs, sp, svc_chain, eps, "legacy", comments=False, seps=_endpoint_chains(rs, sp, eps, comment=False))
    if sp.external_local:
        rs.add("nat", xlb_chain, nf.Rule(src=cluster_cidr, matches=[
            _c("Redirect pods trying to reach external loadbalancer VIP to clusterIP")], target=_j(svc_chain)))
        local = [e for e in eps if e.node == node]
        if not local:
            rs.add("nat", xlb_chain, nf.Rule(matches=[_c(f"{name} has no local endpoints")], target=_j("KUBE-MARK-DROP")))
        for i, ep in enumerate(local):
            stat = [nf.Statistic(probability=float(probability(len(local) - i, "legacy")))] if i < len(local) - 1 else []
            rs.add("nat", xlb_chain, nf.Rule(matches=[_c(f"Balancing rule {i} for {name}"), *stat], target=_j(sp.sep(ep))))
