"""A real `netlab serve` on a free loopback port, with a roster of real keys: the helpers
behind tests/serve/conftest.py's `classroom` fixture and benchmarks/bench_serve.py. (A
module of its own, not conftest: every test folder has a conftest, so `from conftest
import ...` would get whichever was imported first.)"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import asyncssh

from netlab.serve.roster import hash_password

PASSWORD = "workshop-pass"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, tmp, port: int, proc: subprocess.Popen, keys: dict[str, str]) -> None:
        self.tmp = tmp
        self.port = port
        self.proc = proc
        self.keys = keys

    @property
    def log(self) -> str:
        return (self.tmp / "server.log").read_text()


def write_roster(tmp, users: dict[str, dict], groups: dict | None = None) -> dict[str, str]:
    """Key pairs for users with `key: true`; returns {user: private key path}."""
    keys = {}
    lines = [f'password: "{hash_password(PASSWORD)}"', "users:"]
    for name, opts in users.items():
        fields = [f"role: {opts.get('role', 'trainee')}"]
        if opts.get("key"):
            key = asyncssh.generate_private_key("ssh-ed25519")
            path = tmp / f"{name}_key"
            key.write_private_key(str(path))
            key.write_public_key(str(path) + ".pub")
            keys[name] = str(path)
            fields.append(f"keys: {name}_key.pub")
        if opts.get("password") is False:
            fields.append("password: false")
        lines.append(f"  {name}: {{{', '.join(fields)}}}")
    if groups:
        lines.append("groups:")
        lines += [f"  {g}: [{', '.join(m)}]" for g, m in groups.items()]
    (tmp / "roster.yaml").write_text("\n".join(lines) + "\n")
    return keys


def start_server(tmp, *extra: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {**os.environ, "NETLAB_SAVE_DIR": str(tmp / "saves"), "NETLAB_DATA_DIR": str(tmp / "data")}
    log = open(tmp / "server.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "netlab", "serve", "--roster", str(tmp / "roster.yaml"),
                             "--listen", f"127.0.0.1:{port}", "--host-key", str(tmp / "hostkey"),
                             "--record", str(tmp / "record.jsonl"), *extra],
                            stdout=log, stderr=subprocess.STDOUT, env=env, cwd=tmp, start_new_session=True)
    deadline = time.monotonic() + 30
    while "trainees connect with" not in (tmp / "server.log").read_text():
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_server(proc)
            raise RuntimeError(f"netlab serve did not start:\n{(tmp / 'server.log').read_text()}")
        time.sleep(0.1)
    return proc, port


def stop_server(proc: subprocess.Popen) -> None:
    """Stop the server and every process it started (its process group, by its id)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the launcher and any session left behind
    except ProcessLookupError:
        pass
    proc.wait(5)
