"""The roster (who may log in, and the one-line errors of a bad one), `netlab serve passwd`,
`netlab serve`'s own refusals to start, and the session record with `netlab serve report`."""
from __future__ import annotations

import json
import subprocess
import sys
import time

import asyncssh
import pytest

from netlab.cli import build_parser, main
from netlab.serve import record as record_module
from netlab.serve.hub import Hub
from netlab.serve.record import Record
from netlab.serve.roster import check_password, hash_password, load_roster
from netlab.yamlsrc import SourceError

HASH = hash_password("workshop-pass")


# -- the roster -----------------------------------------------------------------
@pytest.fixture
def keyfile(tmp_path):
    key = asyncssh.generate_private_key("ssh-ed25519")
    (tmp_path / "keys").mkdir()
    key.write_public_key(str(tmp_path / "keys" / "alice.pub"))
    return key


def roster_file(tmp_path, text: str) -> str:
    path = tmp_path / "roster.yaml"
    path.write_text(text)
    return str(path)


def test_a_good_roster(tmp_path, keyfile):
    path = roster_file(tmp_path, f'password: "{HASH}"\n'
                                 "users:\n"
                                 "  teacher: {role: instructor, keys: keys/alice.pub, password: false}\n"
                                 "  alice: {keys: keys/alice.pub}\n"
                                 "  bob: {}\n"
                                 "  carol:\n"
                                 "groups:\n"
                                 "  team: [bob, carol]\n")
    roster = load_roster(path)
    assert sorted(roster.users) == ["alice", "bob", "carol", "teacher"]
    assert roster.get("teacher").instructor and not roster.get("alice").instructor
    assert (roster.get("bob").group, roster.get("alice").group) == ("team", None)
    assert roster.groups == {"team": ["bob", "carol"]}
    assert roster.check_password("bob", "workshop-pass") and roster.check_password("alice", "workshop-pass")
    assert not roster.check_password("teacher", "workshop-pass")  # password: false
    assert not roster.check_password("mallory", "workshop-pass") and not roster.check_password("bob", "nope")
    public = keyfile.convert_to_public()  # what a client shows the server
    assert roster.key_allowed("alice", public, "127.0.0.1") and roster.key_allowed("teacher", public, "127.0.0.1")
    assert not roster.key_allowed("bob", public, "127.0.0.1") and not roster.key_allowed("zed", public, "127.0.0.1")
    other = asyncssh.generate_private_key("ssh-ed25519").convert_to_public()
    assert not roster.key_allowed("alice", other, "127.0.0.1")


BAD = [
    ("unknown top-level field", f'password: "{HASH}"\nusers:\n  bob: {{}}\nteams:\n  a: [bob]\n',
     "5: teams: unknown field (known: password, users, groups)"),
    ("unknown user field", f'password: "{HASH}"\nusers:\n  bob: {{}}\n  alice:\n    role: trainee\n    shell: /bin/sh\n',
     "6: users.alice.shell: unknown field (known: role, keys, password)"),
    ("bad role", f'password: "{HASH}"\nusers:\n  bob: {{}}\n  teacher: {{role: admin}}\n',
     "4: users.teacher.role: must be trainee or instructor, not 'admin'"),
    ("the password itself", "password: workshop-pass\nusers:\n  bob: {}\n",
     "1: password: must be a hash from `netlab serve passwd` (scrypt$...), never the password"),
    ("a cut-off hash", f'password: "{HASH[:40]}"\nusers:\n  bob: {{}}\n',
     "1: password: not a whole hash from `netlab serve passwd` (scrypt$N$R$P$SALT$DIGEST)"),
    ("no way to log in", "users:\n  alice: {keys: keys/alice.pub}\n  bob: {}\n",
     "3: users.bob: has no way to log in: give `keys:` or set the workshop `password:`"),
    ("password: false and no key", f'password: "{HASH}"\nusers:\n  bob: {{password: false}}\n',
     "3: users.bob: has no way to log in: give `keys:` or set the workshop `password:`"),
    ("password not a boolean", f'password: "{HASH}"\nusers:\n  bob: {{password: "yes"}}\n',
     "3: users.bob.password: must be true or false (the workshop password is set at the top)"),
    ("group member not in users", f'password: "{HASH}"\nusers:\n  bob: {{}}\ngroups:\n  team: [bob, zed]\n',
     "5: groups.team: 'zed' is not in users"),
    ("in two groups", f'password: "{HASH}"\nusers:\n  bob: {{}}\ngroups:\n  a: [bob]\n  b: [bob]\n',
     "6: groups.b: 'bob' is already in group 'a'"),
    ("groups as a list", f'password: "{HASH}"\nusers:\n  bob: {{}}\ngroups:\n  - [bob]\n',
     "5: groups: must be a mapping of group names to lists of users (team-a: [alice, bob])"),
    ("no users", f'password: "{HASH}"\n',
     "1: users: give at least one user (name: {role: trainee|instructor, keys: FILE})"),
]


