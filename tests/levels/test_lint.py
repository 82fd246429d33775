"""Every level in levels/ is broken at the start and solved by its reference solution."""
import os

import pytest

from netlab.levels import level_files
from netlab.levels.lint import lint_files

FILES = level_files()


def test_there_is_a_curriculum():
    assert len(FILES) >= 18


@pytest.mark.parametrize("path", FILES, ids=[os.path.basename(p) for p in FILES])
def test_level_passes_the_linter(path):
    (report,) = lint_files([path])
    assert report.ok, "\n".join(report.problems)


def test_linter_catches_a_level_solved_at_start_and_a_forbidden_solution(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("""
id: already-fine
title: nothing is broken
labFile: default
objectives:
- reach app=business-manager@192.168.0.21 app=data-product@192.168.0.22
forbid: ["ip route del"]
par: 0
solution:
- {on: 192.168.0.21, run: "ip route del 172.30.0.0/16 dev flannel.1"}
""")
    (report,) = lint_files([str(bad)])
    text = "\n".join(report.problems)
    assert "already passes" in text
    assert "forbidden `ip route del`" in text
    assert "over par 0" in text
    assert "after the solution" in text  # deleting the route broke the objective


def test_duplicate_ids_are_reported(tmp_path):
    src = open(FILES[0]).read().replace("labFile: default", f"labFile: {os.path.dirname(FILES[0])}/../netlab/data/default-lab.yaml")
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text(src)
    b.write_text(src)
    reports = lint_files([str(a), str(b)])
    assert any("also used by" in p for p in reports[1].problems)
