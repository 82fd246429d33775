"""Kernel oracle for policy enforcement: the filter rules and ipsets netlab's policy agent
generated are loaded into real iptables/ipset in real network namespaces — one node namespace
with a cni0 bridge, br_netfilter on, and the nine pods of the truth-table lab, each behind a
veth with its netlab IP — and real TCP connects give the truth table. It must equal the table
netlab's own probes give.

Namespaces are named `nlpol<pid>-<n>`, deleted by name in a finalizer; the servers started in
them are killed by pid. Packets only move between these namespaces. The routed (cross-node)
path is not built here: every pod sits on the one node, so this checks the bridged path.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from netlab.shell.policy_matrix import policy_matrix
from tests.policy.netpol_lab import NAMESPACES, PODS, make_lab

pytestmark = pytest.mark.oracle

PREFIX = f"nlpol{os.getpid()}-"
NP = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
POLICIES = NP + """metadata: {name: and-peer, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {ns: y}}
      podSelector: {matchLabels: {pod: b}}
---
""" + NP + """metadata: {name: or-peers, namespace: x}
spec:
  podSelector: {matchLabels: {pod: b}}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {ns: z}}
    - podSelector: {matchLabels: {pod: c}}
    ports: [{port: serve-80-tcp}]
---
""" + NP + """metadata: {name: deny-egress, namespace: y}
spec:
  podSelector: {matchLabels: {pod: c}}
  policyTypes: [Egress]
  egress:
  - to: [{ipBlock: {cidr: 10.244.1.0/24, except: [10.244.1.8/29]}}]
    ports: [{port: 79, endPort: 80}]
---
""" + NP + """metadata: {name: deny-all, namespace: z}
spec: {podSelector: {}}
"""

SERVER = """
import socket, threading
def serve(port):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port)); s.listen(64)
    while True:
        c, _ = s.accept(); c.close()
for p in (80, 81):
    threading.Thread(target=serve, args=(p,), daemon=True).start()
print("ready", flush=True)
threading.Event().wait()
"""
CLIENT = """
import socket, sys
port = int(sys.argv[1])
for ip in sys.argv[2:]:
    s = socket.socket(); s.settimeout(0.3)
    try:
        s.connect((ip, port)); ok = True
    except ConnectionRefusedError:
        ok = True
    except OSError:
        ok = False
    s.close()
    print("." if ok else "X", end="")
print()
"""


def _unavailable() -> str | None:
    if os.geteuid() != 0:
        return "not running as root"
    for tool in ("ip", "iptables-restore", "ipset"):
        if shutil.which(tool) is None:
            return f"`{tool}` not found on PATH"
    if not os.path.exists("/proc/sys/net/bridge/bridge-nf-call-iptables"):
        return "br_netfilter is not loaded (no /proc/sys/net/bridge)"
    r = subprocess.run(["ip", "netns", "add", PREFIX + "probe"], capture_output=True, text=True)
    if r.returncode != 0:
        return f"`ip netns add` failed: {r.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", PREFIX + "probe"], capture_output=True)
    return None


def sh(*args: str, input: str | None = None) -> str:
    r = subprocess.run(list(args), capture_output=True, text=True, input=input, timeout=30)
    if r.returncode != 0:
        raise AssertionError(f"{' '.join(args)}: {r.stderr.strip() or r.stdout.strip()}")
    return r.stdout


@pytest.fixture
def kernel():
    why = _unavailable()
    if why is not None:
        pytest.skip(f"policy kernel oracle needs root, iproute2, iptables, ipset and br_netfilter: {why}")
    made: list[str] = []
    procs: list[subprocess.Popen] = []

    def netns(name: str) -> str:
        full = PREFIX + name
        sh("ip", "netns", "add", full)
        made.append(full)
        return full

    yield netns, procs
    for p in procs:
        p.kill()
        p.wait(timeout=10)
    left = []
    for name in made:
        if subprocess.run(["ip", "netns", "del", name], capture_output=True).returncode != 0:
            left.append(name)
    assert not left, f"namespaces that would not be deleted: {left}"


def test_generated_rules_give_the_same_truth_table_in_the_kernel(kernel):
    netns, procs = kernel
    lab = make_lab(POLICIES, dns=0, single_node=True)
    expected = policy_matrix(lab, port=80)
    assert expected.mismatches() == [], expected.render()

    node = netns("node")
    ex = ("ip", "netns", "exec")
    sh(*ex, node, "sysctl", "-qw", "net.bridge.bridge-nf-call-iptables=1", "net.ipv4.ip_forward=1")
    sh("ip", "-n", node, "link", "add", "cni0", "type", "bridge")
    sh("ip", "-n", node, "addr", "add", "10.244.1.1/24", "dev", "cni0")
    sh("ip", "-n", node, "link", "set", "cni0", "up")
    sh("ip", "-n", node, "link", "set", "lo", "up")
    pods = {}
    for i, pod in enumerate(expected.pods):
        ns = netns(f"p{i}")
        pods[pod.key] = ns
        veth = lab.cluster._host_veth(pod.key)
        sh("ip", "link", "add", "eth0", "netns", ns, "type", "veth", "peer", "name", veth, "netns", node)
        sh("ip", "-n", ns, "addr", "add", f"{_ip(pod.ip)}/24", "dev", "eth0")
        for dev, where in (("eth0", ns), ("lo", ns), (veth, node)):
            sh("ip", "-n", where, "link", "set", dev, "up")
        sh("ip", "-n", node, "link", "set", veth, "master", "cni0")
        sh("ip", "-n", ns, "route", "add", "default", "via", "10.244.1.1")
        p = subprocess.Popen([*ex, ns, sys.executable, "-c", SERVER], stdout=subprocess.PIPE, text=True)
        procs.append(p)
        assert p.stdout.readline().strip() == "ready"
    # The agent's state, exactly as a learner reads it on the node: ipsets, then the filter table.
    sh(*ex, node, "ipset", "restore", input=lab.sh("ipset save", on="n1").output)
    sh(*ex, node, "iptables-restore", input=lab.sh("iptables-save -t filter", on="n1").output)

    observed = {}
    ips = [_ip(p.ip) for p in expected.pods]
    for pod in expected.pods:
        row = sh(*ex, pods[pod.key], sys.executable, "-c", CLIENT, "80", *ips).strip()
        for dst, mark in zip(expected.pods, row):
            observed[(pod.key, dst.key)] = mark == "."
    assert expected.table(observed) == expected.table(), (
        "kernel:\n" + expected.table(observed) + "netlab:\n" + expected.table())
    assert not all(observed.values())  # the policies did block something


def _ip(value: int) -> str:
    from netlab.net.addr import fmt_ip

    return fmt_ip(value)


def test_lab_layout_is_the_truth_table_layout():
    """The oracle's pods are the truth-table pods (pure netlab, runs everywhere)."""
    lab = make_lab(single_node=True)
    keys = sorted(k for k in lab.cluster.pod_ns if k.split("/")[0] in NAMESPACES)
    assert keys == [f"{ns}/{p}" for ns in NAMESPACES for p in PODS]
