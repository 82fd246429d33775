"""`kube-proxy --cleanup`: remove what either proxy mode wrote on this node, as upstream's
CleanupAndExit does (1.26: iptables.CleanupLeftovers, then ipvs.CleanupLeftovers).

Like upstream it works from `iptables-save`: every rule elsewhere that jumps to a chain
kube-proxy owns is deleted, and the owned chains are flushed and deleted, in one
`iptables-restore --noflush` per table. The chains: the iptables mode's KUBE-SERVICES,
KUBE-NODEPORTS, KUBE-POSTROUTING, KUBE-EXTERNAL-SERVICES, KUBE-FORWARD, KUBE-PROXY-FIREWALL and
every per-Service chain (KUBE-SVC-, KUBE-SVL-, KUBE-SEP-, KUBE-FW-, KUBE-EXT-, KUBE-XLB-); the
ipvs mode's KUBE-NODE-PORT, KUBE-LOAD-BALANCER, KUBE-MARK-MASQ, KUBE-SOURCE-RANGES-FIREWALL.
Then every IPVS virtual service goes (ipvsadm -C), kube-ipvs0 is deleted and the KUBE-* ipsets
destroyed. kubelet's chains (KUBE-FIREWALL, KUBE-MARK-DROP, the canaries) stay.

A kube-proxy that is still running puts its own rules back at its next sync, which is why
the documented way is cleanup, then restart the kube-proxy pod.
"""
from __future__ import annotations

import re

from netlab.k8s.kubeproxy.ipvs_mode import DUMMY, SETS

OWNED = {
    "nat": {"KUBE-SERVICES", "KUBE-NODEPORTS", "KUBE-POSTROUTING", "KUBE-NODE-PORT", "KUBE-LOAD-BALANCER",
            "KUBE-MARK-MASQ"},
    "filter": {"KUBE-SERVICES", "KUBE-EXTERNAL-SERVICES", "KUBE-FORWARD", "KUBE-NODEPORTS", "KUBE-PROXY-FIREWALL",
               "KUBE-NODE-PORT", "KUBE-SOURCE-RANGES-FIREWALL"},
}
SERVICE_CHAIN = re.compile(r"^KUBE-(SVC|SVL|SEP|FW|EXT|XLB)-")
TARGET = re.compile(r" -[jg] (\S+)")


def cleanup(ns) -> None:
    nf = ns.netfilter
    if nf is not None:
        for table in ("nat", "filter"):
            _table(nf, table)
    from netlab.net import ipset as ipsets
    from netlab.net.ipvs import Ipvs

    if ns.ipvs is not None:
        Ipvs.of(ns).clear()
    dev = ns.dev(DUMMY)
    if dev is not None:
        ns.remove_device(dev)
    sets = ipsets.sets_of(ns)
    for name in SETS:
        if name in sets and not sets[name].references:
            ipsets.destroy(ns, name)


def _table(nf, table: str) -> None:
    text = nf.save(table)
    chains = [line[1:].split()[0] for line in text.splitlines() if line.startswith(":")]
    gone = [c for c in chains if c in OWNED[table] or SERVICE_CHAIN.match(c)]
    if not gone:
        return
    doomed = set(gone)
    lines = [f"*{table}"]
    for line in text.splitlines():  # unlink: rules outside the owned chains that jump into them
        if line.startswith("-A ") and line.split()[1] not in doomed:
            m = TARGET.search(line)
            if m and m.group(1) in doomed:
                lines.append("-D " + line[3:])
    lines += [f":{c} - [0:0]" for c in gone]  # flush
    lines += [f"-X {c}" for c in gone]  # and delete
    lines.append("COMMIT")
    nf.restore("\n".join(lines) + "\n", noflush=True)
