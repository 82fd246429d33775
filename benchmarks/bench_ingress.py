"""Ingress requests per second: in-process (curl from `client` through the NodePort to the
controller and on to an echoserver pod, every segment a packet), and through a real local
port (`netlab http serve` started as a subprocess, asked with urllib, stopped by its pid)."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
LAB = os.path.join(HERE, "..", "tests", "ingress", "ingress_lab.yaml")
N = 300


def in_process() -> float:
    sys.path.insert(0, os.path.join(HERE, ".."))
    from netlab.lab import Lab

    lab = Lab.load(LAB)
    start = time.perf_counter()
    for _ in range(N):
        r = lab.sh("curl -s -H 'Host: a.example.com' http://192.168.0.11:30799/abc", on="client")
        assert r.exit_code == 0
        lab.world.take_traces()
    return N / (time.perf_counter() - start)


def real_port() -> float:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "netlab", "http", "serve", "--lab", LAB, "--port", str(port)],
                            stdout=subprocess.PIPE, text=True, cwd=os.path.join(HERE, ".."))
    try:
        proc.stdout.readline()
        req = urllib.request.Request(f"http://127.0.0.1:{port}/abc", headers={"Host": "a.example.com"})
        start = time.perf_counter()
        for _ in range(N):
            with urllib.request.urlopen(req, timeout=10) as resp:
                resp.read()
        return N / (time.perf_counter() - start)
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(10)


if __name__ == "__main__":
    print(f"ingress, in-process curl from client:        {in_process():8.0f} requests/s ({N} requests)")
    print(f"ingress, real port via netlab http serve:    {real_port():8.0f} requests/s ({N} requests)")
