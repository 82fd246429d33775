"""The upstream network-policy e2e layout: namespaces x, y, z, each with pods a, b, c (label
pod=<name>), serving TCP 80/81 and UDP 80 under named ports; pods spread over two nodes so
both bridged (same-node) and routed (cross-node) paths are probed. `Reachability` writes an
expected truth table the way upstream's does: start from a default, then carve."""
from __future__ import annotations

from netlab import Lab

NAMESPACES = ("x", "y", "z")
PODS = ("a", "b", "c")
NODE_OF = {"a": "n1", "b": "n2", "c": "n1"}

HEAD = """apiVersion: netlab/v1
kind: Lab
spec:
  podCIDR: 10.244.0.0/16
  serviceCIDR: 10.96.0.0/12
  cni: {{plugin: {cni}}}
  dns: {{replicas: {dns}}}
  nodes:
  - {{name: n1, ip: 192.168.0.10, podCIDR: 10.244.1.0/24}}
  - {{name: n2, ip: 192.168.0.11, podCIDR: 10.244.2.0/24}}
"""


def lab_text(policies: str = "", cni: str = "canal", dns: int = 0, single_node: bool = False) -> str:
    docs = [HEAD.format(cni=cni, dns=dns)]
    for ns in NAMESPACES:
        docs.append(f"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}, labels: {{ns: {ns}}}}}\n")
    for ns in NAMESPACES:
        for pod in PODS:
            docs.append(f"""apiVersion: v1
kind: Pod
metadata: {{name: {pod}, namespace: {ns}, labels: {{pod: {pod}}}}}
spec:
  nodeName: {"n1" if single_node else NODE_OF[pod]}
  containers:
  - name: cont
    image: nginx
    ports:
    - {{containerPort: 80, name: serve-80-tcp}}
    - {{containerPort: 81, name: serve-81-tcp}}
    - {{containerPort: 80, name: serve-80-udp, protocol: UDP}}
""")
    text = "---\n".join(docs)
    if policies.strip():
        text += "---\n" + policies.strip() + "\n"
    return text


def make_lab(policies: str = "", cni: str = "canal", dns: int = 0, single_node: bool = False) -> Lab:
    return Lab.load(lab_text(policies, cni, dns, single_node))


ALL = [f"{ns}/{p}" for ns in NAMESPACES for p in PODS]


class Reachability:
    def __init__(self, default: bool = True) -> None:
        self.cells = {(s, d): default for s in ALL for d in ALL}
        for p in ALL:
            self.cells[(p, p)] = True  # loopback never leaves the pod

    def to(self, dst: str, ok: bool, *, sources=None) -> "Reachability":
        for s in sources or ALL:
            if s != dst:
                self.cells[(s, dst)] = ok
        return self

    def from_(self, src: str, ok: bool, *, dests=None) -> "Reachability":
        for d in dests or ALL:
            if d != src:
                self.cells[(src, d)] = ok
        return self

    def set(self, src: str, dst: str, ok: bool) -> "Reachability":
        self.cells[(src, dst)] = ok
        return self
