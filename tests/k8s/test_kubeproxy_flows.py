"""Packet flows through kube-proxy's rules, table-driven in the style of upstream's
proxier_test.go (runPacketFlowTests): a source, a destination and a port go in; the set of
endpoints that CAN be chosen (enough packets are sent to see every one), whether the packet
was masqueraded, or DROP/REJECT come out. Every case sends real packets through netlab and
reads the answer from the Trace: the DNAT hop names the endpoint, an SNAT hop after
KUBE-POSTROUTING means masqueraded, and the verdict says delivered or not.

Lab: two nodes; web (3 endpoints: 2 on a, 1 on b) behind a NodePort with Cluster policy,
local (NodePort, externalTrafficPolicy Local, its only endpoint on b), and sticky
(sessionAffinity ClientIP). The external client is the cloud's `client` (203.0.113.10).
"""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from netlab import Lab
from netlab.apps.probe import tcp_syn
from netlab.net.addr import parse_ip

LAB = """apiVersion: netlab/v1
kind: Lab
spec:
  podCIDR: 10.244.0.0/16
  serviceCIDR: 10.96.0.0/12
  kubeProxy: {{mode: {mode}, style: {style}}}
  nodes:
  - {{name: a, ip: 192.168.0.10, podCIDR: 10.244.0.0/24}}
  - {{name: b, ip: 192.168.0.11, podCIDR: 10.244.1.0/24}}
---
apiVersion: v1
kind: Service
metadata: {{name: web}}
spec:
  type: NodePort
  clusterIP: 10.96.0.80
  selector: {{app: web}}
  ports: [{{port: 80, nodePort: 30080}}]
---
apiVersion: v1
kind: Service
metadata: {{name: local}}
spec:
  type: NodePort
  clusterIP: 10.96.0.81
  externalTrafficPolicy: Local
  selector: {{app: solo}}
  ports: [{{port: 80, nodePort: 30081}}]
---
apiVersion: v1
kind: Service
metadata: {{name: sticky}}
spec:
  clusterIP: 10.96.0.82
  sessionAffinity: ClientIP
  selector: {{app: web}}
  ports: [{{port: 80}}]
---
apiVersion: v1
kind: Service
metadata: {{name: empty}}
spec:
  clusterIP: 10.96.0.83
  selector: {{app: nothing}}
  ports: [{{port: 80}}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web}}
spec:
  replicas: 3
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers: [{{name: nginx, image: nginx}}]
"""
SOLO = """apiVersion: v1
kind: Pod
metadata: {name: solo, labels: {app: solo}}
spec:
  nodeName: b
  containers: [{name: nginx, image: nginx}]
"""


@dataclass
class Flow:
    name: str
    source: str  # a pod ("pod-a": the first pod on node a), a node, or "client"
    dest: str
    port: int
    endpoints: set[str] | None = None  # None: DROP/REJECT expected
    masq: bool | None = False  # None: only when the endpoint is the source pod itself
    output: str = ""  # "REJECT" or "DROP" when endpoints is None


WEB = "web"  # stands for the web pods' addresses, filled in from the lab


def lab_for(mode: str, style: str = "modern") -> Lab:
    lab = Lab.load(LAB.format(mode=mode, style=style))
    lab.sh(f"kubectl apply -f - <<EOF\n{SOLO}EOF")
    if not lab.cluster.api.get("Pod", "default", "solo"):
        lab.cluster.api.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "solo", "namespace": "default",
                                "labels": {"app": "solo"}}, "spec": {"nodeName": "b", "containers": [
                                    {"name": "nginx", "image": "nginx"}]}})
    lab.cluster.tick()
    return lab


def pod_ips(lab: Lab, app: str) -> dict[str, str]:
    """pod IP -> node, for the pods with label app."""
    return {p["status"]["podIP"]: p["spec"]["nodeName"] for p in lab.cluster.api.list("Pod", "default")
            if p["metadata"].get("labels", {}).get("app") == app and p.get("status", {}).get("podIP")}


