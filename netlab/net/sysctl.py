"""/proc/sys/net of one namespace: the keys NetNS.sysctl holds, plus the per-device ones the
kernel makes for every device (net.ipv4.conf.<dev>.*, net.ipv4.neigh.<dev>.*).

Keys are in sysctl's dotted form. A dot inside a component (flannel.1) is written `/`
there, as `sysctl -a` prints `net.ipv4.conf.flannel/1.forwarding`; `path_key` and `dotted`
convert between that and the /proc/sys path. Writing net.ipv4.ip_forward also sets every
conf.*.forwarding and the reverse, as devinet_sysctl_forward does.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from netlab.net.netns import NetNS

CONF_DEFAULTS = {
    "accept_local": "0", "accept_redirects": "1", "arp_announce": "0", "arp_filter": "0", "arp_ignore": "0",
    "forwarding": None, "proxy_arp": "0", "route_localnet": "0", "rp_filter": "0", "send_redirects": "1",
    "shared_media": "1",
}
NEIGH_DEFAULTS = {"base_reachable_time_ms": "30000", "gc_stale_time": "60", "mcast_solicit": "3",
                  "retrans_time_ms": "1000", "ucast_solicit": "3"}
NOT_INTEGER = {"net.ipv4.ip_local_port_range"}


def dotted(path: str) -> str:
    """`net/ipv4/conf/flannel.1/forwarding` → `net.ipv4.conf.flannel/1.forwarding` (slashdot)."""
    return path.translate(str.maketrans("./", "/."))


def key_of(text: str) -> str:
    """sysctl accepts either form: a name whose first separator is `/` is already a path."""
    first = next((c for c in text if c in "./"), ".")
    return dotted(text) if first == "/" else text


def _device_keys(ns: NetNS) -> dict[str, str]:
    out = {}
    forwarding = ns.sysctl.get("net.ipv4.ip_forward", "0")
    for name in ["all", "default"] + sorted(ns.devices):
        comp = name.replace(".", "/")
        for leaf, value in CONF_DEFAULTS.items():
            key = f"net.ipv4.conf.{comp}.{leaf}"
            default = ns.sysctl.get(f"net.ipv4.conf.default.{leaf}", value) if name != "default" else value
            out[key] = forwarding if leaf == "forwarding" else (default or "0")
        if name != "all":
            for leaf, value in NEIGH_DEFAULTS.items():
                out[f"net.ipv4.neigh.{comp}.{leaf}"] = value
    return out


def sysctl_items(ns: NetNS) -> dict[str, str]:
    """Every key and its value, sorted as /proc/sys lists them."""
    items = _device_keys(ns)
    items.update(ns.sysctl)
    return dict(sorted(items.items(), key=lambda kv: kv[0].split(".")))


def sysctl_get(ns: NetNS, key: str) -> str | None:
    if key in ns.sysctl:
        return ns.sysctl[key]
    return _device_keys(ns).get(key)


def is_directory(ns: NetNS, key: str) -> bool:
    prefix = key.rstrip(".") + "."
    return any(k.startswith(prefix) for k in sysctl_items(ns))


def sysctl_set(ns: NetNS, key: str, value: str) -> str:
    """Write one key; returns the value as it reads back. ValueError if the kernel refuses it."""
    words = value.split()
    if key not in NOT_INTEGER:
        if len(words) != 1 or not words[0].lstrip("-").isdigit():
            raise ValueError("Invalid argument")
        value = str(int(words[0]))
    else:
        value = "\t".join(words)
    if key in ("net.ipv4.ip_forward", "net.ipv4.conf.all.forwarding"):
        ns.sysctl["net.ipv4.ip_forward"] = value
        for k in [k for k in ns.sysctl if k.startswith("net.ipv4.conf.") and k.endswith(".forwarding")]:
            del ns.sysctl[k]  # every device follows the global switch
        return value
    ns.sysctl[key] = value
    return value
