"""The pod's stub resolver: glibc's search order, queries counted, resolv.conf per dnsPolicy,
/etc/hosts with hostAliases, and what a lookup does when kube-dns has no endpoints."""
import pytest
from dnslab import pod_ns

from netlab.apps.dns.resolver import candidates, lookup, resolv_conf


def queried(result):
    return [a.qname for a in result.answers]


@pytest.mark.parametrize("name,tried", [
    ("web", ["web.default.svc.cluster.local."]),
    ("web.default", ["web.default.default.svc.cluster.local.", "web.default.svc.cluster.local."]),
    ("web.default.svc.cluster.local", ["web.default.svc.cluster.local.default.svc.cluster.local.",
                                       "web.default.svc.cluster.local.svc.cluster.local.",
                                       "web.default.svc.cluster.local.cluster.local.",
                                       "web.default.svc.cluster.local."]),
    ("web.default.svc.cluster.local.", ["web.default.svc.cluster.local."]),
    ("example.com", ["example.com.default.svc.cluster.local.", "example.com.svc.cluster.local.",
                     "example.com.cluster.local.", "example.com."]),
])
def test_search_order_with_ndots_5_and_queries_counted(dlab, name, tried):
    result = lookup(pod_ns(dlab, "toolbox"), name)
    assert queried(result) == tried
    assert result.addresses(), name
    # every query is a UDP packet through the dataplane, with its own trace
    sent = [t for a in result.answers for t in a.traces if t.label == "dns query"]
    assert len(sent) == len(tried)


def test_unknown_name_tries_every_suffix_then_itself(dlab):
    result = lookup(pod_ns(dlab, "toolbox"), "nope")
    assert len(result.answers) == 4
    assert result.addresses() == []


def test_ndots_1_tries_a_dotted_name_as_is_first(dlab):
    ns = pod_ns(dlab, "client-tuned", "team")
    assert resolv_conf(ns).ndots == 1
    result = lookup(ns, "web.default")
    assert queried(result) == ["web.default.", "web.default.team.svc.cluster.local.", "web.default.svc.cluster.local."]
    assert result.addresses() == ["10.96.0.20"]


def test_candidates_without_search_list():
    from netlab.apps.dns.resolver import ResolvConf

    assert candidates("foo.bar", ResolvConf(nameservers=["1.1.1.1"])) == ["foo.bar."]


def test_lab_sh_shows_one_trace_per_query(dlab):
    dlab.world.take_traces()
    r = dlab.sh("getent hosts web.default", on="toolbox")
    assert r.output == "10.96.0.20      web.default.svc.cluster.local\n"
    assert [t.label for t in r.traces].count("dns query") == 2


def test_resolv_conf_cluster_first(dlab):
    assert dlab.sh("cat /etc/resolv.conf", on="toolbox").output == (
        "search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n")


def test_resolv_conf_default_is_the_nodes(dlab):
    node = dlab.cluster.nodes["node-2"].ns.read_file("/etc/resolv.conf")
    assert dlab.sh("cat /etc/resolv.conf", on="client-default").output == node
    assert "10.96.0.10" not in node


def test_resolv_conf_none_takes_only_dns_config(dlab):
    assert dlab.sh("cat /etc/resolv.conf", on="team/client-none").output == (
        "search team.svc.cluster.local corp.example\nnameserver 10.96.0.10\noptions ndots:2 edns0\n")


def test_resolv_conf_cluster_first_merges_dns_config(dlab):
    assert dlab.sh("cat /etc/resolv.conf", on="team/client-tuned").output == (
        "search team.svc.cluster.local svc.cluster.local cluster.local corp.example\n"
        "nameserver 10.96.0.10\noptions ndots:1\n")


def test_cluster_first_with_host_net_uses_cluster_dns(dlab):
    kubelet = dlab.cluster.nodes["node-1"].kubelet
    pod = {"metadata": {"name": "h", "namespace": "kube-system"},
           "spec": {"hostNetwork": True, "dnsPolicy": "ClusterFirstWithHostNet"}}
    assert "nameserver 10.96.0.10\n" in kubelet.resolv_conf(pod)
    assert "search kube-system.svc.cluster.local" in kubelet.resolv_conf(pod)
    pod["spec"]["dnsPolicy"] = "ClusterFirst"  # host network + ClusterFirst falls back to the node's
    assert kubelet.resolv_conf(pod) == dlab.cluster.nodes["node-1"].ns.read_file("/etc/resolv.conf")


def test_host_aliases_in_etc_hosts_and_used_first(dlab):
    hosts = dlab.sh("cat /etc/hosts", on="toolbox").output
    assert hosts.endswith("\n# Entries added by HostAliases.\n127.0.0.1\tfoo.local\tbar.local\n"
                          "10.1.2.3\tfoo.remote\tbar.remote\n")
    dlab.world.take_traces()
    r = dlab.sh("getent hosts bar.remote", on="toolbox")
    assert r.output == "10.1.2.3        bar.remote\n"
    assert not [t for t in r.traces if t.label == "dns query"]  # /etc/hosts answered: no packet


def test_pod_with_hostname_and_subdomain_has_its_fqdn_in_etc_hosts(dlab):
    ip = dlab.cluster.api.get("Pod", "default", "db-0")["status"]["podIP"]
    hosts = dlab.sh("cat /etc/hosts", on="db-0").output
    assert hosts.endswith(f"{ip}\tdb-0.db.default.svc.cluster.local\tdb-0\n")
    assert dlab.sh("hostname", on="db-0").output == "db-0\n"


def test_dns_down_queries_are_refused_at_once(fresh):
    fresh.sh("kubectl scale deploy coredns -n kube-system --replicas=0")
    assert "has no endpoints" in fresh.sh("iptables-save -t filter", on="node-1").output
    before = fresh.world.clock
    result = lookup(pod_ns(fresh, "toolbox"), "web")
    assert [a.error for a in result.answers] == ["connection refused", "connection refused"]  # attempts:2
    assert fresh.world.clock == before  # ICMP port unreachable: no timeout waited out
    rejected = [t for a in result.answers for t in a.traces if t.label == "dns query"]
    assert all(any("has no endpoints" in h.text for h in t.hops) for t in rejected)
    assert result.addresses() == []
