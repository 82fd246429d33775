"""kubectl get/run/create/logs/patch/edit/explain, with exact output."""
from __future__ import annotations

import pytest

from netlab.lab import Lab


@pytest.fixture
def lab():
    return Lab.default()


def sh(lab, line: str) -> tuple[str, int]:
    r = lab.session.run(line)
    return r.output, r.exit_code


def test_run_and_create_generators(lab):
    assert sh(lab, "kubectl run p1 --image=nginx --port=80 --restart=Never") == ("pod/p1 created\n", 0)
    pod = lab.cluster.api.get("Pod", "default", "p1")
    assert pod["metadata"]["labels"] == {"run": "p1"}
    assert pod["spec"]["containers"][0]["ports"] == [{"containerPort": 80}]
    assert sh(lab, "kubectl run p2") == ('error: required flag(s) "image" not set\n', 1)
    assert sh(lab, "kubectl create deployment d1 --image=nginx:1.25 --replicas=2") == ("deployment.apps/d1 created\n", 0)
    assert lab.cluster.api.get("Deployment", "default", "d1")["spec"]["template"]["spec"]["containers"][0]["name"] == "nginx"
    assert sh(lab, "kubectl create namespace team-a") == ("namespace/team-a created\n", 0)
    assert sh(lab, "kubectl create configmap c2 --from-literal=k=v -n team-a") == ("configmap/c2 created\n", 0)
    assert lab.cluster.api.get("ConfigMap", "team-a", "c2")["data"] == {"k": "v"}
    assert sh(lab, "kubectl run Bad_Name --image=x") == (
        'The Pod "Bad_Name" is invalid: \n'
        "* metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain must consist of lower case "
        "alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. "
        "'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')\n"
        "* spec.containers[0].name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 label must consist of lower "
        "case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. "
        "'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')\n", 1)


def test_get_new_kinds_and_formats(lab):
    sh(lab, "kubectl create configmap c2 --from-literal=a=1 --from-literal=b=2")
    assert sh(lab, "kubectl get cm c2") == ("NAME   DATA   AGE\nc2     2      0s\n", 0)
    sh(lab, "kubectl create secret generic s1 --from-literal=pw=x")
    assert sh(lab, "kubectl get secret s1") == ("NAME   TYPE     DATA   AGE\ns1     Opaque   1      0s\n", 0)
    assert sh(lab, "kubectl get cm c2 -o name") == ("configmap/c2\n", 0)
    out, _ = sh(lab, "kubectl get rs")
    assert out.splitlines()[0].split() == ["NAME", "DESIRED", "CURRENT", "READY", "AGE"]
    assert sh(lab, "kubectl get cm c2 -o jsonpath='{.data.a}'") == ("1", 0)
    out, _ = sh(lab, "kubectl get svc -o jsonpath='{range .items[*]}{.metadata.name}{\"\\n\"}{end}'")
    assert out == "business-manager\ndata-product\nkubernetes\n"
    assert sh(lab, "kubectl get svc kubernetes --show-labels") == (
        "NAME         TYPE        CLUSTER-IP   EXTERNAL-IP   PORT(S)   AGE   LABELS\n"
        "kubernetes   ClusterIP   10.254.0.1   <none>        443/TCP   5m    component=apiserver,provider=kubernetes\n", 0)
    out, _ = sh(lab, "kubectl get svc -l 'provider!=kubernetes' -o name")
    assert out == "service/business-manager\nservice/data-product\n"


def test_get_yaml_looks_like_the_api_servers(lab):
    sh(lab, "kubectl create configmap c2 --from-literal=port=80")
    out, code = sh(lab, "kubectl get cm c2 -o yaml")
    uid = lab.cluster.api.get("ConfigMap", "default", "c2")["metadata"]["uid"]
    rv = lab.cluster.api.get("ConfigMap", "default", "c2")["metadata"]["resourceVersion"]
    assert out == (f'apiVersion: v1\ndata:\n  port: "80"\nkind: ConfigMap\nmetadata:\n'
                   f'  creationTimestamp: "2024-01-01T09:05:00Z"\n  name: c2\n  namespace: default\n'
                   f'  resourceVersion: "{rv}"\n  uid: {uid}\n')


def test_logs(lab):
    sh(lab, "kubectl run p1 --image=nginx")
    lab.cluster.pod_log("default/p1", '10.0.0.1 - - "GET / HTTP/1.1" 200')
    assert sh(lab, "kubectl logs p1") == ('10.0.0.1 - - "GET / HTTP/1.1" 200\n', 0)
    lab.session.ctx.ns.files["two.yaml"] = (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: two\nspec:\n  containers:\n  - name: a\n    image: x\n"
        "  - name: b\n    image: y\n")
    sh(lab, "kubectl apply -f two.yaml")
    assert sh(lab, "kubectl logs two") == (
        "Error from server (BadRequest): a container name must be specified for pod two, choose one of: [a b]\n", 1)
    lab.cluster.pod_log("default/two", "from b", container="b")
    assert sh(lab, "kubectl logs two -c b") == ("from b\n", 0)
    assert sh(lab, "kubectl logs two -c c") == ("error: container c is not valid for pod two\n", 1)
    assert sh(lab, "kubectl logs nope") == ('Error from server (NotFound): pods "nope" not found\n', 1)


