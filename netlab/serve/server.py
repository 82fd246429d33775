"""`netlab serve`: the SSH server of a classroom.

Every SSH session gets the netlab TUI in a process of its own on a PTY of its own
(netlab.serve.launcher), bridged byte for byte to the SSH channel: a trainee's crash or
slow command touches nobody else. Authentication comes from the roster; anything but a
shell with a PTY (exec, subsystems such as sftp, port, agent and X11 forwarding) is
refused.
"""
from __future__ import annotations

import asyncio
import errno
import os
import signal
import tempfile
import time
from collections import defaultdict, deque

import asyncssh

from netlab.serve.hub import Hub, Member
from netlab.serve.launcher import Launcher, set_winsize
from netlab.serve.limits import Limits
from netlab.serve.roster import Roster

LOGIN_WINDOW = 60.0


class Classroom:
    """The server's state: roster, limits, hub, launcher, the login rate limiter."""

    def __init__(self, roster: Roster, limits: Limits, hub: Hub, launcher: Launcher, socket_path: str,
                 save_root: str) -> None:
        self.roster = roster
        self.limits = limits
        self.hub = hub
        self.launcher = launcher
        self.socket_path = socket_path
        self.save_root = save_root
        self.failures: dict[str, deque] = defaultdict(deque)
        self.sessions: set[TraineeSession] = set()

    def login_blocked(self, peer: str) -> bool:
        window = self.failures[peer]
        now = time.monotonic()
        while window and now - window[0] > LOGIN_WINDOW:
            window.popleft()
        return len(window) >= self.limits.login_attempts

    def login_failed(self, peer: str) -> None:
        self.failures[peer].append(time.monotonic())


class SSHServer(asyncssh.SSHServer):
    def __init__(self, room: Classroom) -> None:
        self.room = room
        self.conn: asyncssh.SSHServerConnection | None = None
        self.peer = "?"
        self.user = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.conn = conn
        self.peer = (conn.get_extra_info("peername") or ("?",))[0]

    def begin_auth(self, username: str) -> bool:
        if self.room.login_blocked(self.peer):
            # Too many failures from this address: drop the connection, answer nothing.
            self.conn.close()
        return True  # every login needs authentication

    def password_auth_supported(self) -> bool:
        return bool(self.room.roster.password_hash)

    async def validate_password(self, username: str, password: str) -> bool:
        if self.room.login_blocked(self.peer):
            return False
        ok = await asyncio.to_thread(self.room.roster.check_password, username, password)
        if not ok:
            self.room.login_failed(self.peer)
        return ok

    def public_key_auth_supported(self) -> bool:
        return True

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        # A key that is not on the roster is not counted as a failed login: an SSH client
        # offers every key it holds before it asks for the password (a trainee with two keys
        # would use up the address's attempts by connecting twice), and a key cannot be guessed.
        if self.room.login_blocked(self.peer):
            return False
        return self.room.roster.key_allowed(username, key, self.peer)

    def auth_completed(self) -> None:
        self.user = self.room.roster.get(self.conn.get_extra_info("username"))

    # Everything that is not a terminal session is refused.
    def connection_requested(self, *args):  # direct-tcpip (ssh -L)
        return False

    def server_requested(self, *args):  # tcpip-forward (ssh -R)
        return False

    def unix_connection_requested(self, *args):
        return False

    def unix_server_requested(self, *args):
        return False

    def session_requested(self):
        if self.user is None:
            return False
        return TraineeSession(self.room, self.user, self.peer)


