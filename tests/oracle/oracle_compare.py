"""The netlab side of the oracle, and the comparisons between the two worlds."""
from __future__ import annotations

from dataclasses import dataclass, field

from netlab.net.addr import fmt_ip, parse_ip
from netlab.net.device import Bridge, Loopback
from netlab.net.fib import BROADCAST, LOCAL, SCOPE_NAMES, TABLE_NAMES, UNICAST
from netlab.net.netns import RouteError

from oracle_kernel import PingResult, RouteAnswer, parse_ping

NO_ROUTE_DST = "198.18.0.7"  # benchmarking range: routed nowhere but by a default route
LOOPBACK_DSTS = ("127.0.0.1", "127.0.0.5")


def netlab_route_get(ns, dst: str) -> RouteAnswer:
    try:
        res = ns.route_output(parse_ip(dst))
    except RouteError as err:
        return RouteAnswer("error", error=err.errno_text)
    via = fmt_ip(res.route.gateway) if res.route.gateway is not None and res.type not in (LOCAL, BROADCAST) else None
    return RouteAnswer(res.type, res.dev.name, via, fmt_ip(res.src))


def route_destinations(lab) -> list[str]:
    """Every pod IP, node IP, bridge and VTEP address, broadcast address, each gateway, a
    destination with no specific route, loopback addresses."""
    out: list[str] = []
    for ns in lab.world.namespaces.values():
        for dev in ns.devices.values():
            if isinstance(dev, Loopback):
                continue
            for a in dev.addrs:
                out.append(fmt_ip(a.ip))
                if isinstance(dev, Bridge) and a.plen < 31:
                    out.append(fmt_ip(a.ip | ((1 << (32 - a.plen)) - 1)))  # the bridge subnet's broadcast
    for subnet in lab.spec.subnets:
        out.append(fmt_ip(subnet.gateway))
    out.append(fmt_ip(lab.spec.pod_cidr[0] + (250 << 8) + 9))  # inside the pod network, in no node's subnet
    out += [NO_ROUTE_DST, *LOOPBACK_DSTS]
    return list(dict.fromkeys(out))


def pod_names(lab) -> list[str]:
    return [ns.name for ns in lab.world.namespaces.values() if ns.kind == "pod"]


def node_names(lab) -> list[str]:
    return list(lab.cluster.nodes)


def ip_of(lab, name: str) -> str:
    ns = lab.world.namespaces[name]
    if ns.kind == "node":
        return fmt_ip(lab.cluster.nodes[name].spec.ip)
    return fmt_ip(ns.devices["eth0"].addrs[0].ip)


def ping_jobs(lab) -> list[tuple[str, str]]:
    """Every ordered pod pair, pod → node, node → pod and node → node."""
    pods, nodes = pod_names(lab), node_names(lab)
    jobs = [(a, ip_of(lab, b)) for a in pods for b in pods if a != b]
    jobs += [(p, ip_of(lab, n)) for p in pods for n in nodes]
    jobs += [(n, ip_of(lab, p)) for n in nodes for p in pods]
    jobs += [(a, ip_of(lab, b)) for a in nodes for b in nodes if a != b]
    return jobs


def netlab_ping(lab, on: str, dst: str, extra: tuple[str, ...] = ()) -> PingResult:
    r = lab.sh(" ".join(("ping", "-n", "-c", "1", "-W", "1", *extra, dst)), on=on)
    return parse_ping(r.output, r.exit_code)


def probe_jobs(lab, kind: str) -> list[tuple[str, str, tuple[str, ...]]]:
    """From one pod per node to the IP and the first pod of every other node:
    kind "ttl": TTL 1, 2 and 3 (who answers Time to live exceeded, from which address);
    kind "df-fits": DF pings of exactly the pod MTU;
    kind "df-too-big": DF pings one byte over the pod MTU, and of a full 1500-byte packet."""
    first_pod: dict[str, str] = {}
    for ns in lab.world.namespaces.values():
        if ns.kind == "pod":
            first_pod.setdefault(ns.devices["eth0"].peer.ns.name, ns.name)
    jobs = []
    for node, src in first_pod.items():
        mtu = lab.world.namespaces[src].devices["eth0"].mtu
        for other in node_names(lab):
            if other == node:
                continue
            targets = [ip_of(lab, other)] + ([ip_of(lab, first_pod[other])] if other in first_pod else [])
            for dst in targets:
                if kind == "ttl":
                    jobs += [(src, dst, ("-t", str(ttl))) for ttl in (1, 2, 3)]
                elif kind == "df-fits":
                    jobs.append((src, dst, ("-M", "do", "-s", str(mtu - 28))))
                elif kind == "df-too-big":
                    jobs += [(src, dst, ("-M", "do", "-s", str(size))) for size in sorted({mtu - 27, 1472} - {mtu - 28})]
                else:
                    raise ValueError(kind)
    return jobs


