"""The topology view: the underlay, each node with its NIC, bridge, VTEP and pods, and the
Services — drawn with box-drawing characters from the Lab's current state."""
from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from netlab.net.addr import fmt_ip, fmt_prefix


class TopologyView(Static):
    """Redrawn after every command (the world may have changed) and when a trace hop is
    selected (the namespace the packet is in is highlighted)."""

    DEFAULT_CSS = """
    TopologyView { height: auto; padding: 0 1; }
    """

    def __init__(self, lab, **kw) -> None:
        super().__init__(**kw)
        self.lab = lab
        self.highlight: str | None = None

    def on_mount(self) -> None:
        self.refresh_view()

    def refresh_view(self) -> None:
        self.update(self.render_topology())

    def render_topology(self) -> Text:
        lab = self.lab
        cluster = lab.cluster
        out = Text()
        subnets = ", ".join(f"{s.name} {fmt_prefix(*s.cidr)}" for s in lab.spec.subnets)
        out.append(f"underlay ── {subnets} ── router {fmt_ip(lab.spec.subnets[0].gateway)} ── client 203.0.113.10\n",
                   style="dim")
        pods_by_node: dict[str, list[tuple[str, str]]] = {}
        for pod in cluster.api.list("Pod"):
            node = pod.get("spec", {}).get("nodeName")
            if node:
                ns_name = pod["metadata"].get("namespace", "default")
                label = pod["metadata"]["name"] if ns_name == "default" else f"{ns_name}/{pod['metadata']['name']}"
                pods_by_node.setdefault(node, []).append((label, pod.get("status", {}).get("podIP", "")))
        for name, node in cluster.nodes.items():
            ns = node.ns
            hot = self.highlight == ns.name
            box = "bold reverse" if hot else "bold"
            eth0 = ns.dev("eth0")
            bridge = ns.dev(lab.spec.cni.bridge)
            vtep = next((d for d in ns.devices.values() if d.kind == "vxlan"), None)
            line = f"┌ node {name}  eth0 {fmt_ip(node.spec.ip)}"
            if eth0 is not None and not eth0.is_up:
                line += " (DOWN)"
            out.append(line + "\n", style=box)
            if bridge is not None:
                addr = ", ".join(fmt_prefix(a.ip, a.plen) for a in bridge.addrs)
                out.append(f"│ {bridge.name} {addr}", style="cyan")
                if vtep is not None:
                    out.append(f"   {vtep.name} vni {vtep.vni} :{vtep.dstport}", style="magenta")
                out.append("\n")
            for label, ip in pods_by_node.get(name, []):
                pod_ns = cluster.pod_ns.get(label if "/" in label else f"default/{label}")
                hot_pod = pod_ns is not None and self.highlight == pod_ns.name
                out.append("│  ├─ ", style="dim")
                out.append(f"{label:<38} {ip}\n", style="bold reverse" if hot_pod else "")
            out.append("└" + "─" * 40 + "\n", style="dim")
        services = [s for s in cluster.api.list("Service") if s.get("spec", {}).get("clusterIP") not in (None, "None")]
        if services:
            out.append("services: ", style="bold")
            out.append("  ".join(f"{s['metadata']['name']} {s['spec']['clusterIP']}" for s in services[:8]))
            if len(services) > 8:
                out.append(f"  (+{len(services) - 8})")
        return out