class TraineeSession(asyncssh.SSHServerSession):
    """One SSH channel ⇄ one TUI process on a PTY."""

    def __init__(self, room: Classroom, user, peer: str) -> None:
        self.room = room
        self.user = user
        self.peer = peer
        self.chan = None
        self.term = "xterm-256color"
        self.size = (80, 24)
        self.has_pty = False
        self.pid: int | None = None
        self.fd: int | None = None
        self.member: Member | None = None
        self.last_input = time.monotonic()
        self._idle_task: asyncio.Task | None = None
        self._pending = bytearray()  # input the PTY could not take yet
        self._closed = False

    def connection_made(self, chan) -> None:
        self.chan = chan

    def pty_requested(self, term_type: str, term_size, term_modes) -> bool:
        self.has_pty = True
        self.term = term_type or self.term
        if term_size and term_size[0] and term_size[1]:
            self.size = (term_size[0], term_size[1])
        return True

    def exec_requested(self, command: str) -> bool:
        return False  # no arbitrary commands: netlab is all there is

    def subsystem_requested(self, subsystem: str) -> bool:
        return False  # no sftp, no anything

    def shell_requested(self) -> bool:
        return True

    def session_started(self) -> None:
        problem = self._admission()
        if problem:
            self.chan.write(f"netlab: {problem}\r\n".encode())
            self.chan.exit(1)
            return
        hub = self.room.hub
        self.member = hub.register(self.user, self.peer, dashboard=self.user.instructor)
        params = {
            "socket": self.room.socket_path, "token": self.member.token, "user": self.user.name,
            "role": self.user.role, "term": self.term, "limits": self.room.limits.pack(),
            "save_dir": os.path.join(self.room.save_root, self.user.name), "level": hub.level,
        }
        try:
            self.pid, self.fd = self.room.launcher.spawn(params, self.size[1], self.size[0])
        except OSError as err:
            self.chan.write(f"netlab: cannot start a session: {err}\r\n".encode())
            self._finish(1)
            return
        os.set_blocking(self.fd, False)
        loop = asyncio.get_running_loop()
        loop.add_reader(self.fd, self._from_pty)
        self.room.sessions.add(self)
        if not self.user.instructor:  # a dashboard is watched, not typed into: it never idles out
            self._idle_task = loop.create_task(self._idle_watch())

    def _admission(self) -> str | None:
        if not self.has_pty:
            return "this is an interactive lab: connect with a terminal (ssh -t)"
        limits = self.room.limits
        if len(self.room.sessions) >= limits.max_sessions:
            return f"the classroom is full ({_sessions(limits.max_sessions)}); try again later"
        if self.room.hub.sessions_of(self.user.name) >= limits.sessions_per_user:
            return f"{self.user.name} already has {_sessions(limits.sessions_per_user)} open"
        return None

    # -- bytes both ways -------------------------------------------------------
    def _from_pty(self) -> None:
        try:
            data = os.read(self.fd, 65536)
        except OSError as err:
            if err.errno == errno.EAGAIN:
                return
            data = b""  # EIO: the TUI has exited and closed its side
        if not data:
            self._finish(0)
            return
        self.chan.write(data)

    def data_received(self, data: bytes, datatype) -> None:
        self.last_input = time.monotonic()
        if self.member is not None:
            self.room.hub.touch(self.member)
        if self.fd is None:
            return
        self._pending += data
        self._flush_input()

    def _flush_input(self) -> None:
        while self._pending and self.fd is not None:
            try:
                written = os.write(self.fd, self._pending)
            except OSError as err:
                if err.errno == errno.EAGAIN:  # the TUI is busy: retry when the PTY drains
                    asyncio.get_running_loop().call_later(0.02, self._flush_input)
                return
            del self._pending[:written]

    def pause_writing(self) -> None:  # the client reads slowly: stop reading the TUI's output
        if self.fd is not None:
            asyncio.get_running_loop().remove_reader(self.fd)

    def resume_writing(self) -> None:
        if self.fd is not None and not self._closed:
            asyncio.get_running_loop().add_reader(self.fd, self._from_pty)

    def terminal_size_changed(self, width: int, height: int, pixwidth: int, pixheight: int) -> None:
        self.size = (width, height)
        if self.fd is not None:
            set_winsize(self.fd, height, width)  # the kernel sends the TUI SIGWINCH

    def break_received(self, msec: int) -> bool:
        return False

    def eof_received(self) -> bool:
        self._finish(0)
        return False

    def connection_lost(self, exc) -> None:
        self._finish(0, channel_open=False)

    async def _idle_watch(self) -> None:
        timeout = self.room.limits.idle_timeout
        while not self._closed:
            await asyncio.sleep(min(timeout, 5.0))
            if time.monotonic() - self.last_input > timeout:
                self.chan.write(f"\r\nnetlab: closed after {int(timeout)} s without input\r\n".encode())
                self._finish(0)
                return

    def _finish(self, code: int, *, channel_open: bool = True) -> None:
        if self._closed:
            return
        self._closed = True
        if self.fd is not None:
            try:
                asyncio.get_running_loop().remove_reader(self.fd)
            except RuntimeError:
                pass
            os.close(self.fd)  # the TUI's terminal hangs up: it gets SIGHUP
            self.fd = None
        if self.pid is not None:
            try:
                os.kill(self.pid, signal.SIGHUP)
            except ProcessLookupError:
                pass
        if self._idle_task is not None:
            self._idle_task.cancel()
        self.room.sessions.discard(self)
        if self.member is not None:
            self.room.hub.unregister(self.member)
        if channel_open:
            try:
                self.chan.exit(code)
            except (OSError, asyncssh.Error):
                pass


def _sessions(n: int) -> str:
    return f"{n} session" if n == 1 else f"{n} sessions"


def load_host_key(path: str) -> tuple[asyncssh.SSHKey, bool]:
    """The server's host key from `path`, generated (ed25519, mode 0600) if missing.
    Returns (key, created)."""
    if os.path.exists(path):
        return asyncssh.read_private_key(path), False
    key = asyncssh.generate_private_key("ssh-ed25519")
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".hostkey-")
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, key.export_private_key())
        os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    return key, True


async def start(room: Classroom, host: str, port: int, host_key) -> asyncssh.SSHAcceptor:
    return await asyncssh.create_server(
        lambda: SSHServer(room), host, port, server_host_keys=[host_key], encoding=None,
        x11_forwarding=False, agent_forwarding=False, allow_scp=False, sftp_factory=None,
        login_timeout=60, keepalive_interval=30)
