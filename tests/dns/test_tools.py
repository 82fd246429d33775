"""nslookup, dig, host and getent, in the formats bind9 9.18 and glibc print (checked against
the real tools asking `netlab dns serve`)."""
import pytest

from netlab.shell.cmd_dns import dig_columns


def sh(lab, line, pod="toolbox"):
    return lab.sh(line, on=pod)


def test_nslookup_service_through_the_search_list(dlab):
    r = sh(dlab, "nslookup web")
    assert r.exit_code == 0
    assert r.output == ("Server:\t\t10.96.0.10\nAddress:\t10.96.0.10#53\n\n"
                        "Name:\tweb.default.svc.cluster.local\nAddress: 10.96.0.20\n\n")


def test_nslookup_nxdomain_nodata_upstream_and_reverse(dlab):
    head = "Server:\t\t10.96.0.10\nAddress:\t10.96.0.10#53\n\n"
    r = sh(dlab, "nslookup nope.default.svc.cluster.local")
    assert (r.exit_code, r.output) == (1, head + "** server can't find nope.default.svc.cluster.local: NXDOMAIN\n\n")
    r = sh(dlab, "nslookup -type=TXT web.default.svc.cluster.local")
    assert (r.exit_code, r.output) == (0, head + "*** Can't find web.default.svc.cluster.local: No answer\n\n")
    r = sh(dlab, "nslookup example.com")
    assert r.output == head + "Non-authoritative answer:\nName:\texample.com\nAddress: 93.184.215.14\n\n"
    r = sh(dlab, "nslookup 10.96.0.20")  # a reverse lookup prints no server header
    assert r.output == "20.0.96.10.in-addr.arpa\tname = web.default.svc.cluster.local.\n\n"
    r = sh(dlab, "nslookup -type=SRV _http._tcp.web.default.svc.cluster.local")
    assert r.output == head + ("_http._tcp.web.default.svc.cluster.local\tservice = 0 100 80 "
                               "web.default.svc.cluster.local.\n\n")


def test_dig_columns_follow_bind9_indent():
    # the real dig's lines, byte for byte
    assert dig_columns("cluster.local.", "5", "IN", "SOA", "x") == "cluster.local.\t\t5\tIN\tSOA\tx"
    assert dig_columns("kubernetes.default.svc.cluster.local.", "5", "IN", "A", "10.254.0.1") == \
        "kubernetes.default.svc.cluster.local. 5\tIN A\t10.254.0.1"
    assert dig_columns("_data-product._tcp.data-product.default.svc.cluster.local.", "5", "IN", "SRV", "0") == \
        "_data-product._tcp.data-product.default.svc.cluster.local. 5 IN\tSRV 0"
    assert dig_columns("1.0.254.10.in-addr.arpa.", "5", "IN", "PTR", "k.") == "1.0.254.10.in-addr.arpa. 5\tIN\tPTR\tk."
    assert dig_columns("nope.default.svc.cluster.local.", "IN", "A", question=True) == ";nope.default.svc.cluster.local.\tIN\tA"
    assert dig_columns("example.com.", "IN", "A", question=True) == ";example.com.\t\t\tIN\tA"
    assert dig_columns("kubernetes.default.svc.cluster.local.", "IN", "A", question=True) == \
        ";kubernetes.default.svc.cluster.local. IN A"


def test_dig_full_answer(dlab):
    r = sh(dlab, "dig @10.96.0.10 web.default.svc.cluster.local")
    lines = r.output.split("\n")
    assert lines[:5] == ["", "; <<>> DiG 9.18.28-1~deb12u2-Debian <<>> @10.96.0.10 web.default.svc.cluster.local",
                         "; (1 server found)", ";; global options: +cmd", ";; Got answer:"]
    assert lines[5:7] == [";; WARNING: .local is reserved for Multicast DNS",
                          ";; You are currently testing what happens when an mDNS query is leaked to DNS"]
    assert lines[8] == ";; flags: qr aa rd ra; QUERY: 1, ANSWER: 1, AUTHORITY: 0, ADDITIONAL: 1"
    assert lines[9] == ""
    text = r.output
    assert ";; QUESTION SECTION:\n;web.default.svc.cluster.local.\tIN\tA\n\n" in text
    assert ";; ANSWER SECTION:\nweb.default.svc.cluster.local. 5 IN\tA\t10.96.0.20\n\n" in text
    assert text.endswith(";; SERVER: 10.96.0.10#53(10.96.0.10) (UDP)\n;; WHEN: Sun Nov 22 05:00:00 UTC 2026\n"
                         ";; MSG SIZE  rcvd: 74\n\n")


def test_dig_short_srv_and_search(dlab):
    assert sh(dlab, "dig +short SRV _pg._tcp.db.default.svc.cluster.local").output.count("5432") == 2
    assert sh(dlab, "dig +short web").output == ""  # dig does not search unless told
    assert sh(dlab, "dig +short +search web").output == "10.96.0.20\n"
    assert sh(dlab, "dig +short -x 10.96.0.30").output == "api.team.svc.cluster.local.\n"


def test_host_formats(dlab):
    assert sh(dlab, "host web").output == "web.default.svc.cluster.local has address 10.96.0.20\n"
    r = sh(dlab, "host nope.default.svc.cluster.local")
    assert (r.exit_code, r.output) == (1, "Host nope.default.svc.cluster.local not found: 3(NXDOMAIN)\n")
    assert sh(dlab, "host web 10.96.0.10").output == (
        "Using domain server:\nName: 10.96.0.10\nAddress: 10.96.0.10#53\nAliases: \n\n"
        "web.default.svc.cluster.local has address 10.96.0.20\n")


def test_getent_hosts(dlab):
    r = sh(dlab, "getent hosts api.team")
    assert (r.exit_code, r.output) == (0, "10.96.0.30      api.team.svc.cluster.local\n")
    r = sh(dlab, "getent hosts nope")
    assert (r.exit_code, r.output) == (2, "")


def test_tools_when_dns_has_no_endpoints(fresh):
    fresh.sh("kubectl scale deploy coredns -n kube-system --replicas=0")
    refused = ";; communications error to 10.96.0.10#53: connection refused\n"
    r = sh(fresh, "nslookup web")
    assert (r.exit_code, r.output) == (1, refused * 3 + ";; no servers could be reached\n\n")
    r = sh(fresh, "dig web.default.svc.cluster.local")
    assert r.exit_code == 9
    assert r.output == refused * 3 + ("\n; <<>> DiG 9.18.28-1~deb12u2-Debian <<>> web.default.svc.cluster.local\n"
                                      ";; global options: +cmd\n;; no servers could be reached\n")
    r = sh(fresh, "dig +short web.default.svc.cluster.local")
    assert r.output == refused * 3 + ";; no servers could be reached\n"
    r = sh(fresh, "host web")
    assert (r.exit_code, r.output) == (1, refused * 2 + ";; no servers could be reached\n")
    assert sh(fresh, "getent hosts web").exit_code == 2


def test_dns_blocked_by_a_silent_drop_times_out(fresh):
    node = "node-1"
    fresh.sh("iptables -I FORWARD -p udp --dport 53 -j DROP", on=node)
    fresh.sh("iptables -I OUTPUT -p udp --dport 53 -j DROP", on=node)
    before = fresh.world.clock
    r = sh(fresh, "nslookup web")
    assert r.output == ";; communications error to 10.96.0.10#53: timed out\n" * 3 + ";; no servers could be reached\n\n"
    assert fresh.world.clock - before == pytest.approx(15.0)
