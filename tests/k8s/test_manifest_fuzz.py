"""Fuzzing `kubectl apply`: whatever the input — malformed YAML, huge or deep documents,
unknown kinds, wrong types at random paths — kubectl answers with clear messages and an
exit code, never a traceback, and a refused document leaves the API store as it was."""
from __future__ import annotations

import copy
import json

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netlab.lab import Lab

LAB = Lab.default()
ERROR_STARTS = ("Error from server (", "The ", "error: ", "Warning: ")
OK_ENDS = (" created", " configured", " unchanged")

BASES = [
    {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "fz", "labels": {"app": "fz"}},
     "spec": {"selector": {"app": "fz"}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}},
    {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "fz"},
     "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "fz"}},
              "template": {"metadata": {"labels": {"app": "fz"}},
                           "spec": {"containers": [{"name": "c", "image": "nginx",
                                                    "ports": [{"containerPort": 80, "name": "http"}]}]}}}},
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "fz"}, "data": {"a": "b"}},
    {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "fz"},
     "spec": {"containers": [{"name": "c", "image": "busybox"}]}},
]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**40, 2**40) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8)


def snapshot() -> dict:
    return {k: json.dumps(v, sort_keys=True, default=str) for k, v in LAB.cluster.api.objects.items()}


def apply(text: str) -> tuple[str, int, dict, dict]:
    LAB.session.ctx.ns.files["fuzz.yaml"] = text
    before = snapshot()
    r = LAB.session.run("kubectl apply -f fuzz.yaml")
    return r.output, r.exit_code, before, snapshot()


def check_clear(out: str, code: int) -> None:
    assert "Traceback" not in out and "internal error" not in out, out
    assert code in (0, 1)
    lines = out.splitlines()
    assert lines, "kubectl printed nothing"
    assert lines[0].startswith(ERROR_STARTS) or lines[0].endswith(OK_ENDS), out
    if code == 1:
        assert any(line.startswith(ERROR_STARTS) for line in lines), out


def cleanup() -> None:
    for kind in ("Service", "Deployment", "ConfigMap", "Pod"):
        if LAB.cluster.api.get(kind, "default", "fz") is not None:
            LAB.cluster.api.delete(kind, "default", "fz")


def paths(obj, prefix=()):
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from paths(v, prefix + (i,))


def replace_at(obj, path, value):
    if not path:
        return value
    obj = copy.deepcopy(obj)
    node = obj
    for p in path[:-1]:
        node = node[p]
    node[path[-1]] = value
    return obj


FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.text(max_size=300))
def test_random_text_gets_a_clear_answer(text):
    out, code, before, after = apply(text)
    assert "Traceback" not in out and "internal error" not in out
    if code == 1 and len(out.splitlines()) >= 1 and out.startswith("error: error parsing"):
        assert before == after
    cleanup()


@FUZZ
@given(st.sampled_from(BASES), st.data())
def test_a_wrong_value_at_a_random_path_is_refused_whole_or_applied_whole(base, data):
    cleanup()
    path = data.draw(st.sampled_from(list(paths(base))))
    value = data.draw(json_values)
    doc = replace_at(base, path, value)
    out, code, before, after = apply(yaml.safe_dump(doc))
    check_clear(out, code)
    if code == 1:
        assert before == after, out  # nothing partial stored
    else:
        assert after != before or out.endswith("unchanged\n")
    cleanup()


@FUZZ
@given(st.sampled_from(BASES), st.text(min_size=1, max_size=12), json_values)
def test_unknown_fields_are_refused(base, key, value):
    cleanup()
    doc = copy.deepcopy(base)
    doc.setdefault("spec", {})
    if isinstance(doc.get("spec"), dict) and key not in doc["spec"]:
        doc["spec"][key] = value
    out, code, before, after = apply(yaml.safe_dump(doc))
    check_clear(out, code)
    if code == 1:
        assert before == after
    cleanup()


@FUZZ
@given(st.text(min_size=1, max_size=20), st.sampled_from(["v1", "apps/v1", "x/v9", ""]))
def test_unknown_kinds(kind, api_version):
    doc = {"apiVersion": api_version, "kind": kind, "metadata": {"name": "fz"}}
    out, code, before, after = apply(yaml.safe_dump(doc))
    check_clear(out, code)
    if code == 1:
        assert before == after
    cleanup()


def test_huge_and_deep_documents():
    big = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "fz"},
           "data": {f"k{i}": "v" * 50 for i in range(20000)}}
    out, code, _, _ = apply(yaml.safe_dump(big))
    assert (out, code) == ("configmap/fz created\n", 0)
    cleanup()
    deep = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fz\ndata: " + "[" * 5000 + "]" * 5000 + "\n"
    out, code, before, after = apply(deep)
    check_clear(out, code)
    assert code == 1 and before == after
    nested: dict = {}
    node = nested
    for _ in range(150):
        node["a"] = {}
        node = node["a"]
    doc = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "fz", "annotations": nested}}
    out, code, before, after = apply(yaml.safe_dump(doc))
    check_clear(out, code)
    assert code == 1 and before == after
    cleanup()


def test_a_bad_document_among_good_ones_only_refuses_itself():
    good = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "fz"}, "data": {"a": "b"}}
    bad = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "fz"}, "spec": {"ports": [{"port": "x"}]}}
    out, code, before, after = apply(yaml.safe_dump_all([bad, good]))
    assert code == 1
    assert out.splitlines()[0] == "configmap/fz created"
    assert set(after) - set(before) == {("ConfigMap", "default", "fz")}
    cleanup()
