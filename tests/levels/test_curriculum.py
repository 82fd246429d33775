"""The curriculum as a whole, and the tempting wrong fixes each later level is built to refuse.

test_lint.py proves every level is broken at the start and fixed by its solution; these
tests prove the puzzles have no shortcut: the fix a learner reaches for first, and that
fixes the symptom, leaves an objective failing, with the reason the debrief teaches."""
from __future__ import annotations

import os
import re

import pytest

from netlab.levels import level_files, list_levels, load_level
from netlab.levels.objectives import check_all


def test_files_chapters_and_ids_run_in_one_order():
    levels = list_levels()
    files = [os.path.basename(lv.spec.source) for lv in levels]
    assert files == sorted(files) and len(files) >= 18  # chapter order is file order
    numbers = [int(re.match(r"(\d+)-", f).group(1)) for f in files]
    assert numbers == list(range(1, len(files) + 1))
    titles: dict[int, str] = {}
    for lv in levels:
        assert titles.setdefault(lv.spec.chapter, lv.spec.chapter_title) == lv.spec.chapter_title
    assert [lv.id for lv in levels[12:18]] == ["nodeport-local", "ingress-path", "netpol-isolation",
                                                 "netpol-egress-dns", "netpol-and-or", "kube-proxy-ipvs"]
    for lv in levels:
        assert lv.spec.story and lv.spec.debrief and len(lv.spec.hints) >= 2, lv.id


def results(level_id: str, *lines: str) -> list:
    """The level's objectives after the learner typed `lines` (each must succeed)."""
    level = load_level(level_id)
    lab, run = level.start()
    for line in lines:
        r = run.sh(line)
        assert r.ok, f"{line}: {r.output}"
    return check_all(lab, level.objectives)


def failing(rs) -> list[str]:
    return [r.text for r in rs if not r.passed]


def test_nodeport_local_cluster_policy_answers_but_hides_the_client():
    rs = results("nodeport-local", "kubectl patch svc shop -p '{\"spec\":{\"externalTrafficPolicy\":\"Cluster\"}}'")
    assert len(failing(rs)) == 2 and all("source NAT on the way" in r.detail for r in rs)


def test_ingress_implementation_specific_sends_apidocs_to_the_api():
    rs = results("ingress-path", "kubectl patch ingress shop --type=json -p '[{\"op\":\"replace\",\"path\":"
                                 "\"/spec/rules/0/http/paths/0/pathType\",\"value\":\"ImplementationSpecific\"}]'")
    assert failing(rs) == ["http client http://192.168.56.10:30080/apidocs/ -H 'Host: shop.example.com' "
                           "expects 200 body ~ 'Hostname: web-'"]


def test_netpol_isolating_the_whole_namespace_breaks_the_shop():
    rs = results("netpol-isolation", "kubectl -n shop patch networkpolicy db-allow-data-layer --type=json "
                                     "-p '[{\"op\":\"replace\",\"path\":\"/spec/podSelector\",\"value\":{}}]'")
    assert failing(rs) == ["reach shop/app=frontend svc/orders.shop:8080"]


def test_netpol_dns_through_the_clusterip_is_not_what_the_policy_sees():
    allow_clusterip = ("echo '{\"apiVersion\": \"networking.k8s.io/v1\", \"kind\": \"NetworkPolicy\", \"metadata\": "
                       "{\"name\": \"dns\", \"namespace\": \"payments\"}, \"spec\": {\"podSelector\": {}, "
                       "\"policyTypes\": [\"Egress\"], \"egress\": [{\"to\": [{\"ipBlock\": {\"cidr\": \"10.96.0.10/32\"}}],"
                       " \"ports\": [{\"protocol\": \"UDP\", \"port\": 53}]}]}}' | kubectl apply -f -")
    rs = results("netpol-egress-dns", allow_clusterip)
    assert failing(rs)[:1] == ["resolve ledger from payments/app=api to svc/ledger.payments"]
    assert "cali-fw-" in rs[0].detail  # dropped by the api pod's own egress chain
    # Without the default deny the api is still isolated for egress: api-to-ledger selects it.
    rs = results("netpol-egress-dns", "kubectl -n payments delete networkpolicy default-deny-egress")
    assert failing(rs)[:1] == ["resolve ledger from payments/app=api to svc/ledger.payments"]


def test_netpol_any_namespace_lets_the_sandbox_copy_in():
    rs = results("netpol-and-or", "kubectl -n data patch networkpolicy db-from-reporting --type=json -p "
                                  "'[{\"op\":\"replace\",\"path\":\"/spec/ingress/0/from\",\"value\":"
                                  "[{\"namespaceSelector\":{},\"podSelector\":{\"matchLabels\":{\"app\":\"reporting\"}}}]}]'")
    assert failing(rs) == ["no-reach sandbox/app=reporting svc/db.data:5432"]


@pytest.fixture(scope="module")
def ipvs_level():
    level = load_level("kube-proxy-ipvs")
    lab, run = level.start()
    return level, lab, run


def test_ipvs_an_edited_configmap_alone_changes_nothing(ipvs_level):
    level, lab, run = ipvs_level
    edit = level.spec.solution[0].run
    assert "kubectl apply" in edit and run.sh(edit).ok
    (r,) = check_all(lab, level.objectives)
    assert not r.passed and int(r.detail.split()[-2]) > 1500  # still every Service, one rule at a time
    assert run.sh(level.spec.solution[1].run).ok
    (r,) = check_all(lab, level.objectives)
    assert r.passed
    nat = lab.sh("iptables-save -t nat", on="node-a").output
    assert nat.count(":KUBE-SVC-") >= 1500  # the iptables mode's chains stay behind, unreferenced
    assert not re.search(r"^-A KUBE-SERVICES .*-j KUBE-SVC-", nat, re.M)
    assert "TCP  " in lab.sh("ipvsadm -ln", on="node-b").output


def test_every_level_file_is_listed():
    assert len(level_files()) == len(list_levels())
