"""kubectl's JSONPath templates (`-o jsonpath='{.items[*].metadata.name}'`): fields,
indexes, `[*]`, `range`/`end`, quoted literals and plain text between templates."""
from __future__ import annotations

import json
import re

TOKEN = re.compile(r"\{([^{}]*)\}")
STEP = re.compile(r"\.([^.\[\]]+)|\[(\*|-?\d+|'[^']*'|\"[^\"]*\")\]|\.\.")


class JsonPathError(Exception):
    pass


def _select(nodes: list, expr: str) -> list:
    expr = expr.strip()
    if expr.startswith("$"):
        expr = expr[1:]
    if expr in ("", "."):
        return nodes
    pos = 0
    for m in STEP.finditer(expr):
        if m.start() != pos:
            raise JsonPathError(f"unrecognized character in action: {expr[pos:pos + 1]}")
        pos = m.end()
        field, index = m.group(1), m.group(2)
        out = []
        for node in nodes:
            if field is not None:
                if field == "*" and isinstance(node, dict):
                    out += list(node.values())
                elif isinstance(node, dict) and field in node:
                    out.append(node[field])
            elif index == "*":
                out += list(node.values()) if isinstance(node, dict) else list(node) if isinstance(node, list) else []
            elif index is not None and index[0] in "'\"":
                if isinstance(node, dict) and index[1:-1] in node:
                    out.append(node[index[1:-1]])
            elif index is not None and isinstance(node, list):
                i = int(index)
                if -len(node) <= i < len(node):
                    out.append(node[i])
                else:
                    raise JsonPathError(f"array index out of bounds: index {i}, length {len(node)}")
        nodes = out
    if pos != len(expr):
        raise JsonPathError(f"unrecognized character in action: {expr[pos:pos + 1]}")
    return nodes


def _text(value) -> str:
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), sort_keys=True)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def render(template: str, data) -> str:
    parts = []
    pos = 0
    for m in TOKEN.finditer(template):
        parts.append(("text", template[pos:m.start()]))
        parts.append(("action", m.group(1)))
        pos = m.end()
    parts.append(("text", template[pos:]))
    out, _ = _run(parts, 0, [data])
    return out


def _run(parts: list, i: int, scope: list) -> tuple[str, int]:
    out = []
    while i < len(parts):
        kind, value = parts[i]
        if kind == "text":
            out.append(value)
        elif value.strip() == "end":
            return "".join(out), i
        elif value.strip().startswith("range "):
            items = _select(scope, value.strip()[6:])
            end = i
            body = ""
            for item in items:
                body, end = _run(parts, i + 1, [item])
                out.append(body)
            if not items:
                _, end = _run(parts, i + 1, [None])
            i = end
        elif value.strip()[:1] in ("'", '"'):
            out.append(value.strip()[1:-1].replace("\\n", "\n").replace("\\t", "\t"))
        else:
            out.append(" ".join(_text(v) for v in _select(scope, value)))
        i += 1
    return "".join(out), i
