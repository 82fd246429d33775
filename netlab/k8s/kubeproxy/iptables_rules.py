"""The rules kube-proxy's iptables mode writes, as the argument lists it hands to
iptables-restore (before iptables canonicalises them for iptables-save).

`modern` follows pkg/proxy/iptables/proxier.go of Kubernetes 1.26 (KUBE-SVC/SVL/EXT/FW/SEP
chains, KUBE-POSTROUTING with RETURN/--xor-mark/MASQUERADE --random-fully, probabilities
printed with %0.10f). `legacy` follows the ~1.9 proxier the seed article's cluster ran
(--set-xmark marks, one MASQUERADE rule, KUBE-XLB chains, %0.5f probabilities, no comments
on the per-endpoint rules).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from netlab.k8s.kubeproxy.model import ServicePort

MASQ_MARK = "0x4000"
DROP_MARK = "0x8000"


@dataclass
class RuleSet:
    """Chains (in declaration order) and `-A CHAIN ...` argument lists, per table."""

    chains: dict[str, list[str]] = field(default_factory=lambda: {"filter": [], "nat": []})
    rules: dict[str, list[list[str]]] = field(default_factory=lambda: {"filter": [], "nat": []})
    builtin_jumps: dict[str, list[list[str]]] = field(default_factory=lambda: {"filter": [], "nat": []})

    def chain(self, table: str, name: str) -> None:
        if name not in self.chains[table]:
            self.chains[table].append(name)

    def add(self, table: str, *args: str) -> None:
        self.rules[table].append(list(args))

    def restore_text(self) -> str:
        """The iptables-restore input kube-proxy would write (with --noflush)."""
        out = []
        for table in ("filter", "nat"):
            out.append(f"*{table}")
            out += [f":{c} - [0:0]" for c in self.chains[table]]
            out += [" ".join(r) for r in self.rules[table]]
            out.append("COMMIT")
        return "\n".join(out) + "\n"


def _q(text: str) -> str:
    return f'"{text}"'


def probability(n: int, style: str) -> str:
    return f"{1.0 / n:0.5f}" if style == "legacy" else f"{1.0 / n:0.10f}"


# Jumps from the built-in chains, in the order kube-proxy ensures them (each is a prepend).
JUMPS_MODERN = [
    ("filter", "KUBE-EXTERNAL-SERVICES", "INPUT", "kubernetes externally-visible service portals", ["-m", "conntrack", "--ctstate", "NEW"]),
    ("filter", "KUBE-EXTERNAL-SERVICES", "FORWARD", "kubernetes externally-visible service portals", ["-m", "conntrack", "--ctstate", "NEW"]),
    ("filter", "KUBE-NODEPORTS", "INPUT", "kubernetes health check service ports", []),
    ("filter", "KUBE-SERVICES", "FORWARD", "kubernetes service portals", ["-m", "conntrack", "--ctstate", "NEW"]),
    ("filter", "KUBE-SERVICES", "OUTPUT", "kubernetes service portals", ["-m", "conntrack", "--ctstate", "NEW"]),
    ("filter", "KUBE-FORWARD", "FORWARD", "kubernetes forwarding rules", []),
    ("nat", "KUBE-SERVICES", "OUTPUT", "kubernetes service portals", []),
    ("nat", "KUBE-SERVICES", "PREROUTING", "kubernetes service portals", []),
    ("nat", "KUBE-POSTROUTING", "POSTROUTING", "kubernetes postrouting rules", []),
]
JUMPS_LEGACY = [
    ("filter", "KUBE-EXTERNAL-SERVICES", "INPUT", "kubernetes externally-visible service portals", ["-m", "conntrack", "--ctstate", "NEW"]),
    ("filter", "KUBE-SERVICES", "OUTPUT", "kubernetes service portals", ["-m", "conntrack", "--ctstate", "NEW"]),
    ("filter", "KUBE-FORWARD", "FORWARD", "kubernetes forwarding rules", []),
    ("nat", "KUBE-SERVICES", "OUTPUT", "kubernetes service portals", []),
    ("nat", "KUBE-SERVICES", "PREROUTING", "kubernetes service portals", []),
    ("nat", "KUBE-POSTROUTING", "POSTROUTING", "kubernetes postrouting rules", []),
]


def kubelet_rules(rs: RuleSet) -> None:
    """What kubelet itself ensures: KUBE-MARK-DROP, KUBE-FIREWALL, and its jumps."""
    rs.chain("nat", "KUBE-MARK-DROP")
    rs.add("nat", "-A", "KUBE-MARK-DROP", "-j", "MARK", "--set-xmark", f"{DROP_MARK}/{DROP_MARK}")
    rs.chain("filter", "KUBE-FIREWALL")
    rs.add("filter", "-A", "KUBE-FIREWALL", "-m", "comment", "--comment", _q("kubernetes firewall for dropping marked packets"),
           "-m", "mark", "--mark", f"{DROP_MARK}/{DROP_MARK}", "-j", "DROP")
    rs.builtin_jumps["filter"] += [["-A", "INPUT", "-j", "KUBE-FIREWALL"], ["-A", "OUTPUT", "-j", "KUBE-FIREWALL"]]


def build(ports: list[ServicePort], *, node: str, cluster_cidr: str, style: str = "modern") -> RuleSet:
    rs = RuleSet()
    legacy = style == "legacy"
    for table, dst, src, comment, extra in (JUMPS_LEGACY if legacy else JUMPS_MODERN):
        rs.builtin_jumps[table].insert(0, ["-I", src, "1", *extra, "-m", "comment", "--comment", _q(comment), "-j", dst])
    for c in ("KUBE-SERVICES", "KUBE-EXTERNAL-SERVICES", "KUBE-FORWARD", "KUBE-NODEPORTS"):
        rs.chain("filter", c)
    for c in ("KUBE-SERVICES", "KUBE-NODEPORTS", "KUBE-POSTROUTING", "KUBE-MARK-MASQ"):
        rs.chain("nat", c)
    kubelet_rules(rs)
    if legacy:
        rs.add("nat", "-A", "KUBE-POSTROUTING", "-m", "comment", "--comment", _q("kubernetes service traffic requiring SNAT"),
               "-m", "mark", "--mark", f"{MASQ_MARK}/{MASQ_MARK}", "-j", "MASQUERADE")
        rs.add("nat", "-A", "KUBE-MARK-MASQ", "-j", "MARK", "--set-xmark", f"{MASQ_MARK}/{MASQ_MARK}")
    else:
        rs.add("nat", "-A", "KUBE-POSTROUTING", "-m", "mark", "!", "--mark", f"{MASQ_MARK}/{MASQ_MARK}", "-j", "RETURN")
        rs.add("nat", "-A", "KUBE-POSTROUTING", "-j", "MARK", "--xor-mark", MASQ_MARK)
        rs.add("nat", "-A", "KUBE-POSTROUTING", "-m", "comment", "--comment", _q("kubernetes service traffic requiring SNAT"),
               "-j", "MASQUERADE", "--random-fully")
        rs.add("nat", "-A", "KUBE-MARK-MASQ", "-j", "MARK", "--or-mark", MASQ_MARK)
    for sp in ports:
        (_legacy_service if legacy else _modern_service)(rs, sp, node, cluster_cidr)
    rs.add("nat", "-A", "KUBE-SERVICES", "-m", "comment", "--comment",
           _q("kubernetes service nodeports; NOTE: this must be the last rule in this chain"),
           "-m", "addrtype", "--dst-type", "LOCAL", "-j", "KUBE-NODEPORTS")
    if not legacy:
        rs.add("filter", "-A", "KUBE-FORWARD", "-m", "conntrack", "--ctstate", "INVALID", "-j", "DROP")
    rs.add("filter", "-A", "KUBE-FORWARD", "-m", "comment", "--comment", _q("kubernetes forwarding rules"),
           "-m", "mark", "--mark", f"{MASQ_MARK}/{MASQ_MARK}", "-j", "ACCEPT")
    if legacy:
        for flag, what in (("-s", "source"), ("-d", "destination")):
            rs.add("filter", "-A", "KUBE-FORWARD", flag, cluster_cidr, "-m", "comment", "--comment",
                   _q(f"kubernetes forwarding conntrack pod {what} rule"), "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED",
                   "-j", "ACCEPT")
    else:
        rs.add("filter", "-A", "KUBE-FORWARD", "-m", "comment", "--comment", _q("kubernetes forwarding conntrack rule"),
               "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT")
    return rs


def _endpoint_chains(rs: RuleSet, sp: ServicePort, endpoints, *, comment: bool) -> None:
    proto = sp.protocol
    for ep in endpoints:
        chain = sp.sep(ep)
        rs.chain("nat", chain)
        base = ["-A", chain] + (["-m", "comment", "--comment", sp.name_string] if comment else [])
        rs.add("nat", *base, "-s", ep.ip, "-j", "KUBE-MARK-MASQ")
        args = list(base)
        if sp.affinity_seconds:
            args += ["-m", "recent", "--name", chain, "--set"]
        rs.add("nat", *args, "-m", proto, "-p", proto, "-j", "DNAT", "--to-destination", ep.text)


def _balance(rs: RuleSet, sp: ServicePort, chain: str, endpoints, style: str, *, comments: bool) -> None:
    if sp.affinity_seconds:
        for ep in endpoints:
            c = ["-m", "comment", "--comment", _q(f"{sp.name_string} -> {ep.text}")] if comments else []
            rs.add("nat", "-A", chain, *c, "-m", "recent", "--name", sp.sep(ep), "--rcheck", "--seconds",
                   str(sp.affinity_seconds), "--reap", "-j", sp.sep(ep))
    n = len(endpoints)
    for i, ep in enumerate(endpoints):
        c = ["-m", "comment", "--comment", _q(f"{sp.name_string} -> {ep.text}")] if comments else []
        stat = ["-m", "statistic", "--mode", "random", "--probability", probability(n - i, style)] if i < n - 1 else []
        rs.add("nat", "-A", chain, *c, *stat, "-j", sp.sep(ep))


def _modern_service(rs: RuleSet, sp: ServicePort, node: str, cluster_cidr: str) -> None:
    proto, name = sp.protocol, sp.name_string
    all_eps = sp.endpoints
    local_eps = [e for e in all_eps if e.node == node]
    has_endpoints = bool(all_eps)
    uses_cluster = not (sp.internal_local and (sp.external_local or not sp.externally_accessible))
    uses_local = sp.internal_local or sp.external_local
    reachable = list(all_eps) if uses_cluster else []
    reachable += [e for e in local_eps if e not in reachable]
    _endpoint_chains(rs, sp, sorted(reachable, key=lambda e: e.text), comment=True)
    cluster_chain, local_chain = "KUBE-SVC-" + sp.hash, "KUBE-SVL-" + sp.hash
    ext_chain, fw_chain = "KUBE-EXT-" + sp.hash, "KUBE-FW-" + sp.hash
    internal_chain = local_chain if sp.internal_local else cluster_chain
    external_policy_chain = local_chain if sp.external_local else cluster_chain
    if has_endpoints and uses_cluster:
        rs.chain("nat", cluster_chain)
    if has_endpoints and uses_local:
        rs.chain("nat", local_chain)
    if has_endpoints and sp.externally_accessible:
        rs.chain("nat", ext_chain)
        if not sp.external_local:
            rs.add("nat", "-A", ext_chain, "-m", "comment", "--comment", _q(f"masquerade traffic for {name} external destinations"),
                   "-j", "KUBE-MARK-MASQ")
        else:
            rs.add("nat", "-A", ext_chain, "-m", "comment", "--comment", _q(f"pod traffic for {name} external destinations"),
                   "-s", cluster_cidr, "-j", cluster_chain)
            rs.add("nat", "-A", ext_chain, "-m", "comment", "--comment", _q(f"masquerade LOCAL traffic for {name} external destinations"),
                   "-m", "addrtype", "--src-type", "LOCAL", "-j", "KUBE-MARK-MASQ")
            rs.add("nat", "-A", ext_chain, "-m", "comment", "--comment", _q(f"route LOCAL traffic for {name} external destinations"),
                   "-m", "addrtype", "--src-type", "LOCAL", "-j", cluster_chain)
        rs.add("nat", "-A", ext_chain, "-j", external_policy_chain)
    match = ["-m", "comment", "--comment", _q(f"{name} cluster IP"), "-m", proto, "-p", proto, "-d", sp.cluster_ip,
             "--dport", str(sp.port)]
    if has_endpoints:
        rs.add("nat", "-A", internal_chain, *match, "!", "-s", cluster_cidr, "-j", "KUBE-MARK-MASQ")
        rs.add("nat", "-A", "KUBE-SERVICES", *match, "-j", internal_chain)
    else:
        rs.add("filter", "-A", "KUBE-SERVICES", "-m", "comment", "--comment", _q(f"{name} has no endpoints"),
               "-m", proto, "-p", proto, "-d", sp.cluster_ip, "--dport", str(sp.port), "-j", "REJECT")
    for ext_ip in sp.external_ips:
        if has_endpoints:
            rs.add("nat", "-A", "KUBE-SERVICES", "-m", "comment", "--comment", _q(f"{name} external IP"),
                   "-m", proto, "-p", proto, "-d", ext_ip, "--dport", str(sp.port), "-j", ext_chain)
        else:
            rs.add("filter", "-A", "KUBE-EXTERNAL-SERVICES", "-m", "comment", "--comment", _q(f"{name} has no endpoints"),
                   "-m", proto, "-p", proto, "-d", ext_ip, "--dport", str(sp.port), "-j", "REJECT")
    if sp.lb_ips and has_endpoints:
        next_chain = ext_chain
        if sp.lb_source_ranges:
            rs.chain("nat", fw_chain)
            next_chain = fw_chain
            fw = ["-A", fw_chain, "-m", "comment", "--comment", _q(f"{name} loadbalancer IP")]
            for src in sp.lb_source_ranges:
                rs.add("nat", *fw, "-s", src, "-j", ext_chain)
            rs.add("nat", *fw, "-j", "KUBE-MARK-DROP")
        for lb in sp.lb_ips:
            rs.add("nat", "-A", "KUBE-SERVICES", "-m", "comment", "--comment", _q(f"{name} loadbalancer IP"),
                   "-m", proto, "-p", proto, "-d", lb, "--dport", str(sp.port), "-j", next_chain)
    elif sp.lb_ips:
        for lb in sp.lb_ips:
            rs.add("filter", "-A", "KUBE-EXTERNAL-SERVICES", "-m", "comment", "--comment", _q(f"{name} has no endpoints"),
                   "-m", proto, "-p", proto, "-d", lb, "--dport", str(sp.port), "-j", "REJECT")
    if sp.node_port:
        if has_endpoints:
            rs.add("nat", "-A", "KUBE-NODEPORTS", "-m", "comment", "--comment", name, "-m", proto, "-p", proto,
                   "--dport", str(sp.node_port), "-j", ext_chain)
        else:
            rs.add("filter", "-A", "KUBE-EXTERNAL-SERVICES", "-m", "comment", "--comment", _q(f"{name} has no endpoints"),
                   "-m", "addrtype", "--dst-type", "LOCAL", "-m", proto, "-p", proto, "--dport", str(sp.node_port), "-j", "REJECT")
    if sp.health_check_node_port:
        rs.add("filter", "-A", "KUBE-NODEPORTS", "-m", "comment", "--comment", _q(f"{name} health check node port"),
               "-m", "tcp", "-p", "tcp", "--dport", str(sp.health_check_node_port), "-j", "ACCEPT")
    if uses_cluster and has_endpoints:
        _balance(rs, sp, cluster_chain, all_eps, "modern", comments=True)
    if uses_local and has_endpoints:
        if local_eps:
            _balance(rs, sp, local_chain, local_eps, "modern", comments=True)
        else:
            rs.add("nat", "-A", local_chain, "-m", "comment", "--comment", _q(f"{name} has no local endpoints"), "-j", "KUBE-MARK-DROP")


def _legacy_service(rs: RuleSet, sp: ServicePort, node: str, cluster_cidr: str) -> None:
    proto, name = sp.protocol, sp.name_string
    eps = sp.endpoints
    has_endpoints = bool(eps)
    svc_chain, xlb_chain = "KUBE-SVC-" + sp.hash, "KUBE-XLB-" + sp.hash
    match = ["-m", "comment", "--comment", _q(f"{name} cluster IP"), "-m", proto, "-p", proto, "-d", f"{sp.cluster_ip}/32",
             "--dport", str(sp.port)]
    if has_endpoints:
        rs.chain("nat", svc_chain)
        rs.add("nat", "-A", "KUBE-SERVICES", "!", "-s", cluster_cidr, *match, "-j", "KUBE-MARK-MASQ")
        rs.add("nat", "-A", "KUBE-SERVICES", *match, "-j", svc_chain)
    else:
        rs.add("filter", "-A", "KUBE-SERVICES", "-m", "comment", "--comment", _q(f"{name} has no endpoints"),
               "-m", proto, "-p", proto, "-d", f"{sp.cluster_ip}/32", "--dport", str(sp.port), "-j", "REJECT")
    if sp.external_local and has_endpoints:
        rs.chain("nat", xlb_chain)
    for ext_ip in sp.external_ips:
        if has_endpoints:
            ext = ["-m", "comment", "--comment", _q(f"{name} external IP"), "-m", proto, "-p", proto, "-d", f"{ext_ip}/32",
                   "--dport", str(sp.port)]
            rs.add("nat", "-A", "KUBE-SERVICES", *ext, "-j", "KUBE-MARK-MASQ")
            rs.add("nat", "-A", "KUBE-SERVICES", *ext, "-m", "physdev", "!", "--physdev-is-in", "-m", "addrtype", "!",
                   "--src-type", "LOCAL", "-j", svc_chain)
            rs.add("nat", "-A", "KUBE-SERVICES", *ext, "-m", "addrtype", "--dst-type", "LOCAL", "-j", svc_chain)
    if sp.node_port:
        if has_endpoints:
            np = ["-A", "KUBE-NODEPORTS", "-m", "comment", "--comment", name, "-m", proto, "-p", proto, "--dport", str(sp.node_port)]
            if sp.external_local:
                rs.add("nat", *np, "-s", "127.0.0.0/8", "-j", "KUBE-MARK-MASQ")
                rs.add("nat", *np, "-j", xlb_chain)
            else:
                rs.add("nat", *np, "-j", "KUBE-MARK-MASQ")
                rs.add("nat", *np, "-j", svc_chain)
        else:
            rs.add("filter", "-A", "KUBE-EXTERNAL-SERVICES", "-m", "comment", "--comment", _q(f"{name} has no endpoints"),
                   "-m", "addrtype", "--dst-type", "LOCAL", "-m", proto, "-p", proto, "--dport", str(sp.node_port), "-j", "REJECT")
    if not has_endpoints:
        return
    _balance(rs, sp, svc_chain, eps, "legacy", comments=False)
    _endpoint_chains(rs, sp, eps, comment=False)
    if sp.external_local:
        rs.add("nat", "-A", xlb_chain, "-s", cluster_cidr, "-m", "comment", "--comment",
               _q("Redirect pods trying to reach external loadbalancer VIP to clusterIP"), "-j", svc_chain)
        local = [e for e in eps if e.node == node]
        if not local:
            rs.add("nat", "-A", xlb_chain, "-m", "comment", "--comment", _q(f"{name} has no local endpoints"), "-j", "KUBE-MARK-DROP")
        for i, ep in enumerate(local):
            stat = ["-m", "statistic", "--mode", "random", "--probability", probability(len(local) - i, "legacy")] if i < len(local) - 1 else []
            rs.add("nat", "-A", xlb_chain, "-m", "comment", "--comment", _q(f"Balancing rule {i} for {name}"), *stat, "-j", sp.sep(ep))