@dataclass
class Tally:
    """Comparisons made across the session, printed in the terminal summary."""
    kinds: dict[str, list[int]] = field(default_factory=dict)  # kind -> [compared, agreed]

    def add(self, kind: str, compared: int, agreed: int) -> None:
        slot = self.kinds.setdefault(kind, [0, 0])
        slot[0] += compared
        slot[1] += agreed


TALLY = Tally()


def compare_route_gets(lab, kw, namespaces=None) -> tuple[int, list[str]]:
    dsts = route_destinations(lab)
    names = namespaces or list(lab.world.namespaces)
    diffs = []
    n = 0
    for name in names:
        ns = lab.world.namespaces[name]
        real = kw.route_get_many(name, dsts)
        for dst in dsts:
            n += 1
            want = real[dst]
            got = netlab_route_get(ns, dst)
            if want != got:
                diffs.append(f"{name}: ip route get {dst}: kernel says `{want}`, netlab says `{got}`")
    TALLY.add("ip route get", n, n - len(diffs))
    return n, diffs


def compare_pings(lab, kw, jobs=None, kind: str = "ping") -> tuple[int, list[str]]:
    jobs = jobs if jobs is not None else ping_jobs(lab)
    real = kw.ping_many(jobs)
    diffs = []
    for job in jobs:
        on, dst, extra = job[0], job[1], (job[2] if len(job) > 2 else ())
        want = real[job]
        got = netlab_ping(lab, on, dst, extra)
        why = ping_difference(want, got)
        if why:
            args = " ".join((*extra, dst))
            diffs.append(f"{on} → ping {args}: {why}\n    kernel: {_one_line(want.output)}\n    netlab: {_one_line(got.output)}")
    TALLY.add(kind, len(jobs), len(jobs) - len(diffs))
    return len(jobs), diffs


def ping_difference(kernel: PingResult, netlab: PingResult) -> str | None:
    """Exit codes must agree; a reply must come from the same address with the same TTL; an
    ICMP error the kernel printed must be printed by netlab too. (An unanswered ARP ends
    a real `ping -W 1` silently long before the kernel's 3 s resolution timeout, while netlab
    reports it at once as Destination Host Unreachable: both exit 1, so that is allowed.)"""
    if kernel.exit_code != netlab.exit_code:
        return f"exit code {kernel.exit_code} (kernel) vs {netlab.exit_code} (netlab)"
    if kernel.exit_code == 0 and (kernel.reply_from, kernel.ttl) != (netlab.reply_from, netlab.ttl):
        return f"reply from {kernel.reply_from} ttl={kernel.ttl} (kernel) vs from {netlab.reply_from} ttl={netlab.ttl} (netlab)"
    if kernel.error is not None and kernel.error != netlab.error:
        return f"ICMP error `{kernel.error}` (kernel) vs `{netlab.error}` (netlab)"
    return None


def _one_line(text: str) -> str:
    return " | ".join(line for line in text.splitlines() if line.strip())


# -- routes the kernel makes itself -------------------------------------------------
def netlab_kernel_routes(ns) -> set[tuple]:
    out = set()
    for r in ns.fib.all_routes():
        if r.proto != "kernel":
            continue
        dst = "default" if r.plen == 0 else (fmt_ip(r.dst) if r.plen == 32 else f"{fmt_ip(r.dst)}/{r.plen}")
        out.add((TABLE_NAMES.get(r.table, str(r.table)), r.type, dst, r.dev.name if r.dev else None,
                 fmt_ip(r.src) if r.src is not None else None, SCOPE_NAMES.get(r.scope, str(r.scope)), r.metric))
    return out


def real_kernel_routes(kw, name: str) -> set[tuple]:
    out = set()
    for r in kw.kernel_routes(name):
        if r.get("protocol") != "kernel":
            continue
        out.add((r.get("table", "main"), r.get("type", UNICAST), r["dst"], r.get("dev"), r.get("prefsrc"),
                 r.get("scope", "global"), r.get("metric", 0)))
    return out


def compare_link_state(lab, kw, name: str) -> list[str]:
    """The builder's own check: same devices, MACs, MTUs, addresses and up/carrier state."""
    import json

    ns = lab.world.namespaces[name]
    real = {d["ifname"]: d for d in json.loads(kw.ip(name, "-j", "addr", "show").stdout)}
    diffs = []
    for dev in ns.devices.values():
        got = real.get(dev.name)
        if got is None:
            diffs.append(f"{name}: {dev.name} missing in the kernel")
            continue
        if not isinstance(dev, Loopback) and got.get("address") != dev.mac:
            diffs.append(f"{name}/{dev.name}: MAC {got.get('address')} vs {dev.mac}")
        if got.get("mtu") != dev.mtu:
            diffs.append(f"{name}/{dev.name}: MTU {got.get('mtu')} vs {dev.mtu}")
        addrs = [(a["local"], a["prefixlen"]) for a in got.get("addr_info", [])]
        want = [(fmt_ip(a.ip), a.plen) for a in dev.addrs]
        if addrs != want:
            diffs.append(f"{name}/{dev.name}: addresses {addrs} vs {want}")
        flags = set(got.get("flags", []))
        for flag in ("UP", "LOWER_UP", "NO-CARRIER", "NOARP"):
            if (flag in flags) != (flag in dev.flags()):
                diffs.append(f"{name}/{dev.name}: flag {flag} kernel={flag in flags} netlab={flag in dev.flags()}")
    extra = set(real) - set(ns.devices)
    if extra:
        diffs.append(f"{name}: kernel has extra devices {sorted(extra)}")
    return diffs



