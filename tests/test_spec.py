"""Lab files: what they accept, their defaults, and how they refuse."""
from __future__ import annotations

import pytest

from netlab import Lab
from netlab.net.addr import fmt_ip
from netlab.spec import load_lab_spec
from netlab.yamlsrc import SourceError

MINIMAL = """apiVersion: netlab/v1
kind: Lab
spec:
  nodes:
  - {name: a, ip: 192.168.0.10, podCIDR: 10.244.0.0/24}
"""


def test_defaults_follow_kubeadm_and_flannel():
    spec = load_lab_spec(MINIMAL)
    assert spec.cluster_domain == "cluster.local"
    assert fmt_ip(spec.cluster_dns) == "10.96.0.10"
    assert (spec.cni.plugin, spec.cni.backend, spec.cni.bridge, spec.cni.port) == ("flannel", "vxlan", "cni0", 8472)
    assert not spec.cni.legacy_vxlan
    assert spec.workstation == "a"


def test_default_lab_is_the_seed_cluster(default_lab_text):
    spec = load_lab_spec(default_lab_text)
    assert [n.name for n in spec.nodes] == ["192.168.0.21", "192.168.0.22"]
    assert spec.cni.bridge == "docker0" and spec.cni.legacy_vxlan
    assert fmt_ip(spec.cluster_dns) == "10.254.0.2"


@pytest.mark.parametrize("patch, message", [
    ("  - {name: b, ip: 192.168.0.10, podCIDR: 10.244.1.0/24}\n", "duplicate node IP"),
    ("  - {name: a, ip: 192.168.0.11, podCIDR: 10.244.1.0/24}\n", "duplicate node name"),
    ("  - {name: b, ip: 192.168.0.11, podCIDR: 10.244.0.128/25}\n", "overlaps another node's podCIDR"),
    ("  - {name: b, ip: 10.9.9.9, podCIDR: 10.244.1.0/24}\n", "is in no spec.underlay subnet"),
    ("  - {name: b, ip: 192.168.0.11, podCIDR: 10.99.1.0/24}\n", "must be inside spec.podCIDR"),
    ("  - {name: b, ip: 192.168.0.11}\n", "missing required field \"podCIDR\""),
])
def test_node_mistakes_name_the_line(patch, message):
    with pytest.raises(SourceError) as err:
        load_lab_spec(MINIMAL + patch)
    assert err.value.line == 6
    assert message in str(err.value)


def test_manifest_errors_point_into_the_manifest():
    text = MINIMAL + "---\napiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec: {}\n"
    with pytest.raises(SourceError) as err:
        Lab.load(text)
    assert err.value.line == 10
    assert "spec.containers: Required value" in str(err.value)


def test_unknown_kind_is_refused_with_kubectls_words():
    text = MINIMAL + "---\napiVersion: v1\nkind: Frobnicator\nmetadata: {name: x}\n"
    with pytest.raises(SourceError, match='no matches for kind "Frobnicator" in version "v1"'):
        Lab.load(text)


def test_seed_controls_generated_names():
    a, b = Lab.default(), Lab.default()
    assert sorted(a.cluster.pod_ns) == sorted(b.cluster.pod_ns)
