"""The kernel side of the oracle: rebuild a netlab world in real network namespaces.

`KernelWorld.build(lab.world)` walks netlab's Dataplane and reproduces it with
iproute2 (`ip`, `bridge`) and `sysctl`, one real namespace per netlab namespace:
same device names, MACs, MTUs, addresses, routes, PERMANENT neighbours, VXLAN FDB
entries and ip_forward. Routes of proto "kernel" are not copied: the real kernel
makes those itself (and the tests compare them with netlab's).

An underlay Segment (a switch with no namespace in netlab) becomes a bridge `br0`
in a switch namespace of its own, with one veth per NIC cabled to it; the host end
of that veth takes the NIC's name and MAC.

Every real namespace is named `<prefix><short id>` with a prefix unique to this
test run (`nlo<pid>-`), and `cleanup()` deletes each of them by name. Nothing here
touches the host's own interfaces: every device is created inside a namespace of
ours, and packets only move between our namespaces.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from functools import lru_cache

from netlab.net import neigh as N
from netlab.net.addr import fmt_ip
from netlab.net.device import Bridge, Dummy, Loopback, Nic, Veth
from netlab.net.fib import RT_TABLE_DEFAULT, RT_TABLE_LOCAL, RT_TABLE_MAIN, SCOPE_NAMES, UNICAST, TABLE_NAMES
from netlab.net.vxlan import Vxlan

RUN_PREFIX = f"nlo{os.getpid()}-"

# Sysctls netlab keeps that the real namespace must share before any device exists
# (per-device conf copies `default` when the device is registered).
PRE_SYSCTLS = (
    "net.bridge.bridge-nf-call-iptables",  # br_netfilter: per namespace, 1 by default
    "net.ipv4.conf.all.rp_filter",
    "net.ipv4.conf.default.rp_filter",
    "net.ipv4.conf.all.arp_ignore",
    "net.ipv4.conf.all.proxy_arp",
    "net.ipv4.icmp_echo_ignore_all",
    "net.ipv4.icmp_echo_ignore_broadcasts",
    "net.ipv4.ip_default_ttl",
)
# Set last, as an agent would once the node is wired.
POST_SYSCTLS = ("net.ipv4.ip_forward",)
# IPv6 would add link-local addresses, DAD and router solicitations: noise for an IPv4 model.
NO_IPV6 = ("net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1")


# Run in a child process: setns(2) into each namespace and write its /proc/sys (which follows
# the writer's network namespace). Keys this kernel lacks are skipped, as `sysctl -e` does.
_SYSCTL_HELPER = """
import ctypes, json, os, sys
libc = ctypes.CDLL(None, use_errno=True)
for path, items in json.load(sys.stdin):
    fd = os.open(path, os.O_RDONLY)
    if libc.setns(fd, 0x40000000) != 0:
        raise OSError(ctypes.get_errno(), "setns " + path)
    os.close(fd)
    for key, value in items:
        proc = "/proc/sys/" + key.replace(".", "/")
        if os.path.exists(proc):
            with open(proc, "w") as fh:
                fh.write(value)
