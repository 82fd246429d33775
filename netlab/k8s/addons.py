"""Cluster add-ons installed with the cluster (as kubeadm installs them)."""
from __future__ import annotations

from netlab.net.addr import fmt_ip

COREDNS_IMAGE = "registry.k8s.io/coredns/coredns:v1.9.3"


def corefile(domain: str) -> str:
    """kubeadm's Corefile (TTL left at the kubernetes plugin's default of 5 s)."""
    return f""".:53 {{
    errors
    health {{
       lameduck 5s
    }}
    ready
    kubernetes {domain} in-addr.arpa ip6.arpa {{
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
    }}
    prometheus :9153
    forward . /etc/resolv.conf {{
       max_concurrent 1000
    }}
    cache 30
    loop
    reload
    loadbalance
}}
"""


def coredns_objects(spec, replicas: int) -> list[dict]:
    labels = {"k8s-app": "kube-dns"}
    return [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "coredns", "namespace": "kube-system"},
         "data": {"Corefile": corefile(spec.cluster_domain)}},
        {"apiVersion": "v1", "kind": "Service",
         "metadata": {"name": "kube-dns", "namespace": "kube-system",
                      "labels": {"k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true",
                                 "kubernetes.io/name": "CoreDNS"}},
         "spec": {"clusterIP": fmt_ip(spec.cluster_dns), "selector": labels,
                  "ports": [{"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
                            {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53},
                            {"name": "metrics", "port": 9153, "protocol": "TCP", "targetPort": 9153}]}},
        {"apiVersion": "apps/v1", "kind": "Deployment",
         "metadata": {"name": "coredns", "namespace": "kube-system", "labels": labels},
         "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                  "template": {"metadata": {"labels": labels},
                               "spec": {"dnsPolicy": "Default", "priorityClassName": "system-cluster-critical",
                                        "containers": [{
                                            "name": "coredns", "image": COREDNS_IMAGE,
                                            "args": ["-conf", "/etc/coredns/Corefile"],
                                            "ports": [{"containerPort": 53, "name": "dns", "protocol": "UDP"},
                                                      {"containerPort": 53, "name": "dns-tcp", "protocol": "TCP"},
                                                      {"containerPort": 9153, "name": "metrics", "protocol": "TCP"}],
                                            "readinessProbe": {"httpGet": {"path": "/ready", "port": 8181}},
                                            "livenessProbe": {"httpGet": {"path": "/health", "port": 8080}}}]}}}},
    ]
