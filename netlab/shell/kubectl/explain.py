"""`kubectl explain KIND[.field...]` from the OpenAPI schema descriptions."""
from __future__ import annotations

import textwrap

from netlab.k8s import schema as k8s_schema
from netlab.k8s.validate import SUPPORTED
from netlab.shell.kubectl.get import ALIASES

WIDTH = 80


def type_name(schema: dict) -> str:
    """The `<type>` explain prints: Object, []Object, map[string]string, string, integer..."""
    resolved, ref = k8s_schema.resolve(schema)
    if "oneOf" in resolved:
        return "string"
    t = k8s_schema._primary_type(resolved)
    if t == "object":
        if "properties" in resolved:
            return "Object"
        inner = resolved.get("additionalProperties")
        return f"map[string]{type_name(inner) if isinstance(inner, dict) else 'string'}"
    if t == "array":
        return "[]" + type_name(resolved.get("items", {}))
    return t or "Object"


def _wrap(text: str, indent: int) -> list[str]:
    out: list[str] = []
    for para in (text or "<empty>").split("\n"):
        lines = textwrap.wrap(para, WIDTH - indent, break_long_words=False, break_on_hyphens=False) or [""]
        out += [(" " * indent + line).rstrip() for line in lines]
    return out


def explain(inv, pos: list[str], opts: dict, namespace: str) -> int:
    if not pos:
        return inv.fail("You must specify the type of resource to explain. Use \"kubectl api-resources\" for a complete "
                        "list of supported resources.\n\nerror: Required resource not specified.", 1)
    resource, *path = pos[0].split(".")
    kind = ALIASES.get(resource.lower())
    api_version = next((v for v, k in sorted(SUPPORTED) if k == kind), None)
    if kind is None or api_version is None:
        return inv.fail(f'error: the server doesn\'t have a resource type "{resource}"', 1)
    top = k8s_schema.kind_schema(api_version, kind)
    lines = [f"KIND:     {kind}", f"VERSION:  {api_version}", ""]
    if path:
        found = k8s_schema.field_schema(api_version, kind, path)
        if found is None:
            return inv.fail(f'error: field "{path[-1]}" does not exist', 1)
        field, _ = found
        resolved, _ = k8s_schema.resolve(field)
        if k8s_schema._primary_type(resolved) == "array":
            resolved, _ = k8s_schema.resolve(resolved.get("items", {}))
        has_fields = "properties" in resolved
        label = "RESOURCE" if has_fields else "FIELD"
        lines += [f"{label + ':':<10}{path[-1]} <{type_name(field)}>", "", "DESCRIPTION:"]
        lines += _wrap(field.get("description", ""), 5)
        if has_fields and resolved.get("description") and resolved.get("description") != field.get("description"):
            lines += [""] + _wrap(resolved["description"], 5)
        body = resolved if has_fields else None
    else:
        lines += ["DESCRIPTION:"] + _wrap(top.get("description", ""), 5)
        body = top
    if body is not None:
        lines += ["", "FIELDS:"]
        required = set(body.get("required", []))
        for name in sorted(body.get("properties", {})):
            sub = body["properties"][name]
            flag = " -required-" if name in required else ""
            lines.append(f"   {name}\t<{type_name(sub)}>{flag}")
            desc, _ = k8s_schema.resolve(sub)
            lines += _wrap(sub.get("description") or desc.get("description", ""), 5)
            lines.append("")
        while lines and lines[-1] == "":
            lines.pop()
    inv.write("\n".join(lines) + "\n\n")
    return 0
