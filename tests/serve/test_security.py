"""Safety (issue 7 §3): a real `netlab serve` and a real SSH client (asyncssh) asking for
everything a trainee must not get — wrong credentials, exec, forwarding, sftp, agent and
X11 — and the per-connection limits (login attempts, sessions, idle time). Then the hub's
side: over its real Unix socket a session token only opens its own lab, a teammate's, or
(for an instructor) anyone's."""
from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import tempfile
import threading
from pathlib import Path
from types import SimpleNamespace

import asyncssh
import pytest
from asyncssh.packet import Boolean, String, UInt32
from serverkit import PASSWORD, Server, start_server, stop_server, write_roster
from sshterm import Trainee

from netlab.serve.hub import Hub
from netlab.serve.protocol import Connection, ProtocolError
from netlab.serve.record import Record
from netlab.serve.roster import Roster, User

REFUSED = (asyncssh.Error, OSError)  # PermissionDenied, ChannelOpenError, a dropped connection...


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One server for the refusal tests (they change nothing in it); failed logins are
    many here, so the attempt limit is lifted."""
    tmp = tmp_path_factory.mktemp("security")
    keys = write_roster(tmp, {"teacher": {"role": "instructor", "key": True}, "alice": {"key": True},
                              "dave": {"key": True, "password": False}, "bob": {}, "carol": {}},
                        {"team": ["bob", "carol"]})
    proc, port = start_server(tmp, "--login-attempts", "1000")
    yield Server(tmp, port, proc, keys)
    stop_server(proc)


async def connect(port: int, user: str, *, key: str | list | None = None, password: str | None = None,
                  local: str = "127.0.0.1", **options) -> asyncssh.SSHClientConnection:
    keys = key if isinstance(key, list) else [key] if key else None
    return await asyncssh.connect("127.0.0.1", port, username=user, known_hosts=None, client_keys=keys,
                                  password=password, agent_path=None, local_addr=(local, 0), **options)


def other_key(tmp) -> str:
    path = str(tmp / f"stranger_key_{os.urandom(4).hex()}")
    asyncssh.generate_private_key("ssh-ed25519").write_private_key(path)
    return path


def record_events(server) -> list[str]:
    path = server.tmp / "record.jsonl"
    return [json.loads(line)["event"] for line in path.read_text().splitlines()] if path.exists() else []


# -- authentication --------------------------------------------------------------
async def test_the_right_credentials_get_in(server):
    """The refusals below mean something only if these work on the same server."""
    for user, opts in (("alice", {"key": server.keys["alice"]}), ("bob", {"password": PASSWORD}),
                       ("dave", {"key": server.keys["dave"]}), ("teacher", {"key": server.keys["teacher"]})):
        conn = await connect(server.port, user, **opts)
        conn.close()
        await conn.wait_closed()


async def test_wrong_password_refused(server):
    with pytest.raises(asyncssh.PermissionDenied):
        await connect(server.port, "bob", password="workshop-pas")
    with pytest.raises(asyncssh.PermissionDenied):
        await connect(server.port, "bob", password="")


async def test_unknown_user_refused_with_the_password_and_with_a_key(server):
    with pytest.raises(asyncssh.PermissionDenied):
        await connect(server.port, "mallory", password=PASSWORD)
    with pytest.raises(asyncssh.PermissionDenied):
        await connect(server.port, "mallory", key=server.keys["alice"])
    with pytest.raises(asyncssh.PermissionDenied):
        await connect(server.port, "root", password=PASSWORD)


async def test_a_key_not_in_the_users_authorized_keys_refused(server):
    with pytest.raises(asyncssh.PermissionDenied):
        await connect(server.port, "alice", key=other_key(server.tmp))
    with pytest.raises(asyncssh.PermissionDenied):  # a real key, but another user's
        await connect(server.port, "alice", key=server.keys["teacher"])
    with pytest.raises(asyncssh.PermissionDenied):  # nor does a trainee's key open the instructor
        await connect(server.port, "teacher", key=server.keys["alice"])


async def test_a_key_only_user_cannot_use_the_workshop_password(server):
    with pytest.raises(asyncssh.PermissionDenied):
        await connect(server.port, "dave", password=PASSWORD)


# -- what an authenticated connection may not do ---------------------------------
async def test_exec_refused_and_nothing_runs(server, tmp_path):
    marker = tmp_path / "ran"
    conn = await connect(server.port, "alice", key=server.keys["alice"])
    async with conn:
        with pytest.raises(asyncssh.ChannelOpenError):
            await conn.run(f"touch {marker}")
        with pytest.raises(asyncssh.ChannelOpenError):  # with a PTY too (ssh -t host CMD)
            await conn.create_session(asyncssh.SSHClientSession, f"touch {marker}", term_type="xterm")
        with pytest.raises(asyncssh.ChannelOpenError):  # scp is an exec too
            await conn.run(f"scp -t {tmp_path}")
    assert not marker.exists()
    assert "login" not in record_events(server)  # no session was ever started


async def test_sftp_and_other_subsystems_refused(server):
    async with await connect(server.port, "alice", key=server.keys["alice"]) as conn:
        with pytest.raises(REFUSED):
            await conn.start_sftp_client()
        with pytest.raises(asyncssh.ChannelOpenError):
            await conn.create_session(asyncssh.SSHClientSession, subsystem="netconf")


def listener() -> tuple[socket.socket, list]:
    """A TCP service on this machine (so the server could reach it) that notes every
    connection it gets."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    accepted: list = []

    def accept() -> None:
        try:
            while True:
                accepted.append(sock.accept()[0])
        except OSError:
            pass

    threading.Thread(target=accept, daemon=True).start()
    return sock, accepted


