"""`kubectl get` for the kinds the cluster runs."""
from __future__ import annotations

import json

import yaml

from netlab.shell.kubectl.table import human_duration, render_table

ALIASES = {
    "po": "Pod", "pod": "Pod", "pods": "Pod",
    "no": "Node", "node": "Node", "nodes": "Node",
    "deploy": "Deployment", "deployment": "Deployment", "deployments": "Deployment",
    "ds": "DaemonSet", "daemonset": "DaemonSet", "daemonsets": "DaemonSet",
    "ns": "Namespace", "namespace": "Namespace", "namespaces": "Namespace",
    "svc": "Service", "service": "Service", "services": "Service",
    "ep": "Endpoints", "endpoints": "Endpoints",
    "endpointslice": "EndpointSlice", "endpointslices": "EndpointSlice",
    "endpointslices.discovery.k8s.io": "EndpointSlice",
    "cm": "ConfigMap", "configmap": "ConfigMap", "configmaps": "ConfigMap",
    "secret": "Secret", "secrets": "Secret",
    "rs": "ReplicaSet", "replicaset": "ReplicaSet", "replicasets": "ReplicaSet",
    "sa": "ServiceAccount", "serviceaccount": "ServiceAccount", "serviceaccounts": "ServiceAccount",
    "ing": "Ingress", "ingress": "Ingress", "ingresses": "Ingress",
    "netpol": "NetworkPolicy", "networkpolicy": "NetworkPolicy", "networkpolicies": "NetworkPolicy",
    "ingressclass": "IngressClass", "ingressclasses": "IngressClass",
}
LAB_EPOCH = 1704099600  # the lab's wall clock at simulated time 0 (as iptables-save shows it)


def service_ports(svc: dict) -> str:
    spec = svc.get("spec", {})
    if spec.get("type") == "ExternalName" and not spec.get("ports"):
        return "<none>"
    out = []
    for p in spec.get("ports", []):
        text = f"{p['port']}:{p['nodePort']}" if p.get("nodePort") else str(p["port"])
        out.append(f"{text}/{p.get('protocol', 'TCP')}")
    return ",".join(out) or "<none>"


def service_row(svc: dict, now: float, wide: bool, all_ns: bool) -> list[str]:
    spec = svc.get("spec", {})
    stype = spec.get("type", "ClusterIP")
    external = "<none>"
    if stype == "ExternalName":
        external = spec.get("externalName", "<none>")
    elif stype == "LoadBalancer":
        ingress = svc.get("status", {}).get("loadBalancer", {}).get("ingress") or []
        external = ",".join(i.get("ip") or i.get("hostname", "") for i in ingress) or "<pending>"
    if spec.get("externalIPs"):
        extra = ",".join(spec["externalIPs"])
        external = extra if external in ("<none>", "<pending>") else f"{external},{extra}"
    cluster_ip = spec.get("clusterIP") or "<none>"
    if stype == "ExternalName":
        cluster_ip = "<none>"
    row = [svc["metadata"]["name"], stype, cluster_ip, external, service_ports(svc), age(svc, now)]
    if all_ns:
        row.insert(0, svc["metadata"].get("namespace", "default"))
    if wide:
        sel = spec.get("selector") or {}
        row.append(",".join(f"{k}={v}" for k, v in sel.items()) or "<none>")
    return row


def endpoints_text(ep: dict) -> str:
    items = []
    for subset in ep.get("subsets") or []:
        for a in subset.get("addresses", []):
            for p in subset.get("ports", []):
                items.append(f"{a['ip']}:{p['port']}")
    if not items:
        return "<none>"
    if len(items) > 3:
        return ",".join(items[:3]) + f" + {len(items) - 3} more..."
    return ",".join(items)


def endpoints_row(ep: dict, now: float, wide: bool, all_ns: bool) -> list[str]:
    row = [ep["metadata"]["name"], endpoints_text(ep), age(ep, now)]
    if all_ns:
        row.insert(0, ep["metadata"].get("namespace", "default"))
    return row


