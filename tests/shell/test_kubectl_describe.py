"""kubectl describe for Deployments, ConfigMaps, Secrets, Namespaces and Nodes."""
from __future__ import annotations

from netlab import Lab


def test_describe_deployment_shows_replicas_template_and_replicaset():
    lab = Lab.default()
    out = lab.sh("kubectl describe deploy data-product").output
    assert "Replicas:               3 desired | 3 updated | 3 total | 3 available | 0 unavailable\n" in out
    assert "    Port:         50051/TCP\n" in out
    assert "NewReplicaSet:   data-product-7d9986dbfc (3/3 replicas created)\n" in out


def test_describe_configmap_prints_its_data_blocks():
    out = Lab.default().sh("kubectl describe cm coredns -n kube-system").output
    assert out.startswith("Name:         coredns\nNamespace:    kube-system\n")
    assert "\nData\n====\nCorefile:\n----\n.:53 {\n" in out
    assert out.endswith("\nBinaryData\n====\n\nEvents:  <none>\n")


def test_describe_secret_counts_bytes_never_shows_values():
    lab = Lab.default()
    lab.sh("kubectl create secret generic db --from-literal=password=s3cret")
    out = lab.sh("kubectl describe secret db").output
    assert "Type:  Opaque" in out and "password:  6 bytes" in out and "s3cret" not in out


def test_describe_namespace_and_node():
    lab = Lab.default()
    assert lab.sh("kubectl describe ns default").output.endswith("No resource quota.\n\nNo LimitRange resource.\n")
    node = lab.sh("kubectl describe node 192.168.0.22").output
    assert "PodCIDR:                      172.30.9.0/24" in node
    assert "Non-terminated Pods:          (5 in total)" in node  # 3 app pods, coredns, kube-proxy
    assert "  kube-system  kube-proxy-" in node


def test_global_flags_may_come_before_the_verb():
    lab = Lab.default()
    assert lab.sh("kubectl -n kube-system get po").output == lab.sh("kubectl get po -n kube-system").output
    assert "coredns" in lab.sh("kubectl --namespace=kube-system get cm").output