@pytest.mark.parametrize("text,expected", [(t, e) for _n, t, e in BAD], ids=[n for n, _t, _e in BAD])
def test_roster_errors_are_one_line_naming_the_place(tmp_path, keyfile, text, expected):
    path = roster_file(tmp_path, text)
    with pytest.raises(SourceError) as err:
        load_roster(path)
    assert str(err.value) == f"{path}:{expected}"


def test_a_missing_or_unreadable_key_file(tmp_path):
    path = roster_file(tmp_path, f'password: "{HASH}"\nusers:\n  bob: {{}}\n  alice: {{keys: keys/alice.pub}}\n')
    with pytest.raises(SourceError) as err:
        load_roster(path)
    assert str(err.value) == f"{path}:4: users.alice.keys: {tmp_path}/keys/alice.pub: No such file or directory"
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "alice.pub").write_text("not a key\n")
    with pytest.raises(SourceError, match=r"roster.yaml:4: users.alice.keys: .*alice.pub: not an authorized_keys file"):
        load_roster(path)


def test_a_missing_roster_through_the_command_line(tmp_path, capsys):
    assert main(["serve", "--roster", str(tmp_path / "nope.yaml"), "--listen", "127.0.0.1:0"]) == 2
    err = capsys.readouterr().err
    assert err == f"netlab: {tmp_path}/nope.yaml: No such file or directory\n"


def test_a_bad_roster_through_the_command_line(tmp_path, capsys):
    path = roster_file(tmp_path, "users:\n  bob: {role: boss}\n")
    assert main(["serve", "--roster", path, "--listen", "127.0.0.1:0"]) == 2
    assert capsys.readouterr().err == f"netlab: {path}:2: users.bob.role: must be trainee or instructor, not 'boss'\n"


# -- passwords ------------------------------------------------------------------
def test_password_hash_round_trip():
    stored = hash_password("correct horse")
    assert stored.startswith("scrypt$16384$8$1$") and "correct" not in stored
    assert check_password(stored, "correct horse")
    assert not check_password(stored, "correct hors")
    assert not check_password(stored, "")
    assert hash_password("correct horse") != stored  # salted
    assert hash_password("x", salt=b"0" * 16) == hash_password("x", salt=b"0" * 16)
    assert not check_password("scrypt$garbage", "correct horse")
    assert not check_password("md5$abc", "correct horse")