async def test_port_forwarding_refused_both_ways(server, tmp_path):
    target, accepted = listener()
    host, port = target.getsockname()
    try:
        async with await connect(server.port, "alice", key=server.keys["alice"]) as conn:
            # ssh -W / a direct-tcpip channel: refused at once.
            with pytest.raises(asyncssh.ChannelOpenError):
                await conn.open_connection(host, port)
            # ssh -L: the client's end listens, but what comes through it gets nowhere.
            local = await conn.forward_local_port("127.0.0.1", 0, host, port)
            reader, writer = await asyncio.open_connection("127.0.0.1", local.get_port())
            writer.write(b"GET / HTTP/1.0\r\n\r\n")
            assert await asyncio.wait_for(reader.read(), 5) == b""  # closed, nothing came back
            writer.close()
            local.close()
            # ssh -R: the server will not listen for us.
            with pytest.raises(asyncssh.ChannelListenError):
                await conn.forward_remote_port("127.0.0.1", 0, host, port)
            # Unix sockets either way (ssh -L to a path; the hub is one).
            sock_path = tmp_path / "s.sock"
            unix = socket.socket(socket.AF_UNIX)
            unix.bind(str(sock_path))
            unix.listen()
            with pytest.raises(asyncssh.ChannelOpenError):
                await conn.open_unix_connection(str(sock_path))
            unix.close()
            with pytest.raises(asyncssh.ChannelListenError):
                await conn.forward_remote_path(str(tmp_path / "r.sock"), str(sock_path))
        assert accepted == []  # the server never connected anywhere on our behalf
    finally:
        target.close()


