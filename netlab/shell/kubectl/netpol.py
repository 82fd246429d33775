"""`kubectl describe networkpolicy`, worded as kubectl's describeNetworkPolicy prints it (the
`get` row, NAME/POD-SELECTOR/AGE, is in get.py with the other rows)."""
from __future__ import annotations

import time

from netlab.k8s.policy import selector_text
from netlab.shell.kubectl.get import LAB_EPOCH
from netlab.shell.kubectl.verbs import _kv, describe_block


def _port(p: dict) -> str:
    port = p.get("port")
    text = "<nil>" if port is None else str(port)
    if p.get("endPort") is not None:
        text += f"-{p['endPort']}"
    return f"{text}/{p.get('protocol') or 'TCP'}"


def _peers(rules: list, word: str, side: str, anyone: str) -> list[str]:
    ind = "    "
    if not rules:
        return [f"{ind}<none> (Selected pods are isolated for {word} connectivity)"]
    out: list[str] = []
    for i, rule in enumerate(rules):
        ports = rule.get("ports") or []
        if not ports:
            out.append(f"{ind}To Port: <any> (traffic allowed to all ports)")
        out += [f"{ind}To Port: {_port(p)}" for p in ports]
        peers = rule.get(side) or []
        if not peers:
            out.append(f"{ind}{side.capitalize()}: <any> ({anyone})")
        for peer in peers:
            out.append(f"{ind}{side.capitalize()}:")
            pod, nsel, block = peer.get("podSelector"), peer.get("namespaceSelector"), peer.get("ipBlock")
            if nsel is not None:
                out.append(f"  {ind}NamespaceSelector: {selector_text(nsel)}")
            if pod is not None:
                out.append(f"  {ind}PodSelector: {selector_text(pod)}")
            if pod is None and nsel is None and block is not None:
                out.append(f"  {ind}IPBlock:")
                out.append(f"    {ind}CIDR: {block.get('cidr', '')}")
                out.append(f"    {ind}Except: {', '.join(block.get('except') or [])}")
        if i != len(rules) - 1:
            out.append(f"{ind}----------")
    return out


def describe_networkpolicy(obj: dict) -> str:
    meta = obj["metadata"]
    spec = obj.get("spec") or {}
    created = time.strftime("%Y-%m-%d %H:%M:%S +0000 UTC", time.gmtime(LAB_EPOCH + int(meta.get("creationTimestamp") or 0)))
    head = describe_block([("Name", meta["name"]), ("Namespace", meta.get("namespace", "default")),
                           ("Created on", created), ("Labels", _kv(meta.get("labels"))),
                           ("Annotations", _kv(meta.get("annotations")))])
    sel = spec.get("podSelector") or {}
    lines = ["Spec:"]
    if not sel.get("matchLabels") and not sel.get("matchExpressions"):
        lines.append("  PodSelector:     <none> (Allowing the specific traffic to all pods in this namespace)")
    else:
        lines.append(f"  PodSelector:     {selector_text(sel)}")
    types = spec.get("policyTypes") or []
    if "Ingress" in types:
        lines.append("  Allowing ingress traffic:")
        lines += _peers(spec.get("ingress") or [], "ingress", "from", "traffic not restricted by source")
    else:
        lines.append("  Not affecting ingress traffic")
    if "Egress" in types:
        lines.append("  Allowing egress traffic:")
        lines += _peers(spec.get("egress") or [], "egress", "to", "traffic not restricted by destination")
    else:
        lines.append("  Not affecting egress traffic")
    lines.append(f"  Policy Types: {', '.join(types)}")
    return head + "\n".join(lines) + "\n"
