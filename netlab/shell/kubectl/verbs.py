"""kubectl describe, expose, scale, delete and label."""
from __future__ import annotations

import copy

from netlab.k8s.api import ApiError
from netlab.shell.kubectl.get import ALIASES, GROUPS, resource_name


def singular_name(kind: str) -> str:
    """`service`, `deployment.apps`: how kubectl names a kind in its success messages."""
    group = GROUPS.get(kind)
    return kind.lower() + (f".{group}" if group else "")


def _kv(d: dict | None) -> list[str]:
    return [f"{k}={v}" for k, v in sorted((d or {}).items())] or ["<none>"]


def describe_block(fields: list[tuple[str, list[str] | str]]) -> str:
    """kubectl's describe layout: keys padded to the longest, continuation lines aligned."""
    width = max(len(k) + 1 for k, _ in fields) + 2
    out = []
    for key, value in fields:
        values = value if isinstance(value, list) else [value]
        out.append(f"{key + ':':<{width}}{values[0]}".rstrip() if values[0] == "" else f"{key + ':':<{width}}{values[0]}")
        for v in values[1:]:
            out.append(" " * width + v)
    return "\n".join(out) + "\n"


def describe_service(api, svc: dict) -> str:
    spec = svc.get("spec", {})
    meta = svc["metadata"]
    ns, name = meta.get("namespace", "default"), meta["name"]
    ep = api.get("Endpoints", ns, name)
    fields: list[tuple[str, list[str] | str]] = [
        ("Name", name), ("Namespace", ns), ("Labels", _kv(meta.get("labels"))),
        ("Annotations", _kv(meta.get("annotations"))),
        ("Selector", ",".join(f"{k}={v}" for k, v in sorted((spec.get("selector") or {}).items())) or "<none>"),
        ("Type", spec.get("type", "ClusterIP")),
    ]
    if spec.get("type") == "ExternalName":
        fields.append(("External Name", spec.get("externalName", "")))
    else:
        fields += [("IP Family Policy", spec.get("ipFamilyPolicy", "SingleStack")),
                   ("IP Families", ",".join(spec.get("ipFamilies", ["IPv4"]))),
                   ("IP", spec.get("clusterIP", "None")), ("IPs", ",".join(spec.get("clusterIPs", [spec.get("clusterIP", "None")])))]
    if spec.get("externalIPs"):
        fields.append(("External IPs", ",".join(spec["externalIPs"])))
    ingress = svc.get("status", {}).get("loadBalancer", {}).get("ingress") or []
    if ingress:
        fields.append(("LoadBalancer Ingress", ", ".join(i.get("ip", "") for i in ingress)))
    for p in spec.get("ports", []):
        pname = p.get("name") or "<unset>"
        fields.append(("Port", f"{pname}  {p['port']}/{p.get('protocol', 'TCP')}"))
        target = p.get("targetPort", p["port"])
        fields.append(("TargetPort", f"{target}/{p.get('protocol', 'TCP')}"))
        if p.get("nodePort"):
            fields.append(("NodePort", f"{pname}  {p['nodePort']}/{p.get('protocol', 'TCP')}"))
        fields.append(("Endpoints", _port_endpoints(ep, p) if ep is not None else "<none>"))
    fields.append(("Session Affinity", spec.get("sessionAffinity", "None")))
    if spec.get("type") in ("NodePort", "LoadBalancer"):
        fields.append(("External Traffic Policy", spec.get("externalTrafficPolicy", "Cluster")))
    if spec.get("internalTrafficPolicy"):
        fields.append(("Internal Traffic Policy", spec["internalTrafficPolicy"]))
    if spec.get("loadBalancerSourceRanges"):
        fields.append(("LoadBalancer Source Ranges", ",".join(spec["loadBalancerSourceRanges"])))
    fields.append(("Events", "<none>"))
    return describe_block(fields)


