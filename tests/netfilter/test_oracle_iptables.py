"""Kernel oracle: what netlab's iptables-save prints must be accepted by the real
iptables-restore, and the real iptables-save must print it back unchanged."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from netlab.net import netfilter as nf
from netlab.net.netfilter.cli import iptables_restore

REF = Path(__file__).parent / "reference"
NS = f"nlnf-oracle-{os.getpid()}"


def _why_not() -> str | None:
    if os.geteuid() != 0:
        return "needs root to create a network namespace"
    for tool in ("ip", "iptables-restore", "iptables-save"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (apt-get install iptables iproute2)"
    v = subprocess.run(["iptables-save", "--version"], capture_output=True, text=True).stdout
    if "v1.8.9 (nf_tables)" not in v:
        return f"needs iptables v1.8.9 (nf_tables), found {v.strip() or 'another build'}"
    return None


pytestmark = [pytest.mark.oracle, pytest.mark.skipif(_why_not() is not None, reason=_why_not() or "")]


@pytest.fixture
def kernel_ns():
    subprocess.run(["ip", "netns", "add", NS], check=True)
    yield NS
    subprocess.run(["ip", "netns", "del", NS], check=True)


def real_roundtrip(ns: str, text: str) -> str:
    r = subprocess.run(["ip", "netns", "exec", ns, "iptables-restore"], input=text, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    out = subprocess.run(["ip", "netns", "exec", ns, "iptables-save"], capture_output=True, text=True, check=True).stdout
    return out


def body(text: str) -> str:
    return "".join(l for l in text.splitlines(keepends=True) if not l.startswith("#"))


def kube_proxy_scale(host, n: int) -> None:
    sys.path.insert(0, str(Path(__file__).parents[2] / "benchmarks"))
    from bench_netfilter import build

    chains, _ = build(n)
    host.nf.replace_table("nat", chains)
    host.nf.restore((REF / "rules_mixed.rules").read_text().split("*nat")[0])  # filter, plus ...
    host.nf.restore("*raw\n" + (REF / "rules_mixed.rules").read_text().split("*raw\n")[1])


@pytest.mark.parametrize("source", ["rules_mixed.rules", "rules_kube_proxy.rules", "structured"])
def test_real_iptables_accepts_and_prints_back_netlab_save(host, kernel_ns, source):
    if source == "structured":
        kube_proxy_scale(host, 200)
    else:
        assert iptables_restore(host.nf, [], (REF / source).read_text()) == ("", 0)
    ours = host.nf.save()
    assert body(real_roundtrip(kernel_ns, ours)) == body(ours)
