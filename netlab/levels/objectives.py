"""Objectives: what must flow and what must not, proved by sending real packets.

    reach FROM TO[:PORT] [tcp|udp|icmp]       a ping (or a SYN, or a datagram) gets its answer
    no-reach FROM TO[:PORT] [tcp|udp|icmp]    ... and here it must not
    resolve NAME from FROM to ADDR            the pod's resolver (resolv.conf, search list) finds ADDR
    http FROM URL [-H 'Host: h'] expects STATUS [body ~ REGEX]
    spread SERVICE over N endpoints within PCT% after K requests [from FROM]
    source-ip-preserved FROM TO:PORT          the server sees FROM's own address
    rules-compared-per-packet < N FROM TO:PORT

FROM is a node, `client` (the machine on the internet), a pod name or a pod reference
(`app=web@node-a`, see refs.py); TO also takes an address or `svc/NAME[.NS]`.

Nothing here reads configuration to decide: every verdict comes from the Traces of
packets sent through the engine. A failing objective carries the first hop where its
packet was dropped (Trace.first_drop()), the main hint a learner gets.
"""
from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

from netlab.levels.refs import RefError, address, context_name
from netlab.net.addr import parse_ip
from netlab.net.trace import Hop, Trace

PROTOS = ("tcp", "udp", "icmp")


class ObjectiveError(Exception):
    """An objective line that does not parse: one clear message."""


@dataclass
class ObjectiveResult:
    """The outcome of one objective. `hop` is the first hop where its packet stopped
    (None when it passed or nothing was dropped); `trace` is the packet's Trace, for the
    trace pane; `detail` is one line for people ("DROPPED at 192.168.0.21: no route")."""

    text: str
    passed: bool
    detail: str = ""
    hop: Hop | None = None
    trace: Trace | None = None
    traces: list[Trace] = field(default_factory=list)

    def __str__(self) -> str:
        mark = "✔" if self.passed else "✘"
        return f"{mark} {self.text}" + (f"  — {self.detail}" if self.detail else "")


def _first_drop(traces: list[Trace]) -> tuple[Hop | None, Trace | None]:
    for t in traces:
        hop = t.first_drop()
        if hop is not None:
            return hop, t
    return None, (traces[0] if traces else None)


def _where(hop: Hop | None) -> str:
    return f"dropped at {hop.where()}: {hop.text}" if hop is not None else ""


def _source(lab, word: str):
    """The namespace a FROM word names."""
    try:
        name = context_name(lab, word)
    except RefError:
        raise
    ctx = lab.session.context_for(name)
    if ctx is None:
        raise RefError(f"FROM \"{word}\" is not a node, a pod or `client`")
    return ctx


def _target(lab, word: str) -> tuple[int, int | None]:
    port = None
    if ":" in word:
        word, _, p = word.rpartition(":")
        if not p.isdigit():
            raise RefError(f"\"{p}\" is not a port")
        port = int(p)
    return parse_ip(address(lab, word)), port


def _send(lab, ns, dst: int, port: int | None, proto: str):
    """One probe as `trace` sends it; returns (reached, traces, outcome)."""
    from netlab.apps.probe import ping_once, tcp_syn, udp_probe

    lab.world.take_traces()
    if proto == "icmp":
        out = ping_once(ns, dst)
        reached = out.kind == "reply"
    elif proto == "udp":
        out = udp_probe(ns, dst, port or 53)
        reached = out.kind == "reply"
    else:
        out = tcp_syn(ns, dst, port or 80)
        reached = out.kind in ("open", "refused")  # a RST from the server still reached it
    return reached, lab.world.take_traces(), out


