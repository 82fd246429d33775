"""ss (iproute2): the sockets listening in this namespace."""
from __future__ import annotations

from netlab.net.packet import IPPROTO_TCP, IPPROTO_UDP
from netlab.shell.registry import Invocation, command

PIDS = {"kube-apiserver": 1021, "kubelet": 812, "kube-proxy": 2154, "vxlan": 0, "nginx": 1, "serve_hostname": 1}


@command("ss", summary="show sockets")
def ss(inv: Invocation) -> int:
    flags = "".join(a.lstrip("-") for a in inv.argv[1:] if a.startswith("-") and not a.startswith("--"))
    bad = [c for c in flags if c not in "tulnpaH4"]
    if bad:
        return inv.fail(f"ss: invalid option -- '{bad[0]}'\nUsage: ss [ OPTIONS ]", 1)
    tcp = "t" in flags or ("u" not in flags)
    udp = "u" in flags
    rows = []
    for (proto, port), sock in sorted(inv.ns.sockets.items(), key=lambda kv: (kv[0][0], abs(kv[0][1]))):
        if port < 0:
            continue  # connected client sockets are gone by the time a command returns
        if proto == IPPROTO_TCP and not tcp or proto == IPPROTO_UDP and not udp:
            continue
        state = "LISTEN" if proto == IPPROTO_TCP else "UNCONN"
        process = ""
        if "p" in flags and sock.owner and sock.owner != "vxlan":
            process = f'users:(("{sock.owner}",pid={PIDS.get(sock.owner, 1)},fd=3))'
        rows.append((state, "0", "4096" if proto == IPPROTO_TCP else "0", "0.0.0.0" if sock.owner != "vxlan" else "0.0.0.0",
                     str(port), "0.0.0.0", "*", process, "tcp" if proto == IPPROTO_TCP else "udp"))
    both = tcp and udp
    head = (["Netid"] if both else []) + ["State", "Recv-Q", "Send-Q", "Local Address", "Port", "Peer Address", "Port", "Process"]
    w = {
        "netid": max([5] + [len(r[8]) for r in rows]),
        "state": max([5] + [len(r[0]) for r in rows]),
        "rq": 6, "sq": 6,
        "la": max([13] + [len(r[3]) for r in rows]), "lp": max([4] + [len(r[4]) for r in rows]),
        "pa": max([12] + [len(r[5]) for r in rows]), "pp": max([4] + [len(r[6]) for r in rows]),
        "proc": max([7] + [len(r[7]) for r in rows]),
    }

    def line(netid, state, rq, sq, la, lp, pa, pp, proc, header=False):
        text = f"{netid:<{w['netid']}} " if both else ""
        text += f"{state:<{w['state']}} {rq:<{w['rq']}} {sq:<{w['sq']}} "
        if header:
            text += f"{la:>{w['la']}}:{lp:<{w['lp']}} {pa:>{w['pa']}}:{pp:<{w['pp']}}{proc}"
        else:
            text += f"{la:>{w['la']}}:{lp:<{w['lp']}} {pa:>{w['pa']}}:{pp:<{w['pp']}}{proc:<{w['proc']}}"
        return text

    if "H" not in flags:
        inv.print(line("Netid", "State", "Recv-Q", "Send-Q", "Local Address", "Port", "Peer Address", "Port", "Process", True))
    for state, rq, sq, la, lp, pa, pp, proc, netid in rows:
        inv.print(line(netid, state, rq, sq, la, lp, pa, pp, proc))
    return 0
