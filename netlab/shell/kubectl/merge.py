"""Patches as kubectl and the API server compute and apply them.

- Strategic merge patch: maps merge, `null` deletes a key, and lists that the schema
  marks `x-kubernetes-patch-strategy: merge` merge element by element on their merge key
  (containers by `name`, Service ports by `port`, container ports by `containerPort`);
  `{"$patch": "delete", key: value}` removes one element. Other lists are replaced.
- The three-way patch `kubectl apply` sends: from the last applied configuration
  (the `kubectl.kubernetes.io/last-applied-configuration` annotation), the new file and
  the live object — fields the file dropped are deleted, fields others set (a
  ClusterIP, a nodePort, a label from `kubectl label`) are kept.
- JSON merge patch (RFC 7386) and JSON patch (RFC 6902: add, replace, remove, test).
"""
from __future__ import annotations

from netlab.k8s.api import clone
from netlab.k8s.schema import resolve

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


class PatchError(Exception):
    pass


def _child(schema: dict | None, key: str) -> dict | None:
    if schema is None:
        return None
    schema, _ = resolve(schema)
    props = schema.get("properties")
    if props is not None:
        return props.get(key)
    inner = schema.get("additionalProperties")
    return inner if isinstance(inner, dict) else None


def _merge_key(schema: dict | None) -> str | None:
    if schema is None:
        return None
    if schema.get("x-kubernetes-patch-strategy", "").startswith("merge"):
        return schema.get("x-kubernetes-patch-merge-key")
    return None


def _items(schema: dict | None) -> dict | None:
    if schema is None:
        return None
    schema, _ = resolve(schema)
    return schema.get("items")


# -- applying ------------------------------------------------------------------------
def strategic_merge(current, patch, schema: dict | None):
    """Apply a strategic merge patch to a copy of `current`."""
    if not isinstance(patch, dict):
        return clone(patch)
    if not isinstance(current, dict):
        current = {}
    out = clone(current)
    for key, value in patch.items():
        if key.startswith("$"):
            continue
        sub = _child(schema, key)
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and value.get("$patch") == "replace":
            out[key] = {k: clone(v) for k, v in value.items() if k != "$patch"}
        elif isinstance(value, dict):
            out[key] = strategic_merge(out.get(key), value, sub)
        elif isinstance(value, list) and _merge_key(sub) and isinstance(out.get(key), list):
            out[key] = _merge_list(out[key], value, _merge_key(sub), _items(sub))
        else:
            out[key] = clone(value)
    return out


def _merge_list(current: list, patch: list, key: str, item_schema: dict | None) -> list:
    result = [clone(x) for x in current]
    for item in patch:
        if not isinstance(item, dict) or key not in item:
            raise PatchError(f"map: {item!r} does not contain declared merge key: {key}")
        where = next((i for i, x in enumerate(result) if isinstance(x, dict) and x.get(key) == item[key]), None)
        if item.get("$patch") == "delete":
            if where is not None:
                del result[where]
            continue
        if where is None:
            result.append({k: clone(v) for k, v in item.items() if k != "$patch"})
        else:
            result[where] = strategic_merge(result[where], item, item_schema)
    return result


def json_merge(current, patch):
    """RFC 7386: maps merge, null deletes, everything else replaces."""
    if not isinstance(patch, dict):
        return clone(patch)
    out = clone(current) if isinstance(current, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = json_merge(out.get(key), value)
    return out


def json_patch(doc, ops) -> dict:
    """RFC 6902 for the operations kubectl users write: add, replace, remove, test."""
    if not isinstance(ops, list):
        raise PatchError("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
    doc = clone(doc)
    for op in ops:
        if not isinstance(op, dict):
            raise PatchError("json: cannot unmarshal into Go value of type jsonpatch.Operation")
        kind, path = op.get("op"), op.get("path")
        if kind not in ("add", "replace", "remove", "test"):
            raise PatchError(f"Unexpected kind: {kind}")
        if not isinstance(path, str):
            raise PatchError(f"missing path in operation")
        parts = [p.replace("~1", "/").replace("~0", "~") for p in path.split("/")[1:]]
        if not parts:
            raise PatchError(f'jsonpatch {kind} operation does not apply: doc is missing path: "{path}"')
        parent = doc
        for p in parts[:-1]:
            parent = _step(parent, p, path, kind)
        last = parts[-1]
        if kind == "test":
            if _step(parent, last, path, kind) != op.get("value"):
                raise PatchError(f"testing value {path} failed: test failed")
        elif isinstance(parent, list):
            index = len(parent) if last == "-" else _index(last, path, kind)
            if kind == "add" and 0 <= index <= len(parent):
                parent.insert(index, clone(op.get("value")))
            elif 0 <= index < len(parent):
                if kind == "remove":
                    del parent[index]
                else:
                    parent[index] = clone(op.get("value"))
            else:
                raise PatchError(f'Unable to access invalid index: {index}: invalid index referenced')
        elif isinstance(parent, dict):
            if kind in ("remove", "replace") and last not in parent:
                raise PatchError(f'jsonpatch {kind} operation does not apply: doc is missing key: {path}')
            if kind == "remove":
                del parent[last]
            else:
                parent[last] = clone(op.get("value"))
        else:
            raise PatchError(f'jsonpatch {kind} operation does not apply: doc is missing path: "{path}"')
    return doc


def _index(text: str, path: str, kind: str) -> int:
    if not text.isdigit():
        raise PatchError(f'jsonpatch {kind} operation does not apply: doc is missing path: "{path}"')
    return int(text)


def _step(node, part: str, path: str, kind: str):
    if isinstance(node, dict) and part in node:
        return node[part]
    if isinstance(node, list) and part.isdigit() and int(part) < len(node):
        return node[int(part)]
    raise PatchError(f'jsonpatch {kind} operation does not apply: doc is missing path: "{path}"')


# -- computing (kubectl apply) --------------------------------------------------------
def three_way(original: dict | None, modified: dict, current: dict, schema: dict | None) -> dict:
    """The patch that takes `current` to `modified`, deleting what `original` had and
    `modified` dropped, keeping what neither mentions."""
    patch: dict = {}
    original = original if isinstance(original, dict) else {}
    for key in original:
        if key not in modified and key in current:
            patch[key] = None
    for key, value in modified.items():
        sub = _child(schema, key)
        cur = current.get(key)
        if isinstance(value, dict) and isinstance(cur, dict):
            inner = three_way(original.get(key), value, cur, sub)
            if inner:
                patch[key] = inner
        elif isinstance(value, list) and isinstance(cur, list) and _merge_key(sub):
            inner = _list_patch(original.get(key), value, cur, _merge_key(sub), _items(sub))
            if inner:
                patch[key] = inner
        elif value != cur:
            patch[key] = clone(value)
    return patch


def _list_patch(original, modified: list, current: list, key: str, item_schema) -> list:
    out: list = []
    keyed = lambda items: {x.get(key): x for x in items if isinstance(x, dict)} if isinstance(items, list) else {}
    cur, orig, mod = keyed(current), keyed(original), keyed(modified)
    for item in modified:
        if not isinstance(item, dict) or key not in item:
            return clone(modified)  # no merge key: send the whole list
        live = cur.get(item[key])
        if live is None:
            out.append(clone(item))
        else:
            inner = three_way(orig.get(item[key]), item, live, item_schema)
            if inner:
                out.append({key: item[key], **inner})
    for k in orig:
        if k not in mod and k in cur:
            out.append({"$patch": "delete", key: k})
    return out  # new elements go last: kubectl's $setElementOrder is not modelled
