"""The Kubernetes DNS specification, asked of CoreDNS pods through the dataplane."""
import dns.flags
import dns.rcode
import dns.rdatatype
import pytest
from dnslab import DNS, pod_ns

from netlab.apps.dns.resolver import query


def ask(lab, name, qtype="A", pod="toolbox"):
    answer = query(pod_ns(lab, pod), DNS, name, qtype)
    assert answer.response is not None, answer.error
    return answer.response


def records(resp, rtype):
    return sorted(r.to_text() for rs in resp.answer if dns.rdatatype.to_text(rs.rdtype) == rtype for r in rs)


def test_clusterip_service_a_record_ttl_5_authoritative(dlab):
    resp = ask(dlab, "web.default.svc.cluster.local.")
    assert resp.rcode() == dns.rcode.NOERROR
    assert records(resp, "A") == ["10.96.0.20"]
    assert [rs.ttl for rs in resp.answer] == [5]
    assert resp.flags & dns.flags.AA


def test_service_in_other_namespace(dlab):
    assert records(ask(dlab, "api.team.svc.cluster.local."), "A") == ["10.96.0.30"]


def test_headless_service_one_a_per_ready_endpoint(dlab):
    ready = sorted(p["status"]["podIP"] for p in dlab.cluster.api.list("Pod", "default")
                   if p["metadata"]["name"] in ("db-0", "db-1"))
    not_ready = dlab.cluster.api.get("Pod", "default", "db-2")["status"]["podIP"]
    got = records(ask(dlab, "db.default.svc.cluster.local."), "A")
    assert got == ready
    assert not_ready not in got


def test_pod_hostname_subdomain_record(dlab):
    ip = dlab.cluster.api.get("Pod", "default", "db-0")["status"]["podIP"]
    assert records(ask(dlab, "db-0.db.default.svc.cluster.local."), "A") == [ip]


def test_hostname_without_matching_subdomain_gets_dashed_ip_name(dlab):
    ip = dlab.cluster.api.get("Pod", "default", "db-1")["status"]["podIP"]
    assert ask(dlab, "db-1.db.default.svc.cluster.local.").rcode() == dns.rcode.NXDOMAIN
    assert records(ask(dlab, f"{ip.replace('.', '-')}.db.default.svc.cluster.local."), "A") == [ip]


def test_srv_named_port_clusterip(dlab):
    resp = ask(dlab, "_http._tcp.web.default.svc.cluster.local.", "SRV")
    assert records(resp, "SRV") == ["0 100 80 web.default.svc.cluster.local."]
    assert records(ask(dlab, "_dns._udp.web.default.svc.cluster.local.", "SRV"), "SRV") == \
        ["0 100 53 web.default.svc.cluster.local."]


def test_srv_named_port_headless_names_each_endpoint(dlab):
    ip1 = dlab.cluster.api.get("Pod", "default", "db-1")["status"]["podIP"]
    resp = ask(dlab, "_pg._tcp.db.default.svc.cluster.local.", "SRV")
    assert records(resp, "SRV") == sorted([f"0 50 5432 db-0.db.default.svc.cluster.local.",
                                           f"0 50 5432 {ip1.replace('.', '-')}.db.default.svc.cluster.local."])


def test_srv_unknown_port_or_protocol_is_nxdomain(dlab):
    assert ask(dlab, "_nope._tcp.web.default.svc.cluster.local.", "SRV").rcode() == dns.rcode.NXDOMAIN
    assert ask(dlab, "_http._udp.web.default.svc.cluster.local.", "SRV").rcode() == dns.rcode.NXDOMAIN


def test_ptr_for_service_ip_and_headless_endpoint(dlab):
    assert records(ask(dlab, "20.0.96.10.in-addr.arpa.", "PTR"), "PTR") == ["web.default.svc.cluster.local."]
    ip0 = dlab.cluster.api.get("Pod", "default", "db-0")["status"]["podIP"]
    rev = ".".join(reversed(ip0.split("."))) + ".in-addr.arpa."
    assert records(ask(dlab, rev, "PTR"), "PTR") == ["db-0.db.default.svc.cluster.local."]


def test_externalname_is_a_cname(dlab):
    resp = ask(dlab, "ext.default.svc.cluster.local.")
    assert records(resp, "CNAME") == ["example.com."]


def test_dns_version_txt(dlab):
    assert records(ask(dlab, "dns-version.cluster.local.", "TXT"), "TXT") == ['"1.1.0"']


def test_unknown_name_is_nxdomain_with_the_zone_soa(dlab):
    for name in ("nope.default.svc.cluster.local.", "web.nonamespace.svc.cluster.local.", "x.y.cluster.local."):
        resp = ask(dlab, name)
        assert resp.rcode() == dns.rcode.NXDOMAIN, name
        assert not resp.answer
        assert [(rs.name.to_text(), dns.rdatatype.to_text(rs.rdtype), rs.ttl) for rs in resp.authority] == \
            [("cluster.local.", "SOA", 5)]


@pytest.mark.parametrize("name,qtype", [("web.default.svc.cluster.local.", "TXT"),
                                        ("web.default.svc.cluster.local.", "AAAA"),
                                        ("default.svc.cluster.local.", "A"),
                                        ("dns-version.cluster.local.", "A")])
def test_known_name_without_the_type_is_nodata(dlab, name, qtype):
    resp = ask(dlab, name, qtype)
    assert resp.rcode() == dns.rcode.NOERROR
    assert not resp.answer
    assert [dns.rdatatype.to_text(rs.rdtype) for rs in resp.authority] == ["SOA"]


def test_names_outside_the_cluster_are_forwarded_upstream(dlab):
    answer = query(pod_ns(dlab, "toolbox"), DNS, "example.com.", "A")
    assert records(answer.response, "A") == ["93.184.215.14"]
    assert not answer.response.flags & dns.flags.AA
    assert any("coredns forward: A example.com." in h.text for t in answer.traces for h in t.hops)
    assert any("outside resolver answered" in v.reason for t in answer.traces for v in t.ends)


def test_upstream_nxdomain_comes_back_with_the_root_soa(dlab):
    resp = ask(dlab, "no-such-name.example.")
    assert resp.rcode() == dns.rcode.NXDOMAIN
    assert [rs.name.to_text() for rs in resp.authority] == ["."]
