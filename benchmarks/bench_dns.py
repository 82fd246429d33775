"""DNS lookups per second: in-process (the pod's stub resolver → kube-proxy → a CoreDNS pod,
every query a packet through the dataplane), through `netlab dns serve`'s real UDP socket
(a dnspython client on 127.0.0.1), and, side by side, dnsmasq serving the same name on
127.0.0.1 where it is installed.

    .venv/bin/python benchmarks/bench_dns.py     (BENCH_SECONDS=1.0 per measurement)

Every loop is bounded by time and count; everything started here is stopped by pid."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

import dns.message
import dns.query

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

SECONDS = float(os.environ.get("BENCH_SECONDS", "1.0"))
MAX_LOOKUPS = 200_000
LAB_FILE = os.path.join(os.path.dirname(HERE), "tests", "dns", "dns_lab.yaml")
NAME, ADDRESS = "web.default.svc.cluster.local", "10.96.0.20"


def rate(fn) -> tuple[float, int]:
    """Calls of fn per second over about SECONDS (at most MAX_LOOKUPS calls)."""
    fn()  # warm: neighbours, conntrack, CoreDNS's cache
    n, start = 0, time.perf_counter()
    while n < MAX_LOOKUPS:
        fn()
        n += 1
        if n % 16 == 0 and time.perf_counter() - start >= SECONDS:
            break
    return n / (time.perf_counter() - start), n


def free_port() -> int:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def udp_client(port: int):
    def ask() -> None:
        resp = dns.query.udp(dns.message.make_query(NAME, "A"), "127.0.0.1", port=port, timeout=2)
        assert resp.answer and resp.answer[0][0].to_text() == ADDRESS, resp
    return ask


def row(label: str, result: tuple[float, int], queries_per_lookup: int = 1) -> None:
    per_sec, n = result
    print(f"  {label:<68} {per_sec:>9,.0f} lookups/s  ({n} lookups, {queries_per_lookup} quer{'y' if queries_per_lookup == 1 else 'ies'} each)")


def main() -> int:
    from netlab.apps.dns.resolver import lookup
    from netlab.apps.dns.server import DnsServer
    from netlab.lab import Lab

    lab = Lab.load(LAB_FILE)
    ns = lab.cluster.pod_ns["default/toolbox"]
    world = lab.world

    def in_process(name: str, use_search: bool):
        def one() -> None:
            result = lookup(ns, name, use_search=use_search, hosts=False)
            assert result.addresses() == [ADDRESS]
            world.take_traces()
        return one

    print(f"DNS lookups per second ({SECONDS:g} s per measurement; CoreDNS's cache is warm)")
    print("in-process, from a pod (resolver.lookup; each query a UDP packet through kube-proxy to CoreDNS):")
    row(f"{NAME}. (FQDN, no search list)", rate(in_process(NAME + ".", False)))
    row(f"{NAME} (search list, ndots:5: 3 NXDOMAIN first)", rate(in_process(NAME, True)), 4)
    row("web (search list: first suffix answers)", rate(in_process("web", True)))

    server = DnsServer(lab, "127.0.0.1", 0, tcp=False)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll": 0.05}, daemon=True)
    thread.start()
    try:
        print("real UDP on 127.0.0.1 (dnspython client, one query at a time):")
        row(f"netlab dns serve :{server.address[1]}  A {NAME}", rate(udp_client(server.address[1])))
    finally:
        server.stop()
        thread.join(5)
        server.close()

    dnsmasq = shutil.which("dnsmasq") or next((p for p in ("/usr/sbin/dnsmasq", "/sbin/dnsmasq") if os.path.exists(p)), None)
    if dnsmasq is None:
        print("  dnsmasq not installed: skipped")
        return 0
    port = free_port()
    proc = subprocess.Popen([dnsmasq, "--keep-in-foreground", "--no-resolv", "--no-hosts", "--no-daemon",
                             f"--port={port}", "--listen-address=127.0.0.1", "--bind-interfaces",
                             "--pid-file=", "--log-facility=/dev/null", f"--address=/{NAME}/{ADDRESS}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        ask = udp_client(port)
        deadline = time.monotonic() + 5
        while True:  # until dnsmasq answers
            try:
                ask()
                break
            except Exception:
                if proc.poll() is not None or time.monotonic() > deadline:
                    print(f"  dnsmasq did not start: {proc.stderr.read().decode(errors='replace').strip() if proc.poll() is not None else 'no answer'}")
                    return 1
                time.sleep(0.05)
        row(f"dnsmasq :{port}  A {NAME}", rate(ask))
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
