"""NetworkPolicy at scale: 100 pods in 10 namespaces on 2 nodes (canal), 50 policies mixing
pod selectors, namespace selectors (both AND and OR), ipBlocks with except, named ports and
port ranges. Prints the lab build, one policy-agent sync per node, the truth table of
100 × 100 = 10,000 real TCP SYN probes through the dataplane (`netlab policy matrix`), the
same table from netlab.k8s.policy alone, and how many pairs are allowed.

    .venv/bin/python benchmarks/bench_policy.py [PODS] [POLICIES]
"""
from __future__ import annotations

import sys
import time

from netlab import Lab
from netlab.k8s.policy import Connection, PolicyView, decide
from netlab.shell.policy_matrix import policy_matrix

HEAD = """apiVersion: netlab/v1
kind: Lab
spec:
  podCIDR: 10.244.0.0/16
  serviceCIDR: 10.96.0.0/12
  cni: {plugin: canal}
  dns: {replicas: 0}
  nodes:
  - {name: a, ip: 192.168.0.10, podCIDR: 10.244.0.0/24}
  - {name: b, ip: 192.168.0.11, podCIDR: 10.244.1.0/24}
"""


def lab_text(n_pods: int, n_policies: int) -> str:
    n_ns = max(1, n_pods // 10)
    docs = [HEAD]
    for i in range(n_ns):
        docs.append(f"apiVersion: v1\nkind: Namespace\nmetadata: {{name: ns{i}, labels: {{team: t{i % 3}}}}}\n")
    for p in range(n_pods):
        docs.append(f"""apiVersion: v1
kind: Pod
metadata: {{name: p{p}, namespace: ns{p % n_ns}, labels: {{app: a{p % 7}, tier: t{p % 3}}}}}
spec:
  nodeName: {"ab"[p % 2]}
  containers: [{{name: c, image: nginx, ports: [{{containerPort: 80, name: http}}]}}]
""")
    for k in range(n_policies):
        ns = f"ns{k % n_ns}"
        shape = k % 5
        if shape == 0:
            rule = f"ingress: [{{from: [{{podSelector: {{matchLabels: {{app: a{k % 7}}}}}}}]}}]"
        elif shape == 1:
            rule = (f"ingress: [{{from: [{{namespaceSelector: {{matchLabels: {{team: t{k % 3}}}}}, "
                    f"podSelector: {{matchLabels: {{tier: t{k % 3}}}}}}}], ports: [{{port: http}}]}}]")
        elif shape == 2:
            rule = (f"ingress: [{{from: [{{namespaceSelector: {{matchLabels: {{team: t{k % 3}}}}}}}, "
                    f"{{podSelector: {{matchLabels: {{tier: t{(k + 1) % 3}}}}}}}]}}]")
        elif shape == 3:
            rule = ("ingress: [{from: [{ipBlock: {cidr: 10.244.0.0/16, except: [10.244.1.0/26]}}], "
                    "ports: [{port: 79, endPort: 81}]}]")
        else:
            rule = (f"policyTypes: [Egress]\n  egress: [{{to: [{{podSelector: {{matchLabels: {{app: a{k % 7}}}}}}}]}}]")
        docs.append(f"""apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: np{k}, namespace: {ns}}}
spec:
  podSelector: {{matchLabels: {{app: a{k % 7}}}}}
  {rule}
""")
    return "---\n".join(docs)


def main(argv: list[str]) -> None:
    n_pods = int(argv[0]) if argv else 100
    n_policies = int(argv[1]) if len(argv) > 1 else 50
    t0 = time.perf_counter()
    lab = Lab.load(lab_text(n_pods, n_policies))
    t1 = time.perf_counter()
    for agent in lab.cluster.policy_agents.values():
        agent.dirty = True
    t2 = time.perf_counter()
    for agent in lab.cluster.policy_agents.values():
        agent.sync()
    t3 = time.perf_counter()
    m = policy_matrix(lab, port=80)
    t4 = time.perf_counter()
    view = PolicyView.from_api(lab.cluster.api)
    model = {(s.key, d.key): decide(view, Connection(s.ip, d.ip, "TCP", 80))[0] for s in m.pods for d in m.pods}
    t5 = time.perf_counter()
    rules = sum(len(c.rules) for name, c in lab.cluster.nodes["a"].ns.netfilter.table("filter").chains.items()
                if name.startswith("cali-"))
    print(f"{len(m.pods)} pods, {n_policies} policies, {rules} cali- rules on node a")
    print(f"lab build (agents' first sync included): {t1 - t0:8.3f} s")
    print(f"policy agent sync, both nodes:           {(t3 - t2) * 1000:8.1f} ms")
    print(f"truth table, {len(m.observed)} real SYN probes:   {t4 - t3:8.3f} s "
          f"({(t4 - t3) / len(m.observed) * 1e6:.0f} µs per probe)")
    print(f"truth table from the policy model alone: {(t5 - t4) * 1000:8.1f} ms")
    print(f"allowed pairs: {sum(m.observed.values())}/{len(m.observed)}; "
          f"dataplane vs model mismatches: {len(m.mismatches())} (model recomputed: {model == m.expected})")


if __name__ == "__main__":
    main(sys.argv[1:])
