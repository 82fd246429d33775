"""kubectl apply/create/delete -f against the default lab, with exact output."""
from __future__ import annotations

import json

import pytest

from netlab.lab import Lab

SVC = """apiVersion: v1
kind: Service
metadata:
  name: web2
spec:
  selector:
    app: web
  ports:
  - port: 80
    targetPort: 8080
"""


@pytest.fixture
def lab():
    return Lab.default()


def sh(lab, line: str) -> tuple[str, int]:
    r = lab.session.run(line)
    return r.output, r.exit_code


def put(lab, path: str, text: str) -> None:
    lab.session.ctx.ns.files[path] = text


def test_apply_creates_then_unchanged_then_configured(lab):
    put(lab, "svc.yaml", SVC)
    assert sh(lab, "kubectl apply -f svc.yaml") == ("service/web2 created\n", 0)
    assert sh(lab, "kubectl apply -f svc.yaml") == ("service/web2 unchanged\n", 0)
    ip = lab.cluster.api.get("Service", "default", "web2")["spec"]["clusterIP"]
    put(lab, "svc.yaml", SVC.replace("8080", "9090"))
    assert sh(lab, "kubectl apply -f svc.yaml") == ("service/web2 configured\n", 0)
    live = lab.cluster.api.get("Service", "default", "web2")
    assert live["spec"]["ports"][0]["targetPort"] == 9090
    assert live["spec"]["clusterIP"] == ip  # the server's field survives the merge


def test_last_applied_annotation_is_kubectls(lab):
    put(lab, "svc.yaml", SVC)
    sh(lab, "kubectl apply -f svc.yaml")
    note = lab.cluster.api.get("Service", "default", "web2")["metadata"]["annotations"][
        "kubectl.kubernetes.io/last-applied-configuration"]
    assert note == ('{"apiVersion":"v1","kind":"Service","metadata":{"annotations":{},"name":"web2","namespace":"default"},'
                    '"spec":{"ports":[{"port":80,"targetPort":8080}],"selector":{"app":"web"}}}\n')


def test_three_way_merge_deletes_what_the_file_dropped_and_keeps_others_changes(lab):
    put(lab, "svc.yaml", SVC.replace("  selector:\n", "  sessionAffinity: ClientIP\n  selector:\n"))
    sh(lab, "kubectl apply -f svc.yaml")
    assert sh(lab, "kubectl label svc web2 team=a") == ("service/web2 labeled\n", 0)
    put(lab, "svc.yaml", SVC)
    assert sh(lab, "kubectl apply -f svc.yaml") == ("service/web2 configured\n", 0)
    live = lab.cluster.api.get("Service", "default", "web2")
    assert live["metadata"]["labels"] == {"team": "a"}
    assert live["spec"]["sessionAffinity"] == "None"  # dropped from the file: back to the default


def test_ports_merge_by_port(lab):
    put(lab, "svc.yaml", SVC)
    sh(lab, "kubectl apply -f svc.yaml")
    put(lab, "svc.yaml", SVC.replace("- port: 80", "- port: 81"))
    sh(lab, "kubectl apply -f svc.yaml")
    ports = lab.cluster.api.get("Service", "default", "web2")["spec"]["ports"]
    assert [(p["port"], p["targetPort"]) for p in ports] == [(81, 8080)]


def test_multi_document_file_applies_the_good_documents_and_reports_the_rest(lab):
    bad_svc = SVC.replace("selector", "selecter").replace("web2", "web3")
    cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c1\ndata:\n  a: b\n"
    frob = "apiVersion: v1\nkind: Frob\nmetadata:\n  name: f\n"
    put(lab, "all.yaml", "---\n".join([bad_svc, cm, frob]))
    before = set(lab.cluster.api.objects)
    out, code = sh(lab, "kubectl apply -f all.yaml")
    assert (out, code) == (
        "configmap/c1 created\n"
        'Error from server (BadRequest): error when creating "all.yaml": Service in version "v1" cannot be handled '
        'as a Service: strict decoding error: unknown field "spec.selecter"\n'
        'error: resource mapping not found for name: "f" namespace: "" from "all.yaml": no matches for kind "Frob" '
        'in version "v1"\nensure CRDs are installed first\n', 1)
    assert set(lab.cluster.api.objects) - before == {("ConfigMap", "default", "c1")}


