"""The launcher: a fork server that starts each SSH session's TUI on its own PTY.

It is forked off `netlab serve` before the event loop starts (so it has no threads and
no loop), imports Textual and the engine once, then forks one child per session. A
child starts with everything already imported — its first frame comes sooner — and
shares those pages with its siblings copy-on-write, so thirty sessions cost far less
memory than thirty fresh interpreters.

Protocol on the socketpair (one request at a time): the server sends a msgpack map
{params, rows, cols}; the launcher answers {pid} with the PTY master fd attached
(SCM_RIGHTS). Children are reaped automatically (SIGCHLD ignored): the server sees a
session end as EOF/EIO on the PTY.
"""
from __future__ import annotations

import fcntl
import os
import pty
import signal
import socket
import struct
import termios
import threading

import msgpack

_MAX = 1 << 20


def set_winsize(fd: int, rows: int, cols: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", max(rows, 1), max(cols, 1), 0, 0))


def _preload() -> None:
    """Import what every session needs, once, in the launcher."""
    import textual.app
    import textual.widgets  # noqa: F401

    import netlab.serve.child  # noqa: F401  (imports the TUI, the engine and the shell commands)
    from netlab.shell.registry import load_all

    load_all()


class Launcher:
    """Owned by the server. `spawn()` may be called from any thread."""

    def __init__(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        pid = os.fork()
        if pid == 0:  # the launcher process
            ours.close()
            code = 0
            try:
                _serve(theirs)
            except BaseException:
                code = 1
            os._exit(code)
        theirs.close()
        self.pid = pid
        self._sock = ours
        self._lock = threading.Lock()

    def spawn(self, params: dict, rows: int, cols: int) -> tuple[int, int]:
        """Start a session child; returns (pid, PTY master fd)."""
        with self._lock:
            self._sock.sendall(msgpack.packb({"params": params, "rows": rows, "cols": cols}))
            data, fds, _flags, _addr = socket.recv_fds(self._sock, _MAX, 1)
        if not data or not fds:
            raise OSError("the session launcher has stopped")
        reply = msgpack.unpackb(data)
        if "error" in reply:
            for fd in fds:
                os.close(fd)
            raise OSError(reply["error"])
        return reply["pid"], fds[0]

    def close(self) -> None:
        try:
            self._sock.close()
        finally:
            try:
                os.kill(self.pid, signal.SIGTERM)
                os.waitpid(self.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass


def _serve(sock: socket.socket) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C on `netlab serve` is the server's to handle
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    _preload()
    unpacker = msgpack.Unpacker()
    while True:
        data = sock.recv(_MAX)
        if not data:
            return  # the server is gone
        unpacker.feed(data)
        for request in unpacker:
            try:
                pid, fd = _fork_session(sock, request)
            except OSError as err:
                socket.send_fds(sock, [msgpack.packb({"error": str(err)})], [])
                continue
            socket.send_fds(sock, [msgpack.packb({"pid": pid})], [fd])
            os.close(fd)


def _fork_session(sock: socket.socket, request: dict) -> tuple[int, int]:
    pid, fd = pty.fork()
    if pid == 0:  # the session: stdin/stdout/stderr are the PTY, we lead a new session
        code = 1
        try:
            sock.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            set_winsize(0, request["rows"], request["cols"])
            from netlab.serve.child import run_session

            code = run_session(request["params"])
        except BaseException as err:
            try:
                os.write(2, f"\r\nnetlab: the session could not start: {type(err).__name__}: {err}\r\n".encode())
            except OSError:
                pass
        os._exit(code)
    return pid, fd
