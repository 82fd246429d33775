"""kubectl for DaemonSets and rollouts: get/describe/logs ds, rollout restart|status, delete -l."""
from __future__ import annotations

import pytest

from netlab import Lab


@pytest.fixture
def lab():
    return Lab.default()


def pods(lab: Lab, namespace: str = "default") -> set[str]:
    return {p["metadata"]["name"] for p in lab.cluster.api.list("Pod", namespace)}


def test_rollout_restart_replaces_every_pod_of_a_deployment(lab):
    before = {p for p in pods(lab) if p.startswith("business-manager-")}
    out = lab.sh("kubectl rollout restart deployment business-manager")
    assert out.output == "deployment.apps/business-manager restarted\n" and out.ok
    after = {p for p in pods(lab) if p.startswith("business-manager-")}
    assert len(after) == 3 and not after & before
    stamp = lab.cluster.api.get("Deployment", "default", "business-manager")["spec"]["template"]["metadata"]["annotations"]
    assert stamp == {"kubectl.kubernetes.io/restartedAt": "2024-01-01T09:05:00Z"}
    assert lab.sh("kubectl rollout status deploy/business-manager").output == \
        'deployment "business-manager" successfully rolled out\n'


def test_rollout_restart_of_a_type_restarts_all_of_them(lab):
    out = lab.sh("kubectl rollout restart deployment").output
    assert out == "deployment.apps/business-manager restarted\ndeployment.apps/data-product restarted\n"


def test_a_second_restart_in_the_same_second_still_restarts(lab):
    assert lab.sh("kubectl -n kube-system rollout restart ds/kube-proxy").ok
    first = pods(lab, "kube-system")
    assert lab.sh("kubectl -n kube-system rollout restart ds/kube-proxy").ok
    assert not {p for p in pods(lab, "kube-system") if p.startswith("kube-proxy-")} & first
    ann = lab.sh("kubectl -n kube-system get ds kube-proxy -o jsonpath={.spec.template.metadata.annotations}").output
    assert ann == '{"kubectl.kubernetes.io/restartedAt":"2024-01-01T09:05:01Z"}'


@pytest.mark.parametrize("line, message", [
    ("kubectl rollout restart svc/kubernetes", 'error: services "kubernetes" restarting is not supported\n'),
    ("kubectl rollout restart ds/nope -n kube-system", 'Error from server (NotFound): daemonsets.apps "nope" not found\n'),
    ("kubectl rollout restart foo/bar", 'error: the server doesn\'t have a resource type "foo"\n'),
    ("kubectl rollout restart service", "error: resource(s) were provided, but no name was specified\n"),
    ("kubectl rollout restart ds", "No resources found in default namespace.\n"),
    ("kubectl rollout frob", 'error: unknown command "frob" for "kubectl rollout"\n'
                             "Run 'kubectl rollout --help' for usage.\n"),
    ("kubectl rollout status svc/kubernetes", "error: no status viewer has been implemented for Service\n"),
])
def test_rollout_mistakes_get_kubectls_words(lab, line, message):
    before = lab.cluster.api._rv
    r = lab.sh(line)
    assert (r.output, r.exit_code) == (message, 1)
    assert lab.cluster.api._rv == before  # nothing changed


def test_get_describe_and_logs_of_a_daemonset(lab):
    rows = lab.sh("kubectl get daemonsets -A -o wide").output.splitlines()
    assert rows[0].split() == ["NAMESPACE", "NAME", "DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE", "NODE",
                               "SELECTOR", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"]
    assert rows[1].split()[-3:] == ["kube-proxy", "registry.k8s.io/kube-proxy:v1.26.15", "k8s-app=kube-proxy"]
    text = lab.sh("kubectl describe ds kube-proxy -n kube-system").output
    assert "Desired Number of Nodes Scheduled: 2\n" in text and "Pods Status:  2 Running / 0 Waiting" in text
    assert "      --config=/var/lib/kube-proxy/config.conf\n" in text and "NODE_NAME:   (v1:spec.nodeName)" in text
    log = lab.sh("kubectl logs ds/kube-proxy -n kube-system").output
    assert log.startswith("Found 2 pods, using pod/kube-proxy-") and '"Using iptables Proxier"' in log
    assert lab.sh("kubectl logs ds/nope -n kube-system").output == 'error: daemonsets.apps "nope" not found\n'


def test_delete_by_label_and_the_daemonset_puts_pods_back(lab):
    old = {p for p in pods(lab, "kube-system") if p.startswith("kube-proxy-")}
    out = lab.sh("kubectl delete pods -n kube-system -l k8s-app=kube-proxy").output
    assert sorted(out.splitlines()) == sorted(f'pod "{p}" deleted' for p in old)
    new = {p for p in pods(lab, "kube-system") if p.startswith("kube-proxy-")}
    assert len(new) == 2 and not new & old
    assert lab.sh("kubectl delete pods -l app=nothing").output == "No resources found\n"


def test_a_daemonset_in_a_lab_file_runs_where_its_node_selector_fits():
    lab = Lab.load("""apiVersion: netlab/v1
kind: Lab
spec:
  nodes:
  - {name: a, ip: 192.168.0.10, podCIDR: 10.244.0.0/24}
  - {name: b, ip: 192.168.0.11, podCIDR: 10.244.1.0/24, labels: {disk: ssd}}
  - {name: c, ip: 192.168.0.12, podCIDR: 10.244.2.0/24, labels: {disk: ssd}}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      nodeSelector: {disk: ssd}
      containers: [{name: agent, image: nginx}]
""")
    agents = [p for p in lab.cluster.api.list("Pod", "default") if p["metadata"]["name"].startswith("agent-")]
    assert sorted(p["spec"]["nodeName"] for p in agents) == ["b", "c"]
    assert all(p["status"]["podIP"].startswith("10.244.") for p in agents)  # not hostNetwork: pods of their own
    assert lab.sh("kubectl get ds agent").output.splitlines()[1].split()[1:7] == ["2", "2", "2", "2", "2", "disk=ssd"]

