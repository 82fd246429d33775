"""`sysctl`: procps' output and errors, and that the keys change what the dataplane does."""
from __future__ import annotations

from shellref import capture, error_cases, out, sh


def test_read_and_cat_match_the_kernel(klab):
    assert out(klab, "sysctl net.ipv4.ip_forward") == capture("n1_sysctl_net.ipv4.ip_forward.txt")
    assert out(klab, "cat /proc/sys/net/ipv4/ip_forward") == capture("n1_cat_proc_sys_net_ipv4_ip_forward.txt")


def test_errors_match_the_kernel(klab):
    for command, want, code in error_cases():
        if command.startswith("sysctl"):
            r = sh(klab, command)
            assert (r.output, r.exit_code) == (want, code), command


def test_write_forms_and_per_device_keys(klab):
    assert out(klab, "sysctl -n net.ipv4.ip_forward") == "1\n"
    assert out(klab, "sysctl -w net.ipv4.ip_forward=0") == "net.ipv4.ip_forward = 0\n"
    assert out(klab, "sysctl net/ipv4/ip_forward") == "net.ipv4.ip_forward = 0\n"
    assert out(klab, "sysctl net.ipv4.conf.flannel/1.forwarding") == "net.ipv4.conf.flannel/1.forwarding = 0\n"
    assert out(klab, "cat /proc/sys/net/ipv4/conf/flannel.1/forwarding") == "0\n"
    assert out(klab, "sysctl -q net.ipv4.ip_forward=1") == ""
    assert out(klab, "sysctl net.ipv4.conf.all.forwarding") == "net.ipv4.conf.all.forwarding = 1\n"
    r = sh(klab, "sysctl -w net.ipv4.ip_forward=abc")
    assert (r.output, r.exit_code) == ('sysctl: setting key "net.ipv4.ip_forward": Invalid argument\n', 1)
    r = sh(klab, "sysctl -w net.ipv4.ip_forward")
    assert (r.output, r.exit_code) == ('sysctl: "net.ipv4.ip_forward" must be of the form name=value\n', 1)
    text = out(klab, "sysctl net.ipv4.conf.docker0")
    assert text.startswith("net.ipv4.conf.docker0.accept_local = 0\n")
    assert "net.ipv4.conf.docker0.rp_filter = 0\n" in text
    assert "net.ipv4.ip_local_port_range = 32768\t60999\n" in out(klab, "sysctl -a")
    assert out(klab, "sysctl -a -r bridge-nf-call-iptables") == "net.bridge.bridge-nf-call-iptables = 1\n"


def test_ip_forward_off_stops_cross_node_pod_traffic(klab):
    assert sh(klab, "ping -c 1 -W 1 172.30.9.2", on="p1").exit_code == 0
    out(klab, "sysctl -w net.ipv4.ip_forward=0")
    assert sh(klab, "ping -c 1 -W 1 172.30.9.2", on="p1").exit_code == 1
    out(klab, "sysctl -w net.ipv4.conf.all.forwarding=1")
    assert sh(klab, "ping -c 1 -W 1 172.30.9.2", on="p1").exit_code == 0
