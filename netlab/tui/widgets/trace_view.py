"""The trace pane: the last packets' journeys as hop lists. Step through a trace with
←/→ (or select a hop); the headers as that hop saw them appear below, and the topology
highlights where the packet is."""
from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from netlab.net import trace as T
from netlab.net.addr import fmt_ip
from netlab.net.packet import VXLAN, Frame, IPv4
from netlab.tui.messages import HopSelected

KIND_STYLE = {T.DROP: "bold red", T.DELIVER: "bold green", T.NETFILTER: "yellow", T.NAT: "bold yellow",
              T.IPVS: "bold yellow", T.ENCAP: "magenta", T.DECAP: "magenta", T.ROUTE: "cyan", T.POLICY: "bold red",
              T.CONNTRACK: "yellow"}


def describe_headers(frame) -> str:
    """Headers, outermost first: what a packet looks like at one hop (VXLAN shows both)."""
    lines = []
    while frame is not None:
        if isinstance(frame, Frame):
            lines.append(f"eth  {frame.src} → {frame.dst}")
            frame = frame.payload
        elif isinstance(frame, IPv4):
            lines.append(f"ip   {fmt_ip(frame.src)} → {fmt_ip(frame.dst)}  ttl {frame.ttl}  proto {frame.proto}"
                         + (f"  mark {frame.mark:#x}" if frame.mark else ""))
            l4 = frame.l4
            lines.append(f"l4   {l4.describe()}")
            payload = getattr(l4, "payload", None)
            frame = payload.inner if isinstance(payload, VXLAN) else None
            if frame is not None:
                lines.append(f"vxlan vni {payload.vni}  ── inner frame ──")
        else:
            lines.append(getattr(frame, "describe", lambda: str(frame))())
            frame = None
    return "\n".join(lines)


class HopList(OptionList):
    """The hops of one trace. The hop detail below it grows and shrinks with each hop's
    headers; when that resizes the list, the highlighted hop is brought back into view (it
    was scrolled to before the resize, and could end up below the bottom edge)."""

    def on_resize(self) -> None:
        self.call_after_refresh(self.scroll_to_highlight)


class TraceView(Vertical):
    BINDINGS = [
        Binding("right,n", "step(1)", "Next hop"),
        Binding("left,p", "step(-1)", "Previous hop"),
        Binding("[", "trace(-1)", "Previous trace", show=False),
        Binding("]", "trace(1)", "Next trace", show=False),
    ]
    DEFAULT_CSS = """
    TraceView OptionList { height: 1fr; }
    TraceView #hop-detail { height: auto; max-height: 8; padding: 0 1; background: $boost; }
    TraceView #trace-title { height: auto; padding: 0 1; }
    """

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.traces: list = []
        self.index = 0

    def compose(self) -> ComposeResult:
        yield Static("No packet traced yet. Try: trace <pod> <pod-or-ip>[:port], ping, curl.", id="trace-title")
        yield HopList(id="hops")
        yield Static("", id="hop-detail")

    def show(self, traces: list) -> None:
        traces = [t for t in traces if t.label != "ARP"]
        if not traces:
            return
        self.traces = traces
        self.index = 0
        self._render_trace()

    def _render_trace(self) -> None:
        trace = self.traces[self.index]
        verdict = trace.verdict
        title = Text(f"[{self.index + 1}/{len(self.traces)}] {trace.summary}\n", style="bold")
        if verdict is not None:
            title.append(str(verdict), style="green" if verdict.delivered else "red")
        self.query_one("#trace-title", Static).update(title)
        hops = self.query_one("#hops", OptionList)
        hops.clear_options()
        for i, hop in enumerate(trace.hops):
            line = Text(f"{i + 1:3d} {hop.where():<28} ", style="dim")
            line.append(f"{hop.kind:<9} ", style=KIND_STYLE.get(hop.kind, ""))
            line.append(hop.text)
            hops.add_option(Option(line, id=str(i)))
        if trace.hops:
            hops.highlighted = 0

    @on(OptionList.OptionHighlighted, "#hops")
    def _hop(self, event: OptionList.OptionHighlighted) -> None:
        if not self.traces or event.option_index is None:
            return
        hop = self.traces[self.index].hops[event.option_index]
        detail = Text(f"{hop.where()}  t+{hop.t * 1e6:.0f}µs\n", style="bold")
        if hop.frame is not None:
            detail.append(describe_headers(hop.frame))
        self.query_one("#hop-detail", Static).update(detail)
        ns = hop.ns.split(" ", 1)[-1] if hop.ns.startswith("switch ") else hop.ns
        self.post_message(HopSelected(ns, hop.dev))

    def action_step(self, delta: int) -> None:
        hops = self.query_one("#hops", OptionList)
        if hops.option_count:
            hops.highlighted = max(0, min(hops.option_count - 1, (hops.highlighted or 0) + delta))

    def action_trace(self, delta: int) -> None:
        if self.traces:
            self.index = (self.index + delta) % len(self.traces)
            self._render_trace()