def _port_endpoints(ep: dict, port: dict) -> str:
    items = []
    for subset in ep.get("subsets") or []:
        for sp in subset.get("ports", []):
            if (sp.get("name") or "") == (port.get("name") or "") or len(subset.get("ports", [])) == 1 and not port.get("name"):
                items += [f"{a['ip']}:{sp['port']}" for a in subset.get("addresses", [])]
    if not items:
        return ""
    return ",".join(items[:3]) + (f" + {len(items) - 3} more..." if len(items) > 3 else "")


def describe_endpoints(ep: dict) -> str:
    meta = ep["metadata"]
    lines = [describe_block([("Name", meta["name"]), ("Namespace", meta.get("namespace", "default")),
                             ("Labels", _kv(meta.get("labels"))), ("Annotations", _kv(meta.get("annotations")))]).rstrip("\n"),
             "Subsets:"]
    for subset in ep.get("subsets") or []:
        ready = ",".join(a["ip"] for a in subset.get("addresses", [])) or "<none>"
        not_ready = ",".join(a["ip"] for a in subset.get("notReadyAddresses", [])) or "<none>"
        lines += [f"  Addresses:          {ready}", f"  NotReadyAddresses:  {not_ready}", "  Ports:"]
        rows = [("Name", "Port", "Protocol"), ("----", "----", "--------")]
        rows += [(p.get("name") or "<unset>", str(p["port"]), p.get("protocol", "TCP")) for p in subset.get("ports", [])]
        w0 = max(len(r[0]) for r in rows) + 2
        w1 = max(len(r[1]) for r in rows) + 2
        lines += [f"    {r[0]:<{w0}}{r[1]:<{w1}}{r[2]}" for r in rows]
        lines.append("")
    lines.append("Events:  <none>")
    return "\n".join(lines) + "\n"


def describe_pod(api, pod: dict, now: float) -> str:
    meta, spec, status = pod["metadata"], pod.get("spec", {}), pod.get("status", {})
    fields = [("Name", meta["name"]), ("Namespace", meta.get("namespace", "default")), ("Priority", "0"),
              ("Service Account", spec.get("serviceAccountName", "default")),
              ("Node", f"{spec.get('nodeName', '<none>')}/{status.get('hostIP', '')}"),
              ("Labels", [f"{k}={v}" for k, v in sorted(meta.get("labels", {}).items()) if k != "netlab.io/deployment"] or ["<none>"]),
              ("Annotations", "<none>"), ("Status", status.get("phase", "Pending")),
              ("IP", status.get("podIP", "")), ("IPs", ""), ("  IP", status.get("podIP", ""))]
    owners = meta.get("ownerReferences") or []
    if owners:
        fields.append(("Controlled By", f"{owners[0]['kind']}/{owners[0]['name']}"))
    out = describe_block(fields)
    out += "Containers:\n"
    for c in spec.get("containers", []):
        out += f"  {c.get('name', '')}:\n    Image:          {c.get('image', '')}\n"
        ports = ", ".join(f"{p['containerPort']}/{p.get('protocol', 'TCP')}" for p in c.get("ports", []) or []) or "<none>"
        out += f"    Port:           {ports}\n    State:          Running\n    Ready:          "
        out += ("True" if all(cs.get("ready") for cs in status.get("containerStatuses", [])) else "False") + "\n"
    out += "Conditions:\n  Type              Status\n"
    for cond in status.get("conditions", []):
        out += f"  {cond['type']:<18}{cond['status']}\n"
    out += "Events:            <none>\n"
    return out


