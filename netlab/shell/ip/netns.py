"""`ip netns`: the named network namespaces a host sees under /var/run/netns (ipnetns.c).

On a node these are its pods' sandboxes (containerd names them `cni-<uuid>`) and any made
with `ip netns add`; a pod sees none. `ip netns exec NAME CMD` runs CMD on this host with
that namespace's network, as the real one does.
"""
from __future__ import annotations

import shlex

from netlab.net.link_text import netns_ids, visible_netns
from netlab.shell.ip.common import IpExit, IpOptions, matches, unknown_command

USAGE = """Usage:	ip netns list
	ip netns add NAME
	ip netns attach NAME PID
	ip netns set NAME NETNSID
	ip [-all] netns delete [NAME]
	ip netns identify [PID]
	ip netns pids NAME
	ip [-all] netns exec [NAME] cmd ...
	ip netns monitor
	ip netns list-id [target-nsid POSITIVE-INT] [nsid POSITIVE-INT]
NETNSID := auto | POSITIVE-INT"""


def usage():
    raise IpExit(USAGE, 255)


def host_ns(opts: IpOptions):
    """The namespace whose /var/run/netns this shell sees: the node's, even inside `ip netns exec`
    (which changes the network namespace, not the mount namespace); a pod has none."""
    ctx = opts.inv.ctx
    if ctx.kind != "node":
        return None
    cluster = getattr(opts.inv.lab, "cluster", None)
    node = cluster.nodes.get(ctx.name) if cluster is not None else None
    return node.ns if node is not None else ctx.ns


def named_netns(opts: IpOptions) -> dict:
    """Name → NetNS under /var/run/netns, newest first (readdir order of a tmpfs directory)."""
    ns = host_ns(opts)
    if ns is None:
        return {}
    found = {}
    cluster = getattr(opts.inv.lab, "cluster", None)
    node = next((n for n in cluster.nodes.values() if n.ns is ns), None) if cluster is not None else None
    if node is not None:
        for pod_ns in node.kubelet.pods.values():
            if pod_ns is not ns and pod_ns.netns_name:
                found[pod_ns.netns_name] = pod_ns
    prefix = ns.name + ":"
    for other in ns.world.namespaces.values():
        if other.kind == "netns" and other.name.startswith(prefix):
            found[other.netns_name] = other
    for name, other in visible_netns(ns).items():
        found.setdefault(name, other)
    return dict(reversed(list(found.items())))


def resolve(opts: IpOptions, name: str):
    target = named_netns(opts).get(name)
    if target is None:
        raise IpExit(f'Cannot open network namespace "{name}": No such file or directory', 255)
    return target


def netns_list(opts: IpOptions) -> int:
    ids = netns_ids(opts.ns)
    for name, other in named_netns(opts).items():
        opts.emit(f"{name} (id: {ids[other]})" if other in ids else name)
    return 0


def netns_add(opts: IpOptions, argv: list[str]) -> int:
    if len(argv) != 1:
        raise IpExit("No netns name specified" if not argv else USAGE, 1 if not argv else 255)
    name = argv[0]
    if "/" in name or name in (".", ".."):
        raise IpExit(f'Invalid netns name "{name}"', 1)
    if name in named_netns(opts):
        raise IpExit(f'Cannot create namespace file "/var/run/netns/{name}": File exists', 1)
    host = host_ns(opts) or opts.ns
    new = host.world.add_netns(f"{host.name}:{name}", hostname=host.hostname, kind="netns")
    new.netns_name = name
    new.set_link(new.devices["lo"], up=False)  # a fresh namespace's lo is down
    return 0


def netns_del(opts: IpOptions, argv: list[str]) -> int:
    if not argv:
        raise IpExit("No netns name specified", 1)
    name = argv[0]
    target = named_netns(opts).get(name)
    if target is None:
        raise IpExit(f'Cannot remove namespace file "/var/run/netns/{name}": No such file or directory', 1)
    if target.kind == "netns":
        target.world.remove_netns(target.name)
    return 0  # a pod's sandbox outlives its name: the pause container holds it


def netns_exec(opts: IpOptions, argv: list[str]) -> int:
    if not argv:
        raise IpExit("No netns name specified", 1)
    if len(argv) < 2:
        raise IpExit("No command specified", 1)
    target = resolve(opts, argv[0])
    inv = opts.inv
    from netlab.shell.context import Context

    ctx = Context(inv.ctx.kind, inv.ctx.name, target, inv.ctx.node, kubectl=inv.ctx.kubectl)
    line = " ".join(shlex.quote(a) for a in argv[1:])
    out: list[str] = []
    code = inv.session.run_into(line, out, ctx, inv.stdin)
    opts.out.extend(out)
    return code


def netns_identify(opts: IpOptions) -> int:
    for name, other in named_netns(opts).items():
        if other is opts.ns:
            opts.emit(name)
    return 0


def netns_list_id(opts: IpOptions) -> int:
    names = {other: name for name, other in named_netns(opts).items()}
    for other, nsid in sorted(netns_ids(opts.ns).items(), key=lambda kv: kv[1]):
        opts.emit(f"nsid {nsid} " + (f"(iproute2 netns name: {names[other]})" if other in names else ""))
    return 0


def do_netns(opts: IpOptions, argv: list[str]) -> int:
    if not argv:
        return netns_list(opts)
    word, rest = argv[0], argv[1:]
    if matches(word, "list") or matches(word, "show") or word == "lst":
        return netns_list(opts)
    if word == "list-id":
        return netns_list_id(opts)
    if matches(word, "help"):
        usage()
    if matches(word, "add"):
        return netns_add(opts, rest)
    if matches(word, "delete"):
        return netns_del(opts, rest)
    if matches(word, "identify"):
        return netns_identify(opts)
    if matches(word, "exec"):
        return netns_exec(opts, rest)
    if matches(word, "pids"):
        resolve(opts, rest[0]) if rest else None
        return 0
    unknown_command(word, "netns")
