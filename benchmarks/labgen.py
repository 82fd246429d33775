"""Lab files for the benchmarks: N nodes on one /16 underlay, a /16 pod network with a /24
per node, and one Deployment with `pods_per_node` replicas per node."""
from __future__ import annotations


def lab_yaml(nodes: int, pods_per_node: int = 30, *, backend: str = "vxlan") -> str:
    lines = [
        "apiVersion: netlab/v1",
        "kind: Lab",
        f"metadata: {{name: bench-{nodes}-nodes}}",
        "spec:",
        "  podCIDR: 10.244.0.0/16",
        "  serviceCIDR: 10.96.0.0/12",
        f"  cni: {{plugin: flannel, backend: {backend}}}",
        "  underlay: {cidr: 192.168.0.0/16, gateway: 192.168.0.1}",
        "  nodes:",
    ]
    for i in range(nodes):
        lines.append(f"  - {{name: node-{i}, ip: 192.168.{1 + i // 200}.{10 + i % 200}, podCIDR: 10.244.{i}.0/24}}")
    lines += [
        "---",
        "apiVersion: apps/v1",
        "kind: Deployment",
        "metadata: {name: web, namespace: default}",
        "spec:",
        f"  replicas: {pods_per_node * nodes}",
        "  selector: {matchLabels: {app: web}}",
        "  template:",
        "    metadata: {labels: {app: web}}",
        "    spec:",
        "      containers:",
        "      - {name: web, image: nginx:1.27}",
    ]
    return "\n".join(lines) + "\n"