"""


class BuildError(RuntimeError):
    pass


PING_WAIT = ["1"]  # ping -W: what this ping accepts, set by unavailable_reason()


@lru_cache(maxsize=1)
def unavailable_reason() -> str | None:
    """None when real namespaces can be built here, else why not (one line)."""
    if os.name != "posix" or not hasattr(os, "geteuid"):
        return "not a Linux host"
    if os.geteuid() != 0:
        return "not running as root"
    for tool in ("ip", "bridge", "sysctl", "ping", "iptables-restore"):
        if shutil.which(tool) is None:
            return f"`{tool}` not found on PATH"
    probe = f"{RUN_PREFIX}probe"
    try:
        r = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError) as err:
        return f"`ip netns add` failed: {err}"
    if r.returncode != 0:
        return f"`ip netns add` failed: {(r.stderr or r.stdout).strip()}"
    try:
        for cmd in (["ip", "-n", probe, "link", "add", "v0", "type", "veth", "peer", "name", "v1"],
                    ["ip", "-n", probe, "link", "add", "b0", "type", "bridge"],
                    ["ip", "-n", probe, "link", "add", "x0", "type", "vxlan", "id", "1", "dstport", "8472"]):
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
            if r.returncode != 0:
                return f"`{' '.join(cmd[3:])}` failed: {(r.stderr or r.stdout).strip()}"
        # iputils >= 20210202 takes a fractional -W: unanswered pings then cost 0.4 s, not 1 s.
        subprocess.run(["ip", "-n", probe, "link", "set", "lo", "up"], capture_output=True, timeout=10)
        r = subprocess.run(["ip", "netns", "exec", probe, "ping", "-n", "-c", "1", "-W", "0.4", "127.0.0.1"],
                           capture_output=True, text=True, timeout=10)
        PING_WAIT[0] = "0.4" if r.returncode == 0 else "1"
    finally:
        subprocess.run(["ip", "netns", "del", probe], capture_output=True, timeout=10)
    return None


def sweep_stale() -> list[str]:
    """Delete, by name, the namespaces of earlier oracle runs whose process is gone (a run
    killed before its finalizers ran). Only `nlo<pid>-...` names with a dead pid qualify."""
    swept = []
    try:
        names = os.listdir("/run/netns")
    except OSError:
        return swept
    for name in names:
        m = re.fullmatch(r"nlo(\d+)-[\w.-]+", name)
        if m is None or int(m.group(1)) == os.getpid() or os.path.exists(f"/proc/{m.group(1)}"):
            continue
        if subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=20).returncode == 0:
            swept.append(name)
    return swept


@dataclass
class PingResult:
    exit_code: int
    ttl: int | None = None  # of the echo reply
    reply_from: str | None = None
    error: str | None = None  # "From A icmp_seq=1 Text" → "A Text"
    output: str = ""


def parse_ping(output: str, exit_code: int) -> PingResult:
    res = PingResult(exit_code, output=output)
    for line in output.splitlines():
        if " bytes from " in line and "ttl=" in line:
            res.reply_from = line.split(" bytes from ", 1)[1].split(":", 1)[0].split(" ")[0]
            res.ttl = int(line.split("ttl=", 1)[1].split()[0])
            break
        if line.startswith("From "):
            parts = line.split()
            text = " ".join(p for p in parts[2:] if not p.startswith("icmp_seq="))
            res.error = f"{parts[1]} {text}"
            break
        if line.startswith(("ping: local error:", "ping: connect:", "ping: sendmsg:")):
            res.error = line.strip()
            break
    return res


@dataclass(frozen=True)
class RouteAnswer:
    """What `ip route get` (or netlab's route_output) says, reduced to what both can say."""
    type: str  # unicast, local, broadcast, ... or "error"
    dev: str | None = None
    via: str | None = None
    src: str | None = None
    error: str | None = None  # errno text, e.g. "Network is unreachable"

    def __str__(self) -> str:
        if self.type == "error":
            return f"error: {self.error}"
        parts = [self.type] if self.type != UNICAST else []
        if self.via:
            parts.append(f"via {self.via}")
        parts += [f"dev {self.dev}", f"src {self.src}"]
        return " ".join(parts)


@dataclass
class KernelWorld:
    prefix: str = RUN_PREFIX
    names: dict[str, str] = field(default_factory=dict)  # netlab namespace name -> real name
    switches: dict[str, str] = field(default_factory=dict)  # segment name -> real switch namespace
    created: list[str] = field(default_factory=list)  # real namespaces, in creation order
    log: list[str] = field(default_factory=list)  # every command run, for failure messages
    _counter: int = 0

    # -- running commands ----------------------------------------------------
    def run(self, *argv: str, check: bool = True, timeout: float = 20) -> subprocess.CompletedProcess:
        self.log.append(" ".join(argv))
        r = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise BuildError(f"`{' '.join(argv)}` failed ({r.returncode}): {(r.stderr or r.stdout).strip()}")
        return r

    def ip(self, ns: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """`ip -n REAL ...` for a netlab namespace name."""
        return self.run("ip", "-n", self.names[ns], *args, check=check)

    def bridge(self, ns: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return self.run("bridge", "-n", self.names[ns], *args, check=check)

    def sysctl(self, ns: str, *assignments: str, check: bool = True) -> subprocess.CompletedProcess:
        # -e: a key this kernel lacks (net.bridge.* without br_netfilter) is skipped, not fatal
        return self.run("ip", "netns", "exec", self.names[ns], "sysctl", "-e", "-q", "-w", *assignments, check=check)

    def sysctls(self, assignments: dict[str, list[str]]) -> None:
        """Many namespaces' `key=value` sysctls with one helper process (setns into each in
        turn and write /proc/sys), instead of one `ip netns exec sysctl` per namespace."""
        jobs = [(f"/run/netns/{self.names[ns]}", [a.split("=", 1) for a in items])
                for ns, items in assignments.items() if items]
        if not jobs:
            return
        self.log.append(f"sysctl helper: {jobs}")
        r = subprocess.run([sys.executable, "-c", _SYSCTL_HELPER], input=json.dumps(jobs), capture_output=True,
                           text=True, timeout=60)
        if r.returncode != 0:  # fall back to the plain way
            for ns, items in assignments.items():
                if items:
                    self.sysctl(ns, *items)

    def exec_argv(self, ns: str, *argv: str) -> list[str]:
        return ["ip", "netns", "exec", self.names[ns], *argv]

    def batch(self, tool: str, ns: str, lines: list[list[str]], *, force: bool = False, json_out: bool = False,
              check: bool = True) -> subprocess.CompletedProcess:
        """Run many `ip`/`bridge` commands in one namespace with one process (`-batch -`)."""
        argv = [tool, "-n", self.names[ns]] + (["-j"] if json_out else []) + (["-force"] if force else []) + ["-batch", "-"]
        text = "".join(" ".join(line) + "\n" for line in lines)
        self.log.append(" ".join(argv) + " <<EOF\n" + text + "EOF")
        r = subprocess.run(argv, input=text, capture_output=True, text=True, timeout=60)
        if check and r.returncode != 0:
            raise BuildError(f"`{' '.join(argv)}` failed: {(r.stderr or r.stdout).strip()}\nbatch was:\n{text}")
        return r

    def _flush(self, phase: list[tuple[str, str, list[str]]]) -> None:
        """Run one build phase: commands grouped per (tool, namespace), in order. Commands of one
        phase never depend on another namespace's commands of the same phase."""
        groups: dict[tuple[str, str], list[list[str]]] = {}
        for tool, ns, args in phase:
            groups.setdefault((tool, ns), []).append(args)
        for (tool, ns), lines in groups.items():
            self.batch(tool, ns, lines)
        phase.clear()

    def _new_namespaces(self, keys: list[tuple[str, str]]) -> None:
        reals = []
        for key, short in keys:
            real = f"{self.prefix}{short}"
            self.names[key] = real
            reals.append(real)
        text = "".join(f"netns add {real}\n" for real in reals)
        self.log.append("ip -batch - <<EOF\n" + text + "EOF")
        r = subprocess.run(["ip", "-batch", "-"], input=text, capture_output=True, text=True, timeout=60)
        self.created += [real for real in reals if os.path.exists(f"/run/netns/{real}")]
        if r.returncode != 0:
            raise BuildError(f"`ip netns add` failed: {(r.stderr or r.stdout).strip()}")

    def cleanup(self) -> list[str]:
        """Delete every namespace this world created, by name. Returns those that would not go."""
        left = []
        for real in reversed(self.created):
            r = subprocess.run(["ip", "netns", "del", real], capture_output=True, text=True, timeout=20)
            if r.returncode != 0 and os.path.exists(f"/run/netns/{real}"):
                left.append(real)
        self.created = [n for n in self.created if n in left]
        return left

    # -- building ------------------------------------------------------------
    def build(self, world) -> "KernelWorld":
        namespaces = list(world.namespaces.values())
        counts = {"router": 0, "node": 0, "host": 0, "pod": 0, "client": 0}
        short_kind = {"router": "r", "node": "n", "host": "h", "pod": "p", "client": "c"}
        keys = []
        for ns in namespaces:
            kind = ns.kind if ns.kind in counts else "host"
            keys.append((ns.name, f"{short_kind[kind]}{counts[kind]}"))
            counts[kind] += 1
        for i, seg in enumerate(world.segments.values()):
            self.switches[seg.name] = f"switch:{seg.name}"
            keys.append((self.switches[seg.name], f"s{i}"))
        if any(isinstance(d, Dummy) for ns in namespaces for d in ns.devices.values()):
            keys.append(("sink", "x"))
        self._new_namespaces(keys)
        pre_sysctls = {}
        for key, _ in keys:
            pre = list(NO_IPV6)
            ns = world.namespaces.get(key)
            if ns is not None:
                pre += [f"{k}={ns.sysctl[k]}" for k in PRE_SYSCTLS if k in ns.sysctl]
            pre_sysctls[key] = pre
        self.sysctls(pre_sysctls)

        phase: list[tuple[str, str, list[str]]] = []

        def ip(ns: str, *args: str) -> None:
            phase.append(("ip", ns, list(args)))

        def bridge(ns: str, *args: str) -> None:
            phase.append(("bridge", ns, list(args)))

        # Links: everything but VXLAN (which needs its lower device), then VXLAN. Each device
        # keeps netlab's ifindex; switch-side ports take 1000+. (A veth whose index equals its
        # peer's gets its carrier through the slow, batched linkwatch path: about a second.)
        for key, _ in keys:
            ip(key, "link", "set", "lo", "up")
        for key in self.switches.values():
            ip(key, "link", "add", "br0", "type", "bridge", "stp_state", "0")
            ip(key, "link", "set", "br0", "up")
        done: set[int] = set()
        ports = 0
        for ns in namespaces:
            for dev in sorted(ns.devices.values(), key=lambda d: d.ifindex):
                if isinstance(dev, (Loopback, Vxlan)) or id(dev) in done:
                    continue
                done.add(id(dev))
                if isinstance(dev, Nic):
                    if dev.segment is None:
                        raise BuildError(f"{ns.name}/{dev.name}: a NIC on no segment is not modelled here")
                    sw = self.switches[dev.segment.name]
                    port = f"sp{ports}"
                    ports += 1
                    ip(sw, "link", "add", port, "index", str(1000 + ports), "mtu", str(dev.mtu), "type", "veth",
                       "peer", "name", dev.name, "index", str(dev.ifindex), "address", dev.mac, "mtu", str(dev.mtu),
                       "netns", self.names[ns.name])
                    ip(sw, "link", "set", port, "master", "br0", "up")
                elif isinstance(dev, Veth):
                    peer = dev.peer
                    if peer is None or peer.ns is None:
                        raise BuildError(f"{ns.name}/{dev.name}: a veth without a peer cannot exist in Linux")
                    done.add(id(peer))
                    ip(ns.name, "link", "add", dev.name, "index", str(dev.ifindex), "address", dev.mac, "mtu", str(dev.mtu),
                       "type", "veth", "peer", "name", peer.name, "index", str(peer.ifindex), "address", peer.mac,
                       "mtu", str(peer.mtu), "netns", self.names[peer.ns.name])
                elif isinstance(dev, Bridge):
                    ip(ns.name, "link", "add", dev.name, "index", str(dev.ifindex), "address", dev.mac, "type", "bridge",
                       "stp_state", "0",
                       "ageing_time", str(int(dev.ageing_time * 100)))
                    ip(ns.name, "link", "set", dev.name, "mtu", str(dev.mtu))  # user-set: no auto-adjust
                elif isinstance(dev, Dummy):
                    # No `dummy` link type here: a veth whose peer sits up in a sink namespace has
                    # carrier like a dummy; NOARP like a dummy.
                    sink_end = f"d{ports}"
                    ports += 1
                    ip(ns.name, "link", "add", dev.name, "index", str(dev.ifindex), "address", dev.mac, "mtu", str(dev.mtu),
                       "type", "veth", "peer", "name", sink_end, "index", str(1000 + ports), "netns", self.names["sink"])
                    ip(ns.name, "link", "set", dev.name, "arp", "off")
                    ip("sink", "link", "set", sink_end, "up")
                else:
                    raise BuildError(f"{ns.name}/{dev.name}: device kind {dev.kind} is not modelled here")
        self._flush(phase)
        for ns in namespaces:
            for dev in ns.devices.values():
                if isinstance(dev, Vxlan):
                    args = ["link", "add", dev.name, "index", str(dev.ifindex), "address", dev.mac, "mtu", str(dev.mtu),
                            "type", "vxlan",
                            "id", str(dev.vni), "dstport", str(dev.dstport)]
                    if dev.local is not None:
                        args += ["local", fmt_ip(dev.local)]
                    if dev.lower is not None:
                        args += ["dev", dev.lower.name]
                    args.append("learning" if dev.vxlan_learning else "nolearning")
                    args += [flag for flag, on in (("proxy", dev.proxy), ("l2miss", dev.l2miss), ("l3miss", dev.l3miss)) if on]
                    if dev.ttl:
                        args += ["ttl", str(dev.ttl)]
                    ip(ns.name, *args)
        self._flush(phase)

        # Bridge ports, addresses (in netlab's order: it decides primary vs secondary), links up.
        for ns in namespaces:
            devs = sorted(ns.devices.values(), key=lambda d: d.ifindex)
            for dev in devs:
                if isinstance(dev, Bridge):
                    for port in dev.ports:
                        ip(ns.name, "link", "set", port.name, "master", dev.name)
                        flags = (["hairpin", "on"] if port.hairpin else []) + ([] if port.learning else ["learning", "off"])
                        if flags:
                            bridge(ns.name, "link", "set", "dev", port.name, *flags)
            for dev in devs:
                for a in dev.addrs:
                    if isinstance(dev, Loopback) and (a.ip, a.plen) == (0x7F000001, 8):
                        continue  # the kernel gives lo this address itself
                    args = ["addr", "add", f"{fmt_ip(a.ip)}/{a.plen}", "dev", dev.name]
                    if a.broadcast is not None:
                        args += ["broadcast", fmt_ip(a.broadcast)]
                    if a.scope:
                        args += ["scope", SCOPE_NAMES.get(a.scope, str(a.scope))]
                    if a.label:
                        args += ["label", a.label]
                    if a.metric:
                        args += ["metric", str(a.metric)]
                    if a.noprefixroute:
                        args.append("noprefixroute")
                    ip(ns.name, *args)
            for dev in devs:
                if not isinstance(dev, Loopback) and dev.admin_up:
                    ip(ns.name, "link", "set", dev.name, "up")
                elif isinstance(dev, Loopback) and not dev.admin_up:
                    ip(ns.name, "link", "set", dev.name, "down")
        self._flush(phase)

        # Routes the kernel does not make itself (device routes first: a gateway must be
        # reachable), PERMANENT and NOARP neighbours (the kernel learns the others), FDB entries.
        for ns in namespaces:
            rules = [(r.priority, r.table) for r in ns.fib.rules]
            if rules != [(0, RT_TABLE_LOCAL), (32766, RT_TABLE_MAIN), (32767, RT_TABLE_DEFAULT)]:
                raise BuildError(f"{ns.name}: policy rules other than the defaults are not modelled here")
            routes = [r for r in ns.fib.all_routes() if r.proto != "kernel"]
            routes.sort(key=lambda r: r.gateway is not None and not r.onlink)
            for r in routes:
                ip(ns.name, "route", "add", *route_args(r))
            for entry in ns.neigh.entries.values():
                if entry.state in (N.PERMANENT, N.NOARP) and entry.lladdr:
                    ip(ns.name, "neigh", "replace", fmt_ip(entry.ip), "lladdr", entry.lladdr, "dev", entry.dev.name,
                       "nud", entry.state.lower())
            for dev in ns.devices.values():
                if isinstance(dev, Vxlan):
                    for e in dev.fdb_entries():
                        if e.permanent:
                            bridge(ns.name, "fdb", "append", e.mac, "dev", dev.name, "dst", fmt_ip(e.dst))
                elif isinstance(dev, Bridge):
                    for e in dev.fdb.values():
                        if e.static and not e.local and e.port is not dev:
                            bridge(ns.name, "fdb", "add", e.mac, "dev", e.port.name, "master", "static")
        self._flush(phase)

        # netfilter: netlab's own iptables-save text, restored by the real iptables-restore.
        for ns in namespaces:
            if getattr(ns, "ipsets", None):
                raise BuildError(f"{ns.name}: ipsets are not reproduced by the oracle builder")
            if ns.netfilter is not None:
                from netlab.net.netfilter.save import save

                text = save(ns.netfilter)
                if text.strip():
                    argv = self.exec_argv(ns.name, "iptables-restore")
                    self.log.append(" ".join(argv) + " <<EOF\n" + text + "EOF")
                    r = subprocess.run(argv, input=text, capture_output=True, text=True, timeout=60)
                    if r.returncode != 0:
                        raise BuildError(f"{ns.name}: iptables-restore refused netlab's rules: "
                                         f"{(r.stderr or r.stdout).strip()}\n{text}")

        self.sysctls({ns.name: [f"{k}={ns.sysctl[k]}" for k in POST_SYSCTLS if k in ns.sysctl] for ns in namespaces})
        self.settle(world)
        return self

    def settle(self, world, timeout: float = 3.0) -> None:
        """Carrier reaches a veth's peer through linkwatch, asynchronously: wait until every
        device has carrier in the kernel exactly when it has in netlab."""
        deadline = time.monotonic() + timeout
        while True:
            waiting = []
            for ns in world.namespaces.values():
                links = None
                for d in ns.devices.values():
                    if isinstance(d, Loopback) or not d.admin_up:
                        continue
                    if links is None:
                        links = {x["ifname"]: x for x in json.loads(self.ip(ns.name, "-j", "link", "show").stdout)}
                    got = links.get(d.name)
                    if got is not None and ("NO-CARRIER" not in got["flags"]) != d.carrier:
                        waiting.append(f"{ns.name}/{d.name}")
            if not waiting:
                return
            if time.monotonic() > deadline:
                raise BuildError(f"carrier still differs after {timeout} s on {', '.join(waiting)}")
            time.sleep(0.02)

    # -- asking the kernel ---------------------------------------------------
    def route_get(self, ns: str, dst: str) -> RouteAnswer:
        r = self.ip(ns, "-j", "route", "get", dst, check=False)
        if r.returncode != 0:
            return RouteAnswer("error", error=_errno_text((r.stderr or r.stdout).strip()))
        got = json.loads(r.stdout)[0]
        return RouteAnswer(got.get("type", UNICAST), got.get("dev"), got.get("gateway"), got.get("prefsrc"))

    def route_get_many(self, ns: str, dsts: list[str]) -> dict[str, RouteAnswer]:
        """`ip route get` for many destinations with one `ip -j -force -batch -` process: a
        failed command reports `...answers: X` then `Command failed -:LINE` on stderr."""
        r = self.batch("ip", ns, [["route", "get", d] for d in dsts], force=True, json_out=True, check=False)
        errors: dict[int, str] = {}
        pending = None
        for line in r.stderr.splitlines():
            if line.startswith("Command failed -:"):
                errors[int(line.rsplit(":", 1)[1])] = pending or "?"
                pending = None
            elif line.strip():
                pending = _errno_text(line)
        answers = iter(json.loads(line)[0] for line in r.stdout.splitlines() if line.strip())
        out = {}
        for n, dst in enumerate(dsts, 1):
            if n in errors:
                out[dst] = RouteAnswer("error", error=errors[n])
                continue
            got = next(answers)
            assert got["dst"] == dst, (got, dst)
            out[dst] = RouteAnswer(got.get("type", UNICAST), got.get("dev"), got.get("gateway"), got.get("prefsrc"))
        return out

    def route_get_text_many(self, ns: str, queries: list[str]) -> list[tuple[str, int]]:
        """The exact text and exit code `ip route get QUERY` gives for each query, with one
        batch process. Each answer starts with an unindented line; a failure is reported on
        stderr as `RTNETLINK answers: X` + `Command failed -:LINE` (exit 2 run alone)."""
        r = self.batch("ip", ns, [["route", "get", *q.split()] for q in queries], force=True, check=False)
        errors: dict[int, str] = {}
        pending: list[str] = []
        for line in r.stderr.splitlines(keepends=True):
            if line.startswith("Command failed -:"):
                errors[int(line.rsplit(":", 1)[1])] = "".join(pending)
                pending = []
            else:
                pending.append(line)
        chunks: list[str] = []
        for line in r.stdout.splitlines(keepends=True):
            if line[:1] not in (" ", "\t") or not chunks:
                chunks.append(line)
            else:
                chunks[-1] += line
        answers = iter(chunks)
        return [(errors[n], 2) if n in errors else (next(answers), 0) for n in range(1, len(queries) + 1)]

    def kernel_routes(self, ns: str) -> list[dict]:
        return json.loads(self.ip(ns, "-j", "-4", "route", "show", "table", "all").stdout or "[]")

    def ping_many(self, jobs: list[tuple], *, wait: str | None = None, batch: int = 64) -> dict[tuple, PingResult]:
        """`ping -n -c 1 -W wait [ARGS] DST` for each job (netlab namespace, dst[, ARGS tuple]),
        run in parallel batches; results are keyed by job."""
        results: dict[tuple, PingResult] = {}
        for start in range(0, len(jobs), batch):
            procs = []
            for job in jobs[start:start + batch]:
                ns, dst, extra = job[0], job[1], (job[2] if len(job) > 2 else ())
                argv = self.exec_argv(ns, "ping", "-n", "-c", "1", "-W", wait or PING_WAIT[0], *extra, dst)
                self.log.append(" ".join(argv))
                procs.append((job, subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                                    text=True)))
            for key, p in procs:
                out, _ = p.communicate(timeout=30)
                results[key] = parse_ping(out, p.returncode)
        return results


def _errno_text(text: str) -> str:
    for lead in ("RTNETLINK answers: ", "Error: "):
        if text.startswith(lead):
            text = text[len(lead):]
    return text.rstrip(".")


def route_args(r) -> list[str]:
    """`ip route add` arguments that make the kernel hold netlab Route r."""
    args = [] if r.type == UNICAST else [r.type]
    args.append("default" if r.plen == 0 and r.dst == 0 else f"{fmt_ip(r.dst)}/{r.plen}")
    if r.gateway is not None:
        args += ["via", fmt_ip(r.gateway)]
    if r.dev is not None:
        args += ["dev", r.dev.name]
    if r.onlink:
        args.append("onlink")
    if r.metric:
        args += ["metric", str(r.metric)]
    if r.table != RT_TABLE_MAIN:
        args += ["table", TABLE_NAMES.get(r.table, str(r.table))]
    if r.proto:
        args += ["proto", r.proto]
    args += ["scope", SCOPE_NAMES.get(r.scope, str(r.scope))]
    if r.src is not None:
        args += ["src", fmt_ip(r.src)]
    if r.mtu:
        args += ["mtu", str(r.mtu)]
    return args
