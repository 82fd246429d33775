"""kube-proxy's partial sync leaves exactly the state a full sync would (iptables-save equal),
after random Service and Endpoints changes, in both rule styles."""
from __future__ import annotations

import copy

from hypothesis import given, settings
from hypothesis import strategies as st

from netlab import Lab

LAB = """apiVersion: netlab/v1
kind: Lab
spec:
  kubeProxy: {{mode: iptables, style: {style}}}
  dns: {{replicas: 0}}
  nodes:
  - {{name: a, ip: 192.168.0.10, podCIDR: 10.244.0.0/24}}
  - {{name: b, ip: 192.168.0.11, podCIDR: 10.244.1.0/24}}
"""

OPS = st.lists(st.tuples(st.sampled_from(["add", "del", "eps", "noeps", "nodeport", "local"]),
                         st.integers(min_value=0, max_value=7)), min_size=1, max_size=12)


def service(i: int, *, nodeport: bool = False, local: bool = False) -> dict:
    spec = {"clusterIP": f"10.96.1.{10 + i}", "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}
    if nodeport or local:
        spec["type"] = "NodePort"
        spec["ports"][0]["nodePort"] = 30100 + i
    if local:
        spec["externalTrafficPolicy"] = "Local"
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": f"s{i}", "namespace": "default"}, "spec": spec}


def endpoints(i: int, n: int) -> dict:
    addrs = [{"ip": f"10.244.{k % 2}.{20 + i * 3 + k}", "nodeName": "ab"[k % 2]} for k in range(n)]
    subsets = [{"addresses": addrs, "ports": [{"name": "http", "port": 8080}]}] if n else []
    return {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": f"s{i}", "namespace": "default"},
            "subsets": subsets}


def put(api, obj: dict) -> None:
    current = api.get(obj["kind"], "default", obj["metadata"]["name"])
    if current is None:
        api.create(obj)
    else:
        merged = copy.deepcopy(obj)
        merged["metadata"] = current["metadata"]
        api.update(merged)


def apply(api, op: str, i: int) -> None:
    exists = api.get("Service", "default", f"s{i}") is not None
    if op == "add" or (not exists and op != "del"):
        put(api, service(i))
        put(api, endpoints(i, 3))
    elif op == "del":
        if exists:
            api.delete("Service", "default", f"s{i}")  # the endpoints controller removes its Endpoints
            if api.get("Endpoints", "default", f"s{i}") is not None:
                api.delete("Endpoints", "default", f"s{i}")
    elif op == "eps":
        put(api, endpoints(i, 1 + i % 3))
    elif op == "noeps":
        put(api, endpoints(i, 0))
    elif op in ("nodeport", "local"):
        svc = api.get("Service", "default", f"s{i}")
        put(api, {**service(i, nodeport=True, local=op == "local"),
                  "spec": {**service(i, nodeport=True, local=op == "local")["spec"], "clusterIP": svc["spec"]["clusterIP"]}})


def full_save(kp) -> str:
    kp._state = None  # force a full sync
    kp.sync()
    return kp.netfilter.save()


@settings(max_examples=25, deadline=None)
@given(ops=OPS, style=st.sampled_from(["modern", "legacy"]))
def test_partial_sync_equals_full_sync(ops, style):
    lab = Lab.load(LAB.format(style=style))
    api = lab.cluster.api
    for i in range(4):
        put(api, service(i))
        put(api, endpoints(i, 3))
    kp = lab.cluster.kube_proxies["a"]
    kp.sync()
    partials = 0
    for op, i in ops:
        apply(api, op, i)
        before = kp._state
        kp.sync()
        partials += kp._state is before and before is not None
    incremental = kp.netfilter.save()
    assert incremental == full_save(kp)
    assert partials > 0  # the partial path really ran


def test_hand_edit_of_a_shared_chain_falls_back_to_a_full_sync():
    lab = Lab.load(LAB.format(style="modern"))
    api = lab.cluster.api
    put(api, service(0))
    put(api, endpoints(0, 3))
    lab.sh("true", on="a")
    assert lab.sh("iptables -t nat -D KUBE-SERVICES 1", on="a").exit_code == 0
    put(api, endpoints(0, 2))
    lab.sh("true", on="a")
    kp = lab.cluster.kube_proxies["a"]
    saved = kp.netfilter.save()
    assert saved == full_save(kp)
