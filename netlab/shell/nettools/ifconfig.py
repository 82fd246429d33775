"""net-tools `ifconfig`: one block per interface, and SIOCSIF* changes."""
from __future__ import annotations

from netlab.net import link_text as L
from netlab.net.addr import fmt_ip, mask
from netlab.net.rtnl import RtnlError
from netlab.net.rtnl_addr import AddrSpec, addr_del, addr_new
from netlab.net.rtnl_link import LinkChange, apply_change
from netlab.shell.ip.common import find_dev, parse_ipv4
from netlab.shell.registry import Invocation, command


# -- ifconfig -------------------------------------------------------------------------------------------
def scaled(n: int) -> str:
    """print_bytes_scaled: one decimal, truncated, binary units."""
    units = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")
    i = 0
    while i < len(units) - 1 and n >= 1024 ** (i + 1):
        i += 1
    d = 1024 ** i
    return f"{n // d}.{(n % d) * 10 // d} {units[i]}"


def ifconfig_block(dev) -> list[str]:
    value, names = L.ifflags_value(dev)
    lines = [f"{dev.name}: flags={value}<{','.join(names)}>  mtu {dev.mtu}"]
    primary = next((a for a in L.ordered_addrs(dev) if not a.label or a.label == dev.name), None)
    if primary is not None:
        line = f"        inet {fmt_ip(primary.ip)}  netmask {fmt_ip(mask(primary.plen))}"
        if dev.broadcast_capable and dev.kind != "loopback":
            line += f"  broadcast {fmt_ip(primary.broadcast or 0)}"
        lines.append(line)
    for addr, plen, scope in L.ipv6_addrs(dev):
        scopeid = "0x10<host>" if scope == "host" else "0x20<link>"
        lines.append(f"        inet6 {addr}  prefixlen {plen}  scopeid {scopeid}")
    if dev.kind == "loopback":
        lines.append(f"        loop  txqueuelen {dev.txqlen}  (Local Loopback)")
    else:
        lines.append(f"        ether {dev.mac}  txqueuelen {dev.txqlen}  (Ethernet)")
    s = dev.stats
    lines += [f"        RX packets {s.rx_packets}  bytes {s.rx_bytes} ({scaled(s.rx_bytes)})",
              f"        RX errors {s.rx_errors}  dropped {s.rx_dropped}  overruns 0  frame 0",
              f"        TX packets {s.tx_packets}  bytes {s.tx_bytes} ({scaled(s.tx_bytes)})",
              f"        TX errors {s.tx_errors}  dropped {s.tx_dropped} overruns 0  carrier 0  collisions 0", ""]
    return lines


@command("ifconfig", summary="show or configure network interfaces (net-tools)")
def ifconfig(inv: Invocation) -> int:
    args = inv.argv[1:]
    show_all = False
    while args and args[0] in ("-a", "-s", "-v"):
        show_all = show_all or args[0] == "-a"
        args = args[1:]
    ns = inv.ns
    if not args:
        for dev in sorted(ns.devices.values(), key=lambda d: d.name):
            if show_all or dev.admin_up:
                for line in ifconfig_block(dev):
                    inv.print(line)
        return 0
    name, rest = args[0], args[1:]
    dev = find_dev(ns, name) if name != "-a" else None
    if not rest:
        if dev is None:
            return inv.fail(f"{name}: error fetching interface information: Device not found", 1)
        for line in ifconfig_block(dev):
            inv.print(line)
        return 0
    if dev is None:
        return inv.fail("SIOCSIFFLAGS: No such device" if rest[-1] in ("up", "down") else
                        "SIOCSIFADDR: No such device", 255)
    return ifconfig_set(inv, dev, rest)


def ifconfig_set(inv: Invocation, dev, args: list[str]) -> int:
    """`ifconfig DEV [ADDR] [netmask M] [broadcast B] [mtu N] [hw ether MAC] [up|down] [-]promisc [-]arp`."""
    ns = inv.ns
    change = LinkChange()
    addr = None
    netmask = bcast = None
    i = 0
    while i < len(args):
        a = args[i]
        value = args[i + 1] if i + 1 < len(args) else None
        if a == "up":
            change.up = True
        elif a == "down":
            change.up = False
        elif a in ("promisc", "-promisc"):
            change.promisc = a == "promisc"
        elif a in ("arp", "-arp"):
            change.arp = a == "arp"
        elif a == "mtu" and value is not None:
            if not value.isdigit():
                return inv.fail("SIOCSIFMTU: Invalid argument", 255)
            change.mtu = int(value)
            i += 1
        elif a == "netmask" and value is not None:
            netmask = parse_ipv4(value)
            if netmask is None or mask(bin(netmask).count("1")) != netmask:
                return inv.fail("SIOCSIFNETMASK: Invalid argument", 255)
            i += 1
        elif a == "broadcast" and value is not None:
            bcast = parse_ipv4(value)
            i += 1
        elif a == "hw" and value == "ether" and i + 2 < len(args):
            change.mac = args[i + 2].lower()
            i += 2
        elif parse_ipv4(a) is not None and addr is None:
            addr = parse_ipv4(a)
        else:
            return inv.fail(f"{a}: Unknown host\nifconfig: `--help' gives usage information.", 1)
        i += 1
    try:
        if addr is not None or netmask is not None:
            primary = next((x for x in L.ordered_addrs(dev) if not x.secondary), None)
            ip = addr if addr is not None else (primary.ip if primary is not None else None)
            if ip is None:
                return inv.fail("SIOCSIFNETMASK: Cannot assign requested address", 255)
            plen = bin(netmask).count("1") if netmask is not None else (
                primary.plen if primary is not None and addr is None else _classful(ip))
            if primary is not None:
                addr_del(ns, dev, primary.ip, primary.plen)
            addr_new(ns, dev, AddrSpec(ip, plen, bcast if bcast is not None else
                                       ((ip | ~mask(plen)) & 0xFFFFFFFF if plen < 31 else None)))
        if change.up is None and addr is not None:
            change.up = True  # SIOCSIFADDR brings the interface up
        apply_change(ns, dev, change)
    except RtnlError as err:
        return inv.fail(f"SIOCSIFFLAGS: {err.strerror}", 255)
    return 0


def _classful(ip: int) -> int:
    first = ip >> 24
    return 8 if first < 128 else (16 if first < 192 else 24)


