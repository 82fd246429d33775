"""A Calico-like policy agent (Felix's iptables dataplane, simplified): one per node, it turns
NetworkPolicies into filter-table rules a learner can read with `iptables-save`.

    FORWARD ─ cali-FORWARD ─┬ -i cni0 → cali-from-wl-dispatch ─ -s POD → cali-fw-<veth>  (egress)
                            └ -o cni0 → cali-to-wl-dispatch   ─ -d POD → cali-tw-<veth>  (ingress)
    INPUT ── cali-INPUT ───── -i cni0 → cali-from-wl-dispatch   (a pod talking to its node)

    cali-tw-<veth>: ESTABLISHED,RELATED ACCEPT · INVALID DROP · clear the accept mark ·
                    -j cali-pi-<policy> and "Return if policy accepted", per selecting policy ·
                    "Drop if no policies passed packet"   (or, when no policy selects the pod,
                    the namespace profile cali-pri-kns.<ns>, which allows everything)
    cali-pi-<policy>: one MARK 0x10000 rule per (rule, peer, port), commented with the policy
                    and rule index, each rule followed by "Return if policy accepted"
    FORWARD (end):  -m mark --mark 0x10000/0x10000 "Policy explicitly accepted packet." ACCEPT

Peers chosen by selectors are ipsets (`cali40s:…`, hash:ip) of pod IPs, rewritten as pods come
and go; `ipBlock.except` is a hash:net set matched with `!`; named ports are hash:ip,port sets of
(pod IP, proto:port). Everything is compiled from netlab.k8s.policy, the semantics' one source.

Where netlab differs from Calico: Calico routes each pod through its own `cali…` veth (no
bridge), so it dispatches with `-i/-o cali…`. netlab keeps flannel's cni0 bridge (canal is
exactly that), where a packet routed into the bridge shows `-o cni0` and no port, so dispatch
keys on the pod's IP; the chains are still named after the pod's host veth. Same-node traffic
is bridged and reaches FORWARD through br_netfilter (bridge-nf-call-iptables=1 on every node).
"""
from __future__ import annotations

import base64
import hashlib

from netlab.k8s.api import ApiStore, Event
from netlab.k8s.policy import EGRESS, INGRESS, Compiled, PodInfo, PolicyView, selector_matches
from netlab.net import ipset
from netlab.net import netfilter as nf
from netlab.net import trace as T
from netlab.net.addr import fmt_ip
from netlab.net.netns import NetNS

ACCEPT_MARK = 0x10000
REFRESH_PERIOD = 90.0  # Felix's IptablesRefreshInterval: hand edits are put back
PREFIX = "cali-"
SET_PREFIX = "cali40"
PROTO = {"TCP": "tcp", "UDP": "udp", "SCTP": "sctp"}


class PolicyComment(nf.Comment):
    """A comment that, when its rule matches, also records a Trace hop of kind "policy"
    naming the policy and rule (or the absence of any policy). It saves as a plain comment;
    rules restored by hand from text keep their meaning but lose the hop."""

    __slots__ = ("detail", "sentence")
    pure = False

    def __init__(self, text: str, sentence: str, detail: dict) -> None:
        super().__init__(text)
        self.sentence = sentence
        self.detail = detail

    def match(self, pkt, cx) -> bool:
        if cx.trace is not None:
            cx.trace.add(cx.ns.name, cx.indev or cx.outdev, T.POLICY, self.sentence, detail=dict(self.detail))
        return True


def _hash(text: str, n: int = 19) -> str:
    return base64.urlsafe_b64encode(hashlib.sha224(text.encode()).digest()).decode()[:n]


def policy_chain(pol: Compiled, direction: str) -> str:
    """cali-pi-<ns>.<name> (ingress) / cali-po-… (egress); a hash when too long for iptables."""
    head = "cali-pi-" if direction == INGRESS else "cali-po-"
    name = f"{pol.namespace}.{pol.name}"
    return head + name if len(head + name) <= nf.model.MAX_CHAIN_NAME else head + "_" + _hash(name)


def _mark_accepted() -> nf.Mark:
    return nf.Mark(ACCEPT_MARK, ACCEPT_MARK)