async def test_agent_and_x11_forwarding_not_granted(server, tmp_path):
    async with await connect(server.port, "alice", key=server.keys["alice"]) as conn:
        # ssh -X: asyncssh's own X11 request, against a made-up display; the server says no.
        (tmp_path / "xauth").write_bytes(b"")
        with pytest.raises(asyncssh.ChannelOpenError, match="X11 forwarding request failed"):
            await conn.create_session(asyncssh.SSHClientSession, term_type="xterm", x11_forwarding=True,
                                      x11_display="127.0.0.1:99", x11_auth_path=str(tmp_path / "xauth"))
        # ssh -A sends its request without asking for a reply; ask for one to hear the answer
        # (a request the server does grant, a resize, answers True on the same channel).
        chan, _session = await conn.create_session(asyncssh.SSHClientSession, term_type="xterm",
                                                   term_size=(80, 24))
        assert await chan._make_request(b"window-change", UInt32(100), UInt32(30), UInt32(0), UInt32(0)) is True
        assert await chan._make_request(b"auth-agent-req@openssh.com") is False
        assert await chan._make_request(b"x11-req", Boolean(False), String(b"MIT-MAGIC-COOKIE-1"),
                                        String(b"00" * 16), UInt32(0)) is False
        chan.close()


async def test_a_session_without_a_pty_gets_one_line_and_exit_status_1(server):
    async with await connect(server.port, "alice", key=server.keys["alice"]) as conn:
        proc = await conn.create_process(term_type=None)  # ssh -T
        output = await asyncio.wait_for(proc.stdout.read(), 10)
        await proc.wait_closed()
        assert output == "netlab: this is an interactive lab: connect with a terminal (ssh -t)\r\n"
        assert proc.exit_status == 1


# -- per-connection limits -------------------------------------------------------
@pytest.mark.serve_args("--login-attempts", "2")
async def test_login_attempts_are_rate_limited_per_address(classroom):
    for _ in range(2):
        with pytest.raises(asyncssh.PermissionDenied):
            await connect(classroom.port, "bob", password="guess")
    # Two failures from 127.0.0.1 within the minute: now even the right password or key is refused.
    with pytest.raises(REFUSED):
        await connect(classroom.port, "bob", password=PASSWORD)
    with pytest.raises(REFUSED):
        await connect(classroom.port, "alice", key=classroom.keys["alice"])
    # Another address is not blocked by them (127.0.0.2 reaches a loopback server on Linux).
    conn = await connect(classroom.port, "bob", password=PASSWORD, local="127.0.0.2")
    conn.close()


@pytest.mark.serve_args("--login-attempts", "2")
async def test_keys_a_client_offers_before_the_password_are_not_failed_logins(classroom):
    """OpenSSH offers every key it has before asking for the password; a trainee with
    two keys on their laptop must still get in, and often."""
    strangers = [other_key(classroom.tmp), other_key(classroom.tmp)]
    for _ in range(3):
        conn = await connect(classroom.port, "bob", key=strangers, password=PASSWORD)
        conn.close()
        await conn.wait_closed()


async def wait_refusal(port: int, user: str, **credentials) -> tuple[str, int | None]:
    """A session with a PTY that the server refuses: the screen's text and the exit status."""
    t = await Trainee.connect(port, user, **credentials, cols=100, rows=10)
    status = await t.closed(10)
    text = t.text.strip()
    await t.close()
    return text, status


@pytest.mark.serve_args("--sessions-per-user", "1")
async def test_sessions_per_user(classroom):
    first = await Trainee.connect(classroom.port, "alice", key=classroom.keys["alice"])
    text, status = await wait_refusal(classroom.port, "alice", key=classroom.keys["alice"])
    assert (text, status) == ("netlab: alice already has 1 session open", 1)
    # Another user is not affected.
    bob = await Trainee.connect(classroom.port, "bob", password=PASSWORD)
    await bob.wait_for("Levels")
    assert not first.term.closed.is_set()
    await first.close()
    await bob.close()


@pytest.mark.serve_args("--max-sessions", "1")
async def test_max_sessions(classroom):
    first = await Trainee.connect(classroom.port, "alice", key=classroom.keys["alice"])
    text, status = await wait_refusal(classroom.port, "bob", password=PASSWORD)
    assert (text, status) == ("netlab: the classroom is full (1 session); try again later", 1)
    await first.wait_for("Levels")  # the first session is untouched
    await first.close()
    # Its place is free again once it has gone.
    for _ in range(50):
        if "logout" in record_events(classroom):
            break
        await asyncio.sleep(0.1)
    second = await Trainee.connect(classroom.port, "bob", password=PASSWORD)
    await second.wait_for("Levels")
    await second.close()


