"""Objectives decide with real packets, report the first failing hop, and leave the
learner's world exactly as it was."""
import pytest

from netlab.lab import Lab
from netlab.levels.objectives import Objective, ObjectiveError, check_all

BM21 = "app=business-manager@192.168.0.21"


@pytest.fixture(scope="module")
def base():
    return Lab.default()


def one(lab, text):
    (r,) = check_all(lab, [Objective(text)])
    return r


@pytest.mark.parametrize("text", [
    f"reach {BM21} app=data-product@192.168.0.22",
    f"reach {BM21} svc/business-manager:80",
    f"reach {BM21} svc/data-product:50051 tcp",
    f"no-reach {BM21} 10.99.99.99",
    "resolve business-manager from app=data-product to svc/business-manager",
    "resolve data-product.default.svc.cluster.local from app=business-manager to svc/data-product",
    "http app=data-product http://business-manager/ expects 200",
    "spread business-manager over 3 endpoints within 40% after 60 requests from app=data-product",
    "source-ip-preserved app=data-product svc/business-manager:80",
    "rules-compared-per-packet < 200 app=data-product svc/business-manager:80",
    "reach client 192.168.0.21",
])
def test_objectives_pass_on_a_healthy_cluster(base, text):
    r = one(base, text)
    assert r.passed, r.detail
    assert r.hop is None and r.trace is not None


def test_reach_fails_with_the_first_failing_hop():
    lab = Lab.default()
    assert lab.sh("ip route del 172.30.0.0/16 dev flannel.1", on="192.168.0.21").ok
    r = one(lab, f"reach {BM21} app=data-product@192.168.0.22")
    assert not r.passed
    assert r.hop is not None and r.hop.ns == "router" and "no route to 172.30.9.2" in r.hop.text
    assert r.detail.startswith("dropped at router/eth0")
    assert r.trace.first_drop() is r.hop


def test_no_reach_fails_when_the_packet_arrives(base):
    r = one(base, f"no-reach {BM21} app=data-product@192.168.0.22")
    assert not r.passed and "got through" in r.detail


def test_resolve_fails_when_dns_has_no_endpoints():
    lab = Lab.default()
    assert lab.sh("kubectl scale deployment coredns -n kube-system --replicas=0").ok
    r = one(lab, "resolve business-manager from app=data-product to svc/business-manager")
    assert not r.passed
    assert r.hop is not None  # the query was dropped somewhere: that is the hint


def test_http_status_and_body(base):
    assert not one(base, "http app=data-product http://business-manager/ expects 404").passed
    r = one(base, "http app=data-product http://business-manager/ expects 200 body ~ ^no-such-body$")
    assert not r.passed and "does not match" in r.detail


def test_rules_compared_limit(base):
    r = one(base, "rules-compared-per-packet < 3 app=data-product svc/business-manager:80")
    assert not r.passed and "compared with" in r.detail


def test_spread_fails_when_endpoints_are_missing():
    lab = Lab.default()
    assert lab.sh("kubectl scale deployment business-manager --replicas=1").ok
    r = one(lab, "spread business-manager over 3 endpoints within 40% after 30 requests")
    assert not r.passed and "1 endpoints answered" in r.detail


def test_unknown_reference_is_a_failed_objective_not_a_crash(base):
    r = one(base, "reach app=nothing 192.168.0.21")
    assert not r.passed and "no pod #0 matching app=nothing" in r.detail


@pytest.mark.parametrize("text", ["teleport a b", "reach a", "resolve x from y", "spread s over 3 endpoints",
                                  "http a http://x/ expects", "rules-compared-per-packet 3 a b:1"])
def test_malformed_objectives_are_rejected(text):
    with pytest.raises(ObjectiveError):
        Objective(text)


def test_checking_leaves_the_learners_world_untouched():
    lab = Lab.default()
    looks = ["ip neigh", "conntrack -L", "iptables-save -c -t nat"]
    before = [lab.sh(c, on="192.168.0.21").output for c in looks]
    clock = lab.world.clock
    check_all(lab, [Objective(f"reach {BM21} app=data-product@192.168.0.22"),
                    Objective("spread business-manager over 3 endpoints within 50% after 20 requests")])
    assert [lab.sh(c, on="192.168.0.21").output for c in looks] == before
    assert lab.world.clock == clock