def _return_if(comment: str) -> nf.Rule:
    return nf.Rule(matches=[_mark_accepted(), nf.Comment(comment)], target=nf.RETURN)


class RuleBuilder:
    """The whole rule set of one node, from a PolicyView and the node's local pods."""

    def __init__(self, view: PolicyView, bridge: str) -> None:
        self.view = view
        self.bridge = bridge
        self.chains: dict[str, list[nf.Rule]] = {}
        self.sets: dict[str, tuple[str, list[str]]] = {}  # name -> (type, members as ipset text)

    # -- ipsets ------------------------------------------------------------------
    def _set(self, kind: str, key: str, type_name: str, members: list[str]) -> str:
        name = f"{SET_PREFIX}{kind}:{_hash(key)}"
        self.sets[name] = (type_name, sorted(set(members)))
        return name

    def selector_set(self, pol: Compiled, peer) -> str:
        pods = [p for p in self.view.pods.values()
                if peer.matches(pol.namespace, p.ip, p, self.view.ns_labels)]
        key = f"s|{pol.namespace}|{peer.pod_selector}|{peer.namespace_selector}"
        return self._set("s", key, "hash:ip", [fmt_ip(p.ip) for p in pods])

    def except_set(self, excepts) -> str:
        key = "x|" + ",".join(f"{fmt_ip(n)}/{p}" for n, p in excepts)
        return self._set("s", key, "hash:net", [f"{fmt_ip(n)}/{p}" for n, p in excepts])

    def named_port_set(self, pol: Compiled, direction: str, ps) -> str:
        if direction == INGRESS:
            pods = [p for p in self.view.pods.values() if pol.selects(p)]
        else:
            pods = list(self.view.pods.values())
        members = []
        for p in pods:
            port = p.named_port(ps.port, ps.protocol)
            if port is not None:
                members.append(f"{fmt_ip(p.ip)},{PROTO[ps.protocol]}:{port}")
        return self._set("n", f"n|{pol.key}|{direction}|{ps.protocol}|{ps.port}", "hash:ip,port", members)

    # -- policy chains -----------------------------------------------------------
    def policy_rules(self, pol: Compiled, direction: str) -> list[nf.Rule]:
        out: list[nf.Rule] = []
        side = "src" if direction == INGRESS else "dst"
        for i, rule in enumerate(pol.rules(direction)):
            peer_parts: list[dict] = []
            for peer in rule.peers or (None,):
                if peer is None:
                    peer_parts.append({})
                elif peer.is_ipblock:
                    part = {side: peer.cidr, "matches": []}
                    if peer.excepts:
                        part["matches"] = [nf.SetMatch(self.except_set(peer.excepts), side, inv=True)]
                    peer_parts.append(part)
                else:
                    peer_parts.append({"matches": [nf.SetMatch(self.selector_set(pol, peer), side)]})
            port_parts: list[dict] = []
            for ps in rule.ports or (None,):
                if ps is None:
                    port_parts.append({})
                elif isinstance(ps.port, str):
                    port_parts.append({"proto": PROTO[ps.protocol],
                                       "matches": [nf.SetMatch(self.named_port_set(pol, direction, ps), ("dst", "dst"))]})
                elif ps.port is None:
                    port_parts.append({"proto": PROTO[ps.protocol]})
                else:
                    port_parts.append({"proto": PROTO[ps.protocol],
                                       "matches": [nf.Multiport("dports", [(ps.port, ps.end_port or ps.port)])]})
            text = f"{pol.key} {direction} rule {i}"
            detail = {"policy": pol.key, "rule": i, "direction": direction, "allowed": True}
            for pp in peer_parts:
                for port in port_parts:
                    out.append(nf.Rule(src=pp.get("src"), dst=pp.get("dst"), proto=port.get("proto", 0),
                                       matches=pp.get("matches", []) + port.get("matches", []) + [
                                           PolicyComment(text, f"policy: {direction} allowed by {text}", detail)],
                                       target=nf.MarkTarget(ACCEPT_MARK, ACCEPT_MARK)))
            out.append(_return_if("Return if policy accepted"))
        return out

    # -- per-pod chains ----------------------------------------------------------
    def endpoint_chain(self, pod: PodInfo, direction: str) -> list[nf.Rule]:
        rules = [
            nf.Rule(matches=[nf.Conntrack(states={"RELATED", "ESTABLISHED"})], target=nf.ACCEPT),
            nf.Rule(matches=[nf.Conntrack(states={"INVALID"})], target=nf.DROP),
            nf.Rule(target=nf.MarkTarget(0, ACCEPT_MARK)),
        ]
        chosen = self.view.selecting(pod, direction)
        if not chosen:
            text = f"no {direction} policy selects {pod.key}"
            detail = {"policy": None, "rule": None, "direction": direction, "allowed": True, "pod": pod.key,
                      "selecting": []}
            rules.append(nf.Rule(matches=[PolicyComment(text, f"policy: {text}: allowed", detail)],
                                 target=nf.Jump(self.profile(pod.namespace))))
            rules.append(_return_if("Return if profile accepted"))
            rules.append(nf.Rule(matches=[nf.Comment("Drop if no profiles matched")], target=nf.DROP))
            return rules
        for pol in chosen:
            name = policy_chain(pol, direction)
            if name not in self.chains:
                self.chains[name] = self.policy_rules(pol, direction)
            rules.append(nf.Rule(matches=[nf.Mark(0, ACCEPT_MARK)], target=nf.Jump(name)))
            rules.append(_return_if("Return if policy accepted"))
        keys = [p.key for p in chosen]
        detail = {"policy": keys[0], "rule": None, "direction": direction, "allowed": False, "pod": pod.key,
                  "selecting": keys}
        sentence = (f"policy: {direction} denied: {pod.key} is selected by {', '.join(keys)} "
                    f"and no {direction} rule allows the packet")
        rules.append(nf.Rule(matches=[PolicyComment("Drop if no policies passed packet", sentence, detail)],
                             target=nf.DROP))
        return rules

    def profile(self, namespace: str) -> str:
        name = f"cali-pri-kns.{namespace}"
        if len(name) > nf.model.MAX_CHAIN_NAME:
            name = "cali-pri-_" + _hash(namespace, 18)
        self.chains[name] = [nf.Rule(matches=[nf.Comment(f"profile kns.{namespace}: allow all")],
                                     target=nf.MarkTarget(ACCEPT_MARK, ACCEPT_MARK)),
                             _return_if("Return if profile accepted")]
        return name

    def build(self, local: list[tuple[PodInfo, str]]) -> dict[str, list[nf.Rule]]:
        br = self.bridge
        to_wl, from_wl = [], []
        for pod, veth in sorted(local, key=lambda e: e[1]):
            tw, fw = f"cali-tw-{veth}", f"cali-fw-{veth}"
            self.chains[tw] = self.endpoint_chain(pod, INGRESS)
            self.chains[fw] = self.endpoint_chain(pod, EGRESS)
            note = nf.Comment(f"{pod.key} on {veth}")
            to_wl.append(nf.Rule(dst=(pod.ip, 32), matches=[note], target=nf.Jump(tw), goto=True))
            from_wl.append(nf.Rule(src=(pod.ip, 32), matches=[note], target=nf.Jump(fw), goto=True))
        self.chains["cali-to-wl-dispatch"] = to_wl
        self.chains["cali-from-wl-dispatch"] = from_wl
        self.chains["cali-FORWARD"] = [
            nf.Rule(iif=br, matches=[nf.Comment("from workload: egress policy")], target=nf.Jump("cali-from-wl-dispatch")),
            nf.Rule(oif=br, matches=[nf.Comment("to workload: ingress policy")], target=nf.Jump("cali-to-wl-dispatch")),
        ]
        self.chains["cali-INPUT"] = [
            nf.Rule(iif=br, matches=[nf.Comment("workload to host: egress policy")],
                    target=nf.Jump("cali-from-wl-dispatch")),
        ]
        return self.chains


