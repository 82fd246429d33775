"""The Deployment controller and kubelet at their edges: a template change replaces every pod
in one sync, a huge replica count is created in bursts, and a node whose pod CIDR is full
leaves new pods ContainerCreating instead of failing the command."""
from __future__ import annotations

from netlab import Lab


def test_a_template_change_replaces_every_pod_once():
    lab = Lab.default()
    before = {p["metadata"]["name"] for p in lab.cluster.api.list("Pod", "default")}
    r = lab.sh("kubectl patch deployment business-manager -p "
               "'{\"spec\":{\"template\":{\"metadata\":{\"labels\":{\"version\":\"2\"}}}}}'")
    assert r.ok and "internal error" not in r.output, r.output
    pods = [p for p in lab.cluster.api.list("Pod", "default") if p["metadata"]["name"].startswith("business-manager-")]
    assert len(pods) == 3 and all(p["metadata"]["labels"]["version"] == "2" for p in pods)
    assert not {p["metadata"]["name"] for p in pods} & before


def test_a_full_node_leaves_pods_container_creating_and_a_huge_scale_is_capped():
    lab = Lab.default()
    r = lab.sh("kubectl create deployment big --image=nginx --replicas=600")
    assert r.ok and "internal error" not in r.output
    rows = [line.split() for line in lab.sh("kubectl get po").output.splitlines()[1:] if line.startswith("big-")]
    assert len(rows) == 500  # burstReplicas: at most 500 pods per sync
    waiting = [row for row in rows if row[2] == "ContainerCreating"]
    assert waiting and all(row[1] == "0/1" for row in waiting)  # both /24s are full: 253 addresses each
    assert lab.sh("kubectl scale deployment big --replicas=0").ok
    assert not any(line.startswith("big-") for line in lab.sh("kubectl get po").output.splitlines())
