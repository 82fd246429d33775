"""`kubectl rollout restart|status` for Deployments and DaemonSets.

`restart` does what kubectl does: it patches the pod template's
`kubectl.kubernetes.io/restartedAt` annotation, so the controller sees a new template and
replaces every pod (the kube-proxy DaemonSet's new pods read the kube-proxy ConfigMap
again: netlab/k8s/kubeproxy/config.py). `status` reports the rollout as finished when
every pod is up to date and available; netlab's rollouts finish at once, so one that is
not finished (a crash-looping pod) never will, and status says so instead of waiting.
"""
from __future__ import annotations

import copy

from netlab.k8s.api import ApiError
from netlab.shell.kubectl.get import ALIASES, LAB_EPOCH, resource_name

RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
KINDS = ("Deployment", "DaemonSet")
USAGE = """Manage the rollout of one or many resources.

 Valid resource types include:

  *  deployments
  *  daemonsets
  *  statefulsets

Available Commands:
  history       View rollout history
  pause         Mark the provided resource as paused
  restart       Restart a resource
  resume        Resume a paused resource
  status        Show the status of the rollout
  undo          Undo a previous rollout

Usage:
  kubectl rollout SUBCOMMAND [options]

Use "kubectl <command> --help" for more information about a given command.
Use "kubectl options" for a list of global command-line options (applies to all commands)."""


def rollout(inv, pos: list[str], opts: dict, namespace: str) -> int:
    if not pos:
        return inv.fail(USAGE, 0)
    sub, rest = pos[0], pos[1:]
    if sub not in ("restart", "status"):
        if sub in ("history", "pause", "resume", "undo"):
            return inv.fail(f"netlab: `kubectl rollout {sub}` is not available here (restart and status are)", 1)
        return inv.fail(f'error: unknown command "{sub}" for "kubectl rollout"\n'
                        "Run 'kubectl rollout --help' for usage.", 1)
    api = inv.lab.cluster.api
    if len(rest) == 1 and "/" not in rest[0] and sub == "restart":  # `rollout restart deployment`: every one
        kind = ALIASES.get(rest[0].lower())
        rest = rest + [o["metadata"]["name"] for o in api.list(kind, namespace)] if kind in KINDS else rest
        if len(rest) == 1 and kind in KINDS:
            raise ApiError(f"No resources found in {namespace} namespace.")
    targets = _targets(rest, sub)
    out = []
    for kind_text, kind, name in targets:
        if kind is None:
            raise ApiError(f'error: the server doesn\'t have a resource type "{kind_text}"')
        obj = api.get(kind, namespace, name)
        if obj is None:
            raise ApiError(f'Error from server (NotFound): {resource_name(kind)} "{name}" not found')
        if kind not in KINDS:
            if sub == "restart":
                raise ApiError(f'error: {resource_name(kind)} "{name}" restarting is not supported')
            raise ApiError(f"error: no status viewer has been implemented for {kind}")
        if sub == "restart":
            out.append(_restart(api, obj, inv.lab.world.clock))
        else:
            text, done = _status(api, obj)
            if not done:
                inv.write("".join(out) + text)
                return inv.fail("error: timed out waiting for the condition", 1)
            out.append(text)
    inv.write("".join(out))
    return 0


def _targets(args: list[str], sub: str) -> list[tuple[str, str | None, str]]:
    """`TYPE NAME...` or `TYPE/NAME...` → [(type as typed, Kind or None, name)]."""
    if not args:
        raise ApiError("error: required resource not specified" if sub == "status" else
                       "error: You must provide one or more resources by argument or filename.\n"
                       "Example resource specifications include:\n   '-f rsrc.yaml'\n   '--filename=rsrc.json'\n"
                       "   '<resource> <name>'\n   '<resource>'")
    if "/" in args[0]:
        out = []
        for a in args:
            if "/" not in a:
                raise ApiError("error: there is no need to specify a resource type as a separate argument when "
                               "passing arguments in resource/name form (e.g. 'kubectl get resource/<resource_name>' "
                               "instead of 'kubectl get resource resource/<resource_name>'")
            kind_text, name = a.split("/", 1)
            out.append((kind_text, ALIASES.get(kind_text.lower()), name))
        return out
    if len(args) == 1:
        raise ApiError(f"error: resource(s) were provided, but no name was specified")
    kind = ALIASES.get(args[0].lower())
    return [(args[0], kind, name) for name in args[1:]]


def _restart(api, obj: dict, clock: float) -> str:
    import time

    obj = copy.deepcopy(obj)
    template = obj.setdefault("spec", {}).setdefault("template", {})
    annotations = template.setdefault("metadata", {}).setdefault("annotations", {})
    stamp = LAB_EPOCH + int(clock)
    previous = annotations.get(RESTARTED_AT)
    # kubectl stamps the wall clock; netlab's clock stands still between commands, so a
    # second restart in the same simulated second takes the next second instead of failing.
    while time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(stamp)) <= (previous or ""):
        stamp += 1
    annotations[RESTARTED_AT] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(stamp))
    meta = obj["metadata"]
    meta["generation"] = int(meta.get("generation") or 1) + 1
    api.update(obj)
    return f"{obj['kind'].lower()}.apps/{meta['name']} restarted\n"


def _status(api, obj: dict) -> tuple[str, bool]:
    name = obj["metadata"]["name"]
    if obj["kind"] == "Deployment":
        want = int((obj.get("spec") or {}).get("replicas", 1))
        status = obj.get("status") or {}
        if status.get("availableReplicas", 0) >= want and status.get("updatedReplicas", 0) >= want:
            return f'deployment "{name}" successfully rolled out\n', True
        return (f'Waiting for deployment "{name}" rollout to finish: {status.get("availableReplicas", 0)} of {want} '
                "updated replicas are available...\n", False)
    status = obj.get("status") or {}
    desired = status.get("desiredNumberScheduled", 0)
    updated, available = status.get("updatedNumberScheduled", 0), status.get("numberAvailable", 0)
    if updated < desired:
        return (f'Waiting for daemon set "{name}" rollout to finish: {updated} out of {desired} new pods have been '
                "updated...\n", False)
    if available < desired:
        return (f'Waiting for daemon set "{name}" rollout to finish: {available} of {desired} updated pods are '
                "available...\n", False)
    return f'daemon set "{name}" successfully rolled out\n', True
