"""kube-proxy as kubeadm runs it: the kube-proxy ConfigMap and DaemonSet, a config read only
when a pod starts, mode switches that leave the other mode's state behind, and a bad
config that crash-loops the pod (netlab/k8s/kubeproxy/config.py)."""
from __future__ import annotations

import pytest

from netlab import Lab
from netlab.k8s.kubeproxy.config import ConfigError, parse

LAB = """apiVersion: netlab/v1
kind: Lab
spec:
  podCIDR: 10.244.0.0/16
  serviceCIDR: 10.96.0.0/16
  kubeProxy: {{mode: {mode}}}
  nodes:
  - {{name: a, ip: 192.168.0.10, podCIDR: 10.244.0.0/24}}
  - {{name: b, ip: 192.168.0.11, podCIDR: 10.244.1.0/24}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web}}
spec:
  replicas: 2
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers: [{{name: web, image: "registry.k8s.io/echoserver:1.10", ports: [{{containerPort: 8080}}]}}]
---
apiVersion: v1
kind: Service
metadata: {{name: web}}
spec:
  selector: {{app: web}}
  ports: [{{port: 80, targetPort: 8080}}]
"""
TO_IPVS = "kubectl -n kube-system get cm kube-proxy -o yaml | sed 's/mode: \"\"/mode: ipvs/' | kubectl apply -f -"
RESTART = "kubectl -n kube-system rollout restart daemonset kube-proxy"


def lab(mode: str = "iptables") -> Lab:
    return Lab.load(LAB.format(mode=mode))


def sh(lab: Lab, line: str, on: str | None = None) -> str:
    r = lab.sh(line, on=on)
    assert r.ok, f"{line}: {r.output}"
    return r.output


def modes(lab: Lab) -> dict[str, str]:
    return {node: kp.mode for node, kp in lab.cluster.kube_proxies.items()}


def kube_proxy_pods(lab: Lab) -> dict[str, str]:
    """node -> the name of its kube-proxy pod"""
    return {p["spec"]["nodeName"]: p["metadata"]["name"] for p in lab.cluster.api.list("Pod", "kube-system")
            if p["metadata"]["labels"].get("k8s-app") == "kube-proxy"}


def curl_every_endpoint(lab: Lab) -> set[str]:
    """The pods that answered a pod's requests to the web Service (same node and across)."""
    pod = sorted(kube for kube in lab.cluster.pod_ns if kube.startswith("default/web-"))[0].split("/")[1]
    seen = set()
    for _ in range(10):
        out = sh(lab, f"kubectl exec {pod} -- curl -s -m 2 http://web/")
        seen |= {line.split()[-1] for line in out.splitlines() if line.startswith("Hostname:")}
    return seen


def test_kubeadm_objects_are_there_and_the_pods_are_the_nodes():
    l = lab()
    config = l.cluster.api.get("ConfigMap", "kube-system", "kube-proxy")["data"]["config.conf"]
    assert "kind: KubeProxyConfiguration" in config and '\nmode: ""\n' in config and "clusterCIDR: 10.244.0.0/16" in config
    assert "mode: ipvs" in lab("ipvs").cluster.api.get("ConfigMap", "kube-system", "kube-proxy")["data"]["config.conf"]
    rows = sh(l, "kubectl -n kube-system get ds").splitlines()
    assert rows[1].split()[:7] == ["kube-proxy", "2", "2", "2", "2", "2", "kubernetes.io/os=linux"]
    pods = sh(l, "kubectl -n kube-system get po -l k8s-app=kube-proxy -o wide").splitlines()[1:]
    assert sorted((p.split()[5], p.split()[6]) for p in pods) == [("192.168.0.10", "a"), ("192.168.0.11", "b")]
    assert '"Using iptables Proxier"' in sh(l, f"kubectl -n kube-system logs {kube_proxy_pods(l)['a']}")


