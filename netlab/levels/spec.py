"""The level file: YAML → frozen dataclasses (the description), which `Level.start()`
turns into a running Lab plus a LevelRun (the running game).

    id: cross-node-route
    chapter: 2
    chapterTitle: Pods on two nodes
    title: The missing flannel.1 route
    story: |
      ...
    labFile: default            # `default`, or a path relative to levels/; or `lab: |` inline text
    faults:                     # shell lines run at load time, each in its context
    - {on: 192.168.0.21, run: "ip route del 172.30.0.0/16 dev flannel.1"}
    objectives:
    - reach business-manager@192.168.0.21 data-product@192.168.0.22
    forbid: ["kubectl delete networkpolicy"]
    kubeProxy: paused           # optional: kube-proxy stays paused all level long
    hints: [first, second, third]
    par: 1
    debrief: |
      ...
    solution:
    - {on: 192.168.0.21, run: "ip route add 172.30.0.0/16 dev flannel.1"}

Lines (faults, solutions) and objective words may use `${...}` references that the
level expands once its lab is built (netlab/levels/refs.py): `${pod:app=web@NODE}`,
`${ip:...}`, `${veth:...}`, `${node:...}`, `${svc:NAME}`.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

from netlab.yamlsrc import Doc, SourceError, load_documents

LEVEL_KEYS = {"id", "chapter", "chapterTitle", "title", "story", "lab", "labFile", "faults", "objectives",
              "forbid", "kubeProxy", "hints", "par", "debrief", "solution"}
FAULT_KEYS = {"on", "run", "advance"}


@dataclass(frozen=True)
class Step:
    """One shell line in a context (`on`: a node, a pod or a `${pod:...}` reference; None is
    the admin workstation), or a clock advance in seconds (`run` is then empty)."""

    run: str = ""
    on: str | None = None
    advance: float = 0.0
    line: int = 0  # where it sits in the level file


@dataclass(frozen=True)
class ObjectiveSpec:
    text: str  # e.g. "reach app=web@node-a app=web@node-b:80 tcp"
    line: int = 0


@dataclass(frozen=True)
class LevelSpec:
    id: str
    chapter: int
    chapter_title: str
    title: str
    story: str
    lab_text: str  # the whole lab file text (Lab document + manifests)
    lab_source: str  # where it came from, for error messages
    faults: tuple[Step, ...]
    objectives: tuple[ObjectiveSpec, ...]
    forbid: tuple[str, ...] = ()
    kube_proxy_paused: bool = False
    hints: tuple[str, ...] = ()
    par: int = 1
    debrief: str = ""
    solution: tuple[Step, ...] = ()
    source: str = ""
    forbid_line: int = 0
    solution_line: int = 0


def _str(doc: Doc, path: str, value, *, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise doc.error(path, "must be a string")
    return str(value)


def _steps(doc: Doc, path: str, raw) -> tuple[Step, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise doc.error(path, "must be a list of {on: CONTEXT, run: LINE} (or {advance: SECONDS})")
    out = []
    for i, item in enumerate(raw):
        p = f"{path}[{i}]"
        if isinstance(item, str):
            out.append(Step(item, None, 0.0, doc.line(p)))
            continue
        if not isinstance(item, dict):
            raise doc.error(p, "must be a shell line or a mapping {on: CONTEXT, run: LINE}")
        for key in item:
            if key not in FAULT_KEYS:
                raise doc.error(f"{p}.{key}", f"unknown field \"{key}\" (expected one of: {', '.join(sorted(FAULT_KEYS))})")
        if "advance" in item:
            if "run" in item or not isinstance(item["advance"], (int, float)) or item["advance"] < 0:
                raise doc.error(f"{p}.advance", "must be a number of seconds, alone in its step")
            out.append(Step("", None, float(item["advance"]), doc.line(p)))
            continue
        if "run" not in item:
            raise doc.error(p, "missing required field \"run\"")
        on = item.get("on")
        out.append(Step(_str(doc, f"{p}.run", item["run"]), None if on is None else str(on), 0.0, doc.line(p)))
    return tuple(out)


def levels_dir() -> str:
    """The folder of level files: $NETLAB_LEVELS, else `levels/` beside the package."""
    env = os.environ.get("NETLAB_LEVELS")
    if env:
        return env
    return os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "levels")


def parse_level(text: str, source: str, base_dir: str | None = None) -> LevelSpec:
    """Parse a level file's text; errors are SourceError(`FILE:LINE: field: problem`)."""
    docs = load_documents(text, source)
    if len(docs) != 1 or not isinstance(docs[0].data, dict):
        raise SourceError(source, docs[1].start_line if len(docs) > 1 else None,
                          "a level file is one YAML mapping (put extra manifests in its lab)")
    doc = docs[0]
    data: dict = doc.data
    for key in data:
        if key not in LEVEL_KEYS:
            raise doc.error(str(key), f"unknown field \"{key}\" (expected one of: {', '.join(sorted(LEVEL_KEYS))})")
    for req in ("id", "title", "objectives", "solution"):
        if req not in data:
            raise doc.error("", f"missing required field \"{req}\"")
    level_id = _str(doc, "id", data["id"])
    if not level_id.replace("-", "").isalnum():
        raise doc.error("id", f"\"{level_id}\" must be letters, digits and hyphens")
    chapter = data.get("chapter", 1)
    if not isinstance(chapter, int) or chapter < 1:
        raise doc.error("chapter", "must be a whole number from 1")
    base_dir = base_dir if base_dir is not None else levels_dir()
    if ("lab" in data) == ("labFile" in data):
        raise doc.error("", "give exactly one of `lab` (inline lab file text) or `labFile` (a path relative to levels/)")
    if "lab" in data:
        lab_text = _str(doc, "lab", data["lab"])
        lab_source = f"{source} (lab)"
    elif data["labFile"] == "default":
        from netlab.spec import default_lab_text

        lab_text, lab_source = default_lab_text(), "default-lab.yaml"
    else:
        lab_source = os.path.join(base_dir, _str(doc, "labFile", data["labFile"]))
        try:
            with open(lab_source, encoding="utf-8") as fh:
                lab_text = fh.read()
        except OSError as err:
            raise doc.error("labFile", f"cannot read {lab_source}: {err.strerror}") from None
    objectives_raw = data["objectives"]
    if not isinstance(objectives_raw, list) or not objectives_raw:
        raise doc.error("objectives", "must list at least one objective")
    objectives = []
    for i, raw in enumerate(objectives_raw):
        objectives.append(ObjectiveSpec(_str(doc, f"objectives[{i}]", raw), doc.line(f"objectives[{i}]")))
    forbid = data.get("forbid") or []
    if not isinstance(forbid, list) or not all(isinstance(f, str) for f in forbid):
        raise doc.error("forbid", "must be a list of command prefixes, like \"kubectl delete networkpolicy\"")
    hints = data.get("hints") or []
    if not isinstance(hints, list) or not all(isinstance(h, str) for h in hints):
        raise doc.error("hints", "must be a list of strings, gentlest first")
    kp = data.get("kubeProxy")
    if kp not in (None, "paused", "running"):
        raise doc.error("kubeProxy", "must be `paused` or `running`")
    par = data.get("par", 1)
    if not isinstance(par, int) or par < 0:
        raise doc.error("par", "must be a whole number of changes")
    solution = _steps(doc, "solution", data["solution"])
    if not solution:
        raise doc.error("solution", "must list the reference solution's shell lines")
    return LevelSpec(
        id=level_id, chapter=chapter, chapter_title=_str(doc, "chapterTitle", data.get("chapterTitle"), required=False),
        title=_str(doc, "title", data["title"]), story=_str(doc, "story", data.get("story"), required=False).strip(),
        lab_text=lab_text, lab_source=lab_source, faults=_steps(doc, "faults", data.get("faults")),
        objectives=tuple(objectives), forbid=tuple(forbid), kube_proxy_paused=kp == "paused",
        hints=tuple(hints), par=par, debrief=_str(doc, "debrief", data.get("debrief"), required=False).strip(),
        solution=solution, source=source, forbid_line=doc.line("forbid"), solution_line=doc.line("solution"),
    )


def load_level_file(path: str) -> LevelSpec:
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as err:
        raise SourceError(path, None, err.strerror or str(err)) from None
    return parse_level(text, path, os.path.dirname(os.path.abspath(path)))
