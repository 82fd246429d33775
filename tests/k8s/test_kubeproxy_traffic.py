"""Packet flow through kube-proxy's rules, in the style of kube-proxy's own tests: source,
destination and port in; which endpoint, whether masqueraded, or REJECT/DROP out."""
from __future__ import annotations

import pytest

from netlab import Lab

LAB = """apiVersion: netlab/v1
kind: Lab
spec:
  kubeProxy: {{mode: {mode}}}
  nodes:
  - {{name: a, ip: 192.168.0.10, podCIDR: 10.244.0.0/24}}
  - {{name: b, ip: 192.168.0.11, podCIDR: 10.244.1.0/24}}
---
apiVersion: v1
kind: Service
metadata: {{name: web}}
spec:
  type: NodePort
  clusterIP: 10.96.0.80
  selector: {{app: web}}
  ports: [{{port: 80, nodePort: 30080}}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web}}
spec:
  replicas: 3
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers: [{{name: nginx, image: nginx}}]
"""
ENDPOINTS = {"10.244.0.2", "10.244.0.3", "10.244.1.2"}


@pytest.fixture(params=["iptables", "ipvs"])
def lab(request):
    return Lab.load(LAB.format(mode=request.param))


def pod(lab, i=0):
    return sorted(k.split("/", 1)[1] for k in lab.cluster.pod_ns)[i]


def test_cluster_ip_reaches_an_endpoint_and_the_reply_comes_from_the_vip(lab):
    r = lab.sh("curl -s 10.96.0.80", on=pod(lab))
    assert r.exit_code == 0 and "Welcome to nginx!" in r.output
    syn = next(t for t in r.traces if t.label == "SYN")
    nat = [h for h in syn.hops if h.kind == "nat"]
    assert nat and any(ep in nat[0].text for ep in ENDPOINTS)
    synack = next(t for t in r.traces if t.label == "SYN-ACK")
    final = synack.hops[-1]
    assert final.kind == "deliver"
    rx = [h for h in synack.hops if h.kind == "rx"][-1]
    assert "10.96.0.80:80 >" in rx.text  # un-NATed on the way back


def test_node_port_from_another_node_is_masqueraded(lab):
    r = lab.sh("curl -sI 192.168.0.11:30080", on="a")
    assert r.output.startswith("HTTP/1.1 200 OK")


def test_ping_to_a_cluster_ip_gets_no_answer_in_iptables_mode():
    lab = Lab.load(LAB.format(mode="iptables"))
    r = lab.sh("ping -c 1 10.96.0.80", on=pod(lab))
    assert r.exit_code == 1 and "0 received" in r.output


def test_no_endpoints_rejects_with_port_unreachable(lab):
    lab.sh("kubectl scale deploy web --replicas=0")
    r = lab.sh("curl -s -m 1 10.96.0.80", on="a")
    assert r.exit_code in (7, 28)


def test_hand_deleted_rule_comes_back_after_the_sync_period():
    lab = Lab.load(LAB.format(mode="iptables"))
    before = lab.sh("iptables-save -t nat | grep -c KUBE-SVC", on="a").output
    chain = [ln for ln in lab.sh("iptables -t nat -S KUBE-SERVICES", on="a").output.splitlines() if "10.96.0.80" in ln][0]
    assert lab.sh("iptables -t nat " + chain.replace("-A ", "-D ", 1), on="a").exit_code == 0
    assert lab.sh("curl -s -m 1 10.96.0.80", on="a").exit_code != 0
    lab.sh("sleep 31", on="a")
    assert lab.sh("iptables-save -t nat | grep -c KUBE-SVC", on="a").output == before
    assert lab.sh("curl -s 10.96.0.80", on="a").exit_code == 0


def test_iptables_trace_counts_rules_compared():
    lab = Lab.load(LAB.format(mode="iptables"))
    t = lab.trace(pod(lab), "10.96.0.80:80", proto="tcp")
    assert t.rules_compared() > 0
