"""`kubectl apply -f`, `kubectl create -f` and `kubectl delete -f`.

Files come from the context's virtual filesystem (what `echo ... > f.yaml` wrote) or,
with `-f -`, from the pipe. netlab never reads a file of the machine it runs on: a
classroom server must not hand out its own files, and a lab is the same world
wherever it runs.

As kubectl does, every document is parsed before anything is sent (a YAML error
applies nothing); then each object is sent on its own, so a refused document stores
nothing and the others still apply. Results print as they happen, errors after them.
"""
from __future__ import annotations

import datetime
import json
import math

import yaml

from netlab.k8s.api import CLUSTER_SCOPED, ApiError, clone, plural
from netlab.k8s.schema import kind_schema
from netlab.k8s.validate import ManifestError, check_object, decode, identify
from netlab.shell.kubectl.merge import LAST_APPLIED, strategic_merge, three_way
from netlab.shell.kubectl.verbs import singular_name

try:
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as _Loader


class Manifest:
    """One document of a file, with where it came from."""

    def __init__(self, obj, source: str):
        self.obj, self.source = obj, source


def read_source(ns, stdin: str, path: str) -> tuple[str, str]:
    """The text of `-f path` and the name kubectl gives it in errors."""
    if path == "-":
        return stdin, "STDIN"
    text = ns.read_file(path)
    if text is None and not path.startswith("/"):
        text = ns.read_file("/root/" + path)
    if text is None or callable(text):
        raise ApiError(f'error: the path "{path}" does not exist')
    return text, path


def parse_documents(text: str, source: str) -> list[Manifest]:
    """Every document of a YAML stream (a `kind: List` counts as its items)."""
    try:
        docs = list(yaml.load_all(text, Loader=_Loader))
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = f"line {mark.line + 1}: " if mark else ""
        raise ApiError(f"error: error parsing {source}: error converting YAML to JSON: yaml: {line}"
                       f"{err.problem or err.context}") from None
    except (yaml.YAMLError, RecursionError, ValueError) as err:
        raise ApiError(f"error: error parsing {source}: error converting YAML to JSON: yaml: {err}") from None
    out: list[Manifest] = []
    for doc in docs:
        if doc is None:
            continue
        try:
            doc = to_json(doc)
        except (ValueError, RecursionError) as err:
            raise ApiError(f"error: error parsing {source}: error converting YAML to JSON: {err}") from None
        if isinstance(doc, dict) and doc.get("kind") == "List" and isinstance(doc.get("items"), list):
            out += [Manifest(item, source) for item in doc["items"]]
        else:
            out.append(Manifest(doc, source))
    return out


