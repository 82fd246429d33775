"""Services, allocation and endpoints: what the API server and the endpoints controller do."""
from __future__ import annotations

import pytest

from netlab import Lab
from netlab.k8s.api import ApiError

LAB = """apiVersion: netlab/v1
kind: Lab
spec:
  serviceCIDR: 10.96.0.0/12
  nodes:
  - {name: a, ip: 192.168.0.10, podCIDR: 10.244.0.0/24}
  - {name: b, ip: 192.168.0.11, podCIDR: 10.244.1.0/24}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: app, image: example/app, ports: [{name: http, containerPort: 8080}]}]
"""


@pytest.fixture
def lab():
    return Lab.load(LAB)


def svc(name: str, **spec) -> dict:
    spec.setdefault("ports", [{"port": 80}])
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": "default"}, "spec": spec}


def test_kubernetes_service_takes_the_first_address(lab):
    k = lab.cluster.api.get("Service", "default", "kubernetes")
    assert k["spec"]["clusterIP"] == "10.96.0.1"
    r = lab.sh("kubectl get ep kubernetes")
    assert "192.168.0.10:6443" in r.output


def test_explicit_cluster_ip_outside_range_and_taken(lab):
    api = lab.cluster.api
    with pytest.raises(ApiError) as err:
        api.create(svc("x", clusterIP="10.0.0.5"))
    assert err.value.message == ('The Service "x" is invalid: spec.clusterIPs: Invalid value: []string{"10.0.0.5"}: '
                                 "failed to allocate IP 10.0.0.5: the provided IP (10.0.0.5) is not in the valid range. "
                                 "The range of valid IPs is 10.96.0.0/12")
    assert api.get("Service", "default", "x") is None
    api.create(svc("y", clusterIP="10.96.0.50"))
    with pytest.raises(ApiError, match="provided IP is already allocated"):
        api.create(svc("z", clusterIP="10.96.0.50"))


def test_cluster_ip_is_immutable_and_released_on_delete(lab):
    api = lab.cluster.api
    s = api.create(svc("y", clusterIP="10.96.0.50"))
    changed = dict(s, spec=dict(s["spec"], clusterIP="10.96.0.51"))
    with pytest.raises(ApiError, match="may not change once set"):
        api.update(changed)
    api.delete("Service", "default", "y")
    api.create(svc("y2", clusterIP="10.96.0.50"))  # free again


def test_node_port_range_and_conflict(lab):
    api = lab.cluster.api
    with pytest.raises(ApiError, match=r"spec.ports\[0\].nodePort: Invalid value: 80: provided port is not in the valid range. "
                                       "The range of valid ports is 30000-32767"):
        api.create(svc("np", type="NodePort", ports=[{"port": 80, "nodePort": 80}]))
    api.create(svc("np1", type="NodePort", ports=[{"port": 80, "nodePort": 30799}]))
    with pytest.raises(ApiError, match="provided port is already allocated"):
        api.create(svc("np2", type="NodePort", ports=[{"port": 80, "nodePort": 30799}]))
    auto = api.create(svc("np3", type="NodePort"))
    assert 30000 <= auto["spec"]["ports"][0]["nodePort"] <= 32767


def test_multi_port_services_need_names(lab):
    with pytest.raises(ApiError, match=r"spec.ports\[1\].name: Required value"):
        lab.cluster.api.create(svc("m", ports=[{"port": 80, "name": "a"}, {"port": 81}]))


def test_endpoints_follow_named_target_port_and_selector(lab):
    lab.cluster.api.create(svc("web", selector={"app": "web"}, ports=[{"port": 80, "targetPort": "http"}]))
    r = lab.sh("kubectl get ep web")
    assert "10.244.0.2:8080,10.244.1.2:8080" in r.output
    lab.sh("kubectl scale deploy web --replicas=0")
    assert "web    <none>" in lab.sh("kubectl get ep web").output


def test_selector_that_matches_nothing_has_no_endpoints(lab):
    lab.cluster.api.create(svc("typo", selector={"app": "wbe"}))
    assert lab.sh("kubectl get ep typo").output.splitlines()[1].split()[1] == "<none>"


def test_failing_readiness_probe_leaves_endpoints():
    text = LAB.replace("ports: [{name: http, containerPort: 8080}]}]",
                       "ports: [{name: http, containerPort: 8080}], readinessProbe: {tcpSocket: {port: 9999}}}]")
    lab = Lab.load(text + "---\napiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  selector: {app: web}\n  ports: [{port: 80, targetPort: 8080}]\n")
    lab.sh("true")  # kubelet probes between commands
    out = lab.sh("kubectl describe ep web").output
    assert "Addresses:          <none>" in out
    assert "NotReadyAddresses:  10.244.0.2,10.244.1.2" in out
    assert "0/1" in lab.sh("kubectl get po").output


def test_service_env_vars_only_for_services_that_existed(lab):
    lab.cluster.api.create(svc("late", selector={"app": "web"}))
    pod = next(iter(lab.cluster.pod_ns)).split("/", 1)[1]
    env = lab.sh("env", on=pod).output
    assert "KUBERNETES_SERVICE_HOST=10.96.0.1" in env
    assert "KUBERNETES_PORT_443_TCP=tcp://10.96.0.1:443" in env
    assert "LATE_SERVICE_HOST" not in env
    before = set(lab.cluster.pod_ns)
    lab.sh(f"kubectl delete pod {pod}")
    (replacement,) = set(lab.cluster.pod_ns) - before  # the ReplicaSet's new pod sees the Service
    assert "LATE_SERVICE_HOST=" in lab.sh("env", on=replacement.split("/", 1)[1]).output


def test_kubectl_get_svc_columns(lab):
    lab.cluster.api.create(svc("web", selector={"app": "web"}, type="NodePort", clusterIP="10.96.0.80",
                               ports=[{"port": 80, "nodePort": 30080}]))
    out = lab.sh("kubectl get svc web -o wide").output
    assert out.splitlines() == [
        "NAME   TYPE       CLUSTER-IP   EXTERNAL-IP   PORT(S)        AGE   SELECTOR",
        "web    NodePort   10.96.0.80   <none>        80:30080/TCP   0s    app=web",
    ]


def test_expose_and_delete(lab):
    assert lab.sh("kubectl expose deployment web --port=80 --target-port=8080").output == "service/web exposed\n"
    assert lab.sh("kubectl delete svc web").output == 'service "web" deleted\n'
    r = lab.sh("kubectl delete svc web")
    assert (r.exit_code, r.output) == (1, 'Error from server (NotFound): services "web" not found\n')


def test_label_refuses_overwrite_without_flag(lab):
    pod = next(iter(lab.cluster.pod_ns)).split("/", 1)[1]
    r = lab.sh(f"kubectl label pod {pod} app=other")
    assert r.exit_code == 1 and "'app' already has a value (web), and --overwrite is false" in r.output
    assert lab.sh(f"kubectl label pod {pod} app=other --overwrite").output == f"pod/{pod} labeled\n"


def test_http_through_pod_ip(lab):
    r = lab.sh("curl -s 10.244.1.2:8080", on="a")
    assert r.exit_code == 0
    assert r.output.strip().startswith("web-")
    r = lab.sh("curl 10.244.1.2:9090", on="a")
    assert r.exit_code == 7
    assert r.output == "curl: (7) Failed to connect to 10.244.1.2 port 9090 after 0 ms: Couldn't connect to server\n"
