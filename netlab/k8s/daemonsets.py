"""The DaemonSet controller: one pod of each DaemonSet on every node its template fits.

As upstream (pkg/controller/daemon): a pod per eligible node (the template's
nodeSelector against the node's labels), pods named `<daemonset>-<5 random>`, bound to
their node through a required node affinity on `metadata.name`, labelled with
`controller-revision-hash` and `pod-template-generation`. A changed template (a new
image, or the `kubectl.kubernetes.io/restartedAt` annotation `kubectl rollout restart`
writes) replaces the pods node by node — the RollingUpdate finishes at once, as netlab's
Deployments do. A deleted pod is replaced on the same node.
"""
from __future__ import annotations

from netlab.k8s.api import ADDED, DELETED, MODIFIED, ApiError, ApiStore, Event
from netlab.k8s.names import pod_template_hash, random_suffix


def owner_of(pod: dict) -> str | None:
    """The DaemonSet that owns a pod, by its ownerReference."""
    for ref in pod["metadata"].get("ownerReferences") or []:
        if ref.get("kind") == "DaemonSet":
            return ref.get("name")
    return None


class DaemonSetController:
    def __init__(self, api: ApiStore, rng, node_order: list[str]) -> None:
        self.api = api
        self.rng = rng  # its own stream: Deployment pod names stay what they were
        self.node_order = node_order
        self._busy: set[tuple[str, str]] = set()
        api.watch({"DaemonSet"}, self.on_event)
        api.watch({"Pod"}, self.on_pod)

    def on_event(self, event: Event) -> None:
        if event.type == DELETED:
            for pod in self.pods_of(event.obj):
                self._delete(pod)
        elif event.type in (ADDED, MODIFIED):
            self.sync(event.obj)

    def on_pod(self, event: Event) -> None:
        """A DaemonSet's pod was deleted: the controller makes a new one for that node."""
        if event.type != DELETED:
            return
        owner = owner_of(event.obj)
        if owner is None:
            return
        ds = self.api.get("DaemonSet", event.obj["metadata"].get("namespace", "default"), owner)
        if ds is not None:
            self.sync(ds)

    def pods_of(self, ds: dict) -> list[dict]:
        ns, name = ds["metadata"].get("namespace", "default"), ds["metadata"]["name"]
        return [p for p in self.api.list("Pod", ns) if owner_of(p) == name]

    def eligible(self, ds: dict) -> list[str]:
        """The nodes whose labels the template's nodeSelector matches, in node order."""
        selector = ((ds.get("spec") or {}).get("template") or {}).get("spec", {}).get("nodeSelector") or {}
        out = []
        for name in self.node_order:
            labels = ((self.api.get("Node", "", name) or {}).get("metadata") or {}).get("labels") or {}
            if all(labels.get(k) == str(v) for k, v in selector.items()):
                out.append(name)
        return out

    def sync(self, ds: dict) -> None:
        key = (ds["metadata"].get("namespace", "default"), ds["metadata"]["name"])
        if key in self._busy:  # our own deletions come back as events: this sync handles them
            return
        self._busy.add(key)
        try:
            template = (ds.get("spec") or {}).get("template") or {}
            revision = pod_template_hash(template)
            nodes = self.eligible(ds)
            generation = int(ds["metadata"].get("generation") or 1)
            for node in self.node_order:
                on_node = [p for p in self.pods_of(ds) if (p.get("spec") or {}).get("nodeName") == node]
                current = [p for p in on_node if node in nodes
                           and p["metadata"].get("labels", {}).get("controller-revision-hash") == revision][:1]
                for pod in on_node:
                    if not any(pod is c for c in current):
                        self._delete(pod)
                if node in nodes and not current:
                    self._create(ds, node, revision, generation)
        finally:
            self._busy.discard(key)
        self.update_status(ds)

    def update_status(self, ds: dict) -> None:
        """Counts as the controller reports them (`kubectl get ds`), written in place: a
        status change is not a spec change to react to."""
        current = self.api.get("DaemonSet", ds["metadata"].get("namespace", "default"), ds["metadata"]["name"])
        if current is None:
            return
        pods = self.pods_of(current)
        revision = pod_template_hash((current.get("spec") or {}).get("template") or {})
        ready = sum(1 for p in pods if _ready(p))
        current["status"] = {
            "currentNumberScheduled": len(pods), "desiredNumberScheduled": len(self.eligible(current)),
            "numberAvailable": ready, "numberMisscheduled": 0, "numberReady": ready,
            "observedGeneration": int(current["metadata"].get("generation") or 1),
            "updatedNumberScheduled": sum(1 for p in pods
                                          if p["metadata"].get("labels", {}).get("controller-revision-hash") == revision)}

    def _create(self, ds: dict, node: str, revision: str, generation: int) -> None:
        ns, name = ds["metadata"].get("namespace", "default"), ds["metadata"]["name"]
        template = (ds.get("spec") or {}).get("template") or {}
        while True:
            pod_name = f"{name}-{random_suffix(self.rng)}"
            if self.api.get("Pod", ns, pod_name) is None:
                break
        meta = template.get("metadata") or {}
        labels = {**(meta.get("labels") or {}), "controller-revision-hash": revision,
                  "pod-template-generation": str(generation)}
        affinity = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}]}}}
        spec = {**(template.get("spec") or {}), "affinity": affinity, "nodeName": node}
        self.api.create({"apiVersion": "v1", "kind": "Pod",
                         "metadata": {**meta, "labels": labels, "name": pod_name, "namespace": ns,
                                      "ownerReferences": [{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": name,
                                                           "controller": True, "blockOwnerDeletion": True}]},
                         "spec": spec})

    def _delete(self, pod: dict) -> None:
        try:
            self.api.delete("Pod", pod["metadata"].get("namespace", "default"), pod["metadata"]["name"])
        except ApiError:
            pass


def _ready(pod: dict) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in (pod.get("status") or {}).get("conditions", []))
