"""netlab.k8s.policy alone: the decisions and the reasons it gives."""
from __future__ import annotations

from netlab.k8s.policy import (Connection, PolicyView, compile_policy, decide, policy_types, selector_matches,
                               selector_text)
from netlab.net.addr import parse_ip


def pod(ns, name, ip, labels, ports=()):
    return {"metadata": {"namespace": ns, "name": name, "labels": labels},
            "spec": {"containers": [{"name": "c", "ports": [dict(p) for p in ports]}]},
            "status": {"podIP": ip}}


def ns(name, **labels):
    return {"metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name, **labels}}}


def np(ns_, name, spec):
    return {"metadata": {"namespace": ns_, "name": name}, "spec": spec}


PODS = [pod("x", "a", "10.0.0.1", {"pod": "a"}, [{"name": "web", "containerPort": 8080}]),
        pod("x", "b", "10.0.0.2", {"pod": "b"}),
        pod("y", "b", "10.0.1.2", {"pod": "b"}),
        pod("y", "c", "10.0.1.3", {"pod": "c"}),
        {"metadata": {"namespace": "x", "name": "host"}, "spec": {"hostNetwork": True}, "status": {"podIP": "192.168.0.10"}}]
NSS = [ns("x", team="blue"), ns("y", team="red")]


def conn(src, dst, proto="TCP", port=80):
    return Connection(parse_ip(src), parse_ip(dst), proto, port)


def test_policy_types_default():
    assert policy_types({}) == ("ingress",)
    assert policy_types({"egress": [{}]}) == ("ingress", "egress")
    assert policy_types({"egress": []}) == ("ingress",)
    assert policy_types({"policyTypes": ["Egress"], "ingress": [{}]}) == ("egress",)


def test_selectors_and_their_text():
    sel = {"matchLabels": {"b": "1"}, "matchExpressions": [{"key": "a", "operator": "In", "values": ["y", "x"]},
                                                          {"key": "c", "operator": "DoesNotExist"}]}
    assert selector_matches(sel, {"a": "x", "b": "1"})
    assert not selector_matches(sel, {"a": "x", "b": "1", "c": ""})
    assert not selector_matches(sel, {"a": "z", "b": "1"})
    assert selector_text(sel) == "a in (x,y),b=1,!c"
    assert selector_text({}) == "<none>"


def test_no_policy_selects_the_pod():
    ok, ds = decide(PolicyView.from_objects([], PODS, NSS), conn("10.0.1.2", "10.0.0.1"))
    assert ok and [d.text() for d in ds] == ["egress: no policy selects y/b: allowed",
                                             "ingress: no policy selects x/a: allowed"]


def test_and_versus_or_and_reasons():
    and_ = np("x", "and", {"podSelector": {"matchLabels": {"pod": "a"}}, "ingress": [{"from": [
        {"namespaceSelector": {"matchLabels": {"team": "red"}}, "podSelector": {"matchLabels": {"pod": "b"}}}]}]})
    view = PolicyView.from_objects([and_], PODS, NSS)
    assert decide(view, conn("10.0.1.2", "10.0.0.1"))[0]
    ok, ds = decide(view, conn("10.0.1.3", "10.0.0.1"))
    assert not ok and ds[-1].text() == "ingress: denied: x/a is selected by x/and and no ingress rule allows it"
    assert not decide(view, conn("10.0.0.2", "10.0.0.1"))[0]  # x/b: right pod, wrong namespace
    or_ = np("x", "or", {"podSelector": {"matchLabels": {"pod": "a"}}, "ingress": [{"from": [
        {"namespaceSelector": {"matchLabels": {"team": "red"}}}, {"podSelector": {"matchLabels": {"pod": "b"}}}]}]})
    view = PolicyView.from_objects([or_], PODS, NSS)
    assert decide(view, conn("10.0.1.3", "10.0.0.1"))[0] and decide(view, conn("10.0.0.2", "10.0.0.1"))[0]
    d = decide(view, conn("10.0.0.2", "10.0.0.1"))[1][-1]
    assert (d.policy, d.rule, d.detail()["direction"]) == ("x/or", 0, "ingress")


def test_union_names_the_first_policy_that_allows():
    p1 = np("x", "p1", {"podSelector": {}, "ingress": [{"ports": [{"port": 443}]}]})
    p2 = np("x", "p2", {"podSelector": {"matchLabels": {"pod": "a"}}, "ingress": [{"ports": [{"port": 9}]},
                                                                                 {"ports": [{"port": "web"}]}]})
    view = PolicyView.from_objects([p2, p1], PODS, NSS)
    ok, ds = decide(view, conn("10.0.1.2", "10.0.0.1", port=8080))
    assert ok and (ds[-1].policy, ds[-1].rule, ds[-1].selecting) == ("x/p2", 1, ("x/p1", "x/p2"))
    assert not decide(view, conn("10.0.1.2", "10.0.0.2", port=8080))[0]  # x/b has no port named web
    assert not decide(view, conn("10.0.1.2", "10.0.0.1", proto="UDP", port=8080))[0]
    assert not decide(view, conn("10.0.1.2", "10.0.0.1", proto="ICMP", port=None))[0]


def test_ipblock_except_and_non_pod_peers():
    p = np("x", "cidr", {"podSelector": {}, "policyTypes": ["Egress"], "egress": [
        {"to": [{"ipBlock": {"cidr": "10.0.8.0/21", "except": ["10.0.9.0/24"]}}]},
        {"to": [{"podSelector": {}}], "ports": [{"port": 53, "protocol": "UDP"}, {"port": 1000, "endPort": 1010}]}]})
    view = PolicyView.from_objects([p], PODS, NSS)
    assert decide(view, conn("10.0.0.1", "10.0.10.9"))[0]       # an address, not a pod: the ipBlock
    assert not decide(view, conn("10.0.0.1", "10.0.9.9"))[0]    # the except
    assert not decide(view, conn("10.0.0.1", "10.0.1.2"))[0]    # y/b: neither the ipBlock nor x's pods
    assert not decide(view, conn("10.0.0.1", "8.8.8.8", "UDP", 53))[0]  # selectors match pods only
    assert decide(view, conn("10.0.0.1", "10.0.0.2", "UDP", 53))[0]
    assert decide(view, conn("10.0.0.1", "10.0.0.2", "TCP", 1010))[0]
    assert not decide(view, conn("10.0.0.1", "10.0.0.2", "TCP", 1011))[0]
    # hostNetwork pods are the node: not policy endpoints
    assert parse_ip("192.168.0.10") not in view.pods


def test_a_pod_talking_to_itself_is_never_isolated():
    deny = np("x", "deny", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]})
    assert decide(PolicyView.from_objects([deny], PODS, NSS), conn("10.0.0.1", "10.0.0.1")) == (True, [])


def test_compile_keeps_rule_indexes():
    c = compile_policy(np("x", "p", {"podSelector": {}, "ingress": [{}, {"from": [{"ipBlock": {"cidr": "10.1.2.3/16"}}]}]}))
    assert len(c.ingress) == 2 and c.ingress[1].peers[0].cidr == (parse_ip("10.1.0.0"), 16)
