"""The Kubernetes v1.26 OpenAPI schemas, read from the `kubernetes-validate` package's
strict JSON schemas, and the API server's decoder on top of them.

The API server decodes a manifest into Go structs before it validates anything: a value
of the wrong JSON type stops decoding (`json: cannot unmarshal string into Go struct
field ServicePort.spec.ports.port of type int32`), and strict field validation lists
every field the struct does not have (`strict decoding error: unknown field
"spec.selecter"`). `decode` walks a manifest against the schema the same way and
returns those words. Schemas load lazily, one kind at a time, and stay cached: a lab
that holds only Services and Deployments reads those two files and the shared
definitions once.
"""
from __future__ import annotations

import datetime
import json
from functools import lru_cache
from importlib import resources

SCHEMA_VERSION = "v1.26.0-local-strict"


class DecodeError(Exception):
    """A manifest the decoder refuses: the message after `cannot be handled as a Kind: `."""

    def __init__(self, message: str, path: str = ""):
        super().__init__(message)
        self.message, self.path = message, path


def _schema_dir():
    return resources.files("kubernetes_validate").joinpath("kubernetes-json-schema", SCHEMA_VERSION)


@lru_cache(maxsize=1)
def definitions() -> dict:
    with _schema_dir().joinpath("_definitions.json").open() as f:
        return json.load(f)["$defs"]


def _file_name(api_version: str, kind: str) -> str:
    group, _, version = api_version.rpartition("/")
    prefix = group.split(".", 1)[0] + "-" if group else ""
    return f"{kind.lower()}-{prefix}{version}.json"


@lru_cache(maxsize=None)
def kind_schema(api_version: str, kind: str) -> dict | None:
    """The top-level schema of one kind, or None when v1.26 has no such kind/version."""
    if not isinstance(api_version, str) or not isinstance(kind, str) or "\x00" in api_version + kind:
        return None
    try:
        with _schema_dir().joinpath(_file_name(api_version, kind)).open() as f:
            schema = json.load(f)
    except (FileNotFoundError, OSError, ValueError):
        return None
    enum = schema.get("properties", {}).get("kind", {}).get("enum")
    return schema if enum == [kind] else None


def resolve(schema: dict) -> tuple[dict, str | None]:
    """Follow a $ref; returns the schema and its definition name (the Go type)."""
    ref = schema.get("$ref")
    if ref is None:
        return schema, None
    name = ref.rsplit("/", 1)[-1]
    target = definitions()[name]
    if "description" in schema and "description" not in target:
        target = {**target, "description": schema["description"]}
    return target, name


def go_type(schema: dict, ref: str | None = None) -> str:
    """How Go's encoding/json names the type a schema decodes into."""
    if ref is None:
        schema, ref = resolve(schema)
    if ref is not None and ("properties" in schema or "oneOf" in schema):
        parts = ref.split(".")
        if ref.endswith("IntOrString"):
            return "intstr.IntOrString"
        return f"{parts[-2]}.{parts[-1]}"
    kind = _primary_type(schema)
    if kind == "object":
        inner = schema.get("additionalProperties")
        return f"map[string]{go_type(inner) if isinstance(inner, dict) else 'interface {}'}"
    if kind == "array":
        return "[]" + go_type(schema.get("items", {}))
    if kind == "integer":
        return schema.get("format", "int64")
    if kind == "number":
        return "float64"
    if kind == "boolean":
        return "bool"
    if kind == "string":
        return "[]uint8" if schema.get("format") == "byte" else "string"
    return "interface {}"


def _primary_type(schema: dict) -> str | None:
    t = schema.get("type")
    if isinstance(t, list):
        t = next((x for x in t if x != "null"), None)
    return t


