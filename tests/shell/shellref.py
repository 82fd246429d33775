"""Helpers shared by the shell tests: the kernel-reference lab, the captures, and the one
normalisation that lets values differ where they legitimately do (random MACs, veth and
netns names, ifindexes, counters) while every other byte must match."""
from __future__ import annotations

import re
from pathlib import Path

from netlab.lab import Lab

HERE = Path(__file__).parent
REF = HERE.parent / "kernel_reference"
N1, N2 = "192.168.0.21", "192.168.0.22"


def capture(name: str) -> str:
    """A capture's output (without its `$ command` line)."""
    text = (REF / name).read_text()
    return text.split("\n", 1)[1]


def capture_command(name: str) -> str:
    return (REF / name).read_text().split("\n", 1)[0][2:]


def capture_exit(name: str) -> int:
    for line in (REF / "exit_codes.tsv").read_text().splitlines():
        file, code = line.split("\t")
        if file == name:
            return int(code)
    raise KeyError(name)


def error_cases() -> list[tuple[str, str, int]]:
    """errors.txt as (command, output, exit code), in order. Outputs may hold blank lines."""
    cases, cmd, body = [], None, []
    for line in (REF / "errors.txt").read_text().splitlines():
        if cmd is None:
            if line.startswith("$ "):
                cmd, body = line[2:], []
        elif re.fullmatch(r"exit=\d+", line):
            cases.append((cmd, "".join(b + "\n" for b in body), int(line[5:])))
            cmd = None
        else:
            body.append(line)
    return cases


MAC = re.compile(r"\b[0-9a-f]{2}(:[0-9a-f]{2}){5}\b")
LL6 = re.compile(r"fe80::[0-9a-f:]+")
VETH = re.compile(r"veth[0-9a-f]{8}")
NETNS = re.compile(r"(nlref-\w+|cni-[0-9a-f-]{36})")
BRIDGE_ID = re.compile(r"\b[0-9a-f]{1,4}\.[0-9a-f]{1,2}(:[0-9a-f]{1,2}){5}\b")


def normalize(text: str) -> str:
    """Blank out the values netlab may legitimately choose differently from the kernel run."""
    text = BRIDGE_ID.sub("BRIDGE-ID", text)
    text = MAC.sub("MAC", text)
    text = LL6.sub("LL6", text)
    text = VETH.sub("vethX", text)
    text = NETNS.sub("NETNS", text)
    text = re.sub(r"@if\d+", "@ifN", text)
    text = re.sub(r"(?m)^\d+: ", "N: ", text)
    # The captures' addresses were added without `brd`; netlab's come with the broadcast
    # address dockerd, the CNI bridge plugin and DHCP set (pscratch_*brd_plus* shows that form).
    text = re.sub(r" brd (\d+\.){3}\d+(?= scope)", "", text)
    text = re.sub(r"(netmask [\d.]+)  broadcast [\d.]+", r"\1  broadcast BCAST", text)
    return text


def records(text: str) -> dict[str, str]:
    """`ip link` / `ip addr` output split into one record per device, keyed by name."""
    out: dict[str, str] = {}
    current = None
    for line in text.splitlines(keepends=True):
        m = re.match(r"(?:\d+|N): ([^:@ ]+)", line)
        if m:
            current = m.group(1)
            out[current] = ""
        out[current] += line
    return out


def kernel_lab() -> Lab:
    """The capture topology, with traffic like capture.sh sends before it looks (so that
    neighbour tables and bridge FDBs are populated), and the node's default route as
    build.sh added it (proto boot)."""
    lab = Lab.load(str(HERE / "kernel_lab.yaml"))
    lab.sh("ip route replace default via 192.168.0.1 dev eth0 metric 100", on=N1)
    for dst in ("192.168.0.1", "192.168.0.22", "172.30.76.2", "172.30.76.3"):
        lab.sh(f"ping -c 1 -W 1 {dst}", on=N1)
    lab.sh("ping -c 1 -W 1 172.30.9.2", on="p1")
    lab.sh("ping -c 1 -W 1 172.30.9.2", on="p2")
    return lab


def sh(lab: Lab, command: str, on: str = N1):
    return lab.sh(command, on=on)


def out(lab: Lab, command: str, on: str = N1) -> str:
    r = lab.sh(command, on=on)
    assert r.exit_code == 0, f"`{command}` on {on} failed ({r.exit_code}): {r.output}"
    return r.output