def expose(api, namespace: str, kind_text: str, name: str, flags: dict[str, str]) -> str:
    kind = ALIASES.get(kind_text.lower(), kind_text)
    source = api.get(kind, namespace, name)
    if source is None:
        raise ApiError(f'Error from server (NotFound): {resource_name(kind)} "{name}" not found')
    if kind == "Deployment":
        selector = source.get("spec", {}).get("selector", {}).get("matchLabels", {})
        containers = source["spec"]["template"]["spec"].get("containers", [])
    elif kind == "Pod":
        selector = {k: v for k, v in source["metadata"].get("labels", {}).items() if k not in ("pod-template-hash", "netlab.io/deployment")}
        containers = source["spec"].get("containers", [])
    elif kind == "Service":
        selector = source.get("spec", {}).get("selector") or {}
        containers = []
    else:
        raise ApiError(f"error: cannot expose a {kind}")
    port = flags.get("port")
    if port is None:
        declared = [p["containerPort"] for c in containers for p in c.get("ports", []) or []]
        if not declared:
            raise ApiError("error: couldn't find port via --port flag or introspection\nSee 'kubectl expose -h' for help and examples")
        port = declared[0]
    protocol = flags.get("protocol", "TCP")
    target = flags.get("target-port", port)
    svc_port = {"port": int(port), "protocol": protocol,
                "targetPort": int(target) if str(target).isdigit() else target}
    svc = {"apiVersion": "v1", "kind": "Service",
           "metadata": {"name": flags.get("name", name), "namespace": namespace,
                        "labels": dict(source["metadata"].get("labels", {}) if kind != "Deployment" else
                                       source["metadata"].get("labels", {}) or selector)},
           "spec": {"selector": selector, "ports": [svc_port], "type": flags.get("type", "ClusterIP")}}
    svc["metadata"]["labels"].pop("netlab.io/deployment", None)
    svc["metadata"]["labels"].pop("pod-template-hash", None)
    if flags.get("cluster-ip"):
        svc["spec"]["clusterIP"] = flags["cluster-ip"]
    if flags.get("external-ip"):
        svc["spec"]["externalIPs"] = flags["external-ip"].split(",")
    if flags.get("session-affinity"):
        svc["spec"]["sessionAffinity"] = flags["session-affinity"]
    api.create(svc)
    return f"service/{svc['metadata']['name']} exposed\n"


def scale(api, namespace: str, kind_text: str, name: str, replicas: str) -> str:
    kind = ALIASES.get(kind_text.lower(), kind_text)
    if kind != "Deployment":
        raise ApiError(f'error: no objects passed to scale')
    if not replicas.isdigit():
        raise ApiError(f'error: invalid argument "{replicas}" for "--replicas" flag: strconv.ParseInt: parsing "{replicas}": invalid syntax')
    dep = api.get("Deployment", namespace, name)
    if dep is None:
        raise ApiError(f'Error from server (NotFound): deployments.apps "{name}" not found')
    dep = copy.deepcopy(dep)
    dep["spec"]["replicas"] = int(replicas)
    api.update(dep)
    return f"deployment.apps/{name} scaled\n"


def delete(api, namespace: str, kind: str, name: str) -> str:
    api.delete(kind, namespace, name)
    return f'{singular_name(kind)} "{name}" deleted\n'


def label(api, namespace: str, kind: str, name: str, changes: list[str], overwrite: bool) -> str:
    obj = api.get(kind, namespace, name)
    if obj is None:
        raise ApiError(f'Error from server (NotFound): {resource_name(kind)} "{name}" not found')
    obj = copy.deepcopy(obj)
    labels = obj["metadata"].setdefault("labels", {})
    removed = added = False
    for change in changes:
        if change.endswith("-") and "=" not in change:
            key = change[:-1]
            if key in labels:
                del labels[key]
                removed = True
            continue
        if "=" not in change:
            raise ApiError(f"error: at least one label update is required")
        key, value = change.split("=", 1)
        if key in labels and labels[key] != value and not overwrite:
            raise ApiError(f"error: '{key}' already has a value ({labels[key]}), and --overwrite is false")
        from netlab.k8s.validate import label_problem

        problem = label_problem(key, value)
        if problem:
            raise ApiError(f'The {kind} "{name}" is invalid: metadata.labels: Invalid value: "{value}": {problem}')
        if labels.get(key) != value:
            added = True
        labels[key] = value
    api.update(obj)
    what = "labeled" if added or not removed else "unlabeled"
    if not added and not removed:
        what = "not labeled"
    return f"{singular_name(kind)}/{name} {what}\n"
