"""kubectl describe for the workload and configuration kinds (Deployment, ReplicaSet,
ConfigMap, Secret, Namespace, Node), in kubectl 1.26's layout."""
from __future__ import annotations

import time

from netlab.shell.kubectl.get import LAB_EPOCH
from netlab.shell.kubectl.verbs import _kv, describe_block


def _created(obj: dict) -> str:
    return time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(LAB_EPOCH + int(obj["metadata"].get("creationTimestamp") or 0)))


def _containers(spec: dict, indent: str = "  ") -> list[str]:
    lines = [f"{indent}Containers:"]
    for c in spec.get("containers", []):
        ports = ", ".join(f"{p['containerPort']}/{p.get('protocol', 'TCP')}" for p in c.get("ports", []) or []) or "<none>"
        env = [f"{e['name']}:  {e['value']}" if "value" in e else
               f"{e['name']}:   ({_field_ref(e)})" for e in c.get("env", []) or []]
        lines += [f"{indent} {c.get('name', '')}:", f"{indent}  Image:        {c.get('image', '')}",
                  f"{indent}  Port:         {ports}", f"{indent}  Host Port:    0/TCP" if ports != "<none>" else
                  f"{indent}  Host Port:    <none>"]
        if c.get("command"):
            lines += [f"{indent}  Command:"] + [f"{indent}    {arg}" for arg in c["command"]]
        lines += [f"{indent}  Environment:  {env[0] if env else '<none>'}"] + [f"{indent}                {e}" for e in env[1:]]
        lines.append(f"{indent}  Mounts:       <none>")
    lines.append(f"{indent}Volumes:        <none>")
    return lines


def _field_ref(env: dict) -> str:
    ref = (env.get("valueFrom") or {}).get("fieldRef") or {}
    return f"{ref.get('apiVersion', 'v1')}:{ref.get('fieldPath', '')}" if ref else ""


def describe_deployment(api, dep: dict) -> str:
    meta, spec, status = dep["metadata"], dep.get("spec", {}), dep.get("status", {})
    want = spec.get("replicas", 1)
    have = status.get("replicas", 0)
    avail = status.get("availableReplicas", 0)
    sel = ",".join(f"{k}={v}" for k, v in sorted(spec.get("selector", {}).get("matchLabels", {}).items()))
    head = describe_block([
        ("Name", meta["name"]), ("Namespace", meta.get("namespace", "default")), ("CreationTimestamp", _created(dep)),
        ("Labels", _kv(meta.get("labels"))), ("Annotations", ["deployment.kubernetes.io/revision: 1"]),
        ("Selector", sel or "<none>"),
        ("Replicas", f"{want} desired | {status.get('updatedReplicas', 0)} updated | {have} total | {avail} available | "
                     f"{max(want - avail, 0)} unavailable"),
        ("StrategyType", spec.get("strategy", {}).get("type", "RollingUpdate")), ("MinReadySeconds", "0"),
        ("RollingUpdateStrategy", "25% max unavailable, 25% max surge")])
    template = spec.get("template", {})
    tlabels = ",".join(f"{k}={v}" for k, v in sorted(template.get("metadata", {}).get("labels", {}).items()))
    lines = head.rstrip("\n").split("\n") + ["Pod Template:", f"  Labels:  {tlabels or '<none>'}"]
    lines += _containers(template.get("spec", {}))
    from netlab.k8s.names import pod_template_hash

    ready = avail >= want
    lines += ["Conditions:", "  Type           Status  Reason", "  ----           ------  ------",
              f"  Available      {'True ' if ready else 'False'}   {'MinimumReplicasAvailable' if ready else 'MinimumReplicasUnavailable'}",
              "  Progressing    True    NewReplicaSetAvailable",
              "OldReplicaSets:  <none>",
              f"NewReplicaSet:   {meta['name']}-{pod_template_hash(template)} ({have}/{want} replicas created)",
              "Events:          <none>"]
    return "\n".join(lines) + "\n"


