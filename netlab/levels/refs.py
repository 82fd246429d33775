"""Names in level files that only exist once the lab is built.

Pod names carry generated suffixes and veth names are random, so a level file names
things by what is stable:

    pod reference   [NS/]LABEL=VALUE[,LABEL=VALUE...][@NODE][#N]
                    the N-th (from 0, by name) pod matching the labels, on NODE if given;
                    a plain pod name or `NS/NAME` works too
    ${pod:REF}      the pod's name (`NS/NAME` outside the default namespace)
    ${ip:REF}       the pod's IP (a node's IP for a node)
    ${node:REF}     the node the pod runs on
    ${veth:REF}     the host end of the pod's veth
    ${mac:NODE/DEV}  a device's MAC address (a node's flannel.1, say)
    ${chain:NODE/svc/NAME[.NS]}    kube-proxy's KUBE-SVC-... chain for a Service on NODE
    ${chain:NODE/sep/NAME[.NS]#N}  the N-th KUBE-SEP-... chain that KUBE-SVC chain jumps to
    ${svc:NAME[.NS]}       a Service's ClusterIP
    ${nodeport:NAME[.NS]}  its first port's nodePort

Everything resolves through the API store and the dataplane as they are when asked.
"""
from __future__ import annotations

import re

from netlab.net.addr import AddrError, fmt_ip, parse_ip

TEMPLATE = re.compile(r"\$\{(\w+):([^}]*)\}")


class RefError(Exception):
    """A reference that names nothing in this lab; the message is one clear line."""


def _pods(lab, namespace: str | None = None) -> list[dict]:
    return sorted(lab.cluster.api.list("Pod", namespace), key=lambda p: (p["metadata"].get("namespace", "default"),
                                                                          p["metadata"]["name"]))


def find_pod(lab, ref: str) -> dict:
    """The pod a reference names (see the module docstring)."""
    text = ref
    index = 0
    if "#" in text:
        text, _, n = text.rpartition("#")
        if not n.isdigit():
            raise RefError(f"\"{ref}\": the part after # must be a number")
        index = int(n)
    node = None
    if "@" in text:
        text, _, node = text.partition("@")
    namespace = None
    if "/" in text:
        namespace, _, text = text.partition("/")
    if "=" not in text:
        for pod in _pods(lab, namespace or "default"):
            if pod["metadata"]["name"] == text:
                return pod
        raise RefError(f"no pod named \"{ref}\"")
    want = dict(part.split("=", 1) for part in text.split(","))
    matches = [p for p in _pods(lab, namespace or "default")
               if all((p["metadata"].get("labels") or {}).get(k) == v for k, v in want.items())
               and (node is None or p.get("spec", {}).get("nodeName") == node)]
    if index >= len(matches):
        where = f" on {node}" if node else ""
        raise RefError(f"no pod #{index} matching {text}{where} (found {len(matches)})")
    return matches[index]


def pod_key(pod: dict) -> str:
    ns = pod["metadata"].get("namespace", "default")
    return pod["metadata"]["name"] if ns == "default" else f"{ns}/{pod['metadata']['name']}"


def context_name(lab, word: str) -> str:
    """A context for Session.enter: a node (by name or IP) stays as is; a pod reference
    becomes the pod's name."""
    if word in lab.cluster.nodes or word in lab.world.namespaces:
        return word
    if any(fmt_ip(n.spec.ip) == word for n in lab.cluster.nodes.values()):
        return word
    return pod_key(find_pod(lab, word))


def _service(lab, arg: str) -> dict:
    name, _, namespace = arg.partition(".")
    svc = lab.cluster.api.get("Service", namespace or "default", name)
    if svc is None:
        raise RefError(f"no Service \"{arg}\"")
    return svc


def address(lab, word: str) -> str:
    """An IPv4 address for a TO word: an address, `svc/NAME[.NS]`, a node, or a pod reference."""
    try:
        parse_ip(word)
        return word
    except AddrError:
        pass
    if word.startswith("svc/"):
        return _service(lab, word[4:])["spec"]["clusterIP"]
    node = lab.cluster.nodes.get(word)
    if node is not None:
        return fmt_ip(node.spec.ip)
    ip = find_pod(lab, word).get("status", {}).get("podIP")
    if not ip:
        raise RefError(f"pod \"{word}\" has no IP yet")
    return ip


def _veth(lab, ref: str) -> str:
    pod = find_pod(lab, ref)
    ns = lab.cluster.pod_ns.get(f"{pod['metadata'].get('namespace', 'default')}/{pod['metadata']['name']}")
    dev = ns.devices.get("eth0") if ns is not None else None
    peer = getattr(dev, "peer", None)
    if peer is None:
        raise RefError(f"pod \"{ref}\" has no veth")
    return peer.name


def _chain(lab, arg: str) -> str:
    """kube-proxy's chains are named by a hash; find them in the node's nat table the way a
    learner would, by the Service's comment in KUBE-SERVICES."""
    import re as _re

    node, _, rest = arg.partition("/")
    what, _, name = rest.partition("/")
    index = 0
    if "#" in name:
        name, _, n = name.partition("#")
        index = int(n) if n.isdigit() else 0
    svc, _, namespace = name.partition(".")
    text = lab.sh("iptables-save -t nat", on=node).output
    svc_chain = None
    for line in text.splitlines():
        if line.startswith("-A KUBE-SERVICES") and f'"{namespace or "default"}/{svc}' in line:
            m = _re.search(r"-j (KUBE-SVC-\w+)", line)
            if m:
                svc_chain = m.group(1)
                break
    if svc_chain is None:
        raise RefError(f"no KUBE-SVC chain for {name} on {node}")
    if what == "svc":
        return svc_chain
    seps = [m.group(1) for line in text.splitlines() if line.startswith(f"-A {svc_chain} ")
            for m in [_re.search(r"-j (KUBE-SEP-\w+)", line)] if m]
    if index >= len(seps):
        raise RefError(f"{svc_chain} on {node} has {len(seps)} endpoint chains, not #{index}")
    return seps[index]


def expand(lab, text: str) -> str:
    """Replace every ${kind:arg} in a line; RefError names the first that resolves to nothing."""
    def one(m: re.Match) -> str:
        kind, arg = m.group(1), m.group(2)
        if kind == "pod":
            return pod_key(find_pod(lab, arg))
        if kind == "ip":
            return address(lab, arg)
        if kind == "node":
            return find_pod(lab, arg).get("spec", {}).get("nodeName", "")
        if kind == "veth":
            return _veth(lab, arg)
        if kind == "mac":
            node, _, dev = arg.rpartition("/")
            ns = lab.world.namespaces.get(node)
            device = ns.devices.get(dev) if ns is not None else None
            if device is None:
                raise RefError(f"no device {dev} on {node}")
            return device.mac
        if kind == "chain":
            return _chain(lab, arg)
        if kind == "svc":
            return _service(lab, arg)["spec"]["clusterIP"]
        if kind == "nodeport":
            ports = _service(lab, arg)["spec"].get("ports") or [{}]
            return str(ports[0].get("nodePort", ""))
        raise RefError(f"unknown reference ${{{kind}:...}} (use pod, ip, node, veth, mac, svc or nodeport)")

    return TEMPLATE.sub(one, text)