def slice_row(sl: dict, now: float, wide: bool, all_ns: bool) -> list[str]:
    ports = ",".join(str(p["port"]) for p in sl.get("ports") or []) or "<unset>"
    addrs = [a for e in sl.get("endpoints", []) for a in e.get("addresses", [])]
    text = ",".join(addrs[:3]) + (f" + {len(addrs) - 3} more..." if len(addrs) > 3 else "") if addrs else "<unset>"
    row = [sl["metadata"]["name"], sl.get("addressType", "IPv4"), ports, text, age(sl, now)]
    if all_ns:
        row.insert(0, sl["metadata"].get("namespace", "default"))
    return row


def age(obj: dict, now: float) -> str:
    return human_duration(now - obj["metadata"].get("creationTimestamp", now))


def pod_row(pod: dict, now: float, wide: bool, all_ns: bool) -> list[str]:
    status = pod.get("status", {})
    containers = pod.get("spec", {}).get("containers", [])
    statuses = status.get("containerStatuses", [])
    ready = sum(1 for c in statuses if c.get("ready"))
    restarts = sum(c.get("restartCount", 0) for c in statuses)
    # kubectl shows a waiting container's reason (CrashLoopBackOff, ContainerCreating) instead of the phase
    reason = next((c["state"]["waiting"].get("reason") for c in statuses
                   if isinstance(c.get("state"), dict) and "waiting" in c["state"]), None)
    row = [pod["metadata"]["name"], f"{ready}/{len(containers)}", reason or status.get("phase", "Pending"), str(restarts),
           age(pod, now)]
    if all_ns:
        row.insert(0, pod["metadata"].get("namespace", "default"))
    if wide:
        row += [status.get("podIP", "<none>"), pod.get("spec", {}).get("nodeName", "<none>"), "<none>", "<none>"]
    return row


def node_row(node: dict, now: float, wide: bool) -> list[str]:
    labels = node["metadata"].get("labels", {})
    roles = ",".join(sorted(k.split("/", 1)[1] for k in labels if k.startswith("node-role.kubernetes.io/"))) or "<none>"
    info = node.get("status", {}).get("nodeInfo", {})
    ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in node.get("status", {}).get("conditions", []))
    row = [node["metadata"]["name"], "Ready" if ready else "NotReady", roles, age(node, now), info.get("kubeletVersion", "")]
    if wide:
        addrs = {a["type"]: a["address"] for a in node.get("status", {}).get("addresses", [])}
        row += [addrs.get("InternalIP", "<none>"), addrs.get("ExternalIP", "<none>"), info.get("osImage", ""),
                info.get("kernelVersion", ""), info.get("containerRuntimeVersion", "")]
    return row


def deployment_row(dep: dict, now: float, wide: bool, all_ns: bool) -> list[str]:
    spec, status = dep.get("spec", {}), dep.get("status", {})
    want = spec.get("replicas", 1)
    row = [dep["metadata"]["name"], f"{status.get('readyReplicas', 0)}/{want}", str(status.get("updatedReplicas", 0)),
           str(status.get("availableReplicas", 0)), age(dep, now)]
    if all_ns:
        row.insert(0, dep["metadata"].get("namespace", "default"))
    if wide:
        row += workload_wide_columns(spec)
    return row


def daemonset_row(ds: dict, now: float, wide: bool, all_ns: bool) -> list[str]:
    spec, status = ds.get("spec", {}), ds.get("status", {})
    selector = spec.get("template", {}).get("spec", {}).get("nodeSelector") or {}
    row = [ds["metadata"]["name"]] + [str(status.get(k, 0)) for k in (
        "desiredNumberScheduled", "currentNumberScheduled", "numberReady", "updatedNumberScheduled", "numberAvailable")]
    row += [",".join(f"{k}={v}" for k, v in selector.items()) or "<none>", age(ds, now)]
    if all_ns:
        row.insert(0, ds["metadata"].get("namespace", "default"))
    if wide:
        row += workload_wide_columns(spec)
    return row


def workload_wide_columns(spec: dict) -> list[str]:
    """CONTAINERS, IMAGES, SELECTOR: the -o wide columns of Deployments and ReplicaSets."""
    containers = spec.get("template", {}).get("spec", {}).get("containers", [])
    sel = spec.get("selector", {}).get("matchLabels", {})
    return [",".join(c.get("name", "") for c in containers), ",".join(c.get("image", "") for c in containers),
            ",".join(f"{k}={v}" for k, v in sel.items())]


