"""Golden transcripts: a lab, a script, and the exact output `netlab run` prints.

Each `*.txt` here is a transcript. Its first line may name a lab file
(`# lab: levels/labs/host-gw.yaml`, relative to the repository root; default: the
built-in lab). Every `$ ` line is run in one session; everything else is expected
output. Set NETLAB_UPDATE_GOLDEN=1 to rewrite the transcripts from the current
behaviour — then read the diff before committing it.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from netlab.cli import run_script
from netlab.lab import Lab

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
CASES = sorted(HERE.glob("*.txt"))


def parse(path: Path) -> tuple[str | None, list[str]]:
    lines = path.read_text().splitlines()
    lab = None
    if lines and lines[0].startswith("# lab: "):
        lab = lines[0][len("# lab: "):].strip()
    script = [ln[2:] for ln in lines if ln.startswith("$ ")]
    return lab, script


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_transcript(path: Path) -> None:
    lab_file, script = parse(path)
    lab = Lab.load(str(ROOT / lab_file)) if lab_file else Lab.default()
    chunks: list[str] = []
    run_script(lab, script, chunks.append)
    actual = (f"# lab: {lab_file}\n" if lab_file else "") + "".join(chunks)
    if os.environ.get("NETLAB_UPDATE_GOLDEN"):
        path.write_text(actual)
    expected = path.read_text()
    assert actual.splitlines() == expected.splitlines()


def test_there_are_transcripts() -> None:
    assert len(CASES) >= 3
