"""br_netfilter: a same-node Service reply is bridged, and only bridge-nf-call-iptables=1
lets conntrack un-DNAT it (the seed's same-node Service-to-Pod return path)."""
from pathlib import Path

from netlab.lab import Lab
from netlab.net import netfilter as nf

RULES = (Path(__file__).parent / "reference" / "rules_kube_proxy.rules").read_text()
NODE, CLIENT = "192.168.0.21", "data-product-7d9986dbfc-4vww9"


def same_node_lab() -> Lab:
    lab = Lab.default()
    f = nf.load(lab.cluster.nodes[NODE].ns)
    f.restore(RULES)
    # the Service's only endpoint is business-manager on this node (172.30.76.4), port 8080
    f.replace_chains("nat", {
        "KUBE-SVC-FZ5DC5B5DCQ4E7RC": [nf.Rule(target=nf.Jump("KUBE-SEP-A"))],
        "KUBE-SEP-A": [nf.Rule(proto="tcp", matches=[nf.Tcp()], target=nf.Dnat("172.30.76.4:8080"))]})
    return lab


def test_bridged_reply_is_un_dnated():
    lab = same_node_lab()
    r = lab.sh("curl -s -m 2 10.254.80.22", on=CLIENT)
    assert r.exit_code == 0 and r.output.startswith("business-manager-")
    undo = [h for t in r.traces for h in t.hops if h.kind == "nat" and "un-DNAT" in h.text]
    assert undo and all(h.where() == f"{NODE}/docker0" for h in undo)


def test_without_bridge_nf_call_iptables_the_reply_comes_from_the_pod():
    lab = same_node_lab()
    lab.cluster.nodes[NODE].ns.sysctl["net.bridge.bridge-nf-call-iptables"] = "0"
    r = lab.sh("curl -s -m 2 10.254.80.22", on=CLIENT)
    assert not [h for t in r.traces for h in t.hops if h.kind == "nat" and "un-DNAT" in h.text]
    # the client sees its answer come from the pod, not from the Service it called
    assert [h for t in r.traces for h in t.hops if h.ns == CLIENT and h.kind == "rx"
            and h.text.startswith("eth0 receives 172.30.76.4:8080 > 172.30.76.2:")]
