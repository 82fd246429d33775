"""Errors with the words the real kernel and tools use.

`NetError.message` is exactly what `ip` (or the tool named) prints; the shell
prints it as is. Raising one must leave every table unchanged.
"""
from __future__ import annotations


class NetError(Exception):
    def __init__(self, message: str, exit_code: int = 2):
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


# The netlink answers iproute2 prints for common errno values.
EEXIST = "RTNETLINK answers: File exists"
ESRCH = "RTNETLINK answers: No such process"
ENODEV = "RTNETLINK answers: No such device"
ENETUNREACH = "RTNETLINK answers: Network is unreachable"
EADDRNOTAVAIL = "RTNETLINK answers: Cannot assign requested address"
EINVAL = "RTNETLINK answers: Invalid argument"
EOPNOTSUPP = "RTNETLINK answers: Operation not supported"
EBUSY = "RTNETLINK answers: Device or resource busy"
NH_INVALID_GW = "Error: Nexthop has invalid gateway."
NH_DEV_DOWN = "Error: Nexthop device is not up."
