"""`kubectl run` and the `kubectl create` generators (deployment, namespace, configmap,
secret generic), plus `create -f`. Each builds the manifest kubectl would send and
stores it through the same validation as `apply`."""
from __future__ import annotations

import base64

from netlab.k8s.api import ApiError
from netlab.shell.kubectl.apply import create_one, run_files

USAGE_NAME = "error: exactly one NAME is required, got {n}\nSee 'kubectl create {what} -h' for help and examples"


def _labels(text: str) -> dict:
    labels = {}
    for part in text.split(","):
        if "=" not in part:
            raise ApiError(f"error: invalid label spec: {text}")
        k, v = part.split("=", 1)
        labels[k] = v
    return labels


def _port(text: str) -> int:
    if not text.isdigit():
        raise ApiError(f'error: invalid argument "{text}" for "--port" flag: strconv.ParseInt: parsing "{text}": invalid syntax')
    return int(text)


def container_name(image: str) -> str:
    """kubectl names a generated container after its image: `nginx:1.25` → `nginx`."""
    base = image.rsplit("/", 1)[-1].split("@", 1)[0].split(":", 1)[0]
    return "".join(c if c.isalnum() or c == "-" else "-" for c in base.lower()).strip("-") or "container"


def run_pod(inv, pos: list[str], opts: dict, namespace: str) -> int:
    flags = opts["flags"]
    if not pos:
        return inv.fail("error: NAME is required for run\nSee 'kubectl run -h' for help and examples", 1)
    if not flags.get("image"):
        return inv.fail('error: required flag(s) "image" not set', 1)
    name = pos[0]
    restart = flags.get("restart", "Always")
    if restart not in ("Always", "OnFailure", "Never"):
        return inv.fail(f'error: invalid restart policy: {restart}', 1)
    labels = _labels(flags["labels"]) if flags.get("labels") else {"run": name}
    container = {"name": name, "image": flags["image"]}
    args = opts.get("after") or pos[1:]
    if args:
        container["args"] = list(args)
    if flags.get("port"):
        container["ports"] = [{"containerPort": _port(flags["port"])}]
    if opts["env"]:
        container["env"] = [{"name": e.split("=", 1)[0], "value": e.split("=", 1)[1] if "=" in e else ""} for e in opts["env"]]
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace, "labels": labels},
           "spec": {"containers": [container], "restartPolicy": restart, "dnsPolicy": "ClusterFirst"}}
    create_one(inv.lab.cluster.api, pod)
    return inv.fail(f"pod/{name} created", 0)


def create(inv, pos: list[str], opts: dict, namespace: str) -> int:
    if opts["files"]:
        return run_files(inv, opts["files"], namespace, opts["namespace"] is not None, "create")
    if not pos:
        return inv.fail("error: must specify one of -f and -k", 1)
    what, names = pos[0], pos[1:]
    what = {"deploy": "deployment", "ns": "namespace", "cm": "configmap"}.get(what, what)
    if what == "secret":
        if not names or names[0] != "generic":
            return inv.fail("error: only `kubectl create secret generic` is supported here", 1)
        names = names[1:]
    makers = {"deployment": _deployment, "namespace": _namespace, "configmap": _configmap, "secret": _secret}
    if what not in makers:
        return inv.fail(f'error: unknown command "{what}" for "kubectl create"', 1)
    if len(names) != 1:
        return inv.fail(USAGE_NAME.format(n=len(names), what=what), 1)
    obj = makers[what](names[0], opts, namespace)
    create_one(inv.lab.cluster.api, obj)
    group = ".apps" if what == "deployment" else ""
    return inv.fail(f"{what}{group}/{names[0]} created", 0)


def _deployment(name: str, opts: dict, namespace: str) -> dict:
    flags = opts["flags"]
    if not flags.get("image"):
        raise ApiError('error: required flag(s) "image" not set')
    replicas = flags.get("replicas", "1")
    if not replicas.isdigit():
        raise ApiError(f'error: invalid argument "{replicas}" for "-r, --replicas" flag: strconv.ParseInt: '
                       f'parsing "{replicas}": invalid syntax')
    container = {"name": container_name(flags["image"]), "image": flags["image"]}
    if flags.get("port"):
        container["ports"] = [{"containerPort": _port(flags["port"])}]
    labels = {"app": name}
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": namespace, "labels": dict(labels)},
            "spec": {"replicas": int(replicas), "selector": {"matchLabels": dict(labels)},
                     "template": {"metadata": {"labels": dict(labels)}, "spec": {"containers": [container]}}}}


def _namespace(name: str, opts: dict, namespace: str) -> dict:
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name}}}


def _literals(opts: dict) -> dict:
    data = {}
    for lit in opts["literals"]:
        if "=" not in lit or lit.startswith("="):
            raise ApiError(f"error: invalid literal source {lit}, expected key=value")
        k, v = lit.split("=", 1)
        if k in data:
            raise ApiError(f'error: cannot add key "{k}", another key by that name already exists in Data for ConfigMap "{k}"')
        data[k] = v
    return data


def _configmap(name: str, opts: dict, namespace: str) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": namespace},
            "data": _literals(opts)}


def _secret(name: str, opts: dict, namespace: str) -> dict:
    data = {k: base64.b64encode(v.encode()).decode() for k, v in _literals(opts).items()}
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": namespace},
            "type": "Opaque", "data": data}
