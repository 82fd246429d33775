"""ipvsadm's output formats and errors (ipvsadm 1.31 with libnl-3, as on Debian/Ubuntu
nodes; formats from ipvsadm.c's printf strings, errors through libipvs' table)."""
from __future__ import annotations

import pytest

from netlab import Lab

HEAD = ("IP Virtual Server version 1.2.1 (size=4096)\n"
        "Prot LocalAddress:Port Scheduler Flags\n"
        "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n")


@pytest.fixture
def lab():
    lab = Lab.default()
    for cmd in ("ipvsadm -A -t 10.96.0.1:443 -s rr",
                "ipvsadm -a -t 10.96.0.1:443 -r 192.168.0.21:6443 -m",
                "ipvsadm -a -t 10.96.0.1:443 -r 192.168.0.22:6443 -m -w 2"):
        assert lab.sh(cmd).exit_code == 0
    return lab


def sh(lab, cmd):
    r = lab.sh(cmd)
    return r.exit_code, r.output


def test_list_numeric_is_the_real_layout(lab):
    code, out = sh(lab, "ipvsadm -ln")
    assert code == 0
    assert out == HEAD + ("TCP  10.96.0.1:443 rr\n"
                          "  -> 192.168.0.21:6443            Masq    1      0          0         \n"
                          "  -> 192.168.0.22:6443            Masq    2      0          0         \n")


def test_list_without_n_names_ports_from_etc_services(lab):
    sh(lab, "ipvsadm -A -u 10.96.0.10:53 -s rr -p")
    out = sh(lab, "ipvsadm -L")[1]
    assert "TCP  10.96.0.1:https rr\n" in out
    assert "UDP  10.96.0.10:domain rr persistent 300\n" in out


def test_sorting_compares_addresses_as_a_c_int_would(lab):
    # ntohl(a) - ntohl(b) in an int: 192.168.0.21 - 10.96.0.1 overflows negative, so the
    # NodePort service on the node address is listed first.
    sh(lab, "ipvsadm -A -t 192.168.0.21:30080 -s rr")
    out = sh(lab, "ipvsadm -ln")[1].splitlines()
    services = [line.split()[1] for line in out[3:] if not line.startswith("  ->")]
    assert services == ["192.168.0.21:30080", "10.96.0.1:443"]


def test_filter_by_service_and_stats_and_rate_columns(lab):
    code, out = sh(lab, "ipvsadm -L -n -t 10.96.0.1:443")
    assert code == 0 and out.startswith("Prot LocalAddress:Port Scheduler Flags\n")
    out = sh(lab, "ipvsadm -ln --stats")[1].splitlines()
    assert out[1] == "Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes"
    assert out[2] == "  -> RemoteAddress:Port"
    assert out[3] == f"{'TCP  10.96.0.1:443':<33}" + "        0" * 5  # %-33s then %9llu each
    out = sh(lab, "ipvsadm -ln --rate")[1].splitlines()
    assert out[1] == "Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS"


def test_connections_listing_and_timeouts(lab):
    assert sh(lab, "ipvsadm -lnc") == (0, "IPVS connection entries\n"
                                          "pro expire state       source             virtual            destination\n")
    assert sh(lab, "ipvsadm -l --timeout") == (0, "Timeout (tcp tcpfin udp): 900 120 300\n")
    assert sh(lab, "ipvsadm --set 3600 0 0") == (0, "")
    assert sh(lab, "ipvsadm -l --timeout") == (0, "Timeout (tcp tcpfin udp): 3600 120 300\n")


def test_save_and_restore_round_trip(lab):
    sh(lab, "ipvsadm -A -f 100 -s sh -p 60 -M 255.255.255.0")
    sh(lab, "ipvsadm -a -f 100 -r 10.244.1.5:0 -m -w 3")
    saved = sh(lab, "ipvsadm -S -n")[1]
    assert saved == ("-A -t 10.96.0.1:443 -s rr\n"
                     "-a -t 10.96.0.1:443 -r 192.168.0.21:6443 -m -w 1\n"
                     "-a -t 10.96.0.1:443 -r 192.168.0.22:6443 -m -w 2\n"
                     "-A -f 100 -s sh -p 60 -M 255.255.255.0\n"
                     "-a -f 100 -r 10.244.1.5:0 -m -w 3\n")
    listing = sh(lab, "ipvsadm -ln")[1]
    assert "FWM  100 sh persistent 60 mask 255.255.255.0\n" in listing
    sh(lab, "ipvsadm -C")
    assert sh(lab, "ipvsadm -ln") == (0, HEAD)
    lines = saved.strip().split("\n")
    cmd = "echo '" + lines[0] + "' | ipvsadm -R"
    assert sh(lab, cmd) == (0, "")
    assert sh(lab, "ipvsadm -S -n")[1] == lines[0] + "\n"


