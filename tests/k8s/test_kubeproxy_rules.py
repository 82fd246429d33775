"""kube-proxy's generated rules: chain names, order and probabilities as upstream writes them."""
from __future__ import annotations

from netlab import Lab
from netlab.k8s.kubeproxy.iptables_rules import build, probability
from netlab.k8s.kubeproxy.model import port_proto_hash, service_ports


def test_known_chain_hash():
    assert port_proto_hash("default/kubernetes:https", "tcp") == "NPX46M4PTMTKRN6Y"


def test_seed_article_chain_names_come_out_exactly():
    """The seed's iptables-save shows these names for its Services and endpoints."""
    lab = Lab.default()
    ports = {sp.name: sp for sp in service_ports(lab.cluster.api, "192.168.0.21")}
    assert "KUBE-SVC-" + ports["business-manager"].hash == "KUBE-SVC-FZ5DC5B5DCQ4E7RC"
    assert "KUBE-SVC-" + ports["data-product"].hash == "KUBE-SVC-45TXGSBX3LGQQRTB"
    seps = {ep.text: ports["business-manager"].sep(ep) for ep in ports["business-manager"].endpoints}
    assert seps["172.30.9.3:8080"] == "KUBE-SEP-CNIAJ35IU3EJ7UR6"
    seps = {ep.text: ports["data-product"].sep(ep) for ep in ports["data-product"].endpoints}
    assert seps["172.30.76.3:50051"] == "KUBE-SEP-DGXT5Z3WOYVLBGRM"


def test_probability_chain_is_one_third_one_half_then_unconditional():
    lab = Lab.default()
    ports = service_ports(lab.cluster.api, "192.168.0.21")
    for style, expected in (("modern", ["0.33333333349", "0.50000000000"]), ("legacy", ["0.33332999982", "0.50000000000"])):
        rs = build(ports, node="192.168.0.21", cluster_cidr="172.30.0.0/16", style=style)
        specs = [r.spec() for r in rs.chains["nat"]["KUBE-SVC-45TXGSBX3LGQQRTB"] if "KUBE-MARK-MASQ" not in r.spec()]
        probs = [s.split("--probability ")[1].split()[0] for s in specs if "--probability" in s]
        assert probs == expected
        assert "--probability" not in specs[-1]
    assert probability(3, "modern") == "0.3333333333" and probability(3, "legacy") == "0.33333"


def test_service_without_endpoints_rejects_in_filter():
    lab = Lab.default()
    lab.sh("kubectl scale deploy data-product --replicas=0")
    rs = build(service_ports(lab.cluster.api, "192.168.0.21"), node="192.168.0.21", cluster_cidr="172.30.0.0/16")
    rejects = [r.spec() for r in rs.chains["filter"]["KUBE-SERVICES"]]
    assert rejects == ['-d 10.254.116.224/32 -p tcp -m comment --comment "default/data-product:data-product has no endpoints" '
                       "-m tcp --dport 50051 -j REJECT --reject-with icmp-port-unreachable"]
    assert "KUBE-SVC-45TXGSBX3LGQQRTB" not in rs.chains["nat"]
