"""One packet from FROM to TO[:PORT]: what `trace` and `netlab trace` send."""
from __future__ import annotations

from netlab.apps.probe import ping_once, tcp_syn, udp_probe
from netlab.shell.resolve import endpoint


class ProbeError(Exception):
    pass


def send_probe(lab, src: str, dst: str, *, port: int | None = None, proto: str = "icmp"):
    """Returns (traces, outcome). Raises ProbeError with a one-line reason."""
    if ":" in dst and port is None:
        dst, _, port_text = dst.rpartition(":")
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ProbeError(f"invalid port \"{port_text}\"")
        port = int(port_text)
        if proto == "icmp":
            proto = "tcp"
    src_ns, _ = endpoint(lab, src)
    if src_ns is None:
        raise ProbeError(f"FROM \"{src}\" is not a pod, a node or an address in this lab")
    _, dst_ip = endpoint(lab, dst)
    if dst_ip is None:
        raise ProbeError(f"TO \"{dst}\" is not a pod, a node or an IPv4 address")
    lab.world.take_traces()
    if proto == "icmp":
        outcome = ping_once(src_ns, dst_ip)
    elif proto == "udp":
        outcome = udp_probe(src_ns, dst_ip, port or 33434)
    elif proto == "tcp":
        outcome = tcp_syn(src_ns, dst_ip, port or 80)
    else:
        raise ProbeError(f"unknown protocol \"{proto}\" (use tcp, udp or icmp)")
    traces = lab.world.take_traces()
    return traces, outcome
