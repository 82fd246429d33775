"""A fingerprint of a whole world: what a save promises to give back.

One short digest per part, so a mismatch can say *what* differs ("routes on
192.168.0.21") rather than only that something does. The parts are read the way a
learner reads them — the same formatters `ip`, `bridge`, `iptables-save`, `ipvsadm` and
`conntrack` print through (one source of truth per output format) — plus every API
object, every sysctl and file, each RNG stream's state and the simulated clock.

Reading runs the tools without a tick and without touching the session's history, so
fingerprinting changes nothing.
"""
from __future__ import annotations

import hashlib
import json

# (part name, command line) read in every namespace.
READS = (
    ("links", "ip -d link show"),
    ("addresses", "ip addr show"),
    ("routes", "ip route show table all"),
    ("neighbours", "ip neigh show"),
    ("fdb", "bridge fdb show"),
    ("iptables", "iptables-save -c"),
    ("ipvs", "ipvsadm -Ln"),
    ("conntrack", "conntrack -L"),
)


def _digest(value) -> str:
    if not isinstance(value, (str, bytes)):
        value = json.dumps(value, sort_keys=True, separators=(",", ":"), default=repr)
    if isinstance(value, str):
        value = value.encode()
    return hashlib.sha256(value).hexdigest()[:16]


def fingerprint(lab) -> dict[str, str]:
    """{part: digest}; equal dicts mean equal worlds, as far as anyone can look."""
    from netlab.shell.context import Context
    from netlab.shell.session import Session

    world = lab.world
    parts: dict[str, str] = {"clock": repr(world.clock)}
    for name in sorted(world._streams):
        parts[f"rng {name}"] = _digest(repr(world._streams[name].getstate()))
    api = lab.cluster.api
    for kind in sorted(api._by_kind):
        parts[f"api {kind}"] = _digest(api.list(kind))
    reader = Session(lab)
    for ns_name in sorted(world.namespaces):
        ns = world.namespaces[ns_name]
        ctx = Context("node", ns_name, ns, ns_name)
        for part, line in READS:
            if part in ("iptables", "conntrack") and ns.netfilter is None or part == "ipvs" and ns.ipvs is None:
                continue  # asking would load the module (as on Linux), and reading must change nothing
            out: list[str] = []
            reader.run_into(line, out, ctx)
            parts[f"{part} on {ns_name}"] = _digest("".join(out))
        parts[f"modules on {ns_name}"] = _digest([ns.netfilter is not None, ns.ipvs is not None])
        parts[f"sysctls on {ns_name}"] = _digest(sorted((str(k), str(v)) for k, v in dict(ns.sysctl).items()))
        parts[f"files on {ns_name}"] = _digest([(path, ns.read_file(path)) for path in sorted(ns.files)])
    return parts


def differences(a: dict[str, str], b: dict[str, str]) -> list[str]:
    """The parts that differ (or exist in only one), in a stable order."""
    return [k for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