@pytest.mark.serve_args("--idle-timeout", "2")
async def test_an_idle_session_is_closed_with_a_message(classroom):
    t = await Trainee.connect(classroom.port, "alice", key=classroom.keys["alice"])
    teacher = await Trainee.connect(classroom.port, "teacher", key=classroom.keys["teacher"])
    for _ in range(8):  # keystrokes keep it open past the timeout...
        t.press("down")
        await asyncio.sleep(0.4)
    assert not t.term.closed.is_set()
    status = await t.closed(10)  # ...and without them it goes
    assert "netlab: closed after 2 s without input" in t.text
    assert status == 0
    await t.close()
    # The instructor's dashboard is watched, not typed into: it stays.
    assert not teacher.term.closed.is_set()
    await teacher.close()


# -- the hub: a token opens only its own lab, a teammate's, or (instructor) any --------
class Client:
    """A session process's side of the hub socket (protocol.Connection), from a thread."""

    def __init__(self, path: str, token: str) -> None:
        self.messages: list[dict] = []
        self.conn = Connection(path, token, self.messages.append)

    def ask(self, **message) -> dict:
        try:
            return self.conn.request(message, timeout=30)
        except ProtocolError as err:
            return {"error": str(err)}

    def got(self, op: str) -> list[dict]:
        return [m for m in self.messages if m.get("op") == op]


@pytest.fixture
async def classhub():
    roster = Roster(users={"teacher": User("teacher", "instructor"), "alice": User("alice"),
                           "bob": User("bob", group="team"), "carol": User("carol", group="team")},
                    groups={"team": ["bob", "carol"]})
    directory = tempfile.mkdtemp(prefix="nl-hub-")  # short: a socket path has ~100 bytes
    path = os.path.join(directory, "hub.sock")
    record_path = os.path.join(directory, "record.jsonl")
    hub = Hub(roster, record=Record(record_path))
    server = await hub.start(path)
    members = {name: hub.register(roster.users[name], "127.0.0.1", dashboard=name == "teacher")
               for name in ("teacher", "alice", "bob", "carol")}
    clients = {}
    for name, member in members.items():
        clients[name] = await asyncio.to_thread(Client, path, member.token)
    yield SimpleNamespace(hub=hub, path=path, members=members, c=clients, record=record_path)
    for client in clients.values():
        client.conn.close()
    for member in members.values():  # a test that failed mid-edit must not hold a thread for 600 s
        hub.unregister(member)
    server.close()
    for task in asyncio.all_tasks():
        if task.get_coro().__name__ == "_publisher":
            task.cancel()
    hub.record.close()
    shutil.rmtree(directory, ignore_errors=True)


async def ask(client: Client, **message) -> dict:
    return await asyncio.to_thread(client.ask, **message)


async def test_a_trainee_cannot_watch_a_lab_outside_their_group(classhub):
    members, c = classhub.members, classhub.c
    sid = {name: m.sid for name, m in members.items()}
    assert (await ask(c["alice"], op="watch", sid=sid["bob"]))["error"] == "bob's lab is not shared with you"
    assert (await ask(c["bob"], op="watch", sid=sid["alice"]))["error"] == "alice's lab is not shared with you"
    assert (await ask(c["alice"], op="watch", sid=sid["teacher"]))["error"] == "no such trainee session"
    assert (await ask(c["alice"], op="watch", sid=999))["error"] == "no such trainee session"
    # A teammate's lab is shared; the instructor may watch anyone.
    assert (await ask(c["bob"], op="watch", sid=sid["carol"]))["user"] == "carol"
    assert (await ask(c["teacher"], op="watch", sid=sid["alice"]))["user"] == "alice"
    # alice's lab goes to her watcher, never to the trainee who was refused.
    c["alice"].conn.send({"op": "status", "level": "hairpin", "state": b"alice's world"})
    await ask(c["alice"], op="nothing")  # round trips: whatever the hub sent before has arrived
    await ask(c["bob"], op="nothing")
    await ask(c["teacher"], op="nothing")
    assert [m["state"] for m in c["teacher"].got("watched")] == [b"alice's world"]
    assert all(m["sid"] != sid["alice"] for m in c["bob"].got("watched"))
    assert c["alice"].got("watched") == []


