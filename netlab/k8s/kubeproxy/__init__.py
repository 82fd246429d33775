"""kube-proxy: one agent per node that turns Services and their endpoints into netfilter
(or IPVS) state, as upstream does — record changes, then sync (syncProxyRules).

Syncs happen between commands (Cluster.tick): at once when a Service or its endpoints
changed, and a full one every SYNC_PERIOD seconds of simulated time anyway, which puts back
rules a learner deleted by hand — exactly the fight a hand edit has with a real kube-proxy.
A sync after a few changed Services is partial in both modes (partial.py for iptables,
IpvsMode.sync_changed for ipvs): it rewrites only what those Services own and leaves the
node as a full sync would.
"""
from __future__ import annotations

from netlab.k8s.api import ApiStore, Event
from netlab.k8s.kubeproxy.iptables_rules import RuleSet, build
from netlab.k8s.kubeproxy.model import ports_of, service_ports
from netlab.net import netfilter as nf
from netlab.net.netns import NetNS

SYNC_PERIOD = 30.0  # --iptables-sync-period: a full sync at least this often (simulated seconds)


def _same_rules(chain, rules) -> bool:
    """Is `chain` still exactly what we wrote last time? A chain written from a RuleSource
    keeps it as its origin until something edits it (and is never built to be compared)."""
    if chain is None:
        return False
    if isinstance(rules, nf.RuleSource):
        return chain.origin is rules
    if len(chain.rules) != len(rules):
        return False
    return all(a is b for a, b in zip(chain.rules, rules))


PARTIAL_LIMIT = 64  # changed Services above which a sync rebuilds everything
SERVICE_CHAIN_PREFIXES = ("KUBE-SVC-", "KUBE-SVL-", "KUBE-SEP-", "KUBE-FW-", "KUBE-EXT-", "KUBE-XLB-")