def test_patch(lab):
    sh(lab, "kubectl create configmap c2 --from-literal=a=1")
    assert sh(lab, "kubectl patch cm c2 -p '{\"data\":{\"b\":\"2\"}}'") == ("configmap/c2 patched\n", 0)
    assert sh(lab, "kubectl patch cm c2 -p '{\"data\":{\"b\":\"2\"}}'") == ("configmap/c2 patched (no change)\n", 0)
    assert lab.cluster.api.get("ConfigMap", "default", "c2")["data"] == {"a": "1", "b": "2"}
    assert sh(lab, "kubectl patch cm c2 --type=merge -p '{\"data\":{\"a\":null}}'") == ("configmap/c2 patched\n", 0)
    assert sh(lab, "kubectl patch cm c2 --type=json -p '[{\"op\":\"replace\",\"path\":\"/data/b\",\"value\":\"3\"}]'") == (
        "configmap/c2 patched\n", 0)
    assert lab.cluster.api.get("ConfigMap", "default", "c2")["data"] == {"b": "3"}
    assert sh(lab, "kubectl patch svc kubernetes -p '{\"spec\":{\"selecter\":{\"a\":\"b\"}}}'") == (
        'The request is invalid: patch: Invalid value: "map[spec:map[selecter:map[a:b]]]": strict decoding error: '
        'unknown field "spec.selecter"\n', 1)
    assert sh(lab, "kubectl patch svc nope -p '{}'") == ('Error from server (NotFound): services "nope" not found\n', 1)


def test_patch_strategic_merges_ports_by_port(lab):
    sh(lab, "kubectl patch svc business-manager -p '{\"spec\":{\"ports\":[{\"port\":80,\"targetPort\":9090}]}}'")
    ports = lab.cluster.api.get("Service", "default", "business-manager")["spec"]["ports"]
    assert len(ports) == 1 and ports[0]["targetPort"] == 9090 and ports[0]["protocol"] == "TCP"


def test_edit_with_a_scripted_editor(lab):
    sh(lab, "kubectl create configmap c2 --from-literal=a=one")
    assert sh(lab, "KUBE_EDITOR='sed -i s/one/two/' kubectl edit cm c2") == ("configmap/c2 edited\n", 0)
    assert lab.cluster.api.get("ConfigMap", "default", "c2")["data"] == {"a": "two"}
    assert sh(lab, "KUBE_EDITOR='sed -i s/zzz/y/' kubectl edit cm c2") == ("Edit cancelled, no changes made.\n", 0)


def test_an_invalid_edit_keeps_nothing_and_saves_a_copy(lab):
    before = dict(lab.cluster.api.get("Service", "default", "business-manager")["spec"])
    out, code = sh(lab, "KUBE_EDITOR=\"sed -i 's/clusterIP: .*/clusterIP: 10.254.0.77/'\" kubectl edit svc business-manager")
    lines = out.splitlines()
    assert code == 1
    assert lines[0] == 'error: services "business-manager" is invalid'
    assert lines[1].startswith('A copy of your changes has been stored to "/tmp/kubectl-edit-')
    assert lines[2] == "error: Edit cancelled, no valid changes were saved."
    copy = lab.session.ctx.ns.files[lines[1].split('"')[1]]
    assert '# * spec.clusterIP: Invalid value: "10.254.0.77": field is immutable\n' in copy
    assert lab.cluster.api.get("Service", "default", "business-manager")["spec"] == before


def test_explain(lab):
    assert sh(lab, "kubectl explain svc.spec.ports.port") == (
        "KIND:     Service\nVERSION:  v1\n\nFIELD:    port <integer>\n\nDESCRIPTION:\n"
        "     The port that will be exposed by this service.\n\n", 0)
    out, _ = sh(lab, "kubectl explain deploy.spec")
    assert out.startswith("KIND:     Deployment\nVERSION:  apps/v1\n\nRESOURCE: spec <Object>\n")
    assert "   selector\t<Object> -required-\n" in out
    assert sh(lab, "kubectl explain svc.spec.nope") == ('error: field "nope" does not exist\n', 1)
    assert sh(lab, "kubectl explain frob") == ('error: the server doesn\'t have a resource type "frob"\n', 1)


def test_sed(lab):
    lab.session.ctx.ns.files["f"] = "port: 80\nname: web\n"
    assert sh(lab, "sed 's/80/8080/' f") == ("port: 8080\nname: web\n", 0)
    assert sh(lab, "cat f | sed -e '/name/d'") == ("port: 80\n", 0)
    assert sh(lab, "sed -i 's/\\(web\\)/\\1-2/g' f") == ("", 0)
    assert lab.session.ctx.ns.files["f"] == "port: 80\nname: web-2\n"
    assert sh(lab, "sed 's/a' f") == ("sed: -e expression #1, char 3: unterminated `s' command\n", 1)
