"""kube-proxy hands its per-Service chains (KUBE-SVC-, KUBE-SEP-) to netfilter as RuleSources:
a sync builds none of them, and whatever reads them — a packet, iptables-save, a hand edit —
sees exactly the rules a sync that built them would have written."""
from __future__ import annotations

from netlab import Lab

LAB = """apiVersion: netlab/v1
kind: Lab
spec:
  kubeProxy: {mode: iptables}
  dns: {replicas: 0}
  nodes:
  - {name: a, ip: 192.168.0.10, podCIDR: 10.244.0.0/24}
  - {name: b, ip: 192.168.0.11, podCIDR: 10.244.1.0/24}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  clusterIP: 10.96.0.80
  selector: {app: web}
  sessionAffinity: ClientIP
  ports: [{port: 80}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: nginx, image: nginx}]
"""
OWN = ("KUBE-SVC-", "KUBE-SEP-")


def rules(lab) -> list[str]:
    return [ln for ln in lab.sh("iptables-save -t nat", on="a").output.splitlines() if not ln.startswith("#")]


def own_chains(lab):
    return {name: c for name, c in lab.cluster.kube_proxies["a"].netfilter.table("nat").chains.items()
            if name.startswith(OWN)}


def test_a_sync_builds_no_per_service_chain_and_a_resync_leaves_built_ones_alone():
    lab = Lab.load(LAB)
    kp = lab.cluster.kube_proxies["a"]
    kp._state = None  # the next sync is a full one
    kp.sync()
    chains = own_chains(lab)
    assert len(chains) == 6 and not any(c.built for c in chains.values())  # web and default/kubernetes
    saved = lab.sh("iptables-save", on="a").output
    assert all(c.built for c in own_chains(lab).values())
    kp._state = None
    kp.sync()
    assert own_chains(lab) == chains  # the same Chain objects: nothing to rewrite
    assert lab.sh("iptables-save", on="a").output == saved


def test_a_hand_deleted_endpoint_rule_comes_back_and_traffic_flows():
    lab = Lab.load(LAB)
    saved = rules(lab)
    sep = next(name for name in own_chains(lab) if name.startswith("KUBE-SEP-"))
    dnat = next(ln for ln in saved if ln.startswith(f"-A {sep} ") and "DNAT" in ln)
    assert lab.sh("iptables -t nat " + dnat.replace("-A ", "-D ", 1), on="a").exit_code == 0
    assert dnat not in rules(lab)
    lab.sh("sleep 31", on="a")
    assert rules(lab) == saved
    assert lab.sh("curl -s 10.96.0.80", on="a").exit_code == 0
