"""`kubectl get` for the kinds the cluster runs."""
from __future__ import annotations

import json

import yaml

from netlab.shell.kubectl.table import human_duration, render_table

ALIASES = {
    "po": "Pod", "pod": "Pod", "pods": "Pod",
    "no": "Node", "node": "Node", "nodes": "Node",
    "deploy": "Deployment", "deployment": "Deployment", "deployments": "Deployment",
    "ns": "Namespace", "namespace": "Namespace", "namespaces": "Namespace",
    "svc": "Service", "service": "Service", "services": "Service",
    "ep": "Endpoints", "endpoints": "Endpoints",
    "endpointslice": "EndpointSlice", "endpointslices": "EndpointSlice",
    "endpointslices.discovery.k8s.io": "EndpointSlice",
}


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
    row = [pod["metadata"]["name"], f"{ready}/{len(containers)}", status.get("phase", "Pending"), str(restarts), age(pod, now)]
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
        containers = spec.get("template", {}).get("spec", {}).get("containers", [])
        sel = spec.get("selector", {}).get("matchLabels", {})
        row += [",".join(c.get("name", "") for c in containers), ",".join(c.get("image", "") for c in containers),
                ",".join(f"{k}={v}" for k, v in sel.items())]
    return row


HEADERS = {
    "Pod": (["NAME", "READY", "STATUS", "RESTARTS", "AGE"], ["IP", "NODE", "NOMINATED NODE", "READINESS GATES"]),
    "Node": (["NAME", "STATUS", "ROLES", "AGE", "VERSION"], ["INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE", "KERNEL-VERSION", "CONTAINER-RUNTIME"]),
    "Deployment": (["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"], ["CONTAINERS", "IMAGES", "SELECTOR"]),
    "Namespace": (["NAME", "STATUS", "AGE"], []),
    "Service": (["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"], ["SELECTOR"]),
    "Endpoints": (["NAME", "ENDPOINTS", "AGE"], []),
    "EndpointSlice": (["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"], []),
}
ROWS = {"Service": service_row, "Endpoints": endpoints_row, "EndpointSlice": slice_row}


def clean(obj: dict) -> dict:
    """The object as `-o yaml` shows it (internal bookkeeping labels hidden)."""
    import copy

    out = copy.deepcopy(obj)
    labels = out.get("metadata", {}).get("labels")
    if labels:
        labels.pop("netlab.io/deployment", None)
    return out


def run_get(api, now: float, kind: str, names: list[str], namespace: str, all_ns: bool, output: str | None,
            selector: dict | None = None, show_kind: bool = False) -> tuple[str, int]:
    cluster_scoped = kind in ("Node", "Namespace")
    objs = api.list(kind, None if (all_ns or cluster_scoped) else namespace)
    if selector:
        objs = [o for o in objs if all(o["metadata"].get("labels", {}).get(k) == v for k, v in selector.items())]
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
    if output in ("yaml", "json"):
        items = [clean(o) for o in objs]
        if len(items) == 1 and names:
            data = items[0]
        else:
            data = {"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}}
        out = yaml.safe_dump(data, sort_keys=True, default_flow_style=False) if output == "yaml" else json.dumps(data, indent=4) + "\n"
    elif output == "name":
        out = "".join(f"{kind.lower()}/{o['metadata']['name']}\n" for o in objs)
    elif objs:
        base, extra = HEADERS[kind]
        show_ns = all_ns and not cluster_scoped
        headers = (["NAMESPACE"] if show_ns else []) + base + (extra if output == "wide" else [])
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
            rows = [[o["metadata"]["name"], "Active", age(o, now)] for o in objs]
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


GROUPS = {"Deployment": "apps", "EndpointSlice": "discovery.k8s.io", "Ingress": "networking.k8s.io",
          "NetworkPolicy": "networking.k8s.io", "IngressClass": "networking.k8s.io"}


def resource_name(kind: str) -> str:
    """`deployments.apps`, `services`: the resource as the API server names it in errors."""
    from netlab.k8s.api import plural

    group = GROUPS.get(kind)
    return f"{plural(kind)}.{group}" if group else plural(kind)
