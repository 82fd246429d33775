"""Invariants that the build-time optimisations rely on: the scheduler's running pod counts
equal a fresh count, and the API store's per-kind index lists what a full scan lists."""
from __future__ import annotations

from collections import Counter

from netlab import Lab

LAB = """
apiVersion: netlab/v1
kind: Lab
metadata: {name: three}
spec:
  dns: {replicas: 0}  # scheduler invariants without the CoreDNS add-on's pods
  podCIDR: 10.244.0.0/16
  underlay: {cidr: 192.168.0.0/24, gateway: 192.168.0.1}
  nodes:
  - {name: a, ip: 192.168.0.10, podCIDR: 10.244.0.0/24, labels: {disk: ssd}}
  - {name: b, ip: 192.168.0.11, podCIDR: 10.244.1.0/24}
  - {name: c, ip: 192.168.0.12, podCIDR: 10.244.2.0/24, labels: {disk: ssd}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 7
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx}]}
---
apiVersion: v1
kind: Pod
metadata: {name: pinned}
spec: {nodeName: b, containers: [{name: c, image: x}]}
"""


def fresh_counts(lab) -> Counter:
    return Counter(p["spec"].get("nodeName") for p in lab.cluster.api.list("Pod"))


def test_pods_spread_evenly_in_creation_order_and_counts_match_a_fresh_count():
    lab = Lab.load(LAB)
    # 7 spread a,b,c,a,b,c,a; then pinned on b; then each node's kube-proxy pod (the DaemonSet's)
    assert fresh_counts(lab) == {"a": 4, "b": 4, "c": 3}
    assert lab.cluster.scheduler._counts == dict(fresh_counts(lab))


def test_after_deletions_replacements_go_to_the_emptiest_node():
    lab = Lab.load(LAB)
    api = lab.cluster.api
    before = {p["metadata"]["name"] for p in api.list("Pod")}
    on_a = [p["metadata"]["name"] for p in api.list("Pod") if p["spec"]["nodeName"] == "a"]
    for name in on_a[:2]:
        api.delete("Pod", "default", name)  # the Deployment replaces each at once
    new = [p for p in api.list("Pod") if p["metadata"]["name"] not in before]
    assert len(new) == 2 and {p["spec"]["nodeName"] for p in new} == {"a"}  # a and c tie at 2: the first listed wins
    assert fresh_counts(lab) == {"a": 4, "b": 4, "c": 3}
    assert lab.cluster.scheduler._counts == dict(fresh_counts(lab))


def test_node_selector_filters_nodes():
    lab = Lab.load(LAB)
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "fast", "namespace": "default"},
           "spec": {"nodeSelector": {"disk": "ssd"}, "containers": [{"name": "c", "image": "x"}]}}
    created = lab.cluster.api.create(pod)
    assert created["spec"]["nodeName"] == "c"  # a and c carry the label; c has fewer pods
    assert lab.cluster.scheduler._counts == dict(fresh_counts(lab))


def test_list_by_kind_equals_a_scan_of_every_object_sorted_by_namespace_and_name():
    lab = Lab.load(LAB)
    api = lab.cluster.api
    api.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "aaa"}})
    api.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "zzz", "namespace": "aaa"},
                "spec": {"containers": [{"name": "c", "image": "x"}]}})
    api.delete("Pod", "default", "pinned")
    for kind in ("Pod", "Namespace", "Node", "Deployment", "Service"):
        for namespace in (None, "default", "aaa"):
            scan = [o for (k, ns, _), o in api.objects.items() if k == kind and (namespace is None or ns == namespace)]
            scan.sort(key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"]))
            assert api.list(kind, namespace) == scan
    assert api.list("Pod")[0]["metadata"]["name"] == "zzz"


def test_stored_objects_share_nothing_with_what_was_given():
    lab = Lab.load(LAB)
    manifest = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "labels": {"x": "1"}},
                "spec": {"containers": [{"name": "c", "image": "x", "ports": [{"containerPort": 80}]}]}}
    stored = lab.cluster.api.create(manifest)
    manifest["metadata"]["labels"]["x"] = "changed"
    manifest["spec"]["containers"][0]["ports"].append({"containerPort": 81})
    assert stored["metadata"]["labels"] == {"x": "1"}
    assert stored["spec"]["containers"][0]["ports"] == [{"containerPort": 80}]
    # Deployment pods do not share their template's objects either.
    dep = lab.cluster.api.get("Deployment", "default", "web")
    pod = next(p for p in lab.cluster.api.list("Pod") if p["metadata"]["name"].startswith("web-"))
    pod["spec"]["containers"][0]["image"] = "changed"
    assert dep["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx"
    assert "pod-template-hash" not in dep["spec"]["template"]["metadata"]["labels"]
