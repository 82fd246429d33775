"""Where a command runs: a node (bash, root) or a pod (busybox sh)."""
from __future__ import annotations

from dataclasses import dataclass

from netlab.net.netns import NetNS


@dataclass
class Context:
    kind: str  # "node" or "pod"
    name: str  # node name, or pod key "namespace/name"
    ns: NetNS
    node: str  # the node it runs on
    kubectl: bool = False  # kubectl is configured here (the admin workstation)

    @property
    def prompt(self) -> str:
        if self.kind == "pod":
            return "/ # "
        return f"root@{self.ns.hostname}:~# "

    @property
    def shell(self) -> str:
        return "sh" if self.kind == "pod" else "bash"

    def not_found(self, cmd: str) -> str:
        if self.kind == "pod":
            return f"sh: {cmd}: not found"
        return f"bash: {cmd}: command not found"

    @property
    def pod_name(self) -> str:
        return self.name.split("/", 1)[1] if "/" in self.name else self.name
