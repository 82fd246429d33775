"""`kind: Repeat` documents in a lab file: one manifest template stamped out N times.

A cluster with 1,500 Services is a lab file of 9,000 lines if each is written out; a
Repeat document says it in ten:

    apiVersion: netlab/v1
    kind: Repeat
    count: 1500               # how many copies (1-20000)
    start: 1                  # the first value of ${i} (default 1)
    template:                 # any manifest the lab file could hold
      apiVersion: v1
      kind: Service
      metadata: {name: "tenant-${i:04}", namespace: tenants}
      spec: {selector: {app: storefront}, ports: [{port: 80, targetPort: 8080}]}

`${i}` in any string of the template (keys too) becomes the copy's number; `${i:04}`
pads it with zeros to four digits. A string that is exactly `${i}` becomes a number, so
`port: ${i}` stays an integer. Each copy is then checked like any other manifest, and an
error in one points at the template's line.
"""
from __future__ import annotations

import re

from netlab.yamlsrc import Doc

MAX_COPIES = 20000
KEYS = {"apiVersion", "kind", "metadata", "count", "start", "template"}
PLACEHOLDER = re.compile(r"\$\{i(?::(0\d{1,2}))?\}")


def is_repeat(doc: Doc) -> bool:
    data = doc.data
    return isinstance(data, dict) and data.get("kind") == "Repeat" and str(data.get("apiVersion", "")).startswith("netlab/")


def expand(docs: tuple[Doc, ...]) -> tuple[Doc, ...]:
    """The manifests with every Repeat document replaced by its copies (in order)."""
    if not any(is_repeat(d) for d in docs):
        return docs
    out: list[Doc] = []
    for doc in docs:
        out.extend(_copies(doc) if is_repeat(doc) else [doc])
    return tuple(out)


def _copies(doc: Doc) -> list[Doc]:
    data: dict = doc.data
    if data.get("apiVersion") != "netlab/v1":
        raise doc.error("apiVersion", f"must be netlab/v1, got \"{data.get('apiVersion')}\"")
    for key in data:
        if key not in KEYS:
            raise doc.error(str(key), f"unknown field \"{key}\" (expected one of: {', '.join(sorted(KEYS))})")
    count, start = data.get("count"), data.get("start", 1)
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= MAX_COPIES:
        raise doc.error("count", f"must be a whole number of copies from 1 to {MAX_COPIES}")
    if not isinstance(start, int) or isinstance(start, bool) or start < 0:
        raise doc.error("start", "must be a whole number (the first value of ${i})")
    template = data.get("template")
    if not isinstance(template, dict) or "kind" not in template:
        raise doc.error("template", "must be a manifest (a mapping with `kind`)")
    if template.get("kind") == "Repeat":
        raise doc.error("template.kind", "a Repeat cannot repeat another Repeat")
    # Copies share one line map: the template's, so a problem in copy 731 names the
    # template line it came from.
    lines = {path[len("template."):]: line for path, line in doc.lines.items() if path.startswith("template.")}
    lines[""] = doc.line("template")
    stamp = _stamper(template)
    return [Doc(stamp(i), lines, doc.source, doc.line("template")) for i in range(start, start + count)]


def _stamper(template):
    """A function i -> a fresh copy of the template with ${i} filled in. Strings without
    a placeholder are shared between copies (the API store copies what it keeps)."""
    def fill(value, i):
        if isinstance(value, str):
            if "${" not in value:
                return value
            if value == "${i}":
                return i
            return PLACEHOLDER.sub(lambda m: format(i, m.group(1)) if m.group(1) else str(i), value)
        if isinstance(value, dict):
            return {fill(k, i): fill(v, i) for k, v in value.items()}
        if isinstance(value, list):
            return [fill(v, i) for v in value]
        return value

    return lambda i: fill(template, i)
