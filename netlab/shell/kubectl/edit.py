"""`kubectl edit TYPE NAME`: the object as YAML in an editor, applied on save.

The editor is `$KUBE_EDITOR`, then `$EDITOR` (from a `VAR=value` prefix or the
context's environment), run as kubectl runs it: `EDITOR FILE`. An editor that is a
netlab command (`sed -i 's/80/8080/'`) edits the file in the context's virtual
filesystem, so scripts can edit non-interactively; a terminal front end may set
`session.external_editor` (text in, text out) for a real one.
"""
from __future__ import annotations

import shlex

import yaml

from netlab.k8s.api import ApiError
from netlab.k8s.validate import ManifestError, check_object
from netlab.shell.kubectl.apply import to_json
from netlab.shell.kubectl.get import clean, resource_name, to_yaml
from netlab.shell.kubectl.verbs import singular_name
from netlab.shell.registry import COMMANDS

HEADER = ("# Please edit the object below. Lines beginning with a '#' will be ignored,\n"
          "# and an empty file will abort the edit. If an error occurs while saving this file will be\n"
          "# reopened with the relevant failures.\n#\n")


def _editor(inv) -> str:
    env = {**getattr(inv.ns, "env", {}), **getattr(inv, "env", {})}
    return env.get("KUBE_EDITOR") or env.get("EDITOR") or "vi"


def _strip_comments(text: str) -> str:
    return "".join(line for line in text.splitlines(keepends=True) if not line.lstrip().startswith("#"))


def edit(inv, pos: list[str], opts: dict, namespace: str) -> int:
    from netlab.shell.cmd_kubectl import split_target

    kind, names = split_target(pos)
    if kind is None or not names:
        return inv.fail("error: You must provide one or more resources by argument or filename.", 1)
    api = inv.lab.cluster.api
    live = api.get(kind, namespace, names[0])
    if live is None:
        return inv.fail(f'Error from server (NotFound): {resource_name(kind)} "{names[0]}" not found', 1)
    shown = clean(live)
    original_text = to_yaml(shown)
    rng = inv.lab.world.stream("kubectl-edit")
    path = f"/tmp/kubectl-edit-{rng.randrange(10**9, 10**10)}.yaml"
    text = HEADER + original_text
    rejected = None  # the body the API server refused last time
    while True:
        edited = _run_editor(inv, path, text)
        if edited is None:
            return 1
        body = _strip_comments(edited)
        outcome = _apply_edit(inv, api, kind, names[0], live, shown, path, body)
        if outcome is None:
            break  # applied
        if isinstance(outcome, int):
            return outcome
        reasons, first = outcome
        # kubectl reopens the file with the failures as comments at the top; the same file
        # saved again (or an editor that is a script) ends the edit and keeps a copy.
        if not _interactive(inv) or body == rejected:
            return _keep_copy(inv, path, body, reasons, first)
        rejected = body
        text = HEADER + "".join(f"# {r}\n" for r in reasons) + "#\n" + body
    inv.ns.files.pop(path, None)
    return inv.fail(f"{singular_name(kind)}/{names[0]} edited", 0)


def _interactive(inv) -> bool:
    """An editor a person types in (the TUI's, a terminal's) rather than a netlab command."""
    words = _editor(inv).split()
    return getattr(inv.session, "external_editor", None) is not None and not (words and words[0] in COMMANDS)


def _apply_edit(inv, api, kind, name, live, shown, path, body):
    """None when applied; an exit code when the edit ends without a retry; (reasons, first
    line) when the API server refused it."""
    if not body.strip():
        inv.ns.files.pop(path, None)
        return inv.fail("Edit cancelled, no changes made.", 0)
    try:
        new = to_json(yaml.safe_load(body))
    except (yaml.YAMLError, ValueError) as err:
        return [f"The edited file had a syntax error: {err}"], None
    if new == shown:
        inv.ns.files.pop(path, None)
        return inv.fail("Edit cancelled, no changes made.", 0)
    if not isinstance(new, dict) or any(new.get(k) != shown.get(k) for k in ("apiVersion", "kind")) or \
            (new.get("metadata") or {}).get("name") != shown["metadata"]["name"]:
        return ["At least one of apiVersion, kind and name was changed"], None
    meta = new.setdefault("metadata", {}) if isinstance(new.get("metadata"), dict) else {}
    for field in ("creationTimestamp", "uid", "resourceVersion"):
        meta.pop(field, None)
    if "namespace" in live["metadata"]:
        meta.setdefault("namespace", live["metadata"].get("namespace"))
    labels = live["metadata"].get("labels") or {}
    if "netlab.io/deployment" in labels:  # bookkeeping `get` hides; keep it
        meta.setdefault("labels", {})["netlab.io/deployment"] = labels["netlab.io/deployment"]
    try:
        api.update(check_object(new, live))
    except ManifestError as err:
        reasons = [f"* {p}: {m}" for p, m in err.causes] or [err.text()]
        return [f'{resource_name(kind)} "{name}" was not valid:'] + reasons, f'error: {resource_name(kind)} "{name}" is invalid'
    except ApiError as err:
        # "The Service "x" is invalid: spec.f: reason" → kubectl's reopened-file form
        prefix = f'The {kind} "{name}" is invalid: '
        text = err.message[len(prefix):] if err.message.startswith(prefix) else err.message
        return [f'{resource_name(kind)} "{name}" was not valid:', f"* {text}"], \
            f'error: {resource_name(kind)} "{name}" is invalid'
    return None


def _run_editor(inv, path: str, text: str) -> str | None:
    editor = _editor(inv)
    inv.ns.files[path] = text
    try:
        words = shlex.split(editor)
    except ValueError:
        words = []
    if words and words[0] in COMMANDS:
        out: list[str] = []
        code = inv.session.run_into(f"{editor} {shlex.quote(path)}", out, inv.ctx)
        if code != 0:
            inv.write("".join(out))
            inv.print(f'error: there was a problem with the editor "{editor}"')
            inv.ns.files.pop(path, None)
            return None
        return inv.ns.read_file(path) or ""
    external = getattr(inv.session, "external_editor", None)
    if external is not None:
        result = external(text)
        if result is not None:
            inv.ns.files[path] = result
            return result
    inv.ns.files.pop(path, None)
    inv.print(f'error: there was a problem with the editor "{editor}"')
    return None


def _keep_copy(inv, path: str, body: str, reasons: list[str], first: str | None = None) -> int:
    """kubectl keeps the failed edit in /tmp with the reasons as comments at its top."""
    comment = "".join(f"# {r}\n" for r in reasons) + "#\n"
    inv.ns.files[path] = HEADER + comment + body
    if first:
        inv.print(first)
    inv.print(f'A copy of your changes has been stored to "{path}"')
    return inv.fail("error: Edit cancelled, no valid changes were saved.", 1)
