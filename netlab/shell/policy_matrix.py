"""`netlab policy matrix`: the connectivity truth table of pods × pods, measured by sending real
probes through the dataplane (a TCP SYN to the port, a UDP datagram, or a ping when no port is
given), laid out like the truth tables of upstream's network-policy e2e tests: rows are the
sources, columns the destinations, `.` reached, `X` blocked.

Beside the observed table sits what netlab.k8s.policy says should happen (everything reaches
everything when the CNI does not enforce policy); `Matrix.mismatches` lists where they differ.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from netlab.apps.probe import is_echo_reply, ping_once, tcp_syn, udp_probe
from netlab.k8s.policy import Connection, PodInfo, PolicyView, decide


@dataclass
class Matrix:
    pods: list[PodInfo]
    protocol: str
    port: int | None
    observed: dict[tuple[str, str], bool] = field(default_factory=dict)
    expected: dict[tuple[str, str], bool] = field(default_factory=dict)

    @property
    def keys(self) -> list[str]:
        return [p.key for p in self.pods]

    def mismatches(self) -> list[tuple[str, str]]:
        return [k for k in self.observed if self.observed[k] != self.expected.get(k)]

    def table(self, cells: dict[tuple[str, str], bool] | None = None, *, marks: tuple[str, str] = (".", "X")) -> str:
        """The truth table as text: one row per source, one column per destination."""
        cells = self.observed if cells is None else cells
        keys = self.keys
        width = max([len(k) for k in keys] + [1])
        lines = ["-".ljust(width) + "  " + "  ".join(k.ljust(width) for k in keys).rstrip()]
        for src in keys:
            row = [(marks[0] if cells.get((src, dst)) else marks[1]).ljust(width) for dst in keys]
            lines.append(src.ljust(width) + "  " + "  ".join(row).rstrip())
        return "\n".join(lines) + "\n"

    def render(self) -> str:
        what = "ping" if self.port is None else f"{self.protocol}/{self.port}"
        allowed = sum(self.observed.values())
        out = [f"{what}: {allowed}/{len(self.observed)} reached (rows: from, columns: to; . reached, X blocked)",
               self.table()]
        bad = self.mismatches()
        if bad:
            comparison = {k: k not in bad for k in self.observed}
            out += [f"{len(bad)} differ from the NetworkPolicy model (. agrees, X differs):", self.table(comparison)]
        return "\n".join(out)


def probe(lab, src: PodInfo, dst: PodInfo, protocol: str, port: int | None) -> bool:
    """One real probe: did it reach the destination pod (an answer, or a refusal from the pod)?"""
    ns = lab.cluster.pod_ns[src.key]
    if port is None:
        out = ping_once(ns, dst.ip)
        return out.kind == "reply" and is_echo_reply(out.reply)
    if protocol == "UDP":
        out = udp_probe(ns, dst.ip, port)
        return out.kind in ("reply", "error") and out.reply is not None and out.reply.src == dst.ip
    out = tcp_syn(ns, dst.ip, port)
    return out.kind in ("open", "refused")


def policy_matrix(lab, namespaces: list[str] | None = None, port: int | None = None,
                  protocol: str = "TCP") -> Matrix:
    cluster = lab.cluster
    cluster.tick()  # the policy agents catch up first
    view = PolicyView.from_api(cluster.api)
    pods = sorted((p for p in view.pods.values() if p.key in cluster.pod_ns
                   and (not namespaces or p.namespace in namespaces)), key=lambda p: p.key)
    m = Matrix(pods, protocol, port)
    enforced = cluster.spec.cni.enforces_policy
    proto = "ICMP" if port is None else protocol
    for src in pods:
        for dst in pods:
            m.observed[(src.key, dst.key)] = probe(lab, src, dst, protocol, port)
            m.expected[(src.key, dst.key)] = decide(view, Connection(src.ip, dst.ip, proto, port))[0] if enforced else True
    lab.world.take_traces()
    return m


def add_parser(sub) -> None:
    """`netlab policy matrix [--lab FILE] [-n NS ...] [--port P] [--udp]`."""
    p = sub.add_parser("policy", help="NetworkPolicy tools")
    psub = p.add_subparsers(dest="policy_cmd", required=True)
    m = psub.add_parser("matrix", help="probe every pod from every pod and print the truth table")
    m.add_argument("--lab", dest="lab_sub")
    m.add_argument("-n", "--namespace", dest="namespaces", action="append", nargs="+", default=None,
                   help="only pods in these namespaces (repeatable)")
    m.add_argument("--port", type=int, help="TCP port to probe (default: ping)")
    m.add_argument("--udp", action="store_true", help="probe the port with UDP instead of TCP")


def run(lab, args, write) -> int:
    """Exit status 0 when the dataplane agrees with the NetworkPolicy model, 1 when not."""
    namespaces = [n for group in args.namespaces or [] for n in group] or None
    if args.port is not None and not 0 < args.port < 65536:
        write(f"netlab policy matrix: invalid port \"{args.port}\"\n")
        return 2
    m = policy_matrix(lab, namespaces, args.port, "UDP" if args.udp else "TCP")
    if not m.pods:
        write("netlab policy matrix: no pods" + (f" in {', '.join(namespaces)}" if namespaces else "") + "\n")
        return 1
    cni = lab.spec.cni.plugin
    if not lab.spec.cni.enforces_policy:
        write(f"note: CNI {cni} does not enforce NetworkPolicy; use cni: {{plugin: calico}} or canal\n")
    write(m.render())
    return 1 if m.mismatches() else 0