def test_editing_the_configmap_changes_nothing_until_the_pods_restart():
    l = lab()
    sh(l, TO_IPVS)
    assert modes(l) == {"a": "iptables", "b": "iptables"}
    assert "TCP " not in sh(l, "ipvsadm -ln", on="a")
    before = kube_proxy_pods(l)
    assert sh(l, RESTART) == "daemonset.apps/kube-proxy restarted\n"
    after = kube_proxy_pods(l)
    assert set(after) == {"a", "b"} and not set(after.values()) & set(before.values())
    assert modes(l) == {"a": "ipvs", "b": "ipvs"}
    svc_ip = l.cluster.api.get("Service", "default", "web")["spec"]["clusterIP"]
    assert f"TCP  {svc_ip}:80 rr" in sh(l, "ipvsadm -ln", on="b")
    assert f"{svc_ip}/32" in sh(l, "ip addr show kube-ipvs0", on="b")
    assert '"Using ipvs Proxier"' in sh(l, f"kubectl -n kube-system logs {after['b']}")
    nat = sh(l, "iptables-save -t nat", on="b")
    kube_services = [r for r in nat.splitlines() if r.startswith("-A KUBE-SERVICES")]
    assert kube_services and all("KUBE-CLUSTER-IP" in r or "addrtype" in r for r in kube_services)
    # Nothing cleaned the iptables mode up: its chains are still there, and nothing jumps to them.
    svc_chains = [r.split()[0][1:] for r in nat.splitlines() if r.startswith(":KUBE-SVC-")]
    assert svc_chains and not any(f"-j {c}" in nat for c in svc_chains if "-A KUBE-SERVICES" in nat)
    assert curl_every_endpoint(l) == {p["metadata"]["name"] for p in l.cluster.api.list("Pod", "default")}


def test_deleting_one_pod_restarts_only_that_node():
    l = lab()
    sh(l, TO_IPVS)
    old = kube_proxy_pods(l)
    sh(l, f"kubectl -n kube-system delete pod {old['a']}")
    new = kube_proxy_pods(l)
    assert new["b"] == old["b"] and new["a"] != old["a"]  # the DaemonSet made a new one on the same node
    assert modes(l) == {"a": "ipvs", "b": "iptables"}


def test_a_bad_mode_crash_loops_and_a_fixed_configmap_brings_it_back():
    l = lab()
    sh(l, "kubectl -n kube-system get cm kube-proxy -o yaml | sed 's/mode: \"\"/mode: ipvss/' | kubectl apply -f -")
    sh(l, RESTART)
    rows = sh(l, "kubectl -n kube-system get po -l k8s-app=kube-proxy").splitlines()[1:]
    assert all(r.split()[1:4] == ["0/1", "CrashLoopBackOff", "1"] for r in rows)
    log = sh(l, f"kubectl -n kube-system logs {kube_proxy_pods(l)['a']}")
    assert log.endswith('run.go:74] "command failed" err="failed validate: KubeProxyConfiguration.Mode.ProxyMode: '
                        'Invalid value: \\"ipvss\\": must be iptables,ipvs or blank (blank means the best-available '
                        'proxy [currently iptables])"\n')
    status = l.sh("kubectl -n kube-system rollout status ds kube-proxy")
    assert status.exit_code == 1 and "0 of 2 updated pods are available" in status.output
    # No kube-proxy runs: a new Service gets no rules, the old ones stay.
    sh(l, "kubectl expose deployment web --name=web2 --port=81 --target-port=8080")
    nat = sh(l, "iptables-save -t nat", on="a")
    assert "default/web2" not in nat and "default/web cluster IP" in nat
    # The container restarts with the ConfigMap as it is now.
    sh(l, "kubectl -n kube-system get cm kube-proxy -o yaml | sed 's/mode: ipvss/mode: iptables/' | kubectl apply -f -")
    rows = sh(l, "kubectl -n kube-system get po -l k8s-app=kube-proxy").splitlines()[1:]
    assert all(r.split()[1:4] == ["1/1", "Running", "1"] for r in rows)
    l.cluster.tick()
    assert "default/web2" in sh(l, "iptables-save -t nat", on="a")


def test_back_to_iptables_leaves_ipvs_state_behind():
    l = lab("ipvs")
    svc_ip = l.cluster.api.get("Service", "default", "web")["spec"]["clusterIP"]
    sh(l, "kubectl -n kube-system get cm kube-proxy -o yaml | sed 's/mode: ipvs/mode: iptables/' | kubectl apply -f -")
    sh(l, RESTART)
    assert modes(l) == {"a": "iptables", "b": "iptables"}
    assert f"TCP  {svc_ip}:80 rr" in sh(l, "ipvsadm -ln", on="a")  # left behind, as upstream leaves it
    assert "KUBE-SVC-" in sh(l, "iptables-save -t nat", on="a")
    assert curl_every_endpoint(l) == {p["metadata"]["name"] for p in l.cluster.api.list("Pod", "default")}


def test_a_paused_kube_proxy_stays_paused_across_restarts():
    l = lab()
    for kp in l.cluster.kube_proxies.values():
        kp.paused = True
    sh(l, TO_IPVS)
    sh(l, RESTART)
    assert all(kp.paused and kp.mode == "ipvs" for kp in l.cluster.kube_proxies.values())


