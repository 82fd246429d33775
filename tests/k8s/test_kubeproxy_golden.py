"""Golden iptables-save texts for a node running kube-proxy, in both rule styles.

The lab (golden_iptables/services.yaml) holds one Service of every kind kube-proxy programs,
with fixed ClusterIPs, NodePorts and LoadBalancer IPs, so the text is stable. Each line was
reviewed against upstream: `modern` against pkg/proxy/iptables/proxier.go of 1.26 and the
expected outputs in its proxier_test.go (KUBE-PROXY-FIREWALL, a comment-only last rule in
KUBE-FW-, filter-table DROP for "has no local endpoints", no SVL chain without local
endpoints); `legacy` against the ~1.9 proxier and the seed article's dump (KUBE-XLB-,
KUBE-FW- ending in KUBE-MARK-DROP, %0.5f probabilities, no comments on endpoint rules).
Node a runs local-lb's only endpoint; node b runs local-np's, so Local policy differs.

Regenerate after a deliberate change with NETLAB_UPDATE_GOLDEN=1 and review the diff.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from netlab import Lab
from netlab.k8s.kubeproxy.model import endpoint_chain, port_proto_hash

HERE = Path(__file__).parent / "golden_iptables"
LAB = (HERE / "services.yaml").read_text()
CASES = [(style, node) for style in ("modern", "legacy") for node in ("a", "b")]


def lab_for(style: str) -> Lab:
    return Lab.load(LAB.replace("style: modern", f"style: {style}"))


@pytest.fixture(scope="module")
def labs():
    return {style: lab_for(style) for style in ("modern", "legacy")}


@pytest.mark.parametrize("style,node", CASES, ids=[f"{s}-{n}" for s, n in CASES])
def test_iptables_save_matches_golden(labs, style, node):
    out = labs[style].sh("iptables-save", on=node).output
    path = HERE / f"{style}-{node}.txt"
    if os.environ.get("NETLAB_UPDATE_GOLDEN"):
        path.write_text(out)
    expected = path.read_text()
    for i, (got, want) in enumerate(zip(out.splitlines(), expected.splitlines()), 1):
        assert got == want, f"{path.name} line {i}"
    assert out == expected


@pytest.mark.parametrize("style,node", CASES, ids=[f"{s}-{n}" for s, n in CASES])
def test_golden_round_trips_through_iptables_restore(labs, style, node):
    """What iptables-save prints, iptables-restore takes back unchanged (the kernel does too:
    see tests/oracle/test_oracle_kubeproxy.py)."""
    lab = labs[style]
    saved = lab.sh("iptables-save", on=node).output
    lab.cluster.kube_proxies[node].paused = True
    r = lab.sh("iptables-save > /tmp/x; cat /tmp/x | iptables-restore; iptables-save", on=node)
    assert r.exit_code == 0, r.output
    assert r.output == saved


def test_chain_hashes_match_upstream():
    assert port_proto_hash("default/kubernetes:https", "tcp") == "NPX46M4PTMTKRN6Y"
    # From upstream proxier_test.go's expected output (TestOverallIPTablesRules).
    assert port_proto_hash("ns1/svc1:p80", "tcp") == "XPGD46QRK7WJZT7O"
    assert port_proto_hash("ns2/svc2:p80", "tcp") == "GNZBNJ2PO5MGZ6GT"
    assert port_proto_hash("ns5/svc5:p80", "tcp") == "NUKIZ6OKUXPJNT4C"
    assert endpoint_chain("ns1/svc1:p80", "tcp", "10.180.0.1:80") == "KUBE-SEP-SXIVWICOYRO3J4NJ"
    assert endpoint_chain("ns4/svc4:p80", "tcp", "10.180.0.5:80") == "KUBE-SEP-C6EBXVWJJZMIWKLZ"


def test_each_style_writes_only_its_own_chains(labs):
    modern = labs["modern"].sh("iptables-save", on="a").output
    legacy = labs["legacy"].sh("iptables-save", on="a").output
    assert "KUBE-XLB-" not in modern and "KUBE-EXT-" in modern and "KUBE-PROXY-FIREWALL" in modern
    assert "KUBE-XLB-" in legacy and "KUBE-EXT-" not in legacy and "KUBE-PROXY-FIREWALL" not in legacy
    assert "0.33333333349" in modern and "0.33332999982" in legacy
