"""The container runtime interface kubelet talks to (what CRI is to a real kubelet).

k8s/ knows nothing of what programs do; the layer above (netlab.apps) implements this and
the Lab hands it to the Cluster. A runtime that runs nothing (NullRuntime) keeps the
control plane usable on its own, e.g. in benchmarks of scheduling and IPAM.
"""
from __future__ import annotations

from typing import Protocol


class ContainerRuntime(Protocol):
    def start_pod(self, cluster, pod: dict, ns) -> list:
        """Start the pod's containers in namespace `ns`; returns handles stop_pod gets back."""

    def stop_pod(self, handles: list) -> None:
        """Stop what start_pod started."""

    def probe(self, pod: dict, ns, probe: dict) -> bool:
        """Run one readiness/liveness probe against what runs in the pod."""

    def start_node(self, cluster, node_name: str, ns) -> list:
        """The node's own processes (API server, kubelet, kube-proxy health...)."""

    def start_outside(self, cluster, router) -> list:
        """Services outside the cluster (the upstream DNS resolver on the router)."""


class NullRuntime:
    def start_pod(self, cluster, pod, ns) -> list:
        return []

    def stop_pod(self, handles) -> None:
        pass

    def probe(self, pod, ns, probe) -> bool:
        return True

    def start_node(self, cluster, node_name, ns) -> list:
        return []

    def start_outside(self, cluster, router) -> list:
        return []