def describe_configmap(cm: dict) -> str:
    meta = cm["metadata"]
    out = describe_block([("Name", meta["name"]), ("Namespace", meta.get("namespace", "default")),
                          ("Labels", _kv(meta.get("labels"))), ("Annotations", _kv(meta.get("annotations")))])
    out += "\nData\n====\n"
    for key, value in (cm.get("data") or {}).items():
        out += f"{key}:\n----\n{value}\n"
    out += "\nBinaryData\n====\n"
    for key, value in (cm.get("binaryData") or {}).items():
        out += f"{key}: {len(value) * 3 // 4} bytes\n"
    return out + "\nEvents:  <none>\n"


def describe_secret(sec: dict) -> str:
    import base64

    meta = sec["metadata"]
    out = describe_block([("Name", meta["name"]), ("Namespace", meta.get("namespace", "default")),
                          ("Labels", _kv(meta.get("labels"))), ("Annotations", _kv(meta.get("annotations")))])
    out += f"\nType:  {sec.get('type', 'Opaque')}\n\nData\n====\n"
    data = dict(sec.get("data") or {})
    sizes = {k: len(base64.b64decode(v)) if isinstance(v, str) else 0 for k, v in data.items()}
    sizes.update({k: len(str(v).encode()) for k, v in (sec.get("stringData") or {}).items()})
    width = max((len(k) for k in sizes), default=0) + 2
    for key in sorted(sizes):
        out += f"{key + ':':<{width}} {sizes[key]} bytes\n"
    return out


def describe_namespace(ns: dict) -> str:
    meta = ns["metadata"]
    out = describe_block([("Name", meta["name"]), ("Labels", _kv(meta.get("labels"))),
                          ("Annotations", _kv(meta.get("annotations"))),
                          ("Status", ns.get("status", {}).get("phase", "Active"))])
    return out + "\nNo resource quota.\n\nNo LimitRange resource.\n"


def describe_node(api, node: dict) -> str:
    meta, spec, status = node["metadata"], node.get("spec", {}), node.get("status", {})
    labels = meta.get("labels", {})
    roles = ",".join(sorted(k.split("/", 1)[1] for k in labels if k.startswith("node-role.kubernetes.io/"))) or "<none>"
    info = status.get("nodeInfo", {})
    head = describe_block([("Name", meta["name"]), ("Roles", roles), ("Labels", _kv(labels)),
                           ("Annotations", ["node.alpha.kubernetes.io/ttl: 0"]), ("CreationTimestamp", _created(node)),
                           ("Taints", "<none>"), ("Unschedulable", "false")])
    lines = head.rstrip("\n").split("\n")
    lines += ["Conditions:", "  Type             Status  Reason                       Message",
              "  ----             ------  ------                       -------"]
    for c in status.get("conditions", []):
        lines.append(f"  {c['type']:<16} {c['status']:<7} {'KubeletReady':<28} kubelet is posting ready status")
    lines.append("Addresses:")
    for a in status.get("addresses", []):
        lines.append(f"  {a['type'] + ':':<12} {a['address']}")
    lines += ["System Info:", f"  Kernel Version:             {info.get('kernelVersion', '')}",
              f"  OS Image:                   {info.get('osImage', '')}", "  Operating System:           linux",
              "  Architecture:               amd64",
              f"  Container Runtime Version:  {info.get('containerRuntimeVersion', '')}",
              f"  Kubelet Version:            {info.get('kubeletVersion', '')}",
              f"  Kube-Proxy Version:         {info.get('kubeletVersion', '')}",
              f"PodCIDR:                      {spec.get('podCIDR', '')}",
              f"PodCIDRs:                     {','.join(spec.get('podCIDRs', []))}"]
    pods = [p for p in api.list("Pod") if p.get("spec", {}).get("nodeName") == meta["name"]]
    lines.append(f"Non-terminated Pods:          ({len(pods)} in total)")
    width = max([len("Namespace")] + [len(p["metadata"].get("namespace", "default")) for p in pods]) + 2
    nwidth = max([len("Name")] + [len(p["metadata"]["name"]) for p in pods]) + 2
    lines.append(f"  {'Namespace':<{width}}{'Name':<{nwidth}}CPU Requests  CPU Limits  Memory Requests  Memory Limits  Age")
    lines.append(f"  {'---------':<{width}}{'----':<{nwidth}}------------  ----------  ---------------  -------------  ---")
    from netlab.shell.kubectl.table import human_duration

    now = api._clock()
    for p in pods:
        age = human_duration(now - p["metadata"].get("creationTimestamp", now))
        lines.append(f"  {p['metadata'].get('namespace', 'default'):<{width}}{p['metadata']['name']:<{nwidth}}"
                     f"{'0 (0%)':<14}{'0 (0%)':<12}{'0 (0%)':<17}{'0 (0%)':<15}{age}")
    lines.append("Events:                       <none>")
    return "\n".join(lines) + "\n"


