"""kube-proxy's ipvs mode syncs ipsets and kube-ipvs0 addresses by difference (not flush and
refill, not one address at a time): the result must equal a fresh full sync, and hand edits
must be undone by the periodic resync."""
from __future__ import annotations

from netlab import Lab

LAB = """apiVersion: netlab/v1
kind: Lab
spec:
  podCIDR: 10.244.0.0/16
  serviceCIDR: 10.96.0.0/12
  kubeProxy: {mode: ipvs}
  nodes:
  - {name: a, ip: 192.168.0.10, podCIDR: 10.244.0.0/24}
"""


def svc(name: str, ip: str, node_port: int = 0) -> dict:
    port = {"port": 80, **({"nodePort": node_port} if node_port else {})}
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": "default"},
            "spec": {"clusterIP": ip, "type": "NodePort" if node_port else "ClusterIP", "ports": [port]}}


def state(lab: Lab) -> tuple:
    """Members compared as sets: a hash set's listing order is the kernel's bucket order, not
    something kube-proxy controls (netlab lists in insertion order)."""
    return (sorted(lab.sh("ipset save", on="a").output.splitlines()),
            sorted(lab.sh("ip -4 addr show dev kube-ipvs0", on="a").output.splitlines()),
            sorted(lab.sh("ip route show table local", on="a").output.splitlines()))


def test_incremental_ipvs_state_equals_a_fresh_sync_and_undoes_hand_edits():
    lab = Lab.load(LAB)
    api = lab.cluster.api
    for i in range(30):
        api.create(svc(f"s{i}", f"10.96.1.{i + 1}", 30100 + i if i % 3 == 0 else 0))
    lab.cluster.tick()
    for i in range(0, 30, 4):
        api.delete("Service", "default", f"s{i}")
    api.create(svc("late", "10.96.2.1", 30999))
    lab.cluster.tick()
    fresh = Lab.load(LAB)
    for obj in api.list("Service", "default"):
        if obj["metadata"]["name"] != "kubernetes":
            fresh.cluster.api.create(svc(obj["metadata"]["name"], obj["spec"]["clusterIP"],
                                         obj["spec"]["ports"][0].get("nodePort") or 0))
    fresh.cluster.tick()
    assert state(lab) == state(fresh)
    want = state(lab)
    assert any("10.96.1.2/32" in line for line in want[1]) and not any("10.96.1.1/" in line for line in want[1])
    r = lab.sh("ipset del KUBE-CLUSTER-IP 10.96.1.2,tcp:80; ipset add KUBE-CLUSTER-IP 10.9.9.9,tcp:80; "
               "ip addr del 10.96.1.2/32 dev kube-ipvs0", on="a")
    assert r.exit_code == 0, r.output
    assert state(lab) != want
    lab.world.clock += 31
    lab.cluster.tick()
    assert state(lab) == want