async def test_instructor_requests_from_a_trainee_are_refused(classhub):
    c, record_path, hub = classhub.c, classhub.record, classhub.hub
    requests = [{"op": "push-level", "level": "hairpin"}, {"op": "reset", "to": "all"},
                {"op": "inject", "fault": "drop-route", "to": "all"}, {"op": "broadcast", "text": "hi"},
                {"op": "end"}, {"op": "roster"}]
    for trainee in ("alice", "bob"):
        for request in requests:
            reply = await ask(c[trainee], **request)
            assert reply == {"error": "only an instructor may do that"}, (trainee, request)
    for name in ("alice", "bob", "carol", "teacher"):
        await ask(c[name], op="nothing")
    for name in ("alice", "bob", "carol"):  # nothing reached anyone
        assert {m["op"] for m in c[name].messages} == set(), name
    assert not hub.ended.is_set() and hub.level == ""
    events = await asyncio.to_thread(Path(record_path).read_text)
    for word in ("push-level", "reset", "inject", "broadcast", '"end"'):
        assert word not in events
    # The same request from the instructor does go through.
    assert (await ask(c["teacher"], op="broadcast", text="hi"))["count"] == 3
    await ask(c["alice"], op="nothing")
    assert c["alice"].got("broadcast") == [{"op": "broadcast", "text": "hi", "by": "teacher"}]


async def test_a_token_speaks_for_one_session_only(classhub):
    path, members = classhub.path, classhub.members
    with pytest.raises(ProtocolError, match="unknown or used session token"):
        await asyncio.to_thread(Client, path, "0" * 32)
    with pytest.raises(ProtocolError, match="unknown or used session token"):  # alice is connected already
        await asyncio.to_thread(Client, path, members["alice"].token)
    with pytest.raises(ProtocolError):  # anything before hello
        await asyncio.to_thread(_raw_first_message, path, {"op": "watch", "sid": members["alice"].sid})


def _raw_first_message(path: str, message: dict) -> None:
    from netlab.serve.protocol import pack, unpacker

    with socket.socket(socket.AF_UNIX) as sock:
        sock.connect(path)
        sock.sendall(pack(message))
        feed = unpacker()
        data = sock.recv(65536)
        feed.feed(data)
        for reply in feed:
            raise ProtocolError(reply.get("error", str(reply)))


async def test_a_trainee_cannot_join_or_run_in_another_groups_lab(classhub):
    c, hub = classhub.c, classhub.hub
    assert (await ask(c["alice"], op="join"))["error"] == "you are not in a group"
    assert (await ask(c["alice"], op="run", line="ip route flush all"))["error"] == "join the shared lab first"
    assert "team" not in hub.rooms  # alice's requests built nothing


