"""An SSH client with a terminal emulator: what a trainee's terminal would show.

Connects with asyncssh, asks for a PTY, feeds every byte into a pyte screen, and lets a
test type, resize and wait for text to appear. Used by the end-to-end tests and by
benchmarks/bench_serve.py.
"""
from __future__ import annotations

import asyncio
import time

import asyncssh
import pyte


class Terminal(asyncssh.SSHClientSession):
    def __init__(self, cols: int, rows: int) -> None:
        self.screen = pyte.Screen(cols, rows)
        self.stream = pyte.ByteStream(self.screen)
        self.changed = asyncio.Event()
        self.closed = asyncio.Event()
        self.received = 0
        self.last_data = time.monotonic()

    def data_received(self, data: bytes, datatype) -> None:
        self.stream.feed(data)
        self.received += len(data)
        self.last_data = time.monotonic()
        self.changed.set()

    def connection_lost(self, exc) -> None:
        self.closed.set()
        self.changed.set()

    def text(self) -> str:
        return "\n".join(self.screen.display)


class Trainee:
    """One connected terminal. `await Trainee.connect(port, user, key=... | password=...)`."""

    def __init__(self, conn, chan, term: Terminal) -> None:
        self.conn = conn
        self.chan = chan
        self.term = term

    @classmethod
    async def connect(cls, port: int, user: str, *, key: str | None = None, password: str | None = None,
                      cols: int = 100, rows: int = 30) -> Trainee:
        conn = await asyncssh.connect("127.0.0.1", port, username=user, known_hosts=None,
                                      client_keys=[key] if key else None, password=password,
                                      preferred_auth="publickey" if key else "password", agent_path=None)
        chan, term = await conn.create_session(lambda: Terminal(cols, rows), term_type="xterm-256color",
                                               term_size=(cols, rows), encoding=None)
        return cls(conn, chan, term)

    @property
    def text(self) -> str:
        return self.term.text()

    async def wait_for(self, needle: str, timeout: float = 20.0) -> str:
        """Wait until `needle` is on screen; returns the screen. TimeoutError shows it."""
        deadline = time.monotonic() + timeout
        while needle not in self.text:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.term.closed.is_set() and needle not in self.text:
                raise TimeoutError(f"{needle!r} not on screen after {timeout} s:\n{self.text}")
            self.term.changed.clear()
            try:
                await asyncio.wait_for(self.term.changed.wait(), min(remaining, 0.5))
            except TimeoutError:
                pass
        return self.text

    async def settle(self, quiet: float = 0.3, timeout: float = 10.0) -> None:
        """Wait until the screen has not changed for `quiet` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and time.monotonic() - self.term.last_data < quiet:
            await asyncio.sleep(0.05)

    def type(self, text: str) -> None:
        self.chan.write(text.encode())

    def press(self, key: str) -> None:
        self.chan.write(KEYS[key])

    def resize(self, cols: int, rows: int) -> None:
        self.term.screen.resize(rows, cols)
        self.chan.change_terminal_size(cols, rows)

    async def closed(self, timeout: float = 10.0) -> int | None:
        await asyncio.wait_for(self.term.closed.wait(), timeout)
        return self.chan.get_exit_status()

    async def close(self) -> None:
        self.conn.close()
        try:
            await asyncio.wait_for(self.conn.wait_closed(), 5)
        except TimeoutError:
            pass


KEYS = {
    "enter": b"\r", "escape": b"\x1b", "tab": b"\t", "ctrl+q": b"\x11", "ctrl+p": b"\x10",
    "down": b"\x1b[B", "up": b"\x1b[A", "f2": b"\x1bOQ", "f3": b"\x1bOR", "f4": b"\x1bOS",
}
