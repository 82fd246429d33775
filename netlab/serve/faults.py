"""Faults an instructor can inject into a running lab, as the shell lines that cause
them (run from the workstation, like a colleague's careless change). Which route or
endpoint is hit is read off the lab at the time, so a fault fits whatever lab is in
play."""
from __future__ import annotations

import json

from netlab.net.addr import fmt_prefix

DENY_POLICY = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
               "metadata": {"name": "deny-all-ingress", "namespace": "default"},
               "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}}


class NoTarget(Exception):
    """This lab has nothing the fault could hit (one line, shown to the instructor)."""


def fault_lines(lab, fault: str) -> list[str]:
    if fault == "drop-route":
        return [_drop_route(lab)]
    if fault == "delete-endpoint":
        return [_delete_endpoint(lab)]
    if fault == "deny-policy":
        return [f"echo '{json.dumps(DENY_POLICY, separators=(',', ':'))}' | kubectl apply -f -"]
    raise NoTarget(f"unknown fault {fault!r}")


def _drop_route(lab) -> str:
    """The route a node has to other nodes' pods: per node (flannel.1 or host-gw's via),
    or flannel 0.7's one route for the whole pod network."""
    from netlab.net.addr import mask

    nodes = list(lab.cluster.nodes.values())
    for node in reversed(nodes):
        own = node.spec.pod_cidr
        for route in node.ns.fib.all_routes():
            if route.plen == 0 or route.plen == 32 or (route.dst, route.plen) == own:
                continue
            covers = [n for n in nodes if n is not node and n.spec.pod_cidr[1] >= route.plen
                      and n.spec.pod_cidr[0] & mask(route.plen) == route.dst]
            if covers:
                return f"ssh {node.spec.name} ip route del {fmt_prefix(route.dst, route.plen)}"
    raise NoTarget("no node has a route to another node's pods")


def _delete_endpoint(lab) -> str:
    """Take one ready pod out of a Service by removing the label its selector needs."""
    api = lab.cluster.api
    services = sorted(api.list("Service"), key=lambda s: (s["metadata"].get("namespace") != "default",
                                                          s["metadata"]["name"]))
    for svc in services:
        selector = svc.get("spec", {}).get("selector") or {}
        meta = svc["metadata"]
        if not selector or meta.get("namespace") == "kube-system":
            continue
        endpoints = api.get("Endpoints", meta.get("namespace", "default"), meta["name"]) or {}
        for subset in endpoints.get("subsets") or []:
            for address in subset.get("addresses") or []:
                ref = address.get("targetRef") or {}
                if ref.get("kind") == "Pod":
                    key = sorted(selector)[0]
                    return f"kubectl label pod {ref['name']} -n {ref.get('namespace', 'default')} {key}-"
    raise NoTarget("no Service has a pod endpoint to take away")
