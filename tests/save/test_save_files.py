"""Corrupt, foreign, truncated, newer and older save files; atomic writes."""
import hashlib
import os

import msgpack
import pytest

from netlab.levels import start_sandbox
from netlab.save import SaveError, load, save
from netlab.save import format as fmt


@pytest.fixture
def saved(tmp_path):
    lab, run = start_sandbox()
    run.sh("ip route del 172.30.0.0/16 dev flannel.1")
    return save(str(tmp_path / "good.nlsave"), lab, run)


def _write(tmp_path, data: bytes) -> str:
    p = tmp_path / "bad.nlsave"
    p.write_bytes(data)
    return str(p)


def test_truncated_files_are_refused(tmp_path, saved):
    data = open(saved, "rb").read()
    for cut in (3, 20, len(data) // 2, len(data) - 1):
        with pytest.raises(SaveError, match="truncated|corrupt"):
            load(_write(tmp_path, data[:cut]))


def test_bit_flips_are_refused(tmp_path, saved):
    data = bytearray(open(saved, "rb").read())
    for pos in (9, 45, len(data) // 2, len(data) - 1):
        flipped = bytearray(data)
        flipped[pos] ^= 0x10
        with pytest.raises(SaveError, match="corrupt: the checksum does not match"):
            load(_write(tmp_path, bytes(flipped)))


def test_foreign_file_is_refused(tmp_path):
    with pytest.raises(SaveError, match="not a netlab save file"):
        load(_write(tmp_path, b"PK\x03\x04 this is a zip file, not a save"))


def test_missing_file(tmp_path):
    with pytest.raises(SaveError, match="cannot read"):
        load(str(tmp_path / "nope.nlsave"))


def test_future_version_is_refused(tmp_path, saved):
    header, body = fmt.decode(open(saved, "rb").read(), saved)
    path = _write(tmp_path, fmt.encode({**header, "format": fmt.FORMAT + 1, "netlab": "9.0"}, body))
    with pytest.raises(SaveError, match=r"newer netlab \(9.0, save format 3\).*upgrade"):
        load(path)


def test_valid_checksum_but_a_changed_world_is_refused(tmp_path, saved):
    header, body = fmt.decode(open(saved, "rb").read(), saved)
    body["history"] = []  # the stored fingerprint still has the route deleted
    with pytest.raises(SaveError, match=r"replayed world differs .*routes on 192.168.0.21"):
        load(_write(tmp_path, fmt.encode(header, body)))


def test_format_1_loads_through_the_migration(tmp_path):
    lab, run = start_sandbox()
    run.sh("ssh 192.168.0.21")
    run.sh("ip route del 172.30.0.0/16 dev flannel.1")
    from netlab.save import fingerprint

    v1_body = {"lab": run.setup.lab_text, "lab_source": run.setup.lab_source, "faults": [],
               "lines": list(lab.session.history), "fingerprint": fingerprint(lab)}
    payload = msgpack.packb({"header": {"format": 1, "netlab": "0.0.9", "level": "", "created": "2025-01-01T00:00:00+00:00"},
                             "body": v1_body}, use_bin_type=True)
    path = _write(tmp_path, fmt.MAGIC + hashlib.sha256(payload).digest() + payload)
    lab2, run2 = load(path)
    assert lab2.session.history == lab.session.history and run2.hints_used == 0
    assert "172.30.0.0/16" not in lab2.sh("ip route", on="192.168.0.21").output


def test_failed_write_leaves_the_previous_save_intact(tmp_path, saved, monkeypatch):
    before = open(saved, "rb").read()
    lab, run = start_sandbox()
    run.sh("ip link set docker0 down")

    def broken_fsync(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(fmt.os, "fsync", broken_fsync)
    with pytest.raises(SaveError, match="cannot write: No space left on device"):
        save(saved, lab, run)
    monkeypatch.undo()
    assert open(saved, "rb").read() == before
    assert [f for f in os.listdir(os.path.dirname(saved)) if f.endswith(".tmp")] == []
    load(saved)


def test_refused_load_never_touches_the_file(tmp_path):
    path = _write(tmp_path, b"garbage")
    with pytest.raises(SaveError):
        load(path)
    assert open(path, "rb").read() == b"garbage"