JUMPS = (("FORWARD", "cali-FORWARD"), ("INPUT", "cali-INPUT"))


def forward_accept() -> nf.Rule:
    return nf.Rule(matches=[_mark_accepted(), nf.Comment("Policy explicitly accepted packet.")], target=nf.ACCEPT)


class PolicyAgent:
    """Felix for one node: record that something changed, then rebuild every rule it owns."""

    def __init__(self, api: ApiStore, ns: NetNS, node: str, bridge: str, veth_of) -> None:
        self.api = api
        self.ns = ns
        self.node = node
        self.bridge = bridge
        self.veth_of = veth_of  # pod key -> host veth name (None if it has none)
        self.dirty = True
        self.last_sync: float | None = None
        self.syncs = 0
        self.netfilter = nf.load(ns)
        api.watch({"NetworkPolicy", "Pod", "Namespace"}, self._changed)

    def _changed(self, event: Event) -> None:
        self.dirty = True

    def due(self, now: float) -> bool:
        return self.dirty or self.last_sync is None or now - self.last_sync >= REFRESH_PERIOD

    def local_endpoints(self, view: PolicyView) -> list[tuple[PodInfo, str]]:
        out = []
        for pod in view.pods.values():
            obj = self.api.get("Pod", pod.namespace, pod.name) or {}
            if (obj.get("spec") or {}).get("nodeName") != self.node:
                continue
            veth = self.veth_of(pod.key)
            if veth is not None:
                out.append((pod, veth))
        return out

    def sync(self) -> RuleBuilder:
        with nf.paused_gc():
            view = PolicyView.from_api(self.api)
            builder = RuleBuilder(view, self.bridge)
            chains = builder.build(self.local_endpoints(view))
            sets = ipset.sets_of(self.ns)
            for name, (type_name, members) in builder.sets.items():
                s = sets.get(name)
                if s is None:
                    s = ipset.create(self.ns, name, type_name)
                have = sorted(s.format(e) for e in s.members)
                if have != members:
                    s.flush()
                    for m in members:
                        s.add(m)
            t = self.netfilter.table("filter")
            stale = [c for c in t.chains if c.startswith(PREFIX) and c not in chains]
            changed = {c: r for c, r in chains.items() if not _same(t.chains.get(c), r)}
            if changed or stale:
                self.netfilter.replace_chains("filter", changed, delete=stale)
            self._ensure_jumps()
            for name in [n for n in sets if n.startswith(SET_PREFIX) and n not in builder.sets]:
                ipset.count_references(self.ns)
                if not sets[name].references:
                    del sets[name]
        self.dirty = False
        self.last_sync = self.ns.world.clock
        self.syncs += 1
        return builder

    def _ensure_jumps(self) -> None:
        """Felix's ChainInsertMode=insert: its jump is the first rule of FORWARD and INPUT (before
        kube-proxy's KUBE-FORWARD, which accepts masqueraded packets), and the accept-mark rule
        is the last of FORWARD."""
        for builtin, target in JUMPS:
            rules = self.netfilter.chain("filter", builtin).rules
            first = rules[0] if rules else None
            if first is not None and isinstance(first.target, nf.Jump) and first.target.chain == target:
                continue
            for pos in reversed([i for i, r in enumerate(rules) if isinstance(r.target, nf.Jump)
                                 and r.target.chain == target]):
                self.netfilter.delete("filter", builtin, pos + 1)
            self.netfilter.insert("filter", builtin, nf.Rule(
                matches=[nf.Comment(f"cali:{builtin} policy")], target=nf.Jump(target)), 1)
        accept = forward_accept()
        rules = self.netfilter.chain("filter", "FORWARD").rules
        if not rules or rules[-1].spec() != accept.spec():
            for pos in reversed([i for i, r in enumerate(rules) if r.spec() == accept.spec()]):
                self.netfilter.delete("filter", "FORWARD", pos + 1)
            self.netfilter.append("filter", "FORWARD", accept)


def _same(chain, rules: list[nf.Rule]) -> bool:
    return chain is not None and len(chain.rules) == len(rules) and all(
        a.spec() == b.spec() for a, b in zip(chain.rules, rules))


__all__ = ["PolicyAgent", "RuleBuilder", "PolicyComment", "policy_chain", "selector_matches"]