def source_ns(lab: Lab, source: str):
    if source == "client":
        return lab.world.namespaces["client"]
    if source.startswith("pod-"):
        node = source[4:]
        name = sorted(p["metadata"]["name"] for p in lab.cluster.api.list("Pod", "default")
                      if p["spec"].get("nodeName") == node and p["metadata"]["labels"].get("app") == "web")[0]
        return lab.cluster.pod_ns[f"default/{name}"]
    return lab.cluster.nodes[source].ns


def send(lab: Lab, source: str, dest: str, port: int, n: int) -> tuple[set[str], set[bool], set[str]]:
    """n SYNs; returns the endpoints DNAT chose, whether each was masqueraded, and the outcomes.
    A hairpin (the endpoint is the sending pod) reports masq as the string "hairpin" when
    masqueraded and "hairpin-not-masqueraded" when not."""
    chosen, masq, outcomes = set(), set(), set()
    ns = source_ns(lab, source)
    own = {a.ip for d in ns.devices.values() for a in getattr(d, "addrs", [])} if source.startswith("pod-") else set()
    for _ in range(n):
        out = tcp_syn(ns, parse_ip(dest), port)
        syn = out.traces[0]
        nat = [h.text for h in syn.hops if h.kind == "nat"]
        dnat = [t.split("→ ")[1].split(":")[0] for t in nat if t.startswith(("DNAT", "IPVS DNAT"))]
        snat = any(t.startswith("SNAT") for t in nat)
        if dnat:
            chosen.add(dnat[-1])
            if parse_ip(dnat[-1]) in own:
                masq.add("hairpin" if snat else "hairpin-not-masqueraded")
                outcomes.add(out.kind)
                continue
        masq.add(snat)
        outcomes.add(out.kind)
    return chosen, masq, outcomes


def flows(lab: Lab) -> list[Flow]:
    web = set(pod_ips(lab, "web"))
    web_a = {ip for ip, node in pod_ips(lab, "web").items() if node == "a"}
    solo = set(pod_ips(lab, "solo"))
    return [
        # Masqueraded only when the pod reaches itself (hairpin): KUBE-SEP's "-s <pod> -j KUBE-MARK-MASQ".
        Flow("pod to cluster IP", "pod-a", "10.96.0.80", 80, web, masq=None),
        Flow("node to cluster IP", "a", "10.96.0.80", 80, web, masq=True),
        Flow("external to NodePort (Cluster)", "client", "192.168.0.10", 30080, web, masq=True),
        Flow("pod to NodePort (Cluster)", "pod-a", "192.168.0.11", 30080, web, masq=True),
        Flow("external to NodePort (Local) on the node with the endpoint", "client", "192.168.0.11", 30081, solo,
             masq=False),
        Flow("external to NodePort (Local) on a node without one", "client", "192.168.0.10", 30081, None,
             output="DROP"),
        Flow("node to its own NodePort (Local) without a local endpoint: short-circuit", "a", "192.168.0.10", 30081,
             solo, masq=True),
        Flow("pod to NodePort (Local) without a local endpoint: short-circuit", "pod-a", "192.168.0.10", 30081, solo,
             masq=False),
        Flow("pod to cluster IP with no endpoints", "pod-a", "10.96.0.83", 80, None, output="REJECT"),
        # No rule matches: the packet leaves un-NATed for the default route and dies there.
        Flow("wrong port on a cluster IP", "pod-a", "10.96.0.80", 81, None, output="NONE"),
    ], web_a


@pytest.fixture(scope="module")
def modern_lab():
    return lab_for("iptables")


