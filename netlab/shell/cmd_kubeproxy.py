"""`kube-proxy` inside a kube-proxy pod (`kubectl exec -n kube-system kube-proxy-... -- kube-proxy
--cleanup`): the binary is only there, as on a kubeadm node, and the pod shares the node's
network namespace, so its cleanup is the node's."""
from __future__ import annotations

from netlab.shell.registry import Invocation, command

USAGE = """The Kubernetes network proxy runs on each node. This
reflects services as defined in the Kubernetes API on each node and can do simple
TCP, UDP, and SCTP stream forwarding or round robin TCP, UDP, and SCTP forwarding across a set of backends.

Usage:
  kube-proxy [flags]

Flags:
      --cleanup          If true cleanup iptables and ipvs rules and exit.
      --config string    The path to the configuration file.
  -h, --help             help for kube-proxy
      --version          Print version information and quit"""


@command("kube-proxy", where=("pod",), summary="the Kubernetes network proxy (in a kube-proxy pod)")
def kube_proxy(inv: Invocation) -> int:
    cluster = inv.lab.cluster
    namespace, _, name = inv.ctx.name.partition("/")
    pod = cluster.api.get("Pod", namespace, name) or {}
    if (pod.get("metadata", {}).get("labels") or {}).get("k8s-app") != "kube-proxy":
        inv.print(inv.ctx.not_found(inv.argv[0]))
        return 127
    args = inv.argv[1:]
    if args in (["-h"], ["--help"]):
        return inv.fail(USAGE, 0)
    if args == ["--version"]:
        return inv.fail(f"Kubernetes {cluster.version}", 0)
    if args in (["--cleanup"], ["--cleanup=true"]):
        from netlab.k8s.kubeproxy.cleanup import cleanup

        cleanup(inv.ctx.ns)
        return 0
    for a in args:
        if a.startswith("-") and a.split("=", 1)[0] not in ("--cleanup", "--config", "--hostname-override", "-v", "--v"):
            return inv.fail(f"Error: unknown flag: {a.split('=', 1)[0]}\n{USAGE}", 1)
    return inv.fail("netlab: kube-proxy already runs in this pod (its container's process); "
                    "`kube-proxy --cleanup` removes the rules it wrote", 1)