def test_errors_use_ipvsadm_words_and_exit_codes(lab):
    assert sh(lab, "ipvsadm -A -t 10.96.0.1:443") == (255, "Service already exists\n")
    assert sh(lab, "ipvsadm -A -t 10.96.0.2:80 -s xyz") == (255, "Scheduler or persistence engine not found\n")
    assert sh(lab, "ipvsadm -a -t 10.96.0.1:443 -r 192.168.0.21:6443 -m") == (255, "Destination already exists\n")
    assert sh(lab, "ipvsadm -d -t 10.96.0.1:443 -r 1.2.3.4:6443") == (255, "No such destination\n")
    assert sh(lab, "ipvsadm -e -t 10.96.0.1:443 -r 1.2.3.4:6443 -m") == (255, "No such destination\n")
    # libnl-3 folds the kernel's ESRCH into ENOENT: strerror for the ops without an entry
    assert sh(lab, "ipvsadm -D -t 10.1.1.1:80") == (255, "No such file or directory\n")
    assert sh(lab, "ipvsadm -a -t 10.1.1.1:80 -r 1.2.3.4") == (255, "No such file or directory\n")
    assert sh(lab, "ipvsadm -L -n -t 10.9.9.9:80") == (1, "No such file or directory\n")
    assert sh(lab, "ipvsadm -A -t 10.96.0.3") == (2, "Zero port specified for non-persistent service\n")
    assert sh(lab, "ipvsadm -A -t 10.96.0.300:80") == (2, "illegal virtual server address[:port] specified\n")
    assert sh(lab, "ipvsadm -a -t 10.96.0.1:443 -r 1.2.3.4 -w 70000") == (2, "illegal weight specified\n")
    assert sh(lab, "ipvsadm -a -t 10.96.0.1:443") == \
        (2, "You need to supply the 'real-server' option for the 'add-server' command\n")
    assert sh(lab, "ipvsadm -D -t 10.96.0.1:443 -s rr") == \
        (2, "Illegal 'scheduler' option with the 'delete-service' command\n")
    assert sh(lab, "ipvsadm -L -c -t 10.96.0.1:443") == \
        (2, "The option 'service-address' conflicts with the 'connection' option in the 'list' command\n")
    assert sh(lab, "ipvsadm -A -t 10.96.0.5:80 -A") == (2, "multiple commands specified\n")
    assert sh(lab, "ipvsadm -A -t 10.96.0.5:80 -s rr -s wlc") == (2, "multiple 'scheduler' options specified\n")
    assert sh(lab, "ipvsadm -nL") == (255, "Try `ipvsadm -h' or 'ipvsadm --help' for more information.\n")
    assert sh(lab, "ipvsadm -L --bogus") == (255, "--bogus: unknown option\n")
    assert sh(lab, "ipvsadm -ln extra") == (2, "unexpected argument extra\n")


def test_default_forwarding_is_direct_routing_with_the_service_port(lab):
    assert sh(lab, "ipvsadm -a -t 10.96.0.1:443 -r 10.244.1.5:8443") == (0, "")
    assert "  -> 10.244.1.5:443               Route   1      0          0         \n" in sh(lab, "ipvsadm -ln")[1]


def test_zero_and_edit_and_delete(lab):
    assert sh(lab, "ipvsadm -e -t 10.96.0.1:443 -r 192.168.0.22:6443 -m -w 0") == (0, "")
    assert "  -> 192.168.0.22:6443            Masq    0 " in sh(lab, "ipvsadm -ln")[1]
    assert sh(lab, "ipvsadm -E -t 10.96.0.1:443 -s wlc") == (0, "")
    assert "TCP  10.96.0.1:443 wlc\n" in sh(lab, "ipvsadm -ln")[1]
    assert sh(lab, "ipvsadm -Z") == (0, "")
    assert sh(lab, "ipvsadm -d -t 10.96.0.1:443 -r 192.168.0.22:6443") == (0, "")
    assert sh(lab, "ipvsadm -D -t 10.96.0.1:443") == (0, "")
    assert sh(lab, "ipvsadm -ln") == (0, HEAD)


def test_ipvsadm_is_a_node_tool(lab):
    pod = next(iter(lab.cluster.pod_ns)).split("/", 1)[1]
    r = lab.sh("ipvsadm -ln", on=pod)
    assert r.exit_code == 127 and "not found" in r.output


def test_proc_files_show_the_kernel_list_order(lab):
    out = sh(lab, "cat /proc/net/ip_vs")[1].splitlines()
    assert out[3] == "TCP  0A600001:01BB rr "
    # newest first, unsorted: the order the schedulers scan
    assert out[4].startswith("  -> C0A80016:192B      Masq    2")
    assert out[5].startswith("  -> C0A80015:192B      Masq    1")