def test_serve_passwd_from_stdin_prints_a_roster_line(tmp_path):
    done = subprocess.run([sys.executable, "-m", "netlab", "serve", "passwd"], input="the workshop pass\n",
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    line = done.stdout
    assert line.startswith('password: "scrypt$') and line.endswith('"\n') and line.count("\n") == 1
    assert "the workshop pass" not in line
    path = roster_file(tmp_path, line + "users:\n  bob: {}\n")
    roster = load_roster(path)
    assert roster.check_password("bob", "the workshop pass")
    assert not roster.check_password("bob", "the workshop pas")


def test_serve_passwd_refuses_a_short_password(monkeypatch, capsys):
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    assert main(["serve", "passwd"]) == 1
    out = capsys.readouterr()
    assert (out.out, out.err) == ("", "netlab serve passwd: use at least 8 characters\n")


# -- netlab serve's refusals to start ---------------------------------------------
def test_serve_without_a_roster_exits_2_with_one_line(capsys):
    assert main(["serve"]) == 2
    out = capsys.readouterr()
    assert out.out == ""
    assert out.err == "netlab serve: give --roster FILE: the users who may log in (see README, Classroom)\n"


@pytest.mark.parametrize("listen", ["nonsense", "127.0.0.1", "127.0.0.1:http", "127.0.0.1:99999", ":-1"])
def test_a_bad_listen_address_exits_2_with_one_line(tmp_path, capsys, listen):
    assert main(["serve", "--roster", str(tmp_path / "roster.yaml"), "--listen", listen]) == 2
    out = capsys.readouterr()
    assert out.out == ""
    assert out.err == f"netlab serve: --listen {listen!r}: give HOST:PORT, e.g. 127.0.0.1:2222\n"


@pytest.mark.parametrize("flag,shown", [("--cpu-per-command", "0.0"), ("--max-output", "0"), ("--burst", "-1"),
                                        ("--sessions-per-user", "0"), ("--max-sessions", "0"),
                                        ("--login-attempts", "0"), ("--idle-timeout", "0.0")])
def test_a_limit_must_be_positive(tmp_path, capsys, flag, shown):
    assert main(["serve", "--roster", str(tmp_path / "roster.yaml"), flag, shown.replace(".0", "")]) == 2
    assert capsys.readouterr().err == f"netlab serve: {flag} must be positive, not {shown}\n"


def test_serve_listens_on_loopback_unless_asked():
    args = build_parser().parse_args(["serve", "--roster", "r.yaml"])
    assert args.listen == "127.0.0.1:2222"
    from netlab.serve import parse_listen

    assert parse_listen("[::1]:2200") == ("::1", 2200)
    assert parse_listen(":2200") == ("127.0.0.1", 2200)  # no host: still loopback


# -- the record and `netlab serve report` -------------------------------------------
T0 = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC


@pytest.fixture
def utc(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


class Clock:
    """The record module's `time`, stamped from a clock the test sets."""

    def __init__(self) -> None:
        self.now = T0

    def time(self) -> float:
        return self.now

    def __getattr__(self, name):
        return getattr(time, name)


def report(path, capsys) -> tuple[int, str, str]:
    code = main(["serve", "report", str(path)])
    out = capsys.readouterr()
    return code, out.out, out.err


async def test_a_record_written_by_the_hub_prints_as_a_table(tmp_path, monkeypatch, capsys, utc):
    from netlab.serve.roster import Roster, User

    clock = Clock()
    monkeypatch.setattr(record_module, "time", clock)
    path = tmp_path / "record.jsonl"
    record = Record(str(path))
    roster = Roster(users={"teacher": User("teacher", "instructor"), "alice": User("alice"), "bob": User("bob")})
    hub = Hub(roster, level="hairpin", record=record)
    record.write("server-start", listen="127.0.0.1:2222", level="hairpin")

    async def at(when: float, member, **message) -> None:
        clock.now = T0 + when
        await hub._dispatch(member, message)

    clock.now = T0 + 5
    teacher = hub.register(roster.users["teacher"], "10.0.0.1", dashboard=True)
    alice = hub.register(roster.users["alice"], "10.0.0.2")
    bob = hub.register(roster.users["bob"], "10.0.0.3")
    status = {"op": "status", "total": 2, "par": 1, "passed": 0, "changes": 0, "hints": 0, "solved": False}
    await at(10, alice, **status, level="hairpin", seconds=5.0)
    await at(30, alice, op="command", line="ip -d link show", exit=0)
    await at(31, alice, **{**status, "hints": 1}, level="hairpin", seconds=26.0)
    await at(70, teacher, op="broadcast", text="five minutes left")
    await at(90, alice, op="command", line="ip link set veth0 type bridge_slave hairpin on", exit=0)
    await at(91, alice, **{**status, "hints": 1, "changes": 1, "passed": 2, "solved": True}, level="hairpin",
             seconds=86.0)
    await at(100, bob, **{**status, "total": 0, "par": 0}, level="", seconds=1.0)  # bob went to the sandbox
    await at(150, bob, op="command", line="ip route", exit=0)
    await at(151, bob, op="command", line="ip route add 10.9.0.0/16 dev eth0", exit=0)
    await at(152, bob, **{**status, "total": 0, "par": 0, "changes": 1}, level="", seconds=53.0)
    await at(160, teacher, op="inject", fault="drop-route", to=alice.sid)
    await at(170, teacher, op="reset", to=[bob.sid])
    await at(200, teacher, op="push-level", level="flannel-route", to="all")
    await at(230, alice, **status, level="flannel-route", seconds=2.0)
    await at(260, teacher, op="end")
    clock.now = T0 + 261
    record.write("server-stop")
    record.close()

    code, out, err = report(path, capsys)
    assert (code, err) == (0, "")
    assert out == (
        "session 2023-11-14 22:13:20 – 2023-11-14 22:17:41 (4m21s)\n"
        "USER    LEVEL           RESULT     CHANGES   PAR   HINTS   COMMANDS   TIME\n"
        "alice   hairpin         solved     1         1     1       2          1m21s\n"
        "bob     sandbox         unsolved   1         0     0       2          0m52s\n"
        "alice   flannel-route   unsolved   0         1     0       0          0m00s\n"
        "\n"
        "server started 2023-11-14 22:13:20 on 127.0.0.1:2222\n"
        "2023-11-14 22:14:30 teacher: broadcast five minutes left\n"
        "2023-11-14 22:16:00 teacher: inject drop-route alice\n"
        "2023-11-14 22:16:10 teacher: reset bob\n"
        "2023-11-14 22:16:40 teacher: push-level flannel-route alice, bob\n"
        "2023-11-14 22:17:40 teacher: end\n")


def test_a_record_by_hand_with_a_blank_line(tmp_path, capsys, utc):
    lines = [{"time": T0, "event": "server-start", "listen": "0.0.0.0:2222", "level": ""},
             {"time": T0 + 3, "event": "login", "user": "dave", "role": "trainee", "mode": "solo", "peer": "x", "sid": 1},
             {"time": T0 + 4, "event": "status", "user": "dave", "level": "", "changes": 0, "par": 0, "hints": 0,
              "passed": 0, "total": 0, "solved": False},
             {"time": T0 + 64, "event": "command", "user": "dave", "level": "", "line": "hostname", "exit": 0},
             {"time": T0 + 65, "event": "logout", "user": "dave", "sid": 1}]
    path = tmp_path / "r.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in lines[:2]) + "\n" + "".join(json.dumps(e) + "\n" for e in lines[2:]))
    assert report(path, capsys) == (0, (
        "session 2023-11-14 22:13:20 – 2023-11-14 22:14:25 (1m05s)\n"
        "USER   LEVEL     RESULT     CHANGES   PAR   HINTS   COMMANDS   TIME\n"
        "dave   sandbox   unsolved   0         0     0       1          1m00s\n"
        "\n"
        "server started 2023-11-14 22:13:20 on 0.0.0.0:2222\n"), "")


@pytest.mark.parametrize("bad", ["not json at all", '{"event": "login"}', '{"time": "soon", "event": "x"}',
                                 '["time", "event"]', '{"time": 1700000000.0}'])
def test_a_corrupt_record_line_is_one_line_naming_it(tmp_path, capsys, bad):
    path = tmp_path / "r.jsonl"
    path.write_text(json.dumps({"time": T0, "event": "server-start", "listen": "x"}) + "\n\n" + bad + "\n")
    assert report(path, capsys) == (2, "", f"netlab serve report: {path}:3: not a netlab session record line\n")


def test_report_of_a_missing_record(tmp_path, capsys):
    path = tmp_path / "nope.jsonl"
    assert report(path, capsys) == (2, "", f"netlab serve report: {path}: No such file or directory\n")


def test_a_broadcast_over_several_lines_stays_one_note_line(tmp_path):
    path = tmp_path / "record.jsonl"
    path.write_text('{"time": 0, "event": "broadcast", "by": "teacher", "text": "break\\nin 5 min"}\n')
    out = record_module.report(str(path))
    assert [line for line in out.splitlines() if "broadcast" in line][0].endswith("teacher: broadcast break in 5 min")
