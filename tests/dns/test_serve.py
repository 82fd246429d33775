"""`netlab dns serve`: a real DNS server on 127.0.0.1, asked with dnspython as any client would."""
import os
import signal
import socket
import subprocess
import sys
import threading

import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest
from dnslab import LAB_FILE

from netlab.apps.dns.server import DnsServer


@pytest.fixture(scope="module")
def server():
    from netlab.lab import Lab

    srv = DnsServer(Lab.load(LAB_FILE), "127.0.0.1", 0)
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll": 0.05}, daemon=True)
    thread.start()
    yield srv.address
    srv.stop()
    thread.join(5)
    srv.close()


def ask(address, name, qtype="A", tcp=False):
    q = dns.message.make_query(name, qtype)
    send = dns.query.tcp if tcp else dns.query.udp
    resp = send(q, address[0], port=address[1], timeout=5)
    assert resp.id == q.id  # the real answer carries the client's id
    return resp


def values(resp, rtype="A"):
    return sorted(r.to_text() for rs in resp.answer if dns.rdatatype.to_text(rs.rdtype) == rtype for r in rs)


def test_service_answer_over_udp_and_tcp(server):
    for tcp in (False, True):
        resp = ask(server, "web.default.svc.cluster.local", tcp=tcp)
        assert resp.rcode() == dns.rcode.NOERROR
        assert values(resp) == ["10.96.0.20"]
        assert resp.answer[0].ttl == 5


def test_nxdomain_with_soa(server):
    resp = ask(server, "nope.default.svc.cluster.local")
    assert resp.rcode() == dns.rcode.NXDOMAIN
    assert dns.rdatatype.to_text(resp.authority[0].rdtype) == "SOA"


def test_upstream_name_and_srv(server):
    assert values(ask(server, "example.com")) == ["93.184.215.14"]
    assert values(ask(server, "_http._tcp.web.default.svc.cluster.local", "SRV"), "SRV") == \
        ["0 100 80 web.default.svc.cluster.local."]


def test_garbage_gets_formerr_or_silence(server):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    s.sendto(b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\xff", server)  # truncated question
    data, _ = s.recvfrom(512)
    s.close()
    assert data[:2] == b"\x12\x34" and data[3] & 0x0F == dns.rcode.FORMERR
    assert ask(server, "web.default.svc.cluster.local").rcode() == dns.rcode.NOERROR  # still serving


def _free_port() -> int:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_cli_prints_where_it_listens_and_stops_cleanly_on_sigterm():
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "netlab.cli", "dns", "serve", "--lab", LAB_FILE, "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    try:
        line = proc.stdout.readline()
        assert line.startswith(f"netlab dns: listening on 127.0.0.1:{port} (udp, tcp)")
        assert values(ask(("127.0.0.1", port), "web.default.svc.cluster.local")) == ["10.96.0.20"]
        os.kill(proc.pid, signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 0
    assert "Traceback" not in err and err == ""


def test_cli_port_in_use_is_one_line():
    holder = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    holder.bind(("127.0.0.1", 0))
    port = holder.getsockname()[1]
    try:
        r = subprocess.run([sys.executable, "-m", "netlab.cli", "dns", "serve", "--lab", LAB_FILE, "--port", str(port)],
                           capture_output=True, text=True, timeout=60)
    finally:
        holder.close()
    assert r.returncode == 1
    assert r.stderr == f"netlab dns serve: cannot listen on 127.0.0.1:{port}: Address already in use\n"
