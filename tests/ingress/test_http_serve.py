"""`netlab http serve`: a real HTTP server on 127.0.0.1, asked with urllib as any client would."""
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from ingresslab import LAB_FILE


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port, path, host=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Host": host} if host else {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read().decode()


@pytest.fixture(scope="module")
def served():
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "netlab", "http", "serve", "--lab", LAB_FILE, "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = proc.stdout.readline()
    yield port, first, proc
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(10)


def test_one_line_on_start(served):
    port, first, _ = served
    assert first.startswith(f"netlab http: listening on http://127.0.0.1:{port}/")
    assert "30799" in first


def test_real_request_reaches_a_simulated_pod(served):
    port, _, _ = served
    status, headers, body = get(port, "/abc", "a.example.com")
    assert status == 200 and "Hostname: web-" in body
    assert "x-forwarded-host=a.example.com" in body and "real path=/abc" in body
    assert int(headers["Content-Length"]) == len(body.encode())
    status, _, body = get(port, "/api/users?id=1", "a.example.com")
    assert status == 200 and "Hostname: api-" in body and "query=id=1" in body


def test_lab_errors_come_back_as_their_status(served):
    port, _, _ = served
    assert get(port, "/", "nobody.example.com")[0] == 404
    assert get(port, "/down", "a.example.com")[0] == 503


def test_sigterm_stops_cleanly():
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "netlab", "http", "serve", "--lab", LAB_FILE, "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    proc.stdout.readline()
    os.kill(proc.pid, signal.SIGTERM)
    assert proc.wait(10) == 0
    assert "Traceback" not in proc.stderr.read()


def test_no_ingress_is_one_line(tmp_path):
    lab = tmp_path / "plain.yaml"
    text = open(LAB_FILE).read().replace("  ingress: {controller: nginx, service: NodePort, nodePorts: {http: 30799, https: 31522}}\n", "")
    lab.write_text(text)
    proc = subprocess.run([sys.executable, "-m", "netlab", "http", "serve", "--lab", str(lab), "--port", str(free_port())],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert proc.stderr.strip().startswith("netlab http serve: this lab has no ingress controller")
    assert "Traceback" not in proc.stderr


def test_port_in_use_is_one_line():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        proc = subprocess.run([sys.executable, "-m", "netlab", "http", "serve", "--lab", LAB_FILE, "--port", str(port)],
                              capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and "cannot listen on 127.0.0.1" in proc.stderr and "Traceback" not in proc.stderr
