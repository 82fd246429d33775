"""The classroom's local protocol: msgpack maps, one after another, on a Unix socket
between `netlab serve` (the hub) and each session's TUI process.

Every message has an `op`. A request that wants an answer carries an `id`; the answer
is `{"op": "reply", "id": ..., ...}` (or `"error": "one line"`). Everything else is
fire-and-forget. The session's first message is `hello` with its one-time token, which
is how the hub knows who is speaking: a process can act only as the session it was
started for.
"""
from __future__ import annotations

import itertools
import socket
import threading
from collections.abc import Callable

import msgpack

MAX_MESSAGE = 8 << 20  # a save blob of a long session fits; anything bigger is a fault


def pack(message: dict) -> bytes:
    return msgpack.packb(message, use_bin_type=True)


def unpacker() -> msgpack.Unpacker:
    return msgpack.Unpacker(raw=False, max_buffer_size=MAX_MESSAGE)


class ProtocolError(Exception):
    pass


class Connection:
    """The session side: a blocking socket with a reader thread. Messages that are not
    replies go to `on_message` (called on the reader thread); `request()` waits for its
    reply. `on_close` is called once when the hub goes away."""

    def __init__(self, path: str, token: str, on_message: Callable[[dict], None],
                 on_close: Callable[[], None] | None = None) -> None:
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.connect(path)
        self._send_lock = threading.Lock()
        self._ids = itertools.count(1)
        self._waiting: dict[int, tuple[threading.Event, list]] = {}
        self._on_message = on_message
        self._on_close = on_close
        self.closed = False
        self.welcome = self._handshake(token)
        threading.Thread(target=self._read, name="classroom", daemon=True).start()

    def _handshake(self, token: str) -> dict:
        self._sock.sendall(pack({"op": "hello", "token": token}))
        feed = unpacker()
        while True:
            data = self._sock.recv(65536)
            if not data:
                raise ProtocolError("the classroom server closed the connection")
            feed.feed(data)
            for message in feed:
                self._feed = feed  # anything after the welcome stays queued for the reader
                if message.get("op") != "welcome":
                    raise ProtocolError(message.get("error", "the classroom server refused this session"))
                return message

    def send(self, message: dict) -> None:
        if self.closed:
            return
        try:
            with self._send_lock:
                self._sock.sendall(pack(message))
        except OSError:
            self._closed()

    def request(self, message: dict, timeout: float = 30.0) -> dict:
        ident = next(self._ids)
        done = threading.Event()
        slot: list = []
        self._waiting[ident] = (done, slot)
        self.send({**message, "id": ident})
        if not done.wait(timeout) or not slot:
            self._waiting.pop(ident, None)
            raise ProtocolError("the classroom server did not answer")
        reply = slot[0]
        if "error" in reply:
            raise ProtocolError(reply["error"])
        return reply

    def _read(self) -> None:
        feed = self._feed
        try:
            while True:
                for message in feed:
                    if message.get("op") == "reply":
                        waiter = self._waiting.pop(message.get("id"), None)
                        if waiter is not None:
                            waiter[1].append(message)
                            waiter[0].set()
                        continue
                    try:
                        self._on_message(message)
                    except Exception:
                        pass
                data = self._sock.recv(65536)
                if not data:
                    break
                feed.feed(data)
        except (OSError, ValueError):
            pass
        self._closed()

    def _closed(self) -> None:
        if self.closed:
            return
        self.closed = True
        for done, _slot in list(self._waiting.values()):
            done.set()
        try:
            self._sock.close()
        except OSError:
            pass
        if self._on_close is not None:
            self._on_close()

    def close(self) -> None:
        self._closed()