def describe_daemonset(api, ds: dict) -> str:
    meta, spec, status = ds["metadata"], ds.get("spec", {}), ds.get("status", {})
    template = spec.get("template", {})
    tspec = template.get("spec", {})
    sel = ",".join(f"{k}={v}" for k, v in sorted(spec.get("selector", {}).get("matchLabels", {}).items()))
    node_sel = ",".join(f"{k}={v}" for k, v in sorted((tspec.get("nodeSelector") or {}).items()))
    from netlab.k8s.daemonsets import owner_of

    pods = [p for p in api.list("Pod", meta.get("namespace", "default")) if owner_of(p) == meta["name"]]
    waiting = sum(1 for p in pods if any("waiting" in (c.get("state") or {})
                                         for c in (p.get("status") or {}).get("containerStatuses") or []))
    head = describe_block([
        ("Name", meta["name"]), ("Selector", sel or "<none>"), ("Node-Selector", node_sel or "<none>"),
        ("Labels", _kv(meta.get("labels"))),
        ("Annotations", [f"deprecated.daemonset.template.generation: {meta.get('generation', 1)}"])])
    lines = head.rstrip("\n").split("\n") + [
        f"Desired Number of Nodes Scheduled: {status.get('desiredNumberScheduled', 0)}",
        f"Current Number of Nodes Scheduled: {status.get('currentNumberScheduled', 0)}",
        f"Number of Nodes Scheduled with Up-to-date Pods: {status.get('updatedNumberScheduled', 0)}",
        f"Number of Nodes Scheduled with Available Pods: {status.get('numberAvailable', 0)}",
        f"Number of Nodes Misscheduled: {status.get('numberMisscheduled', 0)}",
        f"Pods Status:  {len(pods) - waiting} Running / {waiting} Waiting / 0 Succeeded / 0 Failed"]
    tlabels = ",".join(f"{k}={v}" for k, v in sorted(template.get("metadata", {}).get("labels", {}).items()))
    lines += ["Pod Template:", f"  Labels:           {tlabels or '<none>'}"]
    if (template.get("metadata") or {}).get("annotations"):
        lines.append("  Annotations:      " + "\n                    ".join(_kv(template["metadata"]["annotations"])))
    lines.append(f"  Service Account:  {tspec.get('serviceAccountName', 'default')}")
    lines += _containers(tspec)
    if tspec.get("priorityClassName"):
        lines.append(f"  Priority Class Name:  {tspec['priorityClassName']}")
    lines.append("Events:                 <none>")
    return "\n".join(lines) + "\n"


def describe_other(api, kind: str, obj: dict) -> str | None:
    """The describe text for these kinds, or None (the caller falls back)."""
    if kind == "Deployment":
        return describe_deployment(api, obj)
    if kind == "DaemonSet":
        return describe_daemonset(api, obj)
    if kind == "ConfigMap":
        return describe_configmap(obj)
    if kind == "Secret":
        return describe_secret(obj)
    if kind == "Namespace":
        return describe_namespace(obj)
    if kind == "Node":
        return describe_node(api, obj)
    return None
