"""ping (iputils) and traceroute, with their real output."""
from __future__ import annotations

import math

from netlab.apps.probe import ping_once, udp_probe
from netlab.net.addr import fmt_ip
from netlab.net.packet import ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, ICMP_TIME_EXCEEDED, IPPROTO_UDP
from netlab.shell.registry import Invocation, command
from netlab.shell.resolve import getaddrinfo, resolve_host

FLAG_OPTIONS = set("4nqvDOAabdfLrRU")  # iputils options that take no value
PING_USAGE = "Usage\n  ping [options] <destination>"
UNREACH_TEXT = {0: "Destination Net Unreachable", 1: "Destination Host Unreachable", 2: "Destination Protocol Unreachable",
                3: "Destination Port Unreachable", 9: "Destination Net Prohibited", 10: "Destination Host Prohibited",
                13: "Packet filtered"}


def _ms(seconds: float) -> float:
    return seconds * 1000.0


@command("ping", summary="send ICMP echo requests")
def ping(inv: Invocation) -> int:
    args = inv.argv[1:]
    count, size, ttl, dest, df = 4, 56, 64, None, True
    quiet = False
    i = 0
    try:
        while i < len(args):
            a = args[i]
            if a in ("-c", "-s", "-t", "-W", "-i", "-w", "-M", "-I") and i + 1 < len(args):
                val = args[i + 1]
                i += 1
            elif len(a) > 2 and a[:2] in ("-c", "-s", "-t", "-W", "-i", "-w", "-M"):
                a, val = a[:2], a[2:]
            else:
                val = None
            if a == "-c":
                count = int(val)
                if count <= 0:
                    return inv.fail(f"ping: invalid argument: '{val}': out of range: 1 <= value <= 9223372036854775807", 1)
            elif a == "-s":
                size = int(val)
            elif a == "-t":
                ttl = int(val)
            elif a == "-M":
                df = val in ("do", "want")
            elif a in ("-W", "-i", "-w", "-I"):
                pass
            elif a == "-q":
                quiet = True
            elif a.startswith("-") and len(a) > 1 and all(ch in FLAG_OPTIONS for ch in a[1:]):
                quiet = quiet or "q" in a
            elif a.startswith("-") and a != "-":
                return inv.fail(f"ping: invalid option -- '{a.lstrip('-')[:1]}'\n{PING_USAGE}", 2)
            else:
                dest = a
            i += 1
    except ValueError:
        return inv.fail(f"ping: invalid argument: '{val}'", 1)
    if dest is None:
        return inv.fail(f"ping: usage error: Destination address required", 1)
    dst, why = getaddrinfo(inv.ctx, dest)
    if dst is None:
        return inv.fail(f"ping: {dest}: {why}", 2)
    ns = inv.ns
    world = inv.lab.world
    inv.print(f"PING {dest} ({fmt_ip(dst)}) {size}({size + 28}) bytes of data.")
    rtts: list[float] = []
    errors = 0
    sent = 0
    for seq in range(1, count + 1):
        out = ping_once(ns, dst, seq=seq, size=size, ttl=ttl, df=df)
        if out.kind == "local-error":
            if out.errno_text == "Message too long":
                # EMSGSIZE comes back per packet, after the header line (IP_PMTUDISC_DO).
                mtu = ns.route_output(dst).dev.mtu
                inv.print(f"ping: local error: message too long, mtu={mtu}")
                errors += 1
                sent += 1
                if seq < count:
                    world.advance(1.0)
                continue
            if sent == 0:
                inv.out.clear()
                return inv.fail(f"ping: connect: {out.errno_text}", 2)
            errors += 1
        sent += 1
        if out.kind == "reply":
            rtt = _ms(out.rtt)
            rtts.append(rtt)
            if not quiet:
                inv.print(f"{size + 8} bytes from {fmt_ip(out.reply.src)}: icmp_seq={seq} ttl={out.reply.ttl} time={rtt:.3f} ms")
        elif out.kind == "error":
            errors += 1
            icmp = out.reply.l4
            if icmp.type == ICMP_TIME_EXCEEDED:
                text = "Time to live exceeded"
            elif icmp.type == ICMP_DEST_UNREACH and icmp.code == ICMP_FRAG_NEEDED:
                text = f"Frag needed and DF set (mtu = {icmp.mtu})"
            else:
                text = UNREACH_TEXT.get(icmp.code, f"Dest Unreachable, Bad Code: {icmp.code}")
            if not quiet:
                inv.print(f"From {fmt_ip(out.reply.src)} icmp_seq={seq} {text}")
        elif out.kind == "local-error" and out.errno_text:
            pass
        if seq < count:
            world.advance(1.0)
    received = len(rtts)
    loss = round(100 * (sent - received) / sent) if sent else 0
    elapsed = (count - 1) * 1000 + (int(sum(rtts)) if rtts else 0) + (count - 1)
    inv.print("")
    inv.print(f"--- {dest} ping statistics ---")
    err_text = f", +{errors} errors" if errors else ""
    inv.print(f"{sent} packets transmitted, {received} received{err_text}, {loss}% packet loss, time {elapsed}ms")
    if rtts:
        avg = sum(rtts) / len(rtts)
        mdev = math.sqrt(max(sum(r * r for r in rtts) / len(rtts) - avg * avg, 0.0))
        inv.print(f"rtt min/avg/max/mdev = {min(rtts):.3f}/{avg:.3f}/{max(rtts):.3f}/{mdev:.3f} ms")
    elif errors and count > 1:
        inv.print(f"pipe {min(count, 4)}")
    return 0 if received else 1


