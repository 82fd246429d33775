"""NetworkPolicy truth tables over three namespaces × three pods (upstream's e2e layout), probed
with real packets through netlab's dataplane. Every case checks the observed table against a
hand-written expectation AND against netlab.k8s.policy's answer (Matrix.mismatches)."""
from __future__ import annotations

from netlab.shell.policy_matrix import policy_matrix
from tests.policy.netpol_lab import ALL, Reachability, make_lab

NP = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"


def check(lab, expected: Reachability, port: int | None = 80, protocol: str = "TCP"):
    m = policy_matrix(lab, port=port, protocol=protocol)
    assert m.table() == m.table(expected.cells), "observed:\n" + m.table() + "expected:\n" + m.table(expected.cells)
    assert m.mismatches() == [], m.render()
    return m


def test_no_policy_everything_reaches_everything():
    check(make_lab(), Reachability())


def test_deny_all_ingress_isolates_only_the_selected_namespace():
    lab = make_lab(NP + "metadata: {name: deny-ingress, namespace: x}\nspec: {podSelector: {}}\n")
    expected = Reachability()
    for p in ("x/a", "x/b", "x/c"):
        expected.to(p, False)
    m = check(lab, expected)
    # Replies of allowed connections pass: x/a's SYN to y/b is answered through x/a's own
    # ingress-isolated chain (conntrack ESTABLISHED comes first).
    assert m.observed[("x/a", "y/b")]


def test_deny_all_egress():
    lab = make_lab(NP + "metadata: {name: deny-egress, namespace: x}\nspec: {podSelector: {}, policyTypes: [Egress]}\n")
    expected = Reachability()
    for p in ("x/a", "x/b", "x/c"):
        expected.from_(p, False)
    check(lab, expected)
    check(lab, expected, port=None)  # ping too: a rule set with no rules allows no protocol


def test_namespace_and_pod_selector_in_one_peer_is_AND():
    lab = make_lab(NP + """metadata: {name: allow-y-b, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {ns: y}}
      podSelector: {matchLabels: {pod: b}}
""")
    check(lab, Reachability().to("x/a", False).set("y/b", "x/a", True))


def test_namespace_and_pod_selector_as_two_peers_is_OR():
    lab = make_lab(NP + """metadata: {name: allow-y-or-b, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {ns: y}}
    - podSelector: {matchLabels: {pod: b}}
""")
    expected = Reachability().to("x/a", False)
    for src in ("y/a", "y/b", "y/c", "x/b"):  # the podSelector alone means x's own pods
        expected.set(src, "x/a", True)
    check(lab, expected)


def test_metadata_name_label_selects_one_namespace():
    lab = make_lab(NP + """metadata: {name: allow-z, namespace: x}
spec:
  podSelector: {}
  ingress:
  - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: z}}}]
""")
    expected = Reachability()
    for dst in ("x/a", "x/b", "x/c"):
        expected.to(dst, False, sources=[s for s in ALL if not s.startswith("z/")])
    check(lab, expected)


def test_ipblock_with_except():
    # n2's pods (every b) live in 10.244.2.0/24: the except carves them out of the pod network.
    lab = make_lab(NP + """metadata: {name: cidr, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress:
  - from: [{ipBlock: {cidr: 10.244.0.0/16, except: [10.244.2.0/24]}}]
""")
    check(lab, Reachability().to("x/a", False, sources=["x/b", "y/b", "z/b"]))


def test_egress_ipblock():
    lab = make_lab(NP + """metadata: {name: egress-cidr, namespace: y}
spec:
  podSelector: {matchLabels: {pod: c}}
  policyTypes: [Egress]
  egress:
  - to: [{ipBlock: {cidr: 10.244.2.0/24}}]
""")
    expected = Reachability().from_("y/c", False)
    for dst in ("x/b", "y/b", "z/b"):
        expected.set("y/c", dst, True)
    check(lab, expected)