class Objective:
    """A parsed objective line; `check(lab)` sends its traffic through `lab`."""

    def __init__(self, text: str) -> None:
        self.text = text
        try:
            self.words = shlex.split(text)
        except ValueError as err:
            raise ObjectiveError(f"objective \"{text}\": {err}") from None
        if not self.words or self.words[0] not in CHECKS:
            raise ObjectiveError(f"objective \"{text}\": starts with one of {', '.join(CHECKS)}")
        self.kind = self.words[0]
        self._shape()

    def _shape(self) -> None:
        w, k = self.words, self.kind
        usage = USAGE[k]
        ok = {
            "reach": lambda: len(w) in (3, 4) and (len(w) == 3 or w[3] in PROTOS),
            "no-reach": lambda: len(w) in (3, 4) and (len(w) == 3 or w[3] in PROTOS),
            "resolve": lambda: len(w) == 6 and w[2] == "from" and w[4] == "to",
            "http": lambda: "expects" in w and w.index("expects") + 1 < len(w) and w[w.index("expects") + 1].isdigit(),
            "spread": lambda: len(w) in (10, 12) and w[2] == "over" and w[4] == "endpoints" and w[5] == "within"
            and w[7] == "after" and w[9] == "requests" and w[3].isdigit() and w[8].isdigit() and w[6].rstrip("%").replace(".", "", 1).isdigit()
            and (len(w) == 10 or w[10] == "from"),
            "source-ip-preserved": lambda: len(w) == 3,
            "rules-compared-per-packet": lambda: len(w) == 5 and w[1] == "<" and w[2].isdigit(),
        }[k]()
        if not ok:
            raise ObjectiveError(f"objective \"{self.text}\": expected `{usage}`")

    def check(self, lab) -> ObjectiveResult:
        try:
            return getattr(self, "_" + self.kind.replace("-", "_"))(lab)
        except RefError as err:
            return ObjectiveResult(self.text, False, str(err))

    # -- the checks -----------------------------------------------------------
    def _reach(self, lab, want: bool = True) -> ObjectiveResult:
        w = self.words
        ctx = _source(lab, w[1])
        dst, port = _target(lab, w[2])
        proto = w[3] if len(w) > 3 else ("tcp" if port else "icmp")
        reached, traces, out = _send(lab, ctx.ns, dst, port, proto)
        hop, trace = _first_drop(traces)
        if reached == want:
            return ObjectiveResult(self.text, True, "" if want else _where(hop), None, trace, traces)
        if want:
            detail = _where(hop) or f"no answer ({out.kind})"
            return ObjectiveResult(self.text, False, detail, hop, trace, traces)
        return ObjectiveResult(self.text, False, f"the packet got through ({out.kind})", None, traces[0] if traces else None, traces)

    def _no_reach(self, lab) -> ObjectiveResult:
        return self._reach(lab, want=False)

    def _resolve(self, lab) -> ObjectiveResult:
        from netlab.apps.dns.resolver import lookup

        _, name, _, src, _, want = self.words
        ctx = _source(lab, src)
        want_ip = address(lab, want)
        lab.world.take_traces()
        result = lookup(ctx.ns, name)
        traces = lab.world.take_traces()
        got = result.addresses()
        if want_ip in got:
            return ObjectiveResult(self.text, True, "", None, traces[0] if traces else None, traces)
        hop, trace = _first_drop(traces)
        if hop is not None:
            detail = _where(hop)
        elif result.timed_out:
            detail = "no DNS server answered"
        elif got:
            detail = f"resolved to {', '.join(got)}"
        else:
            detail = f"{name}: not found (tried {', '.join(a.qname for a in result.answers) or 'nothing'})"
        return ObjectiveResult(self.text, False, detail, hop, trace, traces)

    def _http(self, lab) -> ObjectiveResult:
        from netlab.apps.http import HttpRequest, HttpResponse
        from netlab.net.tcp import exchange
        from netlab.shell.cmd_http import _split_url
        from netlab.shell.resolve import getaddrinfo

        w = self.words
        ctx = _source(lab, w[1])
        i = w.index("expects")
        status = int(w[i + 1])
        body_re = None
        if len(w) > i + 2:
            if w[i + 2] != "body" or len(w) < i + 5 or w[i + 3] != "~":
                raise ObjectiveError(f"objective \"{self.text}\": expected `{USAGE['http']}`")
            body_re = w[i + 4]
        headers = {}
        j = 3
        while j < i:
            if w[j] == "-H" and j + 1 < i and ":" in w[j + 1]:
                k, v = w[j + 1].split(":", 1)
                headers[k.strip()] = v.strip()
                j += 2
            else:
                raise ObjectiveError(f"objective \"{self.text}\": expected `{USAGE['http']}`")
        scheme, host, port, path = _split_url(w[2])
        lab.world.take_traces()
        dst, err = getaddrinfo(ctx, host)
        if dst is None:
            traces = lab.world.take_traces()
            hop, trace = _first_drop(traces)
            return ObjectiveResult(self.text, False, f"could not resolve {host}: {err}", hop, trace, traces)
        host_header = headers.pop("Host", None) or (host if port in (80, 443) else f"{host}:{port}")
        request = HttpRequest("GET", path, {"Host": host_header, "User-Agent": "netlab-check", "Accept": "*/*", **headers},
                              tls=scheme == "https")
        result = exchange(ctx.ns, dst, port, request, timeout=5.0)
        traces = lab.world.take_traces()
        hop, trace = _first_drop(traces)
        resp = result.response
        if result.kind != "ok" or not isinstance(resp, HttpResponse):
            detail = _where(hop) or f"no HTTP response ({result.kind}{': ' + result.errno_text if result.errno_text else ''})"
            return ObjectiveResult(self.text, False, detail, hop, trace, traces)
        if resp.status != status:
            return ObjectiveResult(self.text, False, f"got {resp.status}, expected {status}", None, trace, traces)
        if body_re is not None and not re.search(body_re, resp.body or ""):
            return ObjectiveResult(self.text, False, f"status {status}, but the body does not match /{body_re}/", None,
                                   trace, traces)
        return ObjectiveResult(self.text, True, "", None, trace, traces)

    def _spread(self, lab) -> ObjectiveResult:
        from netlab.apps.probe import tcp_syn

        w = self.words
        n, tolerance, k = int(w[3]), float(w[6].rstrip("%")) / 100, int(w[8])
        svc_word = w[1] if w[1].startswith("svc/") else f"svc/{w[1]}"
        svc = lab.cluster.api.get("Service", *(lambda n_, _, s: (s or "default", n_))(*svc_word[4:].partition(".")))
        if svc is None:
            raise RefError(f"no Service \"{w[1]}\"")
        port = int((svc["spec"].get("ports") or [{"port": 80}])[0]["port"])
        ctx = _source(lab, w[11]) if len(w) == 12 else _source(lab, lab.spec.workstation)
        dst = parse_ip(svc["spec"]["clusterIP"])
        counts: dict[str, int] = {}
        first_fail: tuple[Hop | None, Trace | None] = (None, None)
        failures = 0
        all_traces: list[Trace] = []
        for _ in range(k):
            lab.world.take_traces()
            out = tcp_syn(ctx.ns, dst, port)
            traces = lab.world.take_traces()
            all_traces.extend(traces[:1])
            syn = traces[0] if traces else None
            if out.kind == "open" and syn is not None and syn.verdict is not None:
                counts[syn.verdict.ns] = counts.get(syn.verdict.ns, 0) + 1
            else:
                failures += 1
                if first_fail == (None, None):
                    first_fail = _first_drop(traces)
        summary = ", ".join(f"{name} {c}" for name, c in sorted(counts.items()))
        if failures:
            hop, trace = first_fail
            return ObjectiveResult(self.text, False, f"{failures} of {k} requests failed" + (f"; {_where(hop)}" if hop else ""),
                                   hop, trace, all_traces)
        if len(counts) != n:
            return ObjectiveResult(self.text, False, f"{len(counts)} endpoints answered, not {n}: {summary}", None,
                                   all_traces[0] if all_traces else None, all_traces)
        fair = k / n
        worst = max(abs(c - fair) / fair for c in counts.values())
        if worst > tolerance:
            return ObjectiveResult(self.text, False, f"uneven: {summary} (off by {worst:.0%}, allowed {tolerance:.0%})", None,
                                   all_traces[0] if all_traces else None, all_traces)
        return ObjectiveResult(self.text, True, summary, None, all_traces[0] if all_traces else None, all_traces)

    def _source_ip_preserved(self, lab) -> ObjectiveResult:
        w = self.words
        ctx = _source(lab, w[1])
        dst, port = _target(lab, w[2])
        try:
            src_ip = ctx.ns.route_output(dst).src  # the address the client's socket binds
        except Exception:
            src_ip = None
        reached, traces, out = _send(lab, ctx.ns, dst, port, "tcp")
        hop, trace = _first_drop(traces)
        syn = traces[0] if traces else None
        if not reached or syn is None or syn.verdict is None or not syn.verdict.delivered:
            return ObjectiveResult(self.text, False, _where(hop) or f"no answer ({out.kind})", hop, trace, traces)
        seen = next((h.frame for h in reversed(syn.hops) if h.ns == syn.verdict.ns and h.frame is not None
                     and hasattr(h.frame, "src")), None)
        from netlab.net.addr import fmt_ip

        sent = next((h.frame for h in syn.hops if h.frame is not None and hasattr(h.frame, "src") and h.frame.src), None)
        want = src_ip if src_ip is not None else (sent.src if sent is not None else None)
        if seen is None or want is None or seen.src != want:
            got = fmt_ip(seen.src) if seen is not None else "?"
            return ObjectiveResult(self.text, False, f"the server saw {got}, not {fmt_ip(want) if want else '?'} "
                                   "(source NAT on the way)", None, syn, traces)
        return ObjectiveResult(self.text, True, f"the server saw {fmt_ip(seen.src)}", None, syn, traces)

    def _rules_compared_per_packet(self, lab) -> ObjectiveResult:
        w = self.words
        limit = int(w[2])
        ctx = _source(lab, w[3])
        dst, port = _target(lab, w[4])
        reached, traces, out = _send(lab, ctx.ns, dst, port, "tcp")
        syn = traces[0] if traces else None
        hop, trace = _first_drop(traces)
        if not reached or syn is None:
            return ObjectiveResult(self.text, False, _where(hop) or f"no answer ({out.kind})", hop, trace, traces)
        n = syn.rules_compared()
        if n >= limit:
            return ObjectiveResult(self.text, False, f"the SYN was compared with {n} rules", None, syn, traces)
        return ObjectiveResult(self.text, True, f"{n} rules compared", None, syn, traces)