def to_json(value, depth: int = 0):
    """What kubectl's YAML-to-JSON step makes of a YAML value: string keys, ISO
    timestamps, no NaN or infinities."""
    if depth > 200:
        raise ValueError("json: exceeded max depth")
    if isinstance(value, dict):
        return {_key(k): to_json(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [to_json(v, depth + 1) for v in value]
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        raise ValueError(f"json: unsupported value: {'NaN' if math.isnan(value) else ('+Inf' if value > 0 else '-Inf')}")
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return value


def _key(key) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "null"
    return str(key)


def with_source(err: ApiError, verb: str, source: str) -> str:
    """kubectl's AddSourceToErr: server errors name the file they came from."""
    if isinstance(err, ManifestError):
        return err.text(verb, source)
    msg = err.message
    if msg.startswith("Error from server (") and "): " in msg:
        head, tail = msg.split("): ", 1)
        return f'{head}): error when {verb} "{source}": {tail}'
    return msg


def place(obj: dict, namespace: str, explicit: bool) -> dict:
    """The object with its namespace filled from -n (or refused when they disagree)."""
    obj = clone(obj)
    meta = obj.setdefault("metadata", {})
    if not isinstance(meta, dict) or obj.get("kind") in CLUSTER_SCOPED:
        return obj
    own = meta.get("namespace")
    if own and explicit and own != namespace:
        raise ApiError(f'error: the namespace from the provided object "{own}" does not match the namespace '
                       f'"{namespace}". You must pass \'--namespace={own}\' to perform this operation.')
    if not own:
        meta["namespace"] = namespace
    return obj


def last_applied(obj: dict) -> str:
    """The annotation kubectl stores: the applied file, compact, keys sorted."""
    config = clone(obj)
    meta = config.setdefault("metadata", {})
    annotations = dict(meta.get("annotations") or {})
    annotations.pop(LAST_APPLIED, None)
    meta["annotations"] = annotations
    return json.dumps(config, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"


def _annotated(obj: dict) -> dict:
    out = clone(obj)
    text = last_applied(obj)
    out["metadata"].setdefault("annotations", {})
    if out["metadata"]["annotations"] is None:
        out["metadata"]["annotations"] = {}
    out["metadata"]["annotations"][LAST_APPLIED] = text
    return out


def _name_of(obj: dict) -> tuple[str, str, str]:
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    return obj["kind"], meta.get("namespace") or "", str(meta.get("name") or "")


def create_one(api, obj: dict, annotate: bool = False) -> dict:
    """Decode, validate and store a new object (nothing is stored if any step refuses)."""
    if annotate:
        obj = _annotated(obj)
    return api.create(check_object(obj))


def update_one(api, new: dict, old: dict) -> dict:
    return api.update(check_object(new, old))


def apply_one(api, obj: dict) -> str:
    """Create or three-way-merge one object; returns kubectl's line for it."""
    obj = decode(obj)
    kind, ns, name = _name_of(obj)
    if not name:
        check_object(obj)  # the API server's "name or generateName is required"
    live = api.get(kind, ns, name)
    if live is None:
        create_one(api, obj, annotate=True)
        return f"{singular_name(kind)}/{name} created"
    modified = _annotated(obj)
    modified.pop("status", None)
    original = None
    text = ((live.get("metadata") or {}).get("annotations") or {}).get(LAST_APPLIED)
    warning = "" if text else (f"Warning: resource {plural(kind)}/{name} is missing the {LAST_APPLIED} annotation "
                               "which is required by kubectl apply. kubectl apply should only be used on resources "
                               "created declaratively by either kubectl create --save-config or kubectl apply. "
                               "The missing annotation will be patched automatically.\n")
    if text:
        try:
            original = json.loads(text)
        except ValueError:
            original = None
    schema = kind_schema(obj["apiVersion"], kind)
    patch = three_way(original, modified, live, schema)
    if not patch:
        return f"{singular_name(kind)}/{name} unchanged"
    merged = strategic_merge(live, patch, schema)
    if merged == live:
        return f"{singular_name(kind)}/{name} unchanged"
    update_one(api, merged, live)
    return f"{warning}{singular_name(kind)}/{name} configured"


def run_files(inv, files: list[str], namespace: str, explicit_ns: bool, verb: str) -> int:
    """apply/create/delete over every document of every -f file."""
    manifests: list[Manifest] = []
    try:
        for path in files:
            text, source = read_source(inv.ns, inv.stdin, path)
            manifests += parse_documents(text, source)
    except ApiError as err:
        return inv.fail(err.message, 1)
    if not manifests:
        return inv.fail("error: no objects passed to " + verb, 1)
    api = inv.lab.cluster.api
    errors: list[str] = []
    for m in manifests:
        action = {"apply": "creating", "create": "creating", "delete": "deleting"}[verb]
        try:
            # A value of the wrong type anywhere, metadata included, stops a document here.
            obj = place(m.obj if verb == "delete" and identify(m.obj) else decode(m.obj), namespace, explicit_ns)
            if verb == "apply":
                kind, ns, name = _name_of(obj)
                action = "creating" if api.get(kind, ns, name) is None else "patching"
                inv.print(apply_one(api, obj))
            elif verb == "create":
                create_one(api, obj)
                inv.print(f"{singular_name(obj['kind'])}/{obj['metadata'].get('name')} created")
            else:
                kind, ns, name = _name_of(obj)
                api.delete(kind, ns, name)
                inv.print(f'{singular_name(kind)} "{name}" deleted')
        except ApiError as err:
            errors.append(with_source(err, action, m.source))
    for text in errors:
        inv.print(text)
    return 1 if errors else 0