def compare_neighbours(lab, kw) -> tuple[int, list[str]]:
    """After traffic: the resolved neighbour entries (device, IP, MAC) each namespace holds.
    Unresolved ones are left out: the kernel keeps an INCOMPLETE entry for 3 s where netlab
    has already failed it, and states age on different clocks."""
    import json

    diffs = []
    n = 0
    for name, ns in lab.world.namespaces.items():
        real = set()
        for e in json.loads(kw.ip(name, "-j", "-4", "neigh", "show").stdout or "[]"):
            if e.get("lladdr") and not set(e.get("state", [])) & {"INCOMPLETE", "FAILED"}:
                real.add((e["dev"], e["dst"], e["lladdr"]))
        mine = {(e.dev.name, fmt_ip(e.ip), e.lladdr) for e in ns.neigh.for_dev()
                if e.lladdr and e.state not in ("INCOMPLETE", "FAILED")}
        n += len(real | mine)
        diffs += [f"{name}: only the kernel has neighbour {e}" for e in sorted(real - mine)]
        diffs += [f"{name}: only netlab has neighbour {e}" for e in sorted(mine - real)]
    TALLY.add("ip neigh entries", n, n - len(diffs))
    return n, diffs


def route_get_queries(lab, ns) -> list[str]:
    """`ip route get` arguments for a node or pod: every destination (output routes) and, on a
    node, every destination as forwarded for the first pod behind each bridge (input routes:
    `from POD iif BRIDGE`)."""
    dsts = route_destinations(lab)
    queries = list(dsts)
    if ns.kind == "node":
        for dev in ns.devices.values():
            if isinstance(dev, Bridge):
                pod = next((p for p in lab.world.namespaces.values() if p.kind == "pod"
                            and p.devices["eth0"].peer in dev.ports), None)
                if pod is not None:
                    src = ip_of(lab, pod.name)
                    queries += [f"{d} from {src} iif {dev.name}" for d in dsts if d != src]
    return queries


def compare_route_get_text(lab, kw, kinds=("node", "pod")) -> tuple[int, list[str]]:
    """netlab's `ip route get` (the shell command) against the real one, byte for byte, in
    every node and pod (the shell runs there)."""
    diffs = []
    n = 0
    for name, ns in lab.world.namespaces.items():
        if ns.kind not in kinds:
            continue
        queries = route_get_queries(lab, ns)
        for q, (want, want_rc) in zip(queries, kw.route_get_text_many(name, queries)):
            n += 1
            got = lab.sh(f"ip route get {q}", on=name)
            if (got.output, got.exit_code) != (want, want_rc):
                diffs.append(f"{name}: ip route get {q}\n    kernel ({want_rc}): {want!r}\n    netlab ({got.exit_code}): {got.output!r}")
    TALLY.add("ip route get text (shell)", n, n - len(diffs))
    return n, diffs


SHOW_COMMANDS = ("ip route", "ip -4 route show table all", "ip route show table local", "ip neigh",
                 "ip -d link show flannel.1", "bridge fdb show dev flannel.1")


def compare_show_text(lab, kw) -> tuple[int, list[str]]:
    """Listings whose text does not depend on how the builder stands in for the hardware
    (the NIC is a veth here; IPv6 is off), byte for byte, in every node and pod."""
    diffs = []
    n = 0
    for name, ns in lab.world.namespaces.items():
        if ns.kind not in ("node", "pod"):
            continue
        for cmd in SHOW_COMMANDS:
            if "flannel.1" in cmd and "flannel.1" not in ns.devices:
                continue
            tool, *args = cmd.split()
            real = kw.run(tool, "-n", kw.names[name], *args, check=False)
            got = lab.sh(cmd, on=name)
            n += 1
            if (got.output, got.exit_code) != (real.stdout + real.stderr, real.returncode):
                import difflib

                delta = "\n".join(difflib.unified_diff((real.stdout + real.stderr).splitlines(), got.output.splitlines(),
                                                      "kernel", "netlab", lineterm="", n=0))
                diffs.append(f"{name}: {cmd} (exit {real.returncode} vs {got.exit_code})\n{delta}")
    TALLY.add("ip/bridge listings (shell)", n, n - len(diffs))
    return n, diffs
