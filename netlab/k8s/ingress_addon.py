"""The ingress-nginx add-on, as its baremetal deploy manifest (controller-v1.9.6)
installs it: the `ingress-nginx` namespace, the controller's ConfigMap and Deployment, the
`nginx` IngressClass and the `ingress-nginx-controller` Service (NodePort, or LoadBalancer
as the cloud manifest has it). Also the API server's DefaultIngressClass admission step."""
from __future__ import annotations

from netlab.k8s.api import ApiStore

NAMESPACE = "ingress-nginx"
IMAGE = "registry.k8s.io/ingress-nginx/controller:v1.9.6"
SERVICE = "ingress-nginx-controller"
VERSION = "1.9.6"


def _labels(component: str | None = "controller") -> dict:
    labels = {"app.kubernetes.io/component": component} if component else {}
    labels.update({"app.kubernetes.io/instance": "ingress-nginx", "app.kubernetes.io/name": "ingress-nginx",
                   "app.kubernetes.io/part-of": "ingress-nginx", "app.kubernetes.io/version": VERSION})
    return labels


def ingress_nginx_objects(ingress) -> list[dict]:
    """`ingress`: the lab's IngressSpec (service type, pinned nodePorts, replicas, default class)."""
    selector = {"app.kubernetes.io/component": "controller", "app.kubernetes.io/instance": "ingress-nginx",
                "app.kubernetes.io/name": "ingress-nginx"}
    http = {"appProtocol": "http", "name": "http", "port": 80, "protocol": "TCP", "targetPort": "http"}
    https = {"appProtocol": "https", "name": "https", "port": 443, "protocol": "TCP", "targetPort": "https"}
    if ingress.http_node_port:
        http["nodePort"] = ingress.http_node_port
    if ingress.https_node_port:
        https["nodePort"] = ingress.https_node_port
    svc_spec = {"type": ingress.service, "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack",
                "ports": [http, https], "selector": selector}
    if ingress.service == "LoadBalancer":
        svc_spec["externalTrafficPolicy"] = "Local"
    class_meta = {"name": "nginx", "labels": _labels()}
    if ingress.default_class:
        class_meta["annotations"] = {"ingressclass.kubernetes.io/is-default-class": "true"}
    container = {
        "name": "controller", "image": IMAGE, "imagePullPolicy": "IfNotPresent",
        "args": ["/nginx-ingress-controller", "--election-id=ingress-nginx-leader", "--controller-class=k8s.io/ingress-nginx",
                 "--ingress-class=nginx", "--configmap=$(POD_NAMESPACE)/ingress-nginx-controller",
                 "--validating-webhook=:8443", "--validating-webhook-certificate=/usr/local/certificates/cert",
                 "--validating-webhook-key=/usr/local/certificates/key"]
                + (["--publish-service=$(POD_NAMESPACE)/ingress-nginx-controller"] if ingress.service == "LoadBalancer" else []),
        "env": [{"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
                {"name": "LD_PRELOAD", "value": "/usr/local/lib/libmimalloc.so"}],
        "ports": [{"containerPort": 80, "name": "http", "protocol": "TCP"},
                  {"containerPort": 443, "name": "https", "protocol": "TCP"},
                  {"containerPort": 8443, "name": "webhook", "protocol": "TCP"}],
        "readinessProbe": {"httpGet": {"path": "/healthz", "port": 10254, "scheme": "HTTP"},
                           "failureThreshold": 3, "initialDelaySeconds": 10, "periodSeconds": 10},
        "livenessProbe": {"httpGet": {"path": "/healthz", "port": 10254, "scheme": "HTTP"},
                          "failureThreshold": 5, "initialDelaySeconds": 10, "periodSeconds": 10},
    }
    return [
        {"apiVersion": "v1", "kind": "Namespace",
         "metadata": {"name": NAMESPACE, "labels": {"app.kubernetes.io/instance": "ingress-nginx",
                                                    "app.kubernetes.io/name": "ingress-nginx",
                                                    "kubernetes.io/metadata.name": NAMESPACE}}},
        {"apiVersion": "v1", "kind": "ConfigMap",
         "metadata": {"name": "ingress-nginx-controller", "namespace": NAMESPACE, "labels": _labels()},
         "data": {"allow-snippet-annotations": "false"}},
        {"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass", "metadata": class_meta,
         "spec": {"controller": "k8s.io/ingress-nginx"}},
        {"apiVersion": "v1", "kind": "Service",
         "metadata": {"name": SERVICE, "namespace": NAMESPACE, "labels": _labels()}, "spec": svc_spec},
        {"apiVersion": "apps/v1", "kind": "Deployment",
         "metadata": {"name": "ingress-nginx-controller", "namespace": NAMESPACE, "labels": _labels()},
         "spec": {"replicas": ingress.replicas, "revisionHistoryLimit": 10, "minReadySeconds": 0,
                  "selector": {"matchLabels": selector},
                  "template": {"metadata": {"labels": _labels()},
                               "spec": {"containers": [container], "dnsPolicy": "ClusterFirst",
                                        "nodeSelector": {"kubernetes.io/os": "linux"},
                                        "serviceAccountName": "ingress-nginx", "terminationGracePeriodSeconds": 300}}}},
    ]


def admit_default_class(api: ApiStore) -> None:
    """The DefaultIngressClass admission plugin: a new Ingress that names no class gets the
    one IngressClass annotated `ingressclass.kubernetes.io/is-default-class: "true"`."""
    from netlab.apps.ingress.routing import CLASS_ANNOTATION, default_class

    def admit(ing: dict, old: dict | None) -> None:
        if old is not None:
            return
        spec = ing.setdefault("spec", {}) if isinstance(ing.get("spec"), dict) or ing.get("spec") is None else None
        if spec is None or spec.get("ingressClassName") or (ing["metadata"].get("annotations") or {}).get(CLASS_ANNOTATION):
            return
        name = default_class(api.list("IngressClass"))
        if name is not None:
            spec["ingressClassName"] = name

    api.admit("Ingress", admit)


def install(cluster, ingress) -> None:
    """The add-on's objects into the cluster's API store (`ingress` None: admission only)."""
    admit_default_class(cluster.api)
    if ingress is None:
        return
    for obj in ingress_nginx_objects(ingress):
        cluster.api.create(obj)
