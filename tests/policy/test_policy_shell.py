"""What a learner sees: the Trace's policy hops, the agent's rules, kubectl, the CLI, DNS."""
from __future__ import annotations

from netlab.cli import main
from tests.policy.netpol_lab import lab_text, make_lab

NP = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
ONLY_Y_B = NP + """metadata: {name: and-peer, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {ns: y}}
      podSelector: {matchLabels: {pod: b}}
"""


def policy_hops(trace):
    return [h.detail for h in trace.hops if h.kind == "policy"]


def test_trace_names_the_policy_and_rule_or_says_none_selects():
    lab = make_lab(ONLY_Y_B)
    allowed = lab.trace("y/b", "x/a", port=80, proto="tcp")
    assert allowed.delivered
    hops = policy_hops(allowed)
    assert hops[0]["direction"] == "egress" and hops[0]["policy"] is None and hops[0]["selecting"] == []
    assert {k: hops[1][k] for k in ("policy", "rule", "direction", "allowed")} == \
        {"policy": "x/and-peer", "rule": 0, "direction": "ingress", "allowed": True}
    denied = lab.trace("y/a", "x/a", port=80, proto="tcp")
    assert not denied.delivered
    last = policy_hops(denied)[-1]
    assert (last["policy"], last["rule"], last["allowed"], last["selecting"]) == ("x/and-peer", None, False, ["x/and-peer"])
    assert "Drop if no policies passed packet" in denied.verdict.reason or "cali-tw-" in denied.verdict.reason


def test_rules_are_readable_on_the_node():
    lab = make_lab(ONLY_Y_B)
    save = lab.sh("iptables-save -t filter", on="n1").output
    assert '-A FORWARD -m comment --comment "cali:FORWARD policy" -j cali-FORWARD' in save.splitlines()[save.splitlines().index(":OUTPUT ACCEPT [0:0]") + 1:][0] or \
        save.index("-j cali-FORWARD") < save.index("-j KUBE-FORWARD")
    assert '--comment "x/and-peer ingress rule 0" -j MARK --set-xmark 0x10000/0x10000' in save
    assert '-m comment --comment "Drop if no policies passed packet" -j DROP' in save
    assert "-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT" in save
    y_b = lab.cluster.api.get("Pod", "y", "b")["status"]["podIP"]
    assert y_b in lab.sh("ipset list", on="n1").output


def test_agent_puts_back_a_hand_deleted_rule():
    lab = make_lab(ONLY_Y_B)
    save = lab.sh("iptables-save -t filter", on="n1").output
    chain = next(line.split()[1] for line in save.splitlines() if "x/and-peer ingress rule 0" in line)
    assert lab.sh(f"iptables -F {chain}", on="n1").ok
    assert "x/and-peer ingress rule 0" not in lab.sh("iptables-save -t filter", on="n1").output
    lab.world.clock += 91  # Felix's refresh interval
    lab.cluster.tick()
    assert "x/and-peer ingress rule 0" in lab.sh("iptables-save -t filter", on="n1").output


def test_kubectl_get_and_describe():
    lab = make_lab(ONLY_Y_B)
    assert lab.sh("kubectl get netpol -n x").output.splitlines() == [
        "NAME       POD-SELECTOR   AGE", "and-peer   pod=a          5m"]
    out = lab.sh("kubectl describe networkpolicy and-peer -n x").output
    assert out.splitlines()[:6] == ["Name:         and-peer", "Namespace:    x",
                                    "Created on:   2024-01-01 09:00:00 +0000 UTC", "Labels:       <none>",
                                    "Annotations:  <none>", "Spec:"]
    assert out.splitlines()[6:] == [
        "  PodSelector:     pod=a", "  Allowing ingress traffic:", "    To Port: <any> (traffic allowed to all ports)",
        "    From:", "      NamespaceSelector: ns=y", "      PodSelector: pod=b", "  Not affecting egress traffic",
        "  Policy Types: Ingress"]
    assert "policyTypes:\n  - Ingress" in lab.sh("kubectl get netpol and-peer -n x -o yaml").output
    assert "kubernetes.io/metadata.name: x" in lab.sh("kubectl get ns x -o yaml").output


def test_egress_policy_breaks_dns_then_allowing_53_to_kube_dns_fixes_it():
    deny = NP + "metadata: {name: deny-egress, namespace: x}\nspec: {podSelector: {}, policyTypes: [Egress]}\n"
    lab = make_lab(deny, dns=1)
    broken = lab.sh("nslookup kubernetes.default", on="x/a")
    assert not broken.ok and "timed out" in broken.output
    allow = NP + """metadata: {name: allow-dns, namespace: x}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress:
  - to:
    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}
      podSelector: {matchLabels: {k8s-app: kube-dns}}
    ports: [{port: 53, protocol: UDP}, {port: 53, protocol: TCP}]
"""
    lab = make_lab(deny + "---\n" + allow, dns=1)
    fixed = lab.sh("nslookup kubernetes.default", on="x/a")
    assert fixed.ok and "Name:\tkubernetes.default.svc.cluster.local" in fixed.output
    # ... and only DNS: the web port of another pod stays closed
    assert not lab.trace("x/a", "y/a", port=80, proto="tcp").delivered


def test_cli_policy_matrix(tmp_path, capsys):
    lab = tmp_path / "lab.yaml"
    lab.write_text(lab_text(ONLY_Y_B))
    assert main(["policy", "matrix", "--lab", str(lab), "-n", "x", "y", "--port", "80"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[:3] == [
        "TCP/80: 32/36 reached (rows: from, columns: to; . reached, X blocked)",
        "-    x/a  x/b  x/c  y/a  y/b  y/c",
        "x/a  .    .    .    .    .    ."]
    assert out.splitlines()[6] == "y/b  .    .    .    .    .    ."
    assert out.splitlines()[5] == "y/a  X    .    .    .    .    ."
    flannel = tmp_path / "flannel.yaml"
    flannel.write_text(lab_text(ONLY_Y_B, cni="flannel"))
    assert main(["policy", "matrix", "--lab", str(flannel), "-n", "x"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("note: CNI flannel does not enforce NetworkPolicy") and "ping: 9/9 reached" in out
