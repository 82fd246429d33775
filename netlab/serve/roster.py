"""The classroom roster: who may log in, how, and as what.

    # roster.yaml
    password: "scrypt$16384$8$1$...$..."   # the workshop password (`netlab serve passwd`)
    users:
      teacher: {role: instructor, keys: keys/teacher.pub}
      alice:   {role: trainee, keys: keys/alice.pub}   # an OpenSSH authorized_keys file
      bob:     {}                                       # a trainee who logs in with the password
    groups:
      team-a: [alice, bob]                              # shared mode: one live cluster for both

Key files are read relative to the roster. A user with `password: false` may only use a
key. Unknown users are refused; nothing is stored in clear.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass, field

from netlab.yamlsrc import Doc, SourceError, load_documents

ROLES = ("trainee", "instructor")
# scrypt at n=2**14, r=8: ~50 ms and 16 MiB per check — slow for a guesser, fine for a login.
_N, _R, _P = 1 << 14, 8, 1


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    salt = salt if salt is not None else os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    b64 = lambda b: base64.b64encode(b).decode()
    return f"scrypt${_N}${_R}${_P}${b64(salt)}${b64(digest)}"


def check_password(stored: str, password: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        got = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
                             dklen=len(base64.b64decode(digest)))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, base64.b64decode(digest))


@dataclass
class User:
    name: str
    role: str = "trainee"
    keys: object | None = None  # asyncssh.SSHAuthorizedKeys, or None: no key logins
    password: bool = True  # may log in with the workshop password
    group: str | None = None  # the shared-mode group, if any

    @property
    def instructor(self) -> bool:
        return self.role == "instructor"


@dataclass
class Roster:
    users: dict[str, User] = field(default_factory=dict)
    password_hash: str | None = None
    groups: dict[str, list[str]] = field(default_factory=dict)
    source: str = "<roster>"

    def get(self, name: str) -> User | None:
        return self.users.get(name)

    def check_password(self, name: str, password: str) -> bool:
        user = self.users.get(name)
        if user is None or not user.password or not self.password_hash:
            return False
        return check_password(self.password_hash, password)

    def key_allowed(self, name: str, key, peer: str) -> bool:
        user = self.users.get(name)
        if user is None or user.keys is None:
            return False
        return user.keys.validate(key, "", peer) is not None


def load_roster(path: str) -> Roster:
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as err:
        raise SourceError(path, None, err.strerror or str(err)) from None
    docs = load_documents(text, path)
    if len(docs) != 1 or not isinstance(docs[0].data, dict):
        raise SourceError(path, None, "a roster is one YAML mapping with `users:`")
    return _parse(docs[0], os.path.dirname(os.path.abspath(path)))


def _parse(doc: Doc, base: str) -> Roster:
    data = doc.data
    for key in data:
        if key not in ("password", "users", "groups"):
            raise doc.error(str(key), "unknown field (known: password, users, groups)")
    password = data.get("password")
    if password is not None and (not isinstance(password, str) or not password.startswith("scrypt$")):
        raise doc.error("password", "must be a hash from `netlab serve passwd` (scrypt$...), never the password")
    if password is not None and not _complete_hash(password):  # a cut-off copy would refuse every password
        raise doc.error("password", "not a whole hash from `netlab serve passwd` (scrypt$N$R$P$SALT$DIGEST)")
    users_data = data.get("users")
    if not isinstance(users_data, dict) or not users_data:
        raise doc.error("users", "give at least one user (name: {role: trainee|instructor, keys: FILE})")
    roster = Roster(password_hash=password, source=doc.source)
    for name, entry in users_data.items():
        name = str(name)
        where = f"users.{name}"
        entry = entry or {}
        if not isinstance(entry, dict):
            raise doc.error(where, "must be a mapping like {role: trainee, keys: FILE}")
        for key in entry:
            if key not in ("role", "keys", "password"):
                raise doc.error(f"{where}.{key}", "unknown field (known: role, keys, password)")
        role = entry.get("role", "trainee")
        if role not in ROLES:
            raise doc.error(f"{where}.role", f"must be trainee or instructor, not {role!r}")
        keys = None
        if entry.get("keys"):
            keys = _authorized_keys(doc, f"{where}.keys", os.path.join(base, str(entry["keys"])))
        allow_password = entry.get("password", True)
        if not isinstance(allow_password, bool):
            raise doc.error(f"{where}.password", "must be true or false (the workshop password is set at the top)")
        if keys is None and not (allow_password and password):
            raise doc.error(where, "has no way to log in: give `keys:` or set the workshop `password:`")
        roster.users[name] = User(name, role, keys, allow_password)
    groups = data.get("groups") or {}
    if not isinstance(groups, dict):
        raise doc.error("groups", "must be a mapping of group names to lists of users (team-a: [alice, bob])")
    for group, members in groups.items():
        where = f"groups.{group}"
        if not isinstance(members, list) or not members:
            raise doc.error(where, "must be a list of user names")
        for member in members:
            user = roster.users.get(str(member))
            if user is None:
                raise doc.error(where, f"{member!r} is not in users")
            if user.group is not None:
                raise doc.error(where, f"{member!r} is already in group {user.group!r}")
            user.group = str(group)
        roster.groups[str(group)] = [str(m) for m in members]
    return roster


def _complete_hash(stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        return (scheme == "scrypt" and int(n) > 1 and int(r) > 0 and int(p) > 0
                and len(base64.b64decode(salt, validate=True)) > 0 and len(base64.b64decode(digest, validate=True)) > 0)
    except ValueError:  # too few parts, not numbers, not base64 (binascii.Error is a ValueError)
        return False


def _authorized_keys(doc: Doc, where: str, path: str):
    import asyncssh

    try:
        with open(path, encoding="utf-8") as fh:
            return asyncssh.import_authorized_keys(fh.read())
    except OSError as err:
        raise doc.error(where, f"{path}: {err.strerror}") from None
    except (ValueError, asyncssh.KeyImportError) as err:
        raise doc.error(where, f"{path}: not an authorized_keys file: {err}") from None
