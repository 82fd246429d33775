"""rtnetlink: what the kernel answers when a tool asks it to change a table.

`ip`, `bridge`, `route`, `arp` and `ifconfig` are front ends; the kernel decides. The
`rtnl_*` modules beside this one do what the kernel's netlink (and ioctl) handlers do for
routes, links, addresses, neighbours and FDB entries: validate completely, then change the
tables, or raise `RtnlError` and change nothing.

`RtnlError` carries the errno and, where the kernel sets one, the extack message, so each
tool can print it its own way: iproute2 prints `Error: <extack>.` or `RTNETLINK answers:
<strerror>`, net-tools prints `SIOCADDRT: <strerror>`.
"""
from __future__ import annotations

from netlab.net.errors import NetError

STRERROR = {
    "EPERM": "Operation not permitted",
    "ENOENT": "No such file or directory",
    "ESRCH": "No such process",
    "ENXIO": "No such device or address",
    "EBUSY": "Device or resource busy",
    "EEXIST": "File exists",
    "ENODEV": "No such device",
    "EINVAL": "Invalid argument",
    "ERANGE": "Numerical result out of range",
    "ELOOP": "Too many levels of symbolic links",
    "EOPNOTSUPP": "Operation not supported",
    "EADDRINUSE": "Address already in use",
    "EADDRNOTAVAIL": "Cannot assign requested address",
    "ENETDOWN": "Network is down",
    "ENETUNREACH": "Network is unreachable",
    "EHOSTUNREACH": "No route to host",
    "EACCES": "Permission denied",
    "EAFNOSUPPORT": "Address family not supported by protocol",
}

# The errno text the socket layer reports for a route lookup failure (RouteError.errno_text).
ERRNO_OF_TEXT = {text: name for name, text in STRERROR.items()}


class RtnlError(NetError):
    """A netlink request the kernel refused. `message` is what iproute2 prints."""

    def __init__(self, errno: str, extack: str | None = None) -> None:
        self.errno = errno
        self.extack = extack
        super().__init__(f"Error: {extack}." if extack else f"RTNETLINK answers: {STRERROR[errno]}", 2)

    @property
    def strerror(self) -> str:
        return STRERROR[self.errno]
