import pytest

from netlab.levels import load_level
from netlab.levels.spec import parse_level
from netlab.yamlsrc import SourceError

GOOD = """id: x
title: t
labFile: default
objectives:
- reach 192.168.0.21 192.168.0.22
solution:
- {on: 192.168.0.21, run: "true"}
"""


def test_good_level_parses_with_defaults():
    spec = parse_level(GOOD, "x.yaml")
    assert spec.id == "x" and spec.par == 1 and spec.chapter == 1
    assert spec.solution[0].on == "192.168.0.21" and spec.solution[0].line == 7


@pytest.mark.parametrize("text, where, words", [
    (GOOD.replace("title: t", "title: t\nbogus: 1"), "x.yaml:3", "unknown field \"bogus\""),
    (GOOD.replace("labFile: default\n", ""), "x.yaml:1", "exactly one of `lab`"),
    (GOOD.replace("labFile: default", "labFile: nowhere.yaml"), "x.yaml:3", "cannot read"),
    (GOOD.replace('{on: 192.168.0.21, run: "true"}', "{on: x}"), "x.yaml:7", "missing required field \"run\""),
    (GOOD + "par: -1\n", "x.yaml:8", "par: must be a whole number"),
    (GOOD + "kubeProxy: sleepy\n", "x.yaml:8", "kubeProxy: must be"),
    (GOOD.replace("objectives:\n- reach 192.168.0.21 192.168.0.22\n", "objectives: []\n"), "x.yaml:4", "at least one"),
    ("id: [", "x.yaml:2", "invalid YAML"),
])
def test_bad_level_files_name_file_line_and_problem(text, where, words):
    with pytest.raises(SourceError) as err:
        parse_level(text, "x.yaml", "/nonexistent")
    assert str(err.value).startswith(where + ":"), str(err.value)
    assert words in str(err.value)


def test_bad_objective_is_a_source_error_with_its_line(tmp_path):
    path = tmp_path / "lv.yaml"
    path.write_text(GOOD.replace("reach 192.168.0.21 192.168.0.22", "reach 192.168.0.21"))
    with pytest.raises(SourceError) as err:
        load_level(str(path))
    assert f"{path}:5:" in str(err.value) and "expected `reach FROM TO[:PORT]" in str(err.value)


def test_unknown_level_id():
    with pytest.raises(SourceError, match="no level with id \"nope\""):
        load_level("nope")