def configmap_row(cm: dict, now: float, wide: bool, all_ns: bool) -> list[str]:
    count = len(cm.get("data") or {}) + len(cm.get("binaryData") or {})
    return _ns_first([cm["metadata"]["name"], str(count), age(cm, now)], cm, all_ns)


def secret_row(sec: dict, now: float, wide: bool, all_ns: bool) -> list[str]:
    count = len(sec.get("data") or {}) + len(sec.get("stringData") or {})
    return _ns_first([sec["metadata"]["name"], sec.get("type", "Opaque"), str(count), age(sec, now)], sec, all_ns)


def replicaset_row(rs: dict, now: float, wide: bool, all_ns: bool) -> list[str]:
    spec, status = rs.get("spec", {}), rs.get("status", {})
    row = _ns_first([rs["metadata"]["name"], str(spec.get("replicas", 1)), str(status.get("replicas", 0)),
                     str(status.get("readyReplicas", 0)), age(rs, now)], rs, all_ns)
    if wide:
        row += workload_wide_columns(spec)
    return row


def namespace_row(ns: dict, now: float, wide: bool, all_ns: bool) -> list[str]:
    return [ns["metadata"]["name"], ns.get("status", {}).get("phase", "Active"), age(ns, now)]


def networkpolicy_row(np: dict, now: float, wide: bool, all_ns: bool) -> list[str]:
    from netlab.k8s.policy import selector_text

    return _ns_first([np["metadata"]["name"], selector_text((np.get("spec") or {}).get("podSelector")),
                      age(np, now)], np, all_ns)


def generic_row(obj: dict, now: float, wide: bool, all_ns: bool) -> list[str]:
    return _ns_first([obj["metadata"]["name"], age(obj, now)], obj, all_ns)


def _ns_first(row: list[str], obj: dict, all_ns: bool) -> list[str]:
    if all_ns:
        row.insert(0, obj["metadata"].get("namespace", "default"))
    return row


def replicasets(api, namespace: str | None) -> list[dict]:
    """ReplicaSets as a Deployment controller would own them: one per Deployment's
    current template, named `<deployment>-<pod-template-hash>` (plus any stored ones)."""
    from netlab.k8s.names import pod_template_hash

    out = list(api.list("ReplicaSet", namespace))
    for dep in api.list("Deployment", namespace):
        template = dep.get("spec", {}).get("template", {})
        h = pod_template_hash(template)
        meta = dep["metadata"]
        ns = meta.get("namespace", "default")
        pods = [p for p in api.list("Pod", ns) if p["metadata"].get("labels", {}).get("netlab.io/deployment") == meta["name"]]
        ready = sum(1 for p in pods if any(c.get("type") == "Ready" and c.get("status") == "True"
                                           for c in p.get("status", {}).get("conditions", [])))
        labels = {**(template.get("metadata", {}).get("labels") or {}), "pod-template-hash": h}
        out.append({"apiVersion": "apps/v1", "kind": "ReplicaSet",
                    "metadata": {"name": f"{meta['name']}-{h}", "namespace": ns, "labels": labels,
                                 "creationTimestamp": meta.get("creationTimestamp", 0),
                                 "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": meta["name"],
                                                      "controller": True, "blockOwnerDeletion": True,
                                                      "uid": meta.get("uid", "")}]},
                    "spec": {"replicas": dep.get("spec", {}).get("replicas", 1),
                             "selector": {"matchLabels": {**(dep.get("spec", {}).get("selector", {}).get("matchLabels") or {}),
                                                          "pod-template-hash": h}},
                             "template": template},
                    "status": {"replicas": len(pods), "readyReplicas": ready, "availableReplicas": ready,
                               "fullyLabeledReplicas": len(pods), "observedGeneration": 1}})
    return sorted(out, key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"]))


HEADERS = {
    "Pod": (["NAME", "READY", "STATUS", "RESTARTS", "AGE"], ["IP", "NODE", "NOMINATED NODE", "READINESS GATES"]),
    "Node": (["NAME", "STATUS", "ROLES", "AGE", "VERSION"], ["INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE", "KERNEL-VERSION", "CONTAINER-RUNTIME"]),
    "Deployment": (["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"], ["CONTAINERS", "IMAGES", "SELECTOR"]),
    "Namespace": (["NAME", "STATUS", "AGE"], []),
    "Service": (["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"], ["SELECTOR"]),
    "Endpoints": (["NAME", "ENDPOINTS", "AGE"], []),
    "EndpointSlice": (["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"], []),
    "ConfigMap": (["NAME", "DATA", "AGE"], []),
    "Secret": (["NAME", "TYPE", "DATA", "AGE"], []),
    "ReplicaSet": (["NAME", "DESIRED", "CURRENT", "READY", "AGE"], ["CONTAINERS", "IMAGES", "SELECTOR"]),
    "DaemonSet": (["NAME", "DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE", "NODE SELECTOR", "AGE"],
                  ["CONTAINERS", "IMAGES", "SELECTOR"]),
    "NetworkPolicy": (["NAME", "POD-SELECTOR", "AGE"], []),
}
from netlab.shell.kubectl.ingress_rows import (INGRESS_HEADERS, INGRESSCLASS_HEADERS,  # noqa: E402
                                               ingress_row, ingressclass_row)

HEADERS.update({"Ingress": INGRESS_HEADERS, "IngressClass": INGRESSCLASS_HEADERS})
ROWS = {"Ingress": ingress_row, "IngressClass": ingressclass_row, "Service": service_row, "Endpoints": endpoints_row, "EndpointSlice": slice_row, "ConfigMap": configmap_row,
        "Secret": secret_row, "ReplicaSet": replicaset_row, "Namespace": namespace_row,
        "NetworkPolicy": networkpolicy_row, "DaemonSet": daemonset_row}


def rfc3339(seconds: float) -> str:
    import time

    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(LAB_EPOCH + int(seconds)))