USAGE = {
    "reach": "reach FROM TO[:PORT] [tcp|udp|icmp]",
    "no-reach": "no-reach FROM TO[:PORT] [tcp|udp|icmp]",
    "resolve": "resolve NAME from FROM to ADDR",
    "http": "http FROM URL [-H 'Host: NAME'] expects STATUS [body ~ REGEX]",
    "spread": "spread SERVICE over N endpoints within PCT% after K requests [from FROM]",
    "source-ip-preserved": "source-ip-preserved FROM TO:PORT",
    "rules-compared-per-packet": "rules-compared-per-packet < N FROM TO:PORT",
}
CHECKS = tuple(USAGE)


def check_all(lab, objectives: list[Objective]) -> list[ObjectiveResult]:
    """Check every objective, each on its own copy of `lab`.

    Probes are real traffic: they leave conntrack entries, neighbour entries, counters
    and RNG draws behind. Sent into the learner's world they would change what the
    learner sees (and a save, which replays only what the learner typed, would no longer
    rebuild the same world). So each objective runs on a deep copy, taken after the
    controllers catch up: the learner's world keeps no trace of checking, checks do not
    depend on each other's order, and the answer is what the learner's next packet would
    meet. A copy of a small lab costs tens of milliseconds.
    """
    import copy

    results = []
    for objective in objectives:
        probe = copy.deepcopy(lab)
        probe.cluster.tick()
        results.append(objective.check(probe))
    return results
