"""NetworkPolicy (networking.k8s.io/v1) semantics, in one pure module.

`decide(view, conn)` answers "is this connection allowed, and by which policy and rule, or
does no policy select the pod?" for one direction pair (the source pod's egress, the
destination pod's ingress). The policy agent compiles the same `Compiled` policies into
iptables rules, the Trace quotes its answers, and the truth-table tests check the dataplane
against it — one source of truth for the semantics:

- a policy selects pods of its own namespace by `podSelector` ({} = every pod there);
- `policyTypes` defaults to Ingress, plus Egress when the policy has egress rules;
- a pod is isolated for a direction only if some policy selecting it has that type; then a
  connection is allowed if ANY rule of ANY such policy allows it (the union);
- a rule with no `from`/`to` allows every peer, with no `ports` every port; within a peer,
  `podSelector` and `namespaceSelector` together mean AND (pods matching the one in
  namespaces matching the other); separate peers are OR;
- `ipBlock` matches addresses (`except` carves holes); selectors match only pods;
- a named port is the destination pod's container port of that name and protocol;
  `endPort` makes a range; protocol defaults to TCP;
- replies of an allowed connection always pass (the agent's conntrack rule; not decided here).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from netlab.net.addr import AddrError, in_prefix, network, parse_ip, parse_prefix

INGRESS, EGRESS = "ingress", "egress"
PROTOCOLS = ("TCP", "UDP", "SCTP")


# -- label selectors ---------------------------------------------------------------
def selector_matches(selector: dict | None, labels: dict) -> bool:
    """metav1.LabelSelector: matchLabels AND every matchExpression; {} matches everything."""
    if selector is None:
        return True
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def selector_text(selector: dict | None) -> str:
    """metav1.FormatLabelSelector: requirements sorted by key (`a=b,c in (d,e),!f`); `<none>`."""
    if not selector:
        return "<none>"
    parts = [(k, f"{k}={v}") for k, v in (selector.get("matchLabels") or {}).items()]
    for e in selector.get("matchExpressions") or []:
        key, vals = e.get("key", ""), ",".join(sorted(e.get("values") or []))
        parts.append((key, {"In": f"{key} in ({vals})", "NotIn": f"{key} notin ({vals})", "Exists": key,
                            "DoesNotExist": f"!{key}"}.get(e.get("operator"), key)))
    return ",".join(text for _, text in sorted(parts)) or "<none>"


# -- the world a decision looks at --------------------------------------------------
@dataclass(frozen=True)
class PodInfo:
    namespace: str
    name: str
    labels: dict
    ip: int
    ports: tuple = ()  # ((name, protocol, port), ...) from the containers' ports

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    def named_port(self, name: str, protocol: str) -> int | None:
        for n, proto, port in self.ports:
            if n == name and proto == protocol:
                return port
        return None


def pod_info(pod: dict) -> PodInfo | None:
    """A pod with an IP of its own (hostNetwork pods are the node, not policy endpoints)."""
    spec = pod.get("spec") or {}
    ip = (pod.get("status") or {}).get("podIP")
    if spec.get("hostNetwork") or not ip:
        return None
    meta = pod.get("metadata") or {}
    ports = tuple((p["name"], p.get("protocol") or "TCP", int(p["containerPort"]))
                  for c in spec.get("containers") or [] for p in c.get("ports") or [] if p.get("name"))
    return PodInfo(meta.get("namespace", "default"), meta["name"], dict(meta.get("labels") or {}),
                   parse_ip(ip), ports)


@dataclass(frozen=True)
class PortSpec:
    protocol: str
    port: int | str | None  # None: every port of the protocol
    end_port: int | None = None

    def resolve(self, dst: PodInfo | None) -> tuple[int, int] | None:
        """(lo, hi) this entry allows on `dst`, or None if it can allow nothing there."""
        if self.port is None:
            return (1, 65535)
        if isinstance(self.port, int):
            return (self.port, self.end_port or self.port)
        port = dst.named_port(self.port, self.protocol) if dst is not None else None
        return (port, port) if port is not None else None

    def text(self) -> str:
        p = "<any>" if self.port is None else str(self.port)
        if self.end_port:
            p += f"-{self.end_port}"
        return f"{p}/{self.protocol}"


@dataclass(frozen=True)
class Peer:
    pod_selector: dict | None = None
    namespace_selector: dict | None = None
    cidr: tuple[int, int] | None = None
    excepts: tuple = ()

    @property
    def is_ipblock(self) -> bool:
        return self.cidr is not None

    def matches(self, policy_ns: str, ip: int, pod: PodInfo | None, ns_labels: dict[str, dict]) -> bool:
        if self.cidr is not None:
            return in_prefix(ip, *self.cidr) and not any(in_prefix(ip, *e) for e in self.excepts)
        if pod is None:
            return False
        if self.namespace_selector is None:
            if pod.namespace != policy_ns:
                return False
        elif not selector_matches(self.namespace_selector, ns_labels.get(pod.namespace, {})):
            return False
        return selector_matches(self.pod_selector, pod.labels)


@dataclass(frozen=True)
class Rule:
    peers: tuple = ()  # () = every peer
    ports: tuple = ()  # () = every port and protocol

    def allows(self, policy_ns: str, peer_ip: int, peer: PodInfo | None, dst: PodInfo | None, protocol: str,
               port: int | None, ns_labels: dict[str, dict]) -> bool:
        if self.peers and not any(p.matches(policy_ns, peer_ip, peer, ns_labels) for p in self.peers):
            return False
        if not self.ports:
            return True
        for ps in self.ports:
            if ps.protocol != protocol or port is None:
                continue
            rng = ps.resolve(dst)
            if rng is not None and rng[0] <= port <= rng[1]:
                return True
        return False


@dataclass(frozen=True)
class Compiled:
    """One NetworkPolicy, parsed once."""

    namespace: str
    name: str
    pod_selector: dict
    types: tuple  # ("ingress",) / ("egress",) / both
    ingress: tuple = ()
    egress: tuple = ()

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    def selects(self, pod: PodInfo) -> bool:
        return pod.namespace == self.namespace and selector_matches(self.pod_selector, pod.labels)

    def rules(self, direction: str) -> tuple:
        return self.ingress if direction == INGRESS else self.egress


def policy_types(spec: dict) -> tuple:
    """policyTypes as the API server defaults them."""
    given = spec.get("policyTypes")
    if given:
        return tuple(t.lower() for t in given)
    return (INGRESS, EGRESS) if spec.get("egress") else (INGRESS,)


def _prefix(text: str) -> tuple[int, int]:
    """A CIDR as a network (validation has already refused malformed ones)."""
    try:
        ip, plen = parse_prefix(text)
    except (AddrError, ValueError):
        return 0, 33  # matches nothing
    return network(ip, plen), plen


def _peer(raw: dict) -> Peer:
    block = raw.get("ipBlock")
    if block is not None:
        return Peer(cidr=_prefix(block["cidr"]), excepts=tuple(_prefix(e) for e in block.get("except") or []))
    pod_sel = raw.get("podSelector")
    return Peer(pod_selector=pod_sel if pod_sel is not None else {}, namespace_selector=raw.get("namespaceSelector"))


def _ports(raw: list | None) -> tuple:
    out = []
    for p in raw or []:
        port = p.get("port")
        if isinstance(port, str) and port.isdigit():
            port = int(port)
        out.append(PortSpec(p.get("protocol") or "TCP", port, p.get("endPort")))
    return tuple(out)


def compile_policy(obj: dict) -> Compiled:
    meta = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    ingress = tuple(Rule(tuple(_peer(p) for p in r.get("from") or []), _ports(r.get("ports")))
                    for r in spec.get("ingress") or [])
    egress = tuple(Rule(tuple(_peer(p) for p in r.get("to") or []), _ports(r.get("ports")))
                   for r in spec.get("egress") or [])
    return Compiled(meta.get("namespace", "default"), meta["name"], spec.get("podSelector") or {},
                    policy_types(spec), ingress, egress)


# -- decisions ---------------------------------------------------------------------
@dataclass(frozen=True)
class Decision:
    """One direction's answer. `policy`/`rule`: what allowed it; `selecting`: the policies
    that isolate the pod (empty: no policy selects it, so everything is allowed)."""

    direction: str
    allowed: bool
    pod: str
    policy: str | None = None
    rule: int | None = None
    selecting: tuple = ()

    def text(self) -> str:
        if not self.selecting:
            return f"{self.direction}: no policy selects {self.pod}: allowed"
        if self.allowed:
            return f"{self.direction}: allowed by {self.policy} {self.direction} rule {self.rule}"
        return (f"{self.direction}: denied: {self.pod} is selected by {', '.join(self.selecting)} "
                f"and no {self.direction} rule allows it")

    def detail(self) -> dict:
        return {"policy": self.policy or (self.selecting[0] if self.selecting else None), "rule": self.rule,
                "direction": self.direction, "allowed": self.allowed, "pod": self.pod,
                "selecting": list(self.selecting)}


@dataclass(frozen=True)
class Connection:
    src_ip: int
    dst_ip: int
    protocol: str  # "TCP", "UDP", "SCTP" or "ICMP"
    port: int | None = None


@dataclass
class PolicyView:
    """The objects a decision needs, indexed: compiled policies in evaluation order (namespace,
    name — the order the agent jumps to them), pods by IP, namespace labels."""

    policies: list[Compiled] = field(default_factory=list)
    pods: dict[int, PodInfo] = field(default_factory=dict)
    ns_labels: dict[str, dict] = field(default_factory=dict)

    @classmethod
    def from_objects(cls, policies: list[dict], pods: list[dict], namespaces: list[dict]) -> "PolicyView":
        view = cls()
        view.policies = sorted((compile_policy(p) for p in policies), key=lambda c: (c.namespace, c.name))
        for pod in pods:
            info = pod_info(pod)
            if info is not None:
                view.pods[info.ip] = info
        for ns in namespaces:
            meta = ns.get("metadata") or {}
            view.ns_labels[meta["name"]] = dict(meta.get("labels") or {})
        return view

    @classmethod
    def from_api(cls, api) -> "PolicyView":
        return cls.from_objects(api.list("NetworkPolicy"), api.list("Pod"), api.list("Namespace"))

    def selecting(self, pod: PodInfo, direction: str) -> list[Compiled]:
        return [p for p in self.policies if direction in p.types and p.selects(pod)]

    def decide_direction(self, direction: str, conn: Connection) -> Decision | None:
        """The egress decision for the source pod or the ingress decision for the destination
        pod; None when that end is not a pod (nothing to isolate)."""
        own_ip, peer_ip = (conn.dst_ip, conn.src_ip) if direction == INGRESS else (conn.src_ip, conn.dst_ip)
        own = self.pods.get(own_ip)
        if own is None:
            return None
        chosen = self.selecting(own, direction)
        if not chosen:
            return Decision(direction, True, own.key)
        peer = self.pods.get(peer_ip)
        dst = self.pods.get(conn.dst_ip)
        for pol in chosen:
            for i, rule in enumerate(pol.rules(direction)):
                if rule.allows(pol.namespace, peer_ip, peer, dst, conn.protocol, conn.port, self.ns_labels):
                    return Decision(direction, True, own.key, pol.key, i, tuple(p.key for p in chosen))
        return Decision(direction, False, own.key, selecting=tuple(p.key for p in chosen))


def decide(view: PolicyView, conn: Connection) -> tuple[bool, list[Decision]]:
    """Is a NEW connection allowed? Egress of the source, then ingress of the destination.
    A pod talking to its own IP never leaves its namespace: no policy applies."""
    if conn.src_ip == conn.dst_ip:
        return True, []
    out = [d for d in (view.decide_direction(EGRESS, conn), view.decide_direction(INGRESS, conn)) if d is not None]
    return all(d.allowed for d in out), out