def clean(obj: dict) -> dict:
    """The object as the API server returns it: internal bookkeeping labels hidden, the
    creation time as an RFC 3339 timestamp."""
    from netlab.k8s.api import clone

    out = clone(obj)
    meta = out.get("metadata", {})
    labels = meta.get("labels")
    if labels:
        labels.pop("netlab.io/deployment", None)
    if isinstance(meta.get("creationTimestamp"), (int, float)):
        meta["creationTimestamp"] = rfc3339(meta["creationTimestamp"])
    return out


class _KubeDumper(yaml.SafeDumper):
    """YAML as kubectl prints it (go-yaml): strings that would read back as something
    else in double quotes, multi-line strings as `|` blocks, no line folding."""


def _represent_str(dumper, value: str):
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    try:
        plain = yaml.safe_load(value) == value if value else False
    except yaml.YAMLError:
        plain = False
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=None if plain else '"')


_KubeDumper.add_representer(str, _represent_str)


def to_yaml(data) -> str:
    return yaml.dump(data, Dumper=_KubeDumper, sort_keys=True, default_flow_style=False, width=1 << 20,
                     allow_unicode=True)


def parse_selector(text: str):
    """A label selector (`a=b,c!=d,e,!f`) as a predicate over labels, or ValueError."""
    tests = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        if "!=" in part:
            k, v = part.split("!=", 1)
            tests.append(lambda l, k=k.strip(), v=v.strip(): l.get(k) != v)
        elif "=" in part:
            k, v = part.replace("==", "=").split("=", 1)
            tests.append(lambda l, k=k.strip(), v=v.strip(): l.get(k) == v)
        elif part.startswith("!"):
            tests.append(lambda l, k=part[1:].strip(): k not in l)
        elif " " in part or "(" in part:
            raise ValueError(f'unable to parse requirement: found \'{part.split()[-1]}\', expected: \'=\', \'!=\', \'==\', \'in\', notin\'')
        else:
            tests.append(lambda l, k=part: k in l)
    return lambda labels: all(t(labels) for t in tests)


