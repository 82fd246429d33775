"""kube-proxy's partial sync in ipvs mode leaves exactly the state a full sync would: after
random Service and Endpoints changes (every Service type, externalTrafficPolicy Local,
sessionAffinity, externalIPs shared between Services, a second UDP port, endpoints shared
between Services), `ipvsadm -ln`, `ipset save`, `ip addr show kube-ipvs0`, the local routes
and `iptables-save` on both nodes are what they are when every sync is a full one, and what
a lab built from scratch with the final Services shows. Hand edits outside the changed
Services survive a partial sync and are undone by the periodic full one."""
from __future__ import annotations

import copy

from hypothesis import example, given, settings
from hypothesis import strategies as st

from netlab import Lab

LAB = """apiVersion: netlab/v1
kind: Lab
spec:
  kubeProxy: {mode: ipvs}
  dns: {replicas: 0}
  nodes:
  - {name: a, ip: 192.168.0.10, podCIDR: 10.244.0.0/24}
  - {name: b, ip: 192.168.0.11, podCIDR: 10.244.1.0/24}
"""
N = 6  # Services s0..s5
TYPES = ("ClusterIP", "NodePort", "LoadBalancer")
OPS = st.lists(st.tuples(st.sampled_from(["add", "del", "eps", "noeps", "type", "local", "affinity", "extip", "udp"]),
                         st.integers(min_value=0, max_value=N - 1), st.integers(min_value=0, max_value=5)),
               min_size=1, max_size=14)


def fresh_attrs() -> dict:
    return {"type": "ClusterIP", "local": False, "affinity": 0, "extip": None, "udp": False, "eps": (3, 0)}


