"""IPv4 and MAC address values.

Addresses are kept as ints on the hot path (route lookup masks them); they are
formatted only when a person reads them.
"""
from __future__ import annotations

from functools import lru_cache


class AddrError(ValueError):
    """An address or prefix that does not parse."""


@lru_cache(maxsize=65536)  # kube-proxy's syncs parse the same ClusterIPs and endpoints again and again
def parse_ip(text: str) -> int:
    parts = text.split(".")
    if len(parts) != 4:
        raise AddrError(text)
    value = 0
    for part in parts:
        if not part.isdigit() or len(part) > 3:
            raise AddrError(text)
        octet = int(part)
        if octet > 255:
            raise AddrError(text)
        value = (value << 8) | octet
    return value


@lru_cache(maxsize=65536)
def fmt_ip(value: int) -> str:
    return f"{value >> 24 & 255}.{value >> 16 & 255}.{value >> 8 & 255}.{value & 255}"


def mask(plen: int) -> int:
    return (0xFFFFFFFF << (32 - plen)) & 0xFFFFFFFF if plen else 0


def parse_prefix(text: str, *, default_plen: int = 32, strict: bool = False) -> tuple[int, int]:
    """Parse `a.b.c.d[/n]`; returns (address, plen). `default` means 0.0.0.0/0.

    With strict=False the host bits are kept (as `ip addr add` wants); callers that
    need a network apply `network()`.
    """
    if text in ("default", "all", "any"):
        return 0, 0
    ip_text, slash, plen_text = text.partition("/")
    ip = parse_ip(ip_text)
    if slash:
        if not plen_text.isdigit() or int(plen_text) > 32:
            raise AddrError(text)
        plen = int(plen_text)
    else:
        plen = default_plen
    if strict and ip & ~mask(plen) & 0xFFFFFFFF:
        raise AddrError(text)
    return ip, plen


def network(ip: int, plen: int) -> int:
    return ip & mask(plen)


def broadcast(ip: int, plen: int) -> int:
    return (ip | ~mask(plen)) & 0xFFFFFFFF


def fmt_prefix(ip: int, plen: int) -> str:
    return f"{fmt_ip(ip)}/{plen}"


def in_prefix(ip: int, net: int, plen: int) -> bool:
    return (ip & mask(plen)) == net




BROADCAST_MAC = "ff:ff:ff:ff:ff:ff"
ZERO_MAC = "00:00:00:00:00:00"


def parse_mac(text: str) -> str:
    parts = text.lower().split(":")
    if len(parts) != 6 or any(len(p) not in (1, 2) for p in parts):
        raise AddrError(text)
    try:
        octets = [int(p, 16) for p in parts]
    except ValueError:
        raise AddrError(text) from None
    return ":".join(f"{o:02x}" for o in octets)


def is_multicast_mac(mac: str) -> bool:
    return int(mac[:2], 16) & 1 == 1


def random_mac(rng, prefix: str | None = None) -> str:
    """A locally administered unicast MAC (as the kernel's eth_random_addr), or one under `prefix`."""
    if prefix:
        fixed = prefix.split(":")
        rest = [rng.randrange(256) for _ in range(6 - len(fixed))]
        return ":".join(fixed + [f"{o:02x}" for o in rest])
    octets = [rng.randrange(256) for _ in range(6)]
    octets[0] = (octets[0] & 0xFE) | 0x02
    return ":".join(f"{o:02x}" for o in octets)
