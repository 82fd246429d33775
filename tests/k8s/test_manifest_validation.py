"""Manifest decoding and validation: the API server's words for each mistake."""
from __future__ import annotations

import pytest

from netlab.k8s.validate import ManifestError, check_object, validate_manifest

LABEL_MSG = ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start "
             "and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
             "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')")


def svc(**spec) -> dict:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
            "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}], **spec}}


def refusal(obj, old=None) -> ManifestError:
    with pytest.raises(ManifestError) as err:
        check_object(obj, old)
    return err.value


def test_unknown_field_is_a_strict_decoding_error():
    obj = svc()
    obj["spec"]["selecter"] = obj["spec"].pop("selector")
    assert refusal(obj).text("creating", "svc.yaml") == (
        'Error from server (BadRequest): error when creating "svc.yaml": Service in version "v1" cannot be handled '
        'as a Service: strict decoding error: unknown field "spec.selecter"')


def test_every_unknown_field_is_listed_with_its_index():
    obj = svc(ports=[{"port": 80, "nmae": "http"}])
    obj["metadata"]["lables"] = {}
    assert refusal(obj).detail.endswith(
        'strict decoding error: unknown field "metadata.lables", unknown field "spec.ports[0].nmae"')


@pytest.mark.parametrize("ports, detail", [
    ([{"port": "80"}], "json: cannot unmarshal string into Go struct field ServicePort.spec.ports.port of type int32"),
    ([{"port": 1.5}], "json: cannot unmarshal number 1.5 into Go struct field ServicePort.spec.ports.port of type int32"),
    ({"port": 80}, "json: cannot unmarshal object into Go struct field ServiceSpec.spec.ports of type []v1.ServicePort"),
    ([{"port": 80, "targetPort": [1]}],
     "json: cannot unmarshal array into Go struct field ServicePort.spec.ports.targetPort of type intstr.IntOrString"),
])
def test_wrong_types_are_gos_unmarshal_errors(ports, detail):
    err = refusal(svc(ports=ports))
    assert err.text() == f'Error from server (BadRequest): Service in version "v1" cannot be handled as a Service: {detail}'


def test_configmap_values_must_be_strings():
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"port": 80}}
    assert refusal(obj).detail == ('ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot '
                                   "unmarshal number into Go struct field ConfigMap.data of type string")


def test_seed_port_names():
    check_object(svc(ports=[{"name": "123-abc", "port": 80}]))
    err = refusal(svc(ports=[{"name": "123_abc", "port": 80}, {"name": "-web", "port": 81}]))
    assert err.text() == (
        'The Service "web" is invalid: \n'
        f'* spec.ports[0].name: Invalid value: "123_abc": {LABEL_MSG}\n'
        f'* spec.ports[1].name: Invalid value: "-web": {LABEL_MSG}')


def test_container_port_names_follow_iana_svc_name():
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
           "spec": {"containers": [{"name": "c", "image": "nginx",
                                    "ports": [{"containerPort": 80, "name": "-web"}, {"containerPort": 81, "name": "a_b"}]}]}}
    assert refusal(pod).text() == (
        'The Pod "p" is invalid: \n'
        '* spec.containers[0].ports[0].name: Invalid value: "-web": must not begin or end with a hyphen (-)\n'
        '* spec.containers[0].ports[1].name: Invalid value: "a_b": must contain only alpha-numeric characters '
        "(a-z, 0-9), and hyphens (-)")


def test_missing_required_fields():
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"image": "x"}]}}
    assert refusal(pod).text() == 'The Pod "p" is invalid: spec.containers[0].name: Required value'
    nameless = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}}
    assert refusal(nameless).text() == ('The ConfigMap "" is invalid: metadata.name: Required value: name or '
                                        "generateName is required")


def test_service_names_are_dns1035_labels():
    obj = svc()
    obj["metadata"]["name"] = "1web"
    assert refusal(obj).text() == (
        'The Service "1web" is invalid: metadata.name: Invalid value: "1web": a DNS-1035 label must consist of lower '
        "case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric "
        "character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')")


def test_label_values():
    obj = svc()
    obj["metadata"]["labels"] = {"app": "my app"}
    assert refusal(obj).text() == (
        'The Service "web" is invalid: metadata.labels: Invalid value: "my app": a valid label must be an empty '
        "string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
        "character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is "
        "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')")


def test_cluster_ip_is_immutable():
    old = svc(clusterIP="10.96.0.10")
    new = svc(clusterIP="10.96.0.11")
    assert refusal(new, old).text() == (
        'The Service "web" is invalid: \n'
        '* spec.clusterIPs[0]: Invalid value: []string{"10.96.0.11"}: may not change once set\n'
        '* spec.clusterIP: Invalid value: "10.96.0.11": field is immutable')


def test_unknown_kind_and_missing_kind():
    err = refusal({"apiVersion": "v1", "kind": "Frob", "metadata": {"name": "f"}})
    assert err.text(source="f.yaml") == ('error: resource mapping not found for name: "f" namespace: "" from "f.yaml": '
                                         'no matches for kind "Frob" in version "v1"\nensure CRDs are installed first')
    assert refusal({"apiVersion": "v1"}).text(source="f.yaml") == (
        'error: error validating "f.yaml": error validating data: kind not set; if you choose to ignore these errors, '
        "turn validation off with --validate=false")


def test_lab_files_get_one_line_naming_the_field():
    obj = svc(ports=[{"name": "a_b", "port": 80}])
    path, message = validate_manifest(obj)
    assert path == "spec.ports[0].name"
    assert "\n" not in message and message.startswith('The Service "web" is invalid: spec.ports[0].name: Invalid value')
