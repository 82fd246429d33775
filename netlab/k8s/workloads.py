"""Scheduler and Deployment controller.

Scheduling is deterministic: `nodeName` wins, then `nodeSelector` filters, then the
node with the fewest pods (ties to the node listed first) — an even spread in
creation order. Deployment pods are named `<deployment>-<pod-template-hash>-<5>`
like a Deployment → ReplicaSet → Pod chain names them.
"""
from __future__ import annotations

from netlab.k8s.api import ADDED, DELETED, MODIFIED, ApiError, ApiStore, Event
from netlab.k8s.names import pod_template_hash, random_suffix


BURST_REPLICAS = 500  # pkg/controller/replicaset: pods created per sync, at most


class Scheduler:
    """Chooses a node for each new pod, and binds it there.

    A node's load is the number of pods whose spec.nodeName names it. Rather than list every
    pod for each decision (which made scheduling n pods O(n²)), the scheduler keeps each pod's
    node from the store's Pod events (created, changed, deleted) and from its own bindings —
    the two ways spec.nodeName is ever written — so the counts equal a fresh count."""

    def __init__(self, api: ApiStore, node_order: list[str]) -> None:
        self.api = api
        self.node_order = node_order
        self._node_of: dict[tuple[str, str], str] = {}  # (namespace, pod name) -> node it counts for
        self._counts = {n: 0 for n in node_order}
        for pod in api.list("Pod"):
            self._record(pod)
        api.watch({"Pod"}, self._on_pod)

    def choose(self, pod: dict) -> str | None:
        spec = pod.get("spec", {})
        if spec.get("nodeName"):
            return spec["nodeName"]
        selector = spec.get("nodeSelector") or {}
        counts = self._counts
        best = None
        for name in self.node_order:
            if selector:
                node = self.api.get("Node", "", name)
                labels = (node or {}).get("metadata", {}).get("labels", {})
                if any(labels.get(k) != str(v) for k, v in selector.items()):
                    continue
            if best is None or counts[name] < counts[best]:
                best = name
        return best

    def bind(self, pod: dict, node: str) -> None:
        """Write the decision into the pod (what a Binding does upstream)."""
        pod.setdefault("spec", {})["nodeName"] = node
        self._record(pod)

    # -- keeping the counts --------------------------------------------------------------
    def _on_pod(self, event: Event) -> None:
        if event.type == DELETED:
            self._forget(_pod_key(event.obj))
        else:
            self._record(event.obj)

    def _record(self, pod: dict) -> None:
        key = _pod_key(pod)
        self._forget(key)
        node = (pod.get("spec") or {}).get("nodeName")
        if node in self._counts:
            self._node_of[key] = node
            self._counts[node] += 1

    def _forget(self, key: tuple[str, str]) -> None:
        node = self._node_of.pop(key, None)
        if node is not None:
            self._counts[node] -= 1


def _pod_key(pod: dict) -> tuple[str, str]:
    meta = pod["metadata"]
    return meta.get("namespace", "default"), meta["name"]


class DeploymentController:
    """Keeps `spec.replicas` pods of each Deployment's current template."""

    def __init__(self, api: ApiStore, rng) -> None:
        self.api = api
        self.rng = rng
        self._busy: set[tuple[str, str]] = set()  # Deployments being synced right now
        api.watch({"Deployment"}, self.on_event)
        api.watch({"Pod"}, self.on_pod)

    def on_event(self, event: Event) -> None:
        if event.type == DELETED:
            self._scale(event.obj, 0, all_hashes=True)
            return
        if event.type in (ADDED, MODIFIED):
            self.sync(event.obj)

    def on_pod(self, event: Event) -> None:
        """A Deployment's pod was deleted: its ReplicaSet makes a replacement."""
        if event.type != DELETED:
            return
        owner = event.obj["metadata"].get("labels", {}).get("netlab.io/deployment")
        if owner is None:
            return
        namespace = event.obj["metadata"].get("namespace", "default")
        if (namespace, owner) in self._busy:
            return
        dep = self.api.get("Deployment", namespace, owner)
        if dep is not None:
            self.sync(dep)

    def pods_of(self, dep: dict) -> list[dict]:
        ns = dep["metadata"].get("namespace", "default")
        owner = dep["metadata"]["name"]
        return [p for p in self.api.list("Pod", ns)
                if p["metadata"].get("labels", {}).get("netlab.io/deployment") == owner]

    def sync(self, dep: dict) -> None:
        template = dep.get("spec", {}).get("template", {})
        tmpl_hash = pod_template_hash(template)
        ns = dep["metadata"].get("namespace", "default")
        name = dep["metadata"]["name"]
        # Pods of an older template are replaced (a rolling update that finishes at once).
        # Our own deletions come back through on_pod; this sync handles them, so they must
        # not start another one (that one would delete the pods this loop still holds).
        self._busy.add((ns, name))
        try:
            for pod in self.pods_of(dep):
                if pod["metadata"]["labels"].get("pod-template-hash") != tmpl_hash:
                    self.api.delete("Pod", ns, pod["metadata"]["name"])
            want = int(dep.get("spec", {}).get("replicas", 1))
            self._scale(dep, want, tmpl_hash=tmpl_hash)
        finally:
            self._busy.discard((ns, name))
        have = len(self.pods_of(dep))
        status = {"replicas": have, "readyReplicas": have, "availableReplicas": have, "updatedReplicas": have,
                  "observedGeneration": 1}
        current = self.api.get("Deployment", ns, name)
        if current is not None and current.get("status") != status:
            current["status"] = status  # status is written in place: no spec change to react to

    def _scale(self, dep: dict, want: int, *, tmpl_hash: str = "", all_hashes: bool = False) -> None:
        ns = dep["metadata"].get("namespace", "default")
        name = dep["metadata"]["name"]
        pods = self.pods_of(dep)
        while len(pods) > want:
            victim = pods.pop()  # newest first, as the ReplicaSet controller ranks them
            try:
                self.api.delete("Pod", ns, victim["metadata"]["name"])
            except ApiError:
                pass
        template = dep.get("spec", {}).get("template", {})
        # The ReplicaSet controller creates at most burstReplicas (500) pods per sync, so a
        # typo like --replicas=100000 does not try to make them all at once.
        want = min(want, len(pods) + BURST_REPLICAS)
        while len(pods) < want:
            while True:
                pod_name = f"{name}-{tmpl_hash}-{random_suffix(self.rng)}"
                if self.api.get("Pod", ns, pod_name) is None:
                    break
            # Built from the template without copying it: ApiStore.create stores a deep copy.
            meta = template.get("metadata", {})
            labels = {**meta.get("labels", {}), "pod-template-hash": tmpl_hash, "netlab.io/deployment": name}
            pod = {"apiVersion": "v1", "kind": "Pod",
                   "metadata": {**meta, "labels": labels, "name": pod_name, "namespace": ns,
                                "ownerReferences": [{"kind": "ReplicaSet", "name": f"{name}-{tmpl_hash}"}]},
                   "spec": template.get("spec", {})}
            pods.append(self.api.create(pod))