def test_named_port_resolves_on_the_destination_pod():
    lab = make_lab(NP + """metadata: {name: named, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress:
  - ports: [{port: serve-81-tcp}]
""")
    check(lab, Reachability().to("x/a", False), port=80)
    check(lab, Reachability(), port=81)
    check(lab, Reachability().to("x/a", False), port=80, protocol="UDP")


def test_named_udp_port_is_not_the_tcp_port():
    lab = make_lab(NP + """metadata: {name: named-udp, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress:
  - ports: [{port: serve-80-udp, protocol: UDP}]
""")
    check(lab, Reachability().to("x/a", False), port=80)
    check(lab, Reachability(), port=80, protocol="UDP")


def test_end_port_range():
    lab = make_lab(NP + """metadata: {name: range, namespace: x}
spec:
  podSelector: {}
  ingress:
  - ports: [{port: 81, endPort: 90}]
""")
    x_closed = Reachability()
    for dst in ("x/a", "x/b", "x/c"):
        x_closed.to(dst, False)
    check(lab, x_closed, port=80)
    check(lab, Reachability(), port=81)


def test_union_of_policies():
    lab = make_lab(NP + """metadata: {name: from-b, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress: [{from: [{podSelector: {matchLabels: {pod: b}}}]}]
---
""" + NP + """metadata: {name: from-z, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress: [{from: [{namespaceSelector: {matchLabels: {ns: z}}}]}]
""")
    expected = Reachability().to("x/a", False)
    for src in ("x/b", "z/a", "z/b", "z/c"):
        expected.set(src, "x/a", True)
    check(lab, expected)


def test_ingress_only_policy_leaves_egress_open():
    lab = make_lab(NP + """metadata: {name: ingress-only, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Ingress]
  egress: [{to: [{podSelector: {matchLabels: {pod: nobody}}}]}]
""")
    check(lab, Reachability().to("x/a", False))


def test_flannel_stores_policies_and_ignores_them():
    lab = make_lab(NP + "metadata: {name: deny-all, namespace: x}\nspec: {podSelector: {}, policyTypes: [Ingress, Egress]}\n",
                   cni="flannel")
    assert lab.cluster.api.get("NetworkPolicy", "x", "deny-all") is not None
    check(lab, Reachability())
    assert "cali-" not in lab.sh("iptables-save", on="n1").output


def test_calico_enforces_like_canal():
    lab = make_lab(NP + "metadata: {name: deny, namespace: y}\nspec: {podSelector: {}}\n", cni="calico")
    expected = Reachability()
    for p in ("y/a", "y/b", "y/c"):
        expected.to(p, False)
    check(lab, expected)


def test_policy_added_later_and_pods_that_come_and_go():
    lab = make_lab()
    check(lab, Reachability())
    lab.cluster.apply({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                       "metadata": {"name": "only-b", "namespace": "x"},
                       "spec": {"podSelector": {"matchLabels": {"pod": "a"}},
                                "ingress": [{"from": [{"podSelector": {"matchLabels": {"pod": "b"}}}]}]}})
    check(lab, Reachability().to("x/a", False).set("x/b", "x/a", True))
    # A new pod labelled pod=b is admitted; x/b goes away and its IP leaves the peer ipset.
    # (b2 is made first so that it does not take b's IP: the node's neighbour entry for a
    # reused IP still names the old MAC, and the first packets are lost, policy or not.)
    lab.cluster.apply({"apiVersion": "v1", "kind": "Pod",
                       "metadata": {"name": "b2", "namespace": "x", "labels": {"pod": "b"}},
                       "spec": {"nodeName": "n2", "containers": [{"name": "c", "image": "nginx",
                                                                   "ports": [{"containerPort": 80}]}]}})
    old_ip = lab.cluster.api.get("Pod", "x", "b")["status"]["podIP"]
    lab.cluster.api.delete("Pod", "x", "b")
    m = policy_matrix(lab, port=80)
    assert m.mismatches() == []
    assert m.observed[("x/b2", "x/a")] and not m.observed[("y/b", "x/a")]
    members = lab.sh("ipset list", on="n1").output
    assert old_ip not in members and lab.cluster.api.get("Pod", "x", "b2")["status"]["podIP"] in members
