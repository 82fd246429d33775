"""`trace` from the machines outside the cluster (`client`, `router`), as the NodePort and
Ingress levels ask a learner to."""
from __future__ import annotations

from netlab import Lab

LAB = """apiVersion: netlab/v1
kind: Lab
spec:
  podCIDR: 10.244.0.0/16
  underlay: {cidr: 192.168.56.0/24, gateway: 192.168.56.1}
  nodes:
  - {name: node-a, ip: 192.168.56.10, podCIDR: 10.244.0.0/24}
  - {name: node-b, ip: 192.168.56.11, podCIDR: 10.244.1.0/24}
---
apiVersion: v1
kind: Pod
metadata: {name: shop, labels: {app: shop}}
spec: {nodeName: node-a, containers: [{name: shop, image: nginx}]}
---
apiVersion: v1
kind: Service
metadata: {name: shop}
spec:
  type: NodePort
  externalTrafficPolicy: Local
  selector: {app: shop}
  ports: [{port: 80, targetPort: 80, nodePort: 30080}]
"""


def test_trace_from_client_and_router():
    lab = Lab.load(LAB)
    out = lab.sh("trace client 192.168.56.11:30080 --proto tcp").output
    assert out.startswith("trace: client → 192.168.56.11:30080 TCP SYN")
    assert "verdict: DROPPED at node-b/eth0: dropped by filter KUBE-EXTERNAL-SERVICES rule 1" in out
    out = lab.sh("trace router 192.168.56.10:30080 --proto tcp").output
    assert "verdict: DELIVERED at shop/eth0" in out