def test_a_restart_saves_and_loads_as_the_same_world(tmp_path):
    from netlab.levels.run import start_sandbox
    from netlab.save import load, save

    path = tmp_path / "lab.yaml"
    path.write_text(LAB.format(mode="iptables"))
    l, run = start_sandbox(str(path))
    for line in (TO_IPVS, RESTART):
        assert run.sh(line).ok
    save(str(tmp_path / "s.nlsave"), l, run)
    loaded, _ = load(str(tmp_path / "s.nlsave"))
    assert modes(loaded) == {"a": "ipvs", "b": "ipvs"}
    assert sh(loaded, "ipvsadm -ln", on="a") == sh(l, "ipvsadm -ln", on="a")


@pytest.mark.parametrize("text, message", [
    ("kind: KubeProxyConfiguration\napiVersion: kubeproxy.config.k8s.io/v1alpha1\nmode: [ipvs",
     "failed complete: error converting YAML to JSON: yaml: line 3"),
    ("kind: KubeProxyConfig\napiVersion: kubeproxy.config.k8s.io/v1alpha1\n",
     'failed complete: no kind "KubeProxyConfig" is registered for version "kubeproxy.config.k8s.io/v1alpha1"'),
    ("kind: KubeProxyConfiguration\napiVersion: kubeproxy.config.k8s.io/v1alpha1\nmode: ipvs\nipvs: {scheduler: fast}\n",
     'KubeProxyConfiguration.KubeProxyIPVSConfiguration.Scheduler.Scheduler: Invalid value: "fast": must be in '
     "[rr wrr lc wlc lblc lblcr sh dh sed nq ], blank means the default algorithm method (currently rr)"),
    ("kind: KubeProxyConfiguration\napiVersion: kubeproxy.config.k8s.io/v1alpha1\nclusterCIDR: 10.244.0.0\n",
     'KubeProxyConfiguration.ClusterCIDR: Invalid value: "10.244.0.0": must be a valid CIDR block'),
])
def test_config_errors_are_worded_as_kube_proxy_words_them(text, message):
    with pytest.raises(ConfigError) as err:
        parse(text)
    assert message in str(err.value)


def test_blank_means_iptables_and_round_robin():
    cfg = parse("kind: KubeProxyConfiguration\napiVersion: kubeproxy.config.k8s.io/v1alpha1\nmode: ''\n"
                "ipvs: {scheduler: ''}\nclusterCIDR: 10.244.0.0/16\n")
    assert (cfg.mode, cfg.scheduler, cfg.cluster_cidr) == ("iptables", "rr", "10.244.0.0/16")
    assert parse("kind: KubeProxyConfiguration\napiVersion: kubeproxy.config.k8s.io/v1alpha1\nmode: ipvs\n"
                 "ipvs: {scheduler: sh}\n").scheduler == "sh"


def test_cleanup_removes_both_modes_and_a_running_proxy_puts_its_own_back():
    l = lab()
    sh(l, TO_IPVS)
    sh(l, RESTART)
    pod = kube_proxy_pods(l)["a"]
    assert sh(l, f"kubectl -n kube-system exec {pod} -- kube-proxy --cleanup") == ""
    nat, filt = sh(l, "iptables-save -t nat", on="a"), sh(l, "iptables-save -t filter", on="a")
    assert [c for c in nat.splitlines() if c.startswith(":KUBE")] == [":KUBE-MARK-DROP - [0:0]"]  # kubelet's
    assert "KUBE-SERVICES" not in filt and "-j KUBE-FIREWALL" in filt  # kubelet's firewall stays
    assert "TCP " not in sh(l, "ipvsadm -ln", on="a")
    assert l.sh("ip link show kube-ipvs0", on="a").exit_code == 1
    assert "KUBE-SVC-" in sh(l, "iptables-save -t nat", on="b")  # only the pod's own node
    l.world.advance(31)  # the ipvs proxier's periodic sync
    l.cluster.tick()
    assert "KUBE-CLUSTER-IP" in sh(l, "iptables-save -t nat", on="a") and "TCP " in sh(l, "ipvsadm -ln", on="a")
    assert "KUBE-SVC-" not in sh(l, "iptables-save -t nat", on="a")
    assert curl_every_endpoint(l) == {p["metadata"]["name"] for p in l.cluster.api.list("Pod", "default")}


def test_kube_proxy_binary_is_only_in_its_pods():
    l = lab()
    web = sorted(k for k in l.cluster.pod_ns if k.startswith("default/web-"))[0].split("/")[1]
    r = l.sh(f"kubectl exec {web} -- kube-proxy --cleanup")
    assert r.exit_code == 127 and "kube-proxy: not found" in r.output
    assert l.sh("kube-proxy --cleanup", on="a").exit_code == 127
    r = l.sh("kubectl -n kube-system exec ds/kube-proxy -- kube-proxy --clean")
    assert r.exit_code == 1 and r.output.startswith("Error: unknown flag: --clean\n")