def json_kind(value) -> str:
    """Go's word for a JSON value in an UnmarshalTypeError."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    return "string"


def _is_string(value) -> bool:
    # YAML timestamps and dates reach JSON as strings when kubectl converts YAML to JSON.
    return isinstance(value, (str, datetime.date))


def decode(obj: dict, schema: dict) -> tuple[dict, list[str]]:
    """Decode a manifest against its kind's schema, as Go decodes JSON into the kind's
    struct. Raises DecodeError on the first value of the wrong type; returns the decoded
    object (a `null` field is gone, a `null` list element is its type's zero value) and
    the unknown fields (their paths) strict decoding finds."""
    unknown: list[str] = []
    decoded = _walk(obj, schema, "", "", obj.get("kind", ""), unknown, 0)
    return decoded, unknown


ZERO = {"object": dict, "array": list, "string": str, "integer": int, "number": int, "boolean": bool}


def _zero(schema: dict):
    schema, _ = resolve(schema)
    make = ZERO.get(_primary_type(schema) or "")
    return make() if make is not None else None


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _walk(value, schema: dict, path: str, gopath: str, struct: str, unknown: list[str], depth: int):
    if depth > 64:
        raise DecodeError("json: exceeded max depth", path)
    schema, ref = resolve(schema)
    if value is None:
        return None
    if "oneOf" in schema:  # IntOrString, Quantity
        allowed = {_primary_type(s) for s in schema["oneOf"]}
        ok = (_is_string(value) and "string" in allowed) or (
            not isinstance(value, bool) and isinstance(value, int) and "integer" in allowed) or (
            not isinstance(value, bool) and isinstance(value, (int, float)) and "number" in allowed)
        if not ok:
            _type_error(value, go_type(schema, ref), gopath, struct, path)
        return value
    kind = _primary_type(schema)
    if kind == "object":
        if not isinstance(value, dict):
            _type_error(value, go_type(schema, ref), gopath, struct, path)
        out = {}
        props = schema.get("properties")
        if props is not None:
            inner_struct = ref.rsplit(".", 1)[-1] if ref else struct
            closed = schema.get("additionalProperties") is False
            for key, item in value.items():
                key = str(key)
                sub = _join(path, key)
                if key in props:
                    item = _walk(item, props[key], sub, _join(gopath, key), inner_struct, unknown, depth + 1)
                    if item is not None:
                        out[key] = item
                elif closed:
                    unknown.append(sub)
                else:
                    out[key] = item
            return out
        inner = schema.get("additionalProperties")
        for key, item in value.items():
            if isinstance(inner, dict):
                item = _walk(item, inner, _join(path, str(key)), gopath, struct, unknown, depth + 1)
                out[str(key)] = item if item is not None else _zero(inner)
            else:
                out[str(key)] = item
        return out
    if kind == "array":
        if not isinstance(value, list):
            _type_error(value, go_type(schema, ref), gopath, struct, path)
        items = schema.get("items", {})
        out_list = []
        for i, item in enumerate(value):
            item = _walk(item, items, f"{path}[{i}]", gopath, struct, unknown, depth + 1)
            out_list.append(item if item is not None else _zero(items))
        return out_list
    if kind == "string":
        if not _is_string(value):
            _type_error(value, go_type(schema, ref), gopath, struct, path)
        return value if isinstance(value, str) else value.isoformat()
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            _type_error(value, go_type(schema, ref), gopath, struct, path)
        if isinstance(value, float) and not value.is_integer():
            _type_error(value, go_type(schema, ref), gopath, struct, path, f"number {value:g}")
        bits = 32 if schema.get("format") == "int32" else 64
        if not -(1 << (bits - 1)) <= value < (1 << (bits - 1)):
            _type_error(value, go_type(schema, ref), gopath, struct, path, f"number {int(value)}")
        return int(value)
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            _type_error(value, go_type(schema, ref), gopath, struct, path)
    elif kind == "boolean":
        if not isinstance(value, bool):
            _type_error(value, go_type(schema, ref), gopath, struct, path)
    return value


def _type_error(value, type_name: str, gopath: str, struct: str, path: str, what: str | None = None):
    what = what or json_kind(value)
    where = f"Go struct field {struct}.{gopath}" if gopath else f"Go value"
    raise DecodeError(f"json: cannot unmarshal {what} into {where} of type {type_name}", path)


def required_fields(obj, schema: dict, path: str = "", depth: int = 0) -> list[str]:
    """Paths of fields the schema marks required and the manifest leaves out (the API
    server's validation then reports them as `Required value`)."""
    out: list[str] = []
    if depth > 64 or obj is None:
        return out
    schema, _ = resolve(schema)
    if isinstance(obj, dict) and "properties" in schema:
        for name in schema.get("required", []):
            if obj.get(name) is None and name not in ("apiVersion", "kind", "metadata"):
                out.append(_join(path, name))
        for key, item in obj.items():
            sub = schema["properties"].get(key)
            if sub is not None:
                out += required_fields(item, sub, _join(path, key), depth + 1)
    elif isinstance(obj, list) and _primary_type(schema) == "array":
        for i, item in enumerate(obj):
            out += required_fields(item, schema.get("items", {}), f"{path}[{i}]", depth + 1)
    return out


def field_schema(api_version: str, kind: str, dotted: list[str]) -> tuple[dict, str | None] | None:
    """The schema at `spec.ports.name` inside a kind (what `kubectl explain` shows)."""
    schema = kind_schema(api_version, kind)
    if schema is None:
        return None
    ref = None
    for part in dotted:
        schema, ref = resolve(schema)
        while _primary_type(schema) == "array" and "properties" not in schema:
            schema, ref = resolve(schema.get("items", {}))
        props = schema.get("properties")
        if props is None or part not in props:
            return None
        schema = props[part]
    resolved, r = resolve(schema)
    return {**resolved, "description": schema.get("description", resolved.get("description", ""))}, r or ref