async def wait_until(predicate, timeout: float = 20.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if predicate():
            return
        await asyncio.sleep(0.05)
    raise TimeoutError("the hub did not get there")


def entries(client: Client) -> list[tuple[int, str, str, list]]:
    return [(e["seq"], e["user"], e["line"], e["edits"]) for e in (m["entry"] for m in client.got("applied"))]


EDIT = "kubectl edit deployment data-product"


async def test_only_the_member_asked_can_answer_a_shared_edit(classhub):
    """`kubectl edit` in a shared lab opens bob's editor through the hub; his answer comes
    back on his socket while his line is still running, and nobody else's answer may stand
    in for it."""
    c, hub = classhub.c, classhub.hub
    assert "snapshot" in await ask(c["bob"], op="join")
    assert "snapshot" in await ask(c["carol"], op="join")
    pending = asyncio.ensure_future(ask(c["bob"], op="run", line=EDIT))
    await wait_until(lambda: c["bob"].got("edit"))
    edit = c["bob"].got("edit")[0]
    assert "replicas: 3" in edit["text"]
    forged = edit["text"].replace("replicas: 3", "replicas: 7")
    for name in ("alice", "carol", "teacher"):
        c[name].conn.send({"op": "edited", "edit": edit["edit"], "text": forged})
        await ask(c[name], op="nothing")  # the hub has read it
    assert not pending.done()
    mine = edit["text"].replace("replicas: 3", "replicas: 1")
    c["bob"].conn.send({"op": "edited", "edit": edit["edit"], "text": mine})
    assert (await asyncio.wait_for(pending, 20))["seq"] == 1
    assert entries(c["bob"]) == [(1, "bob", EDIT, [mine])]
    await ask(c["carol"], op="nothing")
    assert entries(c["carol"]) == [(1, "bob", EDIT, [mine])]  # the teammate's replica replays bob's text
    assert c["alice"].messages == []  # alice saw nothing of team's lab
    from netlab.shell.session import Session

    lab = hub.rooms["team"].world.lab  # the hub's world: bob's 1, not the forged 7
    assert Session(lab).run("kubectl get deploy data-product -o jsonpath={.spec.replicas}").output == "1"


async def test_a_member_who_leaves_mid_edit_does_not_freeze_the_shared_lab(classhub):
    c = classhub.c
    await ask(c["bob"], op="join")
    await ask(c["carol"], op="join")
    asyncio.ensure_future(ask(c["bob"], op="run", line=EDIT))
    await wait_until(lambda: c["bob"].got("edit"))
    c["bob"].conn._sock.shutdown(socket.SHUT_RDWR)  # bob's session is gone with his editor open
    reply = await asyncio.wait_for(ask(c["carol"], op="run", line="hostname"), 10)
    assert reply["seq"] == 2
    await ask(c["carol"], op="nothing")
    assert entries(c["carol"]) == [(1, "bob", EDIT, [None]), (2, "carol", "hostname", [])]


async def test_every_member_gets_the_shared_log_in_order(classhub, monkeypatch):
    """bob's line is applied first, but its thread is slow to hand the result back; carol's
    line, applied second, must not reach anyone before it (a replica out of step breaks)."""
    c = classhub.c
    await ask(c["bob"], op="join")
    await ask(c["carol"], op="join")
    applied = threading.Event()
    original = Hub._apply

    def slow_first(self, room, member, line):
        out = original(self, room, member, line)
        if member.user.name == "bob":
            applied.set()
            threading.Event().wait(0.5)
        return out

    monkeypatch.setattr(Hub, "_apply", slow_first)
    bob = asyncio.ensure_future(ask(c["bob"], op="run", line="ip route add 10.99.0.0/16 dev eth0"))
    await asyncio.to_thread(applied.wait, 10)
    assert (await ask(c["carol"], op="run", line="hostname"))["seq"] == 2
    assert (await bob)["seq"] == 1
    for name in ("bob", "carol"):
        await ask(c[name], op="nothing")
        assert [seq for seq, *_ in entries(c[name])] == [1, 2], name


async def test_a_malformed_request_gets_an_error_and_the_session_goes_on(classhub):
    c = classhub.c
    reply = await ask(c["alice"], op="watch", sid=None)
    assert reply["error"].startswith("bad 'watch' request:")
    assert (await ask(c["alice"], op="roster"))["error"] == "only an instructor may do that"  # still connected
