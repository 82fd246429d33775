"""IPVS un-NATs a real server's reply that is bridged, not routed, back to a client on the same
node: br_netfilter runs the FORWARD hook, where ip_vs_reply4 sits (kube-proxy's ipvs mode with a
pod calling a Service whose chosen endpoint is on its own node)."""
from __future__ import annotations

from netlab import Lab
from netlab.spec import default_lab_text


def test_same_node_and_cross_node_endpoints_both_answer():
    lab = Lab.load(default_lab_text().replace("mode: iptables", "mode: ipvs"))
    assert lab.cluster.kube_proxies["192.168.0.21"].mode == "ipvs"
    answered = set()
    for _ in range(6):  # rr: every real server in turn, one of them on the client's node
        r = lab.sh("kubectl exec business-manager-5c459c947d-7crrf -- curl -s -m 1 http://10.254.116.224:50051/")
        assert r.ok, r.output
        answered.add(r.output.strip())
    assert answered == {p["metadata"]["name"] for p in lab.cluster.api.list("Pod", "default")
                        if p["metadata"]["name"].startswith("data-product-")}