def service(i: int, a: dict) -> dict:
    ports = [{"name": "http", "port": 80, "targetPort": 8080}]
    if a["udp"]:
        ports.append({"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 5353})
    spec = {"type": a["type"], "clusterIP": f"10.96.1.{10 + i}", "ports": ports}
    if a["type"] != "ClusterIP":
        for k, p in enumerate(ports):
            p["nodePort"] = 30100 + 2 * i + k
        if a["local"]:
            spec["externalTrafficPolicy"] = "Local"
    if a["type"] == "LoadBalancer":
        spec["loadBalancerIP"] = f"203.0.113.{100 + i}"
    if a["affinity"]:
        spec["sessionAffinity"] = "ClientIP"
        spec["sessionAffinityConfig"] = {"clientIP": {"timeoutSeconds": a["affinity"]}}
    if a["extip"] is not None:  # two Services may share an external IP (and then a virtual service)
        spec["externalIPs"] = [f"198.51.100.{a['extip']}"]
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": f"s{i}", "namespace": "default"}, "spec": spec}


def endpoints(i: int, a: dict) -> dict:
    n, shift = a["eps"]
    # a small address pool, so that Services share endpoints (and KUBE-LOOP-BACK entries)
    addrs = [{"ip": f"10.244.{k % 2}.{20 + (2 * i + k + shift) % 7}", "nodeName": "ab"[k % 2]} for k in range(n)]
    ports = [{"name": "http", "port": 8080}] + ([{"name": "dns", "port": 5353, "protocol": "UDP"}] if a["udp"] else [])
    subsets = [{"addresses": addrs, "ports": ports}] if n else []
    return {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": f"s{i}", "namespace": "default"},
            "subsets": subsets}


def put(api, obj: dict) -> None:
    current = api.get(obj["kind"], "default", obj["metadata"]["name"])
    if current is None:
        api.create(copy.deepcopy(obj))
    else:
        merged = copy.deepcopy(obj)
        merged["metadata"] = current["metadata"]
        api.update(merged)


def apply(model: dict, op: str, i: int, k: int) -> None:
    """Change the model of the Services (i -> attributes) as one step says."""
    if op == "del":
        model.pop(i, None)
        return
    if i not in model or op == "add":
        model[i] = fresh_attrs()
        return
    a = model[i]
    if op == "eps":
        a["eps"] = (1 + k % 4, k)
    elif op == "noeps":
        a["eps"] = (0, 0)
    elif op == "type":
        a["type"] = TYPES[k % 3]
    elif op == "local":
        a["local"] = not a["local"]
    elif op == "affinity":
        a["affinity"] = (0, 100, 10800)[k % 3]
    elif op == "extip":
        a["extip"] = None if k % 3 == 0 else k % 3
    elif op == "udp":
        a["udp"] = not a["udp"]


def write(api, model: dict, previous: dict) -> None:
    """Make the API objects say what the model says."""
    for i in sorted(set(previous) - set(model)):
        api.delete("Service", "default", f"s{i}")
        if api.get("Endpoints", "default", f"s{i}") is not None:
            api.delete("Endpoints", "default", f"s{i}")
    for i, a in sorted(model.items()):
        if previous.get(i) != a:
            put(api, service(i, a))
            put(api, endpoints(i, a))


COMMANDS = ("ipvsadm -ln", "ipset save", "ip addr show dev kube-ipvs0", "ip route show table local", "iptables-save")


def state(lab: Lab) -> dict:
    out = {}
    for node in ("a", "b"):
        for cmd in COMMANDS:
            r = lab.sh(cmd, on=node)
            assert r.exit_code == 0, (cmd, r.output)
            out[(node, cmd)] = r.output
    return out


def unordered(st_: dict) -> dict:
    """What does not depend on history: a hash set lists in the kernel's bucket order (netlab:
    insertion order) and addresses in the order they were added; ipvsadm sorts by itself and
    iptables-save follows the rules' order (its header says when it ran, which differs)."""
    out = {}
    for k, v in st_.items():
        if k[1] == "iptables-save":
            out[k] = [line for line in v.splitlines() if not line.startswith("# ")]
        else:
            out[k] = v if k[1] == "ipvsadm -ln" else sorted(v.splitlines())
    return out


class Counting:
    """Counts the kube-proxies' partial syncs that took effect."""

    def __init__(self, lab: Lab) -> None:
        self.partial = 0
        for kp in lab.cluster.kube_proxies.values():
            orig = kp.ipvs.sync_changed

            def spy(changes, node, _orig=orig):
                done = _orig(changes, node)
                self.partial += done
                return done

            kp.ipvs.sync_changed = spy


def tick(lab: Lab, *, full: bool) -> None:
    if full:
        for kp in lab.cluster.kube_proxies.values():
            kp.last_full_sync = None  # due now: this sync is a full one
    lab.cluster.tick()


@settings(max_examples=60, deadline=None)
@given(ops=OPS)
# a new affinity timeout (the virtual service is edited); an external IP:port shared by two
# Services, whichever came first (one virtual service, whose real servers are the later Service's)
@example(ops=[("affinity", 0, 1), ("affinity", 0, 2)])
@example(ops=[("extip", 0, 1), ("extip", 1, 1), ("eps", 0, 3), ("del", 1, 0), ("eps", 0, 1)])
@example(ops=[("extip", 1, 1), ("extip", 0, 1), ("eps", 1, 3), ("extip", 1, 0)])
@example(ops=[("type", 0, 1), ("local", 0, 0), ("eps", 0, 1), ("type", 0, 2), ("udp", 0, 0), ("type", 0, 0)])
def test_ipvs_partial_sync_equals_full_sync(ops):
    partial, full = Lab.load(LAB), Lab.load(LAB)
    spy = Counting(partial)
    model: dict = {i: fresh_attrs() for i in range(3)}
    for lab in (partial, full):
        write(lab.cluster.api, model, {})
        tick(lab, full=True)
    changed = shared = False
    for op, i, k in ops:
        previous = copy.deepcopy(model)
        apply(model, op, i, k)
        changed |= model != previous
        shared |= any(a["extip"] is not None for a in model.values())
        for lab in (partial, full):
            write(lab.cluster.api, model, previous)
        tick(partial, full=False)
        tick(full, full=True)
        assert state(partial) == state(full), (op, i, k)
    scratch = Lab.load(LAB)
    write(scratch.cluster.api, model, {})
    tick(scratch, full=True)
    assert unordered(state(partial)) == unordered(state(scratch))
    if changed and not shared:  # (a shared external IP may make every sync a full one)
        assert spy.partial > 0  # the partial path really ran


def test_one_endpoint_change_is_partial_and_hand_edits_wait_for_the_periodic_sync():
    lab = Lab.load(LAB)
    spy = Counting(lab)
    model = {i: fresh_attrs() for i in range(3)}
    write(lab.cluster.api, model, {})
    tick(lab, full=True)
    # a learner deletes a real server of s0 and an ipset entry of s1
    r = lab.sh("ipvsadm -d -t 10.96.1.10:80 -r 10.244.0.20:8080; ipset del KUBE-CLUSTER-IP 10.96.1.11,tcp:80", on="a")
    assert r.exit_code == 0, r.output
    edited = lab.sh("ipvsadm -ln; ipset save KUBE-CLUSTER-IP", on="a").output
    previous = copy.deepcopy(model)
    model[2]["eps"] = (2, 1)
    write(lab.cluster.api, model, previous)
    lab.cluster.world.clock += 10
    tick(lab, full=False)
    assert spy.partial == 2  # both nodes, s2 only
    assert "10.244.0.20:8080" not in lab.sh("ipvsadm -ln -t 10.96.1.10:80", on="a").output  # still deleted
    assert lab.sh("ipset test KUBE-CLUSTER-IP 10.96.1.11,tcp:80", on="a").exit_code != 0
    assert lab.sh("ipvsadm -ln; ipset save KUBE-CLUSTER-IP", on="a").output != edited  # s2 did change
    # a change to s0 puts its real server back (its virtual service is reconciled whole)
    previous = copy.deepcopy(model)
    model[0]["affinity"] = 100
    write(lab.cluster.api, model, previous)
    lab.cluster.world.clock += 10
    tick(lab, full=False)
    assert "10.244.0.20:8080" in lab.sh("ipvsadm -ln -t 10.96.1.10:80", on="a").output
    assert lab.sh("ipset test KUBE-CLUSTER-IP 10.96.1.11,tcp:80", on="a").exit_code != 0
    # changes every 10 s do not put off the periodic full sync: at 30 s the entry is back
    previous = copy.deepcopy(model)
    model[0]["affinity"] = 0
    write(lab.cluster.api, model, previous)
    lab.cluster.world.clock += 10
    tick(lab, full=False)
    assert lab.sh("ipset test KUBE-CLUSTER-IP 10.96.1.11,tcp:80", on="a").exit_code == 0
    scratch = Lab.load(LAB)
    write(scratch.cluster.api, model, {})
    tick(scratch, full=True)
    assert unordered(state(lab)) == unordered(state(scratch))


def test_a_new_node_address_or_a_deleted_set_makes_the_sync_full():
    lab = Lab.load(LAB)
    spy = Counting(lab)
    model = {0: {**fresh_attrs(), "type": "NodePort"}}
    write(lab.cluster.api, model, {})
    tick(lab, full=True)
    assert lab.sh("ip addr add 192.168.5.10/24 dev eth0", on="a").exit_code == 0
    previous = copy.deepcopy(model)
    model[0]["eps"] = (1, 0)
    write(lab.cluster.api, model, previous)
    tick(lab, full=False)
    assert spy.partial == 1  # node b; node a has a new address: its NodePort needs a virtual service there
    assert "192.168.5.10:30100" in lab.sh("ipvsadm -ln", on="a").output
    assert lab.sh("ipset destroy KUBE-NODE-PORT-LOCAL-UDP", on="a").exit_code == 0
    previous = copy.deepcopy(model)
    model[0]["eps"] = (2, 0)
    write(lab.cluster.api, model, previous)
    tick(lab, full=False)
    assert spy.partial == 2
    assert lab.sh("ipset list -n", on="a").output.count("KUBE-NODE-PORT-LOCAL-UDP") == 1
