"""The save file format: bytes on disk, versions, checksum, migrations.

    offset 0   8 bytes   magic  b"NETLABSV"
    offset 8  32 bytes   SHA-256 of everything after it
    offset 40  ...       msgpack map {"header": {...}, "body": {...}}

header: format (int), netlab (version string), level (id or ""), created (ISO-8601 UTC).
A file that does not start with the magic is foreign; one whose checksum does not match
is corrupt; one whose format is newer than FORMAT was written by a newer netlab. Older
formats are brought up to date one step at a time by MIGRATIONS before anyone reads
them, so the rest of netlab only ever sees the current shape.
"""
from __future__ import annotations

import hashlib
import os
import tempfile

import msgpack

MAGIC = b"NETLABSV"
FORMAT = 2
HEADER_SIZE = len(MAGIC) + 32


class SaveError(Exception):
    """One clear line about a save that cannot be read or written."""


def encode(header: dict, body: dict) -> bytes:
    payload = msgpack.packb({"header": header, "body": body}, use_bin_type=True)
    return MAGIC + hashlib.sha256(payload).digest() + payload


def decode(data: bytes, source: str) -> tuple[dict, dict]:
    """(header, body) in the current format, or SaveError."""
    if not data.startswith(MAGIC):
        if len(data) < len(MAGIC) and MAGIC.startswith(data):
            raise SaveError(f"{source}: truncated: the file ends inside its header")
        raise SaveError(f"{source}: not a netlab save file (wrong magic bytes)")
    if len(data) < HEADER_SIZE:
        raise SaveError(f"{source}: truncated: the file ends inside its header")
    if hashlib.sha256(data[HEADER_SIZE:]).digest() != data[len(MAGIC):HEADER_SIZE]:
        raise SaveError(f"{source}: corrupt: the checksum does not match (the file was truncated or changed)")
    try:
        doc = msgpack.unpackb(data[HEADER_SIZE:], raw=False, strict_map_key=False)
    except (ValueError, msgpack.UnpackException) as err:
        raise SaveError(f"{source}: corrupt: {err}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("header"), dict) or not isinstance(doc.get("body"), dict):
        raise SaveError(f"{source}: corrupt: no header and body")
    header, body = doc["header"], doc["body"]
    version = header.get("format")
    if not isinstance(version, int) or version < 1:
        raise SaveError(f"{source}: corrupt: format version {version!r}")
    if version > FORMAT:
        raise SaveError(f"{source}: written by a newer netlab ({header.get('netlab', '?')}, save format {version}); "
                        f"this netlab reads formats up to {FORMAT}: upgrade netlab to load it")
    while version < FORMAT:
        header, body = MIGRATIONS[version](header, body)
        version = header["format"]
    return header, body


def _v1_to_v2(header: dict, body: dict) -> tuple[dict, dict]:
    """Format 1 (netlab 0.1 before levels had hints) kept the lab as `lab`, the faults as
    `faults` [[context, line]] and the learner's lines as `lines`; it had no clock
    advances, editor texts, hints or play time."""
    body = dict(body)
    new = {
        "lab_text": body.pop("lab"),
        "lab_source": body.pop("lab_source", "<lab>"),
        "steps": [[on, line, 0.0] for on, line in body.pop("faults", [])],
        "kube_proxy_paused": bool(body.pop("kube_proxy_paused", False)),
        "history": body.pop("lines", []),
        "advances": [],
        "edits": [],
        "hints_used": 0,
        "seconds": 0.0,
        "solved": False,
        "fingerprint": body.pop("fingerprint", {}),
    }
    return {**header, "format": 2}, new


MIGRATIONS = {1: _v1_to_v2}


def write_atomic(path: str, data: bytes) -> None:
    """Temporary file in the same folder, fsync, rename over `path`, fsync the folder.
    Any failure leaves the previous file as it was and no temporary file behind."""
    directory = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".netlab-save-", suffix=".tmp")
    except OSError as err:
        raise SaveError(f"{path}: cannot write: {err.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as err:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(err, OSError):
            raise SaveError(f"{path}: cannot write: {err.strerror or err}") from None
        raise
    try:
        dfd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass  # not every filesystem lets a directory be fsynced; the rename is done


def read(path: str) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError as err:
        raise SaveError(f"{path}: cannot read: {err.strerror}") from None