class KubeProxy:
    def __init__(self, api: ApiStore, ns: NetNS, node: str, *, cluster_cidr: str, mode: str = "iptables",
                 style: str = "modern", paused: bool = False, scheduler: str = "rr") -> None:
        self.api = api
        self.ns = ns
        self.node = node
        self.cluster_cidr = cluster_cidr
        self.mode = mode
        self.style = style
        self.paused = paused
        self.dirty = True
        self.last_sync: float | None = None
        self.last_full_sync: float | None = None  # the periodic full sync counts from here
        self.syncs = 0
        self.log: list[str] = []
        self._port_cache: dict = {}  # "ns/name" -> (resourceVersions, ServicePorts)
        self._rule_cache: dict = {}  # ServicePort.sort_key -> its rules (iptables_rules.Part)
        self._rule_cache_for: tuple = ()
        self._dirty_services: set[tuple[str, str]] = set()
        self._state = None  # what the last full sync wrote (partial.SyncState), iptables mode
        self.netfilter = nf.load(ns)
        ns.sysctl["net.ipv4.conf.all.route_localnet"] = "1"
        self.ipvs = None
        if mode == "ipvs":
            from netlab.k8s.kubeproxy.ipvs_mode import IpvsMode

            self.ipvs = IpvsMode(ns, self.netfilter, cluster_cidr=cluster_cidr, scheduler=scheduler)
        api.watch({"Service", "Endpoints"}, self._changed)

    def _changed(self, event: Event) -> None:
        meta = event.obj.get("metadata", {})
        self._dirty_services.add((meta.get("namespace", "default"), meta.get("name", "")))
        self.dirty = True

    # -- syncing ---------------------------------------------------------------
    def due(self, now: float) -> bool:
        if self.paused:
            return False
        return self.dirty or self.last_full_sync is None or now - self.last_full_sync >= SYNC_PERIOD

    def _periodic(self) -> bool:
        """Is a full sync due anyway? Partial syncs do not put it off: hand edits elsewhere
        are undone within SYNC_PERIOD however busy the API is."""
        return self.last_full_sync is None or self.ns.world.clock - self.last_full_sync >= SYNC_PERIOD

    def sync(self) -> RuleSet | None:
        """syncProxyRules: rebuild every rule kube-proxy owns from the current Services. The
        cyclic GC is paused throughout: a sync allocates hundreds of thousands of objects and
        none of them form cycles."""
        with nf.paused_gc():
            return self._sync()

    def _sync(self) -> RuleSet | None:
        services, self._dirty_services = self._dirty_services, set()
        if self.ipvs is not None:
            if not self._periodic() and len(services) <= PARTIAL_LIMIT and self._ipvs_partial(services):
                self._synced()
                return None
            self.ipvs.sync(service_ports(self.api, self.node, self._port_cache), self.node)
            self._synced(full=True)
            return None
        node_ip = self.node_ip()
        params = {"node": self.node, "cluster_cidr": self.cluster_cidr, "style": self.style, "node_ip": node_ip}
        periodic = self._periodic()
        # Partial when a few Services changed since the last sync; a burst (a lab loading,
        # a namespace deleted) is cheaper as one full rebuild, as upstream decides too.
        if (self._state is not None and not periodic and self._state.params == params
                and len(services) <= PARTIAL_LIMIT):
            from netlab.k8s.kubeproxy.partial import partial_sync

            if partial_sync(self._state, self.netfilter, self.api, services):
                # The port and rule caches stay: their entries are checked by resourceVersion
                # and content key, so the next full sync reuses what did not change.
                self._synced()
                return None
        ports = service_ports(self.api, self.node, self._port_cache)
        if self._rule_cache_for != (self.style, node_ip, self.cluster_cidr):
            self._rule_cache_for = (self.style, node_ip, self.cluster_cidr)
            self._rule_cache.clear()
        rules = build(ports, node=self.node, cluster_cidr=self.cluster_cidr, style=self.style, node_ip=node_ip,
                      cache=self._rule_cache)
        for table in ("filter", "nat"):
            self._ensure_jumps(table, rules)
            owned = rules.chains[table]
            current = self.netfilter.table(table).chains
            stale = [name for name in current if name.startswith(SERVICE_CHAIN_PREFIXES) and name not in owned]
            # iptables-restore would rewrite every chain; the result is the same if we hand over
            # only the chains whose rules differ (the rule cache reuses unchanged Rule objects).
            changed = {}
            for name, rules_ in owned.items():
                chain = current.get(name)
                if chain is None or not _same_rules(chain, rules_):
                    changed[name] = rules_
            if changed or stale:
                self.netfilter.replace_chains(table, changed, delete=stale)
        from netlab.k8s.kubeproxy.partial import SyncState

        self._state = SyncState.from_full(ports, rules, params)
        self._synced(full=True)
        return rules

    def _ipvs_partial(self, services: set[tuple[str, str]]) -> bool:
        """Hand the changed Services' old and new service ports to the ipvs proxier. The old
        ones are what the port cache holds (what the last sync wrote); the cache then holds the
        new ones, as service_ports would have left it."""
        cache = self._port_cache
        changes, updates = [], []
        for namespace, name in sorted(services):
            ident = namespace + "/" + name
            svc = self.api.get("Service", namespace, name)
            ep_obj = self.api.get("Endpoints", namespace, name) or {}
            hit = cache.get(ident)
            new = ports_of(svc, ep_obj) if svc is not None else []
            changes.append((hit[2] if hit is not None else [], new))
            updates.append((ident, None if svc is None else (
                svc["metadata"].get("resourceVersion"), ep_obj.get("metadata", {}).get("resourceVersion"), new)))
        if not self.ipvs.sync_changed(changes, self.node):
            return False
        for ident, hit in updates:
            if hit is None:
                cache.pop(ident, None)
            else:
                cache[ident] = hit
        return True

    def node_ip(self) -> str | None:
        """The node's InternalIP, as kube-proxy learns it from its Node object."""
        node = self.api.get("Node", "", self.node) or {}
        return next((a["address"] for a in node.get("status", {}).get("addresses", []) if a.get("type") == "InternalIP"), None)

    def _synced(self, *, full: bool = False) -> None:
        self.dirty = False
        self.last_sync = self.ns.world.clock
        if full:
            self.last_full_sync = self.last_sync
        self.syncs += 1

    def _ensure_jumps(self, table: str, rules: RuleSet) -> None:
        """EnsureChain + EnsureRule(Prepend): the jump chains exist and the jump is in place.
        (The per-Service chains are created with their rules, by the replace that follows.)"""
        t = self.netfilter.table(table)
        missing = {name: [] for name in rules.chains[table]
                   if name not in t.chains and not name.startswith(SERVICE_CHAIN_PREFIXES)}
        if missing:
            self.netfilter.replace_chains(table, missing)
        for builtin, rule in rules.jumps[table]:
            spec = rule.spec()
            if not any(r.spec() == spec for r in self.netfilter.chain(table, builtin).rules):
                if rule.target.__class__ is nf.Jump and rule.target.chain == "KUBE-FIREWALL":
                    self.netfilter.append(table, builtin, rule)
                else:
                    self.netfilter.insert(table, builtin, rule, 1)
