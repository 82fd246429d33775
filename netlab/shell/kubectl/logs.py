"""`kubectl logs`: what a pod's containers wrote, from `Cluster.pod_logs`."""
from __future__ import annotations

from netlab.shell.kubectl.get import ALIASES


def logs(inv, pos: list[str], opts: dict, namespace: str) -> int:
    if not pos:
        return inv.fail("error: expected 'logs [-f] [-p] (POD | TYPE/NAME) [-c CONTAINER]'.\n"
                        "POD or TYPE/NAME is a required argument for the logs command\n"
                        "See 'kubectl logs -h' for help and examples", 1)
    api = inv.lab.cluster.api
    target = pos[0]
    prefix = ""
    if "/" in target:
        kind_text, name = target.split("/", 1)
        kind = ALIASES.get(kind_text.lower())
        if kind == "Deployment":
            if api.get("Deployment", namespace, name) is None:
                return inv.fail(f'error: deployments.apps "{name}" not found', 1)
            pods = [p for p in api.list("Pod", namespace)
                    if p["metadata"].get("labels", {}).get("netlab.io/deployment") == name]
            if not pods:
                return inv.fail(f"error: timed out waiting for the condition", 1)
            if len(pods) > 1:
                prefix = f"Found {len(pods)} pods, using pod/{pods[0]['metadata']['name']}\n"
            target = pods[0]["metadata"]["name"]
        elif kind == "DaemonSet":
            from netlab.k8s.daemonsets import owner_of

            if api.get("DaemonSet", namespace, name) is None:
                return inv.fail(f'error: daemonsets.apps "{name}" not found', 1)
            pods = [p for p in api.list("Pod", namespace) if owner_of(p) == name]
            if not pods:
                return inv.fail("error: timed out waiting for the condition", 1)
            if len(pods) > 1:
                prefix = f"Found {len(pods)} pods, using pod/{pods[0]['metadata']['name']}\n"
            target = pods[0]["metadata"]["name"]
        elif kind == "Pod":
            target = name
        else:
            return inv.fail(f'error: cannot get the logs from {kind_text}', 1)
    pod = api.get("Pod", namespace, target)
    if pod is None:
        return inv.fail(f'Error from server (NotFound): pods "{target}" not found', 1)
    names = [c.get("name", "") for c in (pod.get("spec") or {}).get("containers") or []]
    container = opts["container"]
    if container is None:
        if len(names) > 1:
            return inv.fail(f"Error from server (BadRequest): a container name must be specified for pod {target}, "
                            f"choose one of: [{' '.join(names)}]", 1)
        container = names[0] if names else ""
    elif container not in names:
        return inv.fail(f"error: container {container} is not valid for pod {target}", 1)
    lines = inv.lab.cluster.pod_logs(f"{namespace}/{target}", container)
    tail = opts["flags"].get("tail")
    if tail is not None and tail.lstrip("-").isdigit() and int(tail) >= 0:
        lines = lines[-int(tail):] if int(tail) else []
    inv.write(prefix + "".join(line if line.endswith("\n") else line + "\n" for line in lines))
    return 0
