"""The charts pane: pictures where they beat text.

- Load spread: after a burst of requests (`repeat 300 curl -s SERVICE:PORT`), which endpoint
  each new connection was DNATed (iptables) or scheduled (IPVS) to, per Service.
- Rules compared per packet: what each packet of the last command cost in netfilter rules and
  IPVS lookups, labelled with the kube-proxy mode of the node it crossed, and the running
  average per mode over the session — switch a lab to ipvs and the bars shrink.

The counting is plain functions over Traces (`load_spread`, `rule_costs`); the widgets only draw.
"""
from __future__ import annotations

from collections import Counter

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widget import Widget

from netlab.net import trace as T

EIGHTHS = " ▏▎▍▌▋▊▉█"
MODE_STYLE = {"iptables": "yellow", "ipvs": "cyan"}
MAX_ROWS = 10  # packet groups drawn for the last command


def bar(value: float, top: float, width: int) -> str:
    """A horizontal bar of `width` cells at most, in eighths of a cell."""
    if top <= 0 or width <= 0:
        return ""
    eighths = round(value / top * width * 8)
    full, part = divmod(eighths, 8)
    return "█" * full + (EIGHTHS[part] if part else "")


def _short(name: str, width: int) -> str:
    """A label cut to `width`, keeping its end (a pod's random suffix tells pods apart)."""
    if len(name) <= width:
        return name
    if width <= 6:
        return name[-width:]
    head = (width - 1) // 2
    return name[:head] + "…" + name[-(width - 1 - head):]


# -- counting -----------------------------------------------------------------
def load_spread(traces) -> dict[str, Counter]:
    """Service address → Counter of endpoint addresses, one count per new connection: the
    DNAT a connection's first packet got, or the real server IPVS scheduled it to."""
    spread: dict[str, Counter] = {}
    seen: set = set()
    for trace in traces:
        for hop in trace.hops:
            detail = hop.detail or {}
            if hop.kind == T.NAT and hop.text.startswith("DNAT: ") and " → " in hop.text:
                key = id(detail.get("conn")) if detail.get("conn") is not None else id(trace)
                if key in seen:
                    continue
                seen.add(key)
                vip, endpoint = hop.text[len("DNAT: "):].split(" → ", 1)
            elif hop.kind == T.IPVS and detail.get("chosen") and "scheduler" in detail:
                key = detail.get("connection") or id(trace)
                if key in seen:
                    continue
                seen.add(key)
                vip, endpoint = detail["service"].split()[-1], detail["chosen"]
            else:
                continue
            spread.setdefault(vip.strip(), Counter())[endpoint.strip()] += 1
    return spread


def trace_mode(trace, modes: dict[str, str]) -> str | None:
    """The kube-proxy mode of the node whose rules this packet was compared against most."""
    per_ns: Counter = Counter()
    for hop in trace.hops:
        n = (hop.detail or {}).get("compared", 0)
        if n and hop.ns in modes:
            per_ns[hop.ns] += n
    return modes[per_ns.most_common(1)[0][0]] if per_ns else None


def rule_costs(traces, modes: dict[str, str]) -> list[tuple[str, str, int]]:
    """(packet label, mode, rules compared) for each packet that crossed a kube-proxy node."""
    rows = []
    for trace in traces:
        mode = trace_mode(trace, modes)
        if mode is not None:
            rows.append((trace.label or trace.summary, mode, trace.rules_compared()))
    return rows


# -- widgets ------------------------------------------------------------------
class Chart(Widget):
    """One chart: a Text drawn for the width it has (height follows the lines)."""

    DEFAULT_CSS = """
    Chart { height: auto; padding: 0 1; margin-bottom: 1; }
    """

    def draw(self, width: int) -> Text:  # pragma: no cover - overridden
        return Text()

    def render(self) -> Text:
        return self.draw(max(20, self.content_size.width or 40))

    def get_content_height(self, container, viewport, width: int) -> int:
        return len(self.draw(max(20, width)).wrap(self.app.console, max(20, width)))