def run_get(api, now: float, kind: str, names: list[str], namespace: str, all_ns: bool, output: str | None,
            selector=None, show_kind: bool = False, show_labels: bool = False) -> tuple[str, int]:
    cluster_scoped = kind in ("Node", "Namespace", "IngressClass")
    where = None if (all_ns or cluster_scoped) else namespace
    objs = replicasets(api, where) if kind == "ReplicaSet" else api.list(kind, where)
    if isinstance(selector, dict):
        objs = [o for o in objs if all(o["metadata"].get("labels", {}).get(k) == v for k, v in selector.items())]
    elif selector is not None:
        objs = [o for o in objs if selector(o["metadata"].get("labels") or {})]
    missing = []
    if names:
        by_name = {o["metadata"]["name"]: o for o in objs}
        found = []
        for n in names:
            if n in by_name:
                found.append(by_name[n])
            else:
                missing.append(n)
        objs = found
    out = ""
    if output in ("yaml", "json") or (output or "").startswith("jsonpath"):
        items = [clean(o) for o in objs]
        if (output or "").startswith("jsonpath"):
            from netlab.shell.kubectl.jsonpath import JsonPathError, render

            template = output.split("=", 1)[1] if "=" in output else ""
            data = items[0] if len(items) == 1 and names else {"apiVersion": "v1", "items": items, "kind": "List",
                                                               "metadata": {"resourceVersion": ""}}
            try:
                out = render(template, data)
            except JsonPathError as err:
                return f"error: error executing jsonpath {template!r}: {err}\n", 1
            if missing:
                out += "\n" if out else ""
        elif len(items) == 1 and names:
            data = items[0]
        else:
            data = {"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}}
        if output in ("yaml", "json"):
            out = to_yaml(data) if output == "yaml" else \
                json.dumps(data, indent=4, sort_keys=True) + "\n"
    elif output == "name":
        group = GROUPS.get(kind)
        out = "".join(f"{kind.lower()}{'.' + group if group else ''}/{o['metadata']['name']}\n" for o in objs)
    elif objs:
        base, extra = HEADERS.get(kind, (["NAME", "AGE"], []))
        show_ns = all_ns and not cluster_scoped
        headers = (["NAMESPACE"] if show_ns else []) + base + (extra if output == "wide" else [])
        headers += ["LABELS"] if show_labels else []
        wide = output == "wide"
        if kind == "Pod":
            rows = [pod_row(o, now, wide, show_ns) for o in objs]
        elif kind == "Node":
            rows = [node_row(o, now, wide) for o in objs]
        elif kind == "Deployment":
            rows = [deployment_row(o, now, wide, show_ns) for o in objs]
        elif kind in ROWS:
            rows = [ROWS[kind](o, now, wide, show_ns) for o in objs]
        else:
            headers = (["NAMESPACE"] if show_ns else []) + ["NAME", "AGE"] + (["LABELS"] if show_labels else [])
            rows = [generic_row(o, now, wide, show_ns) for o in objs]
        if show_labels:
            for row, o in zip(rows, objs):
                labels = {k: v for k, v in (o["metadata"].get("labels") or {}).items() if k != "netlab.io/deployment"}
                row.append(",".join(f"{k}={v}" for k, v in labels.items()) or "<none>")
        if show_kind:  # several kinds at once: kubectl names each row `kind/name`
            col = 1 if show_ns else 0
            group = GROUPS.get(kind)
            prefix = kind.lower() + (f".{group}" if group else "") + "/"
            for row in rows:
                row[col] = prefix + row[col]
        out = render_table(headers, rows)
    elif not names:
        out = "No resources found\n" if cluster_scoped else (
            "No resources found\n" if all_ns else f"No resources found in {namespace} namespace.\n")

    for n in missing:
        out += f'Error from server (NotFound): {resource_name(kind)} "{n}" not found\n'
    return out, 1 if missing else 0


GROUPS = {"Deployment": "apps", "ReplicaSet": "apps", "DaemonSet": "apps", "EndpointSlice": "discovery.k8s.io", "Ingress": "networking.k8s.io",
          "NetworkPolicy": "networking.k8s.io", "IngressClass": "networking.k8s.io"}


def resource_name(kind: str) -> str:
    """`deployments.apps`, `services`: the resource as the API server names it in errors."""
    from netlab.k8s.api import plural

    group = GROUPS.get(kind)
    return f"{plural(kind)}.{group}" if group else plural(kind)
