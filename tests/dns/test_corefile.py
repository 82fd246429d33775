"""Edits to the coredns ConfigMap take effect on the next query (the reload plugin); a
Corefile that does not parse keeps the running configuration and says why in the pod log."""
import copy

import dns.rcode
from dnslab import DNS, pod_ns

from netlab.apps.dns.resolver import query


def coredns_logs(lab):
    return [line for key in lab.cluster.pod_ns if key.startswith("kube-system/coredns-")
            for line in lab.cluster.pod_logs(key)]


def edit_corefile(lab, change):
    cm = copy.deepcopy(lab.cluster.api.get("ConfigMap", "kube-system", "coredns"))
    cm["data"]["Corefile"] = change(cm["data"]["Corefile"])
    lab.cluster.apply(cm)


def ask(lab, name, qtype="A"):
    return query(pod_ns(lab, "toolbox"), DNS, name, qtype).response


def a_records(resp):
    return [r.to_text() for rs in resp.answer for r in rs if rs.rdtype == 1]


def test_startup_log_is_coredns_banner(fresh):
    logs = coredns_logs(fresh)
    assert logs[:4][0] == ".:53"
    assert logs[1].startswith("[INFO] plugin/reload: Running configuration SHA512 = ") and len(logs[1].split()[-1]) == 128
    assert logs[2:4] == ["CoreDNS-1.9.3", "linux/amd64, go1.18.2, 45b0a11"]


def test_adding_log_makes_coredns_log_each_query(fresh):
    edit_corefile(fresh, lambda text: text.replace("    errors\n", "    errors\n    log\n"))
    assert ask(fresh, "web.default.svc.cluster.local.").rcode() == dns.rcode.NOERROR
    logs = coredns_logs(fresh)
    assert "[INFO] Reloading complete" in logs
    served = [ln for ln in logs if '"A IN web.default.svc.cluster.local. udp' in ln]
    assert len(served) == 1 and " NOERROR qr,aa,rd,ra " in served[0]


def test_rewrite_name(fresh):
    assert ask(fresh, "shop.corp.example.").rcode() == dns.rcode.NXDOMAIN
    edit_corefile(fresh, lambda text: text.replace(
        "    errors\n", "    errors\n    rewrite name shop.corp.example web.default.svc.cluster.local\n"))
    resp = ask(fresh, "shop.corp.example.")
    assert resp.rcode() == dns.rcode.NOERROR
    assert a_records(resp) == ["10.96.0.20"]


def test_hosts_block_with_fallthrough(fresh):
    edit_corefile(fresh, lambda text: text.replace(
        "    errors\n", "    errors\n    hosts {\n       10.1.1.1 printer.lan\n       fallthrough\n    }\n"))
    assert a_records(ask(fresh, "printer.lan.")) == ["10.1.1.1"]
    assert a_records(ask(fresh, "web.default.svc.cluster.local.")) == ["10.96.0.20"]  # fell through


def test_broken_corefile_keeps_the_old_configuration(fresh):
    edit_corefile(fresh, lambda text: text.replace("    errors\n", "    errors\n    frobnicate\n"))
    assert a_records(ask(fresh, "web.default.svc.cluster.local.")) == ["10.96.0.20"]
    errors = [ln for ln in coredns_logs(fresh) if ln.startswith("[ERROR]")]
    assert errors and errors[0] == "[ERROR] Restart failed: Corefile:3 - Error during parsing: Unknown directive 'frobnicate'"
    assert "[INFO] Reloading complete" not in coredns_logs(fresh)


def test_removing_kubernetes_plugin_sends_cluster_names_upstream(fresh):
    edit_corefile(fresh, lambda text: text.replace("    kubernetes", "    #kubernetes").replace(
        "       pods insecure\n       fallthrough in-addr.arpa ip6.arpa\n    }\n", ""))
    assert ask(fresh, "web.default.svc.cluster.local.").rcode() == dns.rcode.NXDOMAIN  # the outside knows nothing of it
