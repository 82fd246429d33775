"""What net-tools' route, ifconfig and arp share: exit codes and the name lookups
(gethostbyaddr in /etc/hosts, getnetbyaddr in /etc/networks) they make without -n."""
from __future__ import annotations

from netlab.shell.ip.common import parse_ipv4

E_OPTERR, E_USAGE, E_LOOKUP, E_SOCK = 3, 4, 6, 7
DEFAULT_NETWORKS = "default\t\t0.0.0.0\nloopback\t127.0.0.0\nlink-local\t169.254.0.0\n"


class ToolError(Exception):
    """Stop with net-tools' message and exit code (and, for route, its usage text)."""

    def __init__(self, message: str, code: int, usage: bool = False) -> None:
        super().__init__(message)
        self.message, self.code, self.usage = message, code, usage


def host_name(ns, ip: int) -> str | None:
    for line in (ns.read_file("/etc/hosts") or "").splitlines():
        words = line.split("#", 1)[0].split()
        if len(words) >= 2 and words[0].count(".") == 3 and parse_ipv4(words[0]) == ip:
            return words[1]
    return None


def net_name(ns, ip: int) -> str | None:
    for line in (ns.read_file("/etc/networks") or DEFAULT_NETWORKS).splitlines():
        words = line.split("#", 1)[0].split()
        if len(words) >= 2 and parse_ipv4(words[1]) == ip:
            return words[0]
    return None


def resolve(ns, name: str) -> int:
    """A dotted quad, a name in /etc/hosts, or a network in /etc/networks."""
    if name.count(".") == 3 and parse_ipv4(name) is not None:
        return parse_ipv4(name)
    for line in (ns.read_file("/etc/hosts") or "").splitlines():
        words = line.split("#", 1)[0].split()
        if len(words) >= 2 and name in words[1:] and parse_ipv4(words[0]) is not None:
            return parse_ipv4(words[0])
    for line in (ns.read_file("/etc/networks") or DEFAULT_NETWORKS).splitlines():
        words = line.split("#", 1)[0].split()
        if len(words) >= 2 and words[0] == name and parse_ipv4(words[1]) is not None:
            return parse_ipv4(words[1])
    raise ToolError(f"{name}: Unknown host", E_LOOKUP)