def test_packet_flows_iptables(modern_lab):
    lab = modern_lab
    table, _ = flows(lab)
    failures = []
    for f in table:
        chosen, masq, outcomes = send(lab, f.source, f.dest, f.port, 24 if f.endpoints and len(f.endpoints) > 1 else 3)
        if f.endpoints is None:
            if chosen or outcomes & {"open"}:
                failures.append(f"{f.name}: expected {f.output}, got endpoints {chosen} outcomes {outcomes}")
            if f.output == "REJECT" and outcomes != {"error"}:
                failures.append(f"{f.name}: expected an ICMP port unreachable, got {outcomes}")
            if f.output == "NONE" and "open" in outcomes:
                failures.append(f"{f.name}: expected no service, got {outcomes}")
            if f.output == "DROP" and outcomes != {"timeout"}:
                failures.append(f"{f.name}: expected silence, got {outcomes}")
            continue
        if chosen != f.endpoints:
            failures.append(f"{f.name}: endpoints {sorted(chosen)} != {sorted(f.endpoints)}")
        want = {False, "hairpin"} if f.masq is None else {f.masq, "hairpin"} if f.masq else {False}
        if not masq <= want or "hairpin-not-masqueraded" in masq:
            failures.append(f"{f.name}: masqueraded {masq}, expected {f.masq}")
        if outcomes != {"open"}:
            failures.append(f"{f.name}: outcomes {outcomes}")
    assert not failures, "\n".join(failures)


def test_client_ip_affinity_picks_the_same_endpoint_every_time(modern_lab):
    chosen, _, outcomes = send(modern_lab, "pod-a", "10.96.0.82", 80, 12)
    assert len(chosen) == 1 and outcomes == {"open"}
    chosen_b, _, _ = send(modern_lab, "pod-b", "10.96.0.82", 80, 12)
    assert len(chosen_b) == 1


@pytest.mark.parametrize("style", ["modern", "legacy"])
def test_source_preserved_under_local_and_not_under_cluster(style):
    lab = lab_for("iptables", style)
    client = "203.0.113.10"
    out = tcp_syn(lab.world.namespaces["client"], parse_ip("192.168.0.11"), 30081)
    rx = [h.text for h in out.traces[0].hops if h.kind == "deliver"]
    assert out.kind == "open" and not any(h.kind == "nat" and h.text.startswith("SNAT") for h in out.traces[0].hops)
    assert client in str(out.traces[0].hops[-1].text) or rx
    out = tcp_syn(lab.world.namespaces["client"], parse_ip("192.168.0.10"), 30080)
    assert out.kind == "open" and any(h.kind == "nat" and h.text.startswith("SNAT") for h in out.traces[0].hops)


def test_ipvs_mode_reaches_every_endpoint_and_rejects_nothing_it_should_not():
    lab = lab_for("ipvs")
    web = set(pod_ips(lab, "web"))
    chosen, masq, outcomes = send(lab, "pod-a", "10.96.0.80", 80, 6)
    assert chosen == web and outcomes == {"open"} and masq <= {False, "hairpin"}  # rr: every server in turn; KUBE-LOOP-BACK masquerades the hairpin
    chosen, masq, outcomes = send(lab, "client", "192.168.0.10", 30080, 6)
    assert chosen == web and outcomes == {"open"} and masq == {True}


def test_ipvs_loop_back_set_holds_only_the_nodes_own_endpoints():
    """KUBE-LOOP-BACK is for hairpins, which only a local endpoint can make: upstream skips
    every endpoint that is not local (`if !ep.IsLocal { continue }`), so node a's set names
    a's web pods and none of b's (nor solo, which is on b); the hairpin is still masqueraded."""
    lab = lab_for("ipvs")
    on = {p["status"]["podIP"]: p["spec"]["nodeName"] for ns in ("default", "kube-system")
          for p in lab.cluster.api.list("Pod", ns) if p.get("status", {}).get("podIP")}  # every endpoint's node
    web, solo = pod_ips(lab, "web"), set(pod_ips(lab, "solo"))
    assert {n for n in web.values()} == {"a", "b"} and on[min(solo)] == "b"
    for node in ("a", "b"):
        saved = lab.sh("ipset save KUBE-LOOP-BACK", on=node).output.splitlines()
        ips = {line.split()[2].split(",")[0] for line in saved if line.startswith("add ")}
        assert {on[ip] for ip in ips} == {node}
        assert {ip for ip, n in web.items() if n == node} <= ips and (solo <= ips) == (node == "b")
    _, masq, outcomes = send(lab, "pod-a", "10.96.0.80", 80, 12)
    assert "hairpin" in masq and "hairpin-not-masqueraded" not in masq and outcomes == {"open"}