@command("traceroute", summary="print the route packets take")
def traceroute(inv: Invocation) -> int:
    args = inv.argv[1:]
    numeric = False
    max_hops = 30
    dest = None
    i = 0
    while i < len(args):
        a = args[i]
        if a == "-n":
            numeric = True
        elif a == "-m" and i + 1 < len(args):
            max_hops = int(args[i + 1])
            i += 1
        elif a.startswith("-"):
            pass
        else:
            dest = a
        i += 1
    if dest is None:
        return inv.fail("Usage:\n  traceroute [ -46dFITnreAUDV ] [ -f first_ttl ] [ -g gate,... ] [ -i device ] [ -m max_ttl ] [ -N squeries ] [ -p port ] [ -t tos ] [ -l flow_label ] [ -w MAX,HERE,NEAR ] [ -q nqueries ] [ -s src_addr ] [ -z sendwait ] [ --fwmark=num ] host [ packetlen ]", 2)
    dst = resolve_host(inv.session, inv.ctx, dest)
    if dst is None:
        return inv.fail(f"{dest}: Name or service not known\nCannot handle \"host\" cmdline arg `{dest}' on position 1 (argc 1)", 2)
    ns = inv.ns
    inv.print(f"traceroute to {dest} ({fmt_ip(dst)}), {max_hops} hops max, 60 byte packets")
    port = 33434
    for ttl in range(1, max_hops + 1):
        cells = []
        who = None
        done = False
        for _ in range(3):
            out = udp_probe(ns, dst, port, ttl=ttl, payload_len=32)
            port += 1
            if out.kind == "local-error":
                inv.out.clear()
                return inv.fail(f"connect: {out.errno_text}", 1)
            if out.kind == "error":
                src = fmt_ip(out.reply.src)
                icmp = out.reply.l4
                mark = ""
                if icmp.type == ICMP_DEST_UNREACH:
                    done = True
                    mark = {0: " !N", 1: " !H", 3: "", 13: " !X", 9: " !N", 10: " !H"}.get(icmp.code, f" !<{icmp.code}>")
                if who != src:
                    cells.append(src if numeric else f"{src} ({src})")
                    who = src
                cells.append(f"{_ms(out.rtt):.3f} ms{mark}")
            elif out.kind == "reply":
                done = True
                cells.append(f"{_ms(out.rtt):.3f} ms")
            else:
                cells.append("*")
        inv.print(f"{ttl:2d}  " + "  ".join(cells).replace("*  *", "* *").replace("*  *", "* *"))
        if done:
            break
    return 0


__all__ = ["ping", "traceroute", "IPPROTO_UDP"]
