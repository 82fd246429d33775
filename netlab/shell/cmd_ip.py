"""`ip` (iproute2). The work is in the netlab.shell.ip package, one module per object."""
from __future__ import annotations

from netlab.shell.ip import ip_main
from netlab.shell.registry import Invocation, command


@command("ip", summary="show and change routes, links, addresses, neighbours, namespaces")
def ip(inv: Invocation) -> int:
    return ip_main(inv)