class LoadSpreadChart(Chart):
    """Endpoints per Service of the last command that opened Service connections."""

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.spread: dict[str, Counter] = {}
        self.names: dict[str, str] = {}  # address (ip or ip:port) → Service or pod name

    def draw(self, width: int) -> Text:
        text = Text()
        text.append("Load spread", style="bold")
        if not self.spread:
            text.append(" · send a burst: repeat 100 curl -s SERVICE:PORT", style="dim")
            return text
        total = sum(sum(c.values()) for c in self.spread.values())
        text.append(f" · last burst, {total} connection{'s' * (total != 1)}", style="dim")
        for vip, counts in sorted(self.spread.items(), key=self._order):
            n = sum(counts.values())
            name = self.names.get(vip)
            even = 100 / len(counts)
            text.append(f"\n{name + ' ' if name else ''}{vip}", style="bold cyan")
            text.append(f"  {n} conns, even {even:.0f}%", style="dim")
            labels = {ep: self._label(ep) for ep in counts}
            label_w = min(max(len(s) for s in labels.values()), max(8, width // 3))
            bar_w = max(4, width - label_w - 14)
            top = max(counts.values())
            for ep, c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
                text.append(f"\n{_short(labels[ep], label_w):<{label_w}} ")
                text.append(f"{bar(c, top, bar_w):<{bar_w}}", style="green")
                text.append(f" {c:>5} {100 * c / n:>3.0f}%")
        return text

    def _order(self, item) -> tuple:
        """Busiest Service first; on a tie the learner's own before kube-system's (DNS)."""
        vip, counts = item
        return -sum(counts.values()), "/" in self.names.get(vip, "/"), vip

    def _label(self, endpoint: str) -> str:
        ip = endpoint.rsplit(":", 1)[0]
        return self.names.get(endpoint) or self.names.get(ip) or endpoint


class RulesChart(Chart):
    """Rules compared by each packet of the last command, and the session average per mode."""

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.rows: list[tuple[str, str, int]] = []
        self.totals: dict[str, list[int]] = {}  # mode → [rules, packets] over the session

    def add(self, rows: list[tuple[str, str, int]]) -> None:
        self.rows = rows
        for _, mode, n in rows:
            total = self.totals.setdefault(mode, [0, 0])
            total[0] += n
            total[1] += 1

    def averages(self) -> dict[str, float]:
        return {mode: rules / packets for mode, (rules, packets) in self.totals.items() if packets}

    def draw(self, width: int) -> Text:
        text = Text()
        text.append("Rules compared per packet", style="bold")
        if not self.totals:
            text.append(" · send a packet (curl, ping, trace)", style="dim")
            return text
        groups: dict[tuple[str, str], list[int]] = {}
        for label, mode, n in self.rows:  # a burst repeats the same packets: one row each
            groups.setdefault((label, mode), []).append(n)
        if groups:
            text.append(f" · last command, {len(self.rows)} packets", style="dim")
            label_w = min(max(len(label) for label, _ in groups), 12)
            bar_w = max(4, width - label_w - 24)
            top = max(sum(v) / len(v) for v in groups.values())
            for (label, mode), values in list(groups.items())[:MAX_ROWS]:
                avg = sum(values) / len(values)
                text.append(f"\n{_short(label, label_w):<{label_w}} ")
                text.append(f"{mode:<8} ", style=MODE_STYLE.get(mode, ""))
                text.append(f"{bar(avg, top, bar_w):<{bar_w}}", style=MODE_STYLE.get(mode, ""))
                text.append(f" {avg:>5.1f}" + (f" ×{len(values)}" if len(values) > 1 else ""))
            if len(groups) > MAX_ROWS:
                text.append(f"\n… {len(groups) - MAX_ROWS} more kinds of packet", style="dim")
        text.append("\nsession average", style="bold")
        averages = self.averages()
        top = max(averages.values()) or 1
        bar_w = max(4, width - 34)
        for mode, avg in sorted(averages.items()):
            packets = self.totals[mode][1]
            text.append(f"\n{mode:<9}", style=MODE_STYLE.get(mode, ""))
            text.append(f"{bar(avg, top, bar_w):<{bar_w}}", style=MODE_STYLE.get(mode, ""))
            text.append(f" {avg:>6.1f}/packet ({packets})")
        return text


class ChartsPane(VerticalScroll):
    """Both charts, fed the Traces of every command the shell runs (`show`)."""

    DEFAULT_CSS = """
    ChartsPane { height: 1fr; }
    """

    def __init__(self, lab, **kw) -> None:
        super().__init__(**kw)
        self.lab = lab

    def compose(self) -> ComposeResult:
        yield LoadSpreadChart(id="load-spread")
        yield RulesChart(id="rules-chart")

    def show(self, traces) -> None:
        """A command finished: redraw from the packets it sent. The load spread keeps the last
        burst until another command opens Service connections."""
        cluster = self.lab.cluster
        spread = load_spread(traces)
        if spread:
            chart = self.query_one(LoadSpreadChart)
            chart.spread = spread
            chart.names = self._names()
            chart.refresh(layout=True)
        modes = {kp.ns.name: kp.mode for kp in getattr(cluster, "kube_proxies", {}).values()}
        rows = rule_costs(traces, modes)
        if rows:
            chart = self.query_one(RulesChart)
            chart.add(rows)
            chart.refresh(layout=True)

    def _names(self) -> dict[str, str]:
        """Service addresses and pod IPs → names, so bars say `data-product-…-4vww9`."""
        api = self.lab.cluster.api
        names: dict[str, str] = {}
        for svc in api.list("Service"):
            meta, spec = svc["metadata"], svc.get("spec", {})
            name = meta["name"] if meta.get("namespace", "default") == "default" else f"{meta['namespace']}/{meta['name']}"
            for port in spec.get("ports", []):
                if spec.get("clusterIP") not in (None, "None"):
                    names[f"{spec['clusterIP']}:{port.get('port')}"] = name
        for pod in api.list("Pod"):
            ip = pod.get("status", {}).get("podIP")
            if ip and not pod.get("spec", {}).get("hostNetwork"):
                names[ip] = pod["metadata"]["name"]
        return names