def test_a_refused_update_changes_nothing(lab):
    put(lab, "svc.yaml", SVC)
    sh(lab, "kubectl apply -f svc.yaml")
    live = json.dumps(lab.cluster.api.get("Service", "default", "web2"), sort_keys=True)
    put(lab, "svc.yaml", SVC.replace("  ports:", "  clusterIP: 10.254.0.200\n  ports:"))
    out, code = sh(lab, "kubectl apply -f svc.yaml")
    assert code == 1
    assert out == ('The Service "web2" is invalid: \n'
                   '* spec.clusterIPs[0]: Invalid value: []string{"10.254.0.200"}: may not change once set\n'
                   '* spec.clusterIP: Invalid value: "10.254.0.200": field is immutable\n')
    assert json.dumps(lab.cluster.api.get("Service", "default", "web2"), sort_keys=True) == live


def test_apply_from_stdin_and_echo(lab):
    out, code = sh(lab, "echo 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c9' | kubectl apply -f -")
    assert (out, code) == ("configmap/c9 created\n", 0)
    sh(lab, "echo 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-b' > ns.yaml")
    assert sh(lab, "kubectl apply -f ns.yaml") == ("namespace/team-b created\n", 0)


def test_file_and_yaml_errors(lab):
    assert sh(lab, "kubectl apply -f nope.yaml") == ('error: the path "nope.yaml" does not exist\n', 1)
    put(lab, "bad.yaml", "apiVersion: v1\nkind: [\n")
    out, code = sh(lab, "kubectl apply -f bad.yaml")
    assert code == 1 and out.startswith("error: error parsing bad.yaml: error converting YAML to JSON: yaml: line 3:")
    assert sh(lab, "kubectl apply") == ("error: must specify one of -f and -k\n\nSee 'kubectl apply -h' for help and "
                                        "examples\n", 1)


def test_namespace_must_exist_and_agree_with_the_flag(lab):
    put(lab, "svc.yaml", SVC.replace("  name: web2\n", "  name: web2\n  namespace: nowhere\n"))
    assert sh(lab, "kubectl apply -f svc.yaml") == (
        'Error from server (NotFound): error when creating "svc.yaml": namespaces "nowhere" not found\n', 1)
    assert sh(lab, "kubectl apply -f svc.yaml -n default") == (
        'error: the namespace from the provided object "nowhere" does not match the namespace "default". You must '
        "pass '--namespace=nowhere' to perform this operation.\n", 1)


def test_apply_to_an_object_made_without_apply_warns_and_patches(lab):
    out, code = sh(lab, "kubectl create configmap c1 --from-literal=a=b")
    put(lab, "cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c1\ndata:\n  a: c\n")
    out, code = sh(lab, "kubectl apply -f cm.yaml")
    assert code == 0
    assert out == ("Warning: resource configmaps/c1 is missing the kubectl.kubernetes.io/last-applied-configuration "
                   "annotation which is required by kubectl apply. kubectl apply should only be used on resources "
                   "created declaratively by either kubectl create --save-config or kubectl apply. The missing "
                   "annotation will be patched automatically.\nconfigmap/c1 configured\n")


def test_create_and_delete_from_a_file(lab):
    put(lab, "svc.yaml", SVC)
    assert sh(lab, "kubectl create -f svc.yaml") == ("service/web2 created\n", 0)
    assert sh(lab, "kubectl create -f svc.yaml") == (
        'Error from server (AlreadyExists): error when creating "svc.yaml": services "web2" already exists\n', 1)
    assert sh(lab, "kubectl delete -f svc.yaml") == ('service "web2" deleted\n', 0)
    assert sh(lab, "kubectl delete -f svc.yaml") == (
        'Error from server (NotFound): error when deleting "svc.yaml": services "web2" not found\n', 1)
    assert lab.cluster.api.get("Service", "default", "web2") is None


def test_deployment_apply_makes_pods(lab):
    dep = ("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  replicas: 2\n  selector:\n"
           "    matchLabels: {app: api}\n  template:\n    metadata:\n      labels: {app: api}\n    spec:\n"
           "      containers:\n      - name: api\n        image: nginx\n")
    put(lab, "dep.yaml", dep)
    assert sh(lab, "kubectl apply -f dep.yaml") == ("deployment.apps/api created\n", 0)
    assert sh(lab, "kubectl apply -f dep.yaml") == ("deployment.apps/api unchanged\n", 0)
    pods = [p for p in lab.cluster.api.list("Pod", "default") if p["metadata"]["name"].startswith("api-")]
    assert len(pods) == 2
