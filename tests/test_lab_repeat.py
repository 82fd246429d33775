"""`kind: Repeat` in a lab file: one manifest template stamped out N times."""
from __future__ import annotations

import pytest

from netlab import Lab
from netlab.spec import load_lab_spec
from netlab.yamlsrc import SourceError

HEAD = """apiVersion: netlab/v1
kind: Lab
spec:
  serviceCIDR: 10.96.0.0/16
  nodes:
  - {name: a, ip: 192.168.0.10, podCIDR: 10.244.0.0/24}
---
apiVersion: v1
kind: Namespace
metadata: {name: tenants}
"""

REPEAT = """---
apiVersion: netlab/v1
kind: Repeat
count: 3
start: 8
template:
  apiVersion: v1
  kind: Service
  metadata: {name: "tenant-${i:04}", namespace: tenants, labels: {tenant: "t${i}"}}
  spec:
    selector: {app: web}
    ports: [{port: "${i}", targetPort: 8080}]
"""


def test_copies_are_numbered_padded_and_typed():
    spec = load_lab_spec(HEAD + REPEAT)
    services = [d.data for d in spec.manifests if d.data["kind"] == "Service"]
    assert [s["metadata"]["name"] for s in services] == ["tenant-0008", "tenant-0009", "tenant-0010"]
    assert [s["metadata"]["labels"]["tenant"] for s in services] == ["t8", "t9", "t10"]
    assert [s["spec"]["ports"][0]["port"] for s in services] == [8, 9, 10]  # exactly "${i}" stays a number
    services[0]["spec"]["selector"]["app"] = "changed"
    assert services[1]["spec"]["selector"]["app"] == "web"  # each copy is its own


def test_a_lab_with_many_services_builds_them_all():
    lab = Lab.load(HEAD + REPEAT.replace("count: 3", "count: 250").replace("start: 8", "start: 1"))
    out = lab.sh("kubectl get svc -n tenants -o name").output.split()
    assert len(out) == 250 and out[0] == "service/tenant-0001" and out[-1] == "service/tenant-0250"


@pytest.mark.parametrize("change, line, message", [
    (("count: 3", "count: 0"), 14, "count: must be a whole number of copies from 1 to 20000"),
    (("count: 3", "count: many"), 14, "count: must be a whole number"),
    (("start: 8", "start: -1"), 15, "start: must be a whole number"),
    (("start: 8", "start: 8\ncolour: blue"), 16, 'unknown field "colour"'),
    (("kind: Service", "kind: Repeat"), 18, "a Repeat cannot repeat another Repeat"),
    (("apiVersion: netlab/v1\nkind: Repeat", "apiVersion: netlab/v2\nkind: Repeat"), 12, "apiVersion: must be netlab/v1"),
])
def test_a_bad_repeat_names_its_line(change, line, message):
    with pytest.raises(SourceError) as err:
        load_lab_spec(HEAD + REPEAT.replace(*change))
    assert err.value.line == line and message in str(err.value)


def test_a_copy_the_api_server_refuses_points_at_the_template():
    text = HEAD + REPEAT.replace('targetPort: 8080', 'targetPort: "x_${i}"')
    with pytest.raises(SourceError) as err:
        Lab.load(text)
    assert err.value.line == 22  # the template's ports line
    assert 'The Service "tenant-0008" is invalid' in str(err.value)
