"""`kubectl patch TYPE NAME -p PATCH [--type strategic|merge|json]`."""
from __future__ import annotations

import json

import yaml

from netlab.k8s.api import ApiError
from netlab.k8s.schema import kind_schema
from netlab.k8s.validate import ManifestError, check_object
from netlab.shell.kubectl.apply import to_json
from netlab.shell.kubectl.get import resource_name
from netlab.shell.kubectl.merge import PatchError, json_merge, json_patch, strategic_merge
from netlab.shell.kubectl.verbs import singular_name


def go_value(value) -> str:
    """fmt's %v of decoded JSON (how the API server shows a patch in its errors)."""
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_value(value[k])}" for k in sorted(value)) + "]"
    if isinstance(value, list):
        return "[" + " ".join(go_value(v) for v in value) + "]"
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parse_patch(text: str):
    try:
        return to_json(yaml.safe_load(text))
    except (yaml.YAMLError, ValueError) as err:
        problem = getattr(err, "problem", None) or str(err)
        raise ApiError(f'error: unable to parse "{text}": yaml: {problem}') from None


def patched(live: dict, patch, kind: str, ptype: str) -> dict:
    """The object after a patch, decoded and validated as the API server would."""
    schema = kind_schema(live["apiVersion"], kind)
    try:
        if ptype == "json":
            new = json_patch(live, patch)
        elif ptype == "merge":
            if not isinstance(patch, dict):
                raise PatchError("json: cannot unmarshal array into Go value of type map[string]interface {}")
            new = json_merge(live, patch)
        else:
            if not isinstance(patch, dict):
                raise PatchError("json: cannot unmarshal array into Go value of type map[string]interface {}")
            new = strategic_merge(live, patch, schema)
    except PatchError as err:
        raise ApiError(f"Error from server (BadRequest): {err}") from None
    for field in ("kind", "apiVersion"):
        new[field] = live[field]
    new.setdefault("metadata", {})
    if not isinstance(new["metadata"], dict):
        new["metadata"] = {}
    new["metadata"]["name"] = live["metadata"]["name"]
    if "namespace" in live["metadata"]:
        new["metadata"]["namespace"] = live["metadata"]["namespace"]
    try:
        new = check_object(new, live)
    except ManifestError as err:
        if err.reason == "BadRequest" and "strict decoding error" in err.detail:
            detail = err.detail.split(": ", 1)[1]
            raise ApiError(f"The request is invalid: patch: Invalid value: {json.dumps(go_value(patch))}: {detail}") from None
        raise
    return new


def patch(inv, pos: list[str], opts: dict, namespace: str) -> int:
    from netlab.shell.cmd_kubectl import split_target

    kind, names = split_target(pos)
    if kind is None or not names:
        return inv.fail("error: must specify TYPE NAME or TYPE/NAME\nSee 'kubectl patch -h' for help and examples", 1)
    text = opts["flags"].get("patch")
    if text is None:
        return inv.fail("error: must specify -p to patch", 1)
    ptype = opts["flags"].get("type", "strategic")
    if ptype not in ("strategic", "merge", "json"):
        return inv.fail(f'error: --type must be one of [json merge strategic], not "{ptype}"', 1)
    api = inv.lab.cluster.api
    live = api.get(kind, namespace, names[0])
    if live is None:
        return inv.fail(f'Error from server (NotFound): {resource_name(kind)} "{names[0]}" not found', 1)
    new = patched(live, parse_patch(text), kind, ptype)
    if new == live:
        return inv.fail(f"{singular_name(kind)}/{names[0]} patched (no change)", 0)
    api.update(new)
    return inv.fail(f"{singular_name(kind)}/{names[0]} patched", 0)
