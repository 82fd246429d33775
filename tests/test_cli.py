"""The `netlab` command as scripts and graders use it: exit codes, output, one-line errors."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent


def netlab(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "netlab", *args], input=stdin, capture_output=True, text=True,
                          cwd=ROOT, timeout=60)


def assert_no_traceback(proc: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in proc.stdout + proc.stderr


def test_exec_prints_output_and_exits_with_the_commands_code():
    ok = netlab("exec", "--", "ssh", "192.168.0.21", "hostname")
    assert (ok.returncode, ok.stdout) == (0, "192.168.0.21\n")
    missing = netlab("exec", "--", "frobnicate")
    assert missing.returncode == 127
    assert missing.stdout == "bash: frobnicate: command not found\n"


def test_exec_accepts_a_whole_line_with_pipes():
    proc = netlab("exec", "--", "kubectl get po -o wide | grep data-product | wc -l")
    assert proc.stdout.strip() == "3"


def test_run_echoes_each_line_then_its_output(tmp_path):
    script = tmp_path / "s.sh"
    script.write_text("# a comment\nhostname\n\nssh 192.168.0.22\nhostname\n")
    proc = netlab("run", str(script))
    assert proc.returncode == 0
    assert proc.stdout == "$ hostname\n192.168.0.21\n$ ssh 192.168.0.22\n$ hostname\n192.168.0.22\n"


def test_trace_prints_a_journey_with_a_verdict():
    proc = netlab("trace", "192.168.0.21", "192.168.0.22")
    assert proc.returncode == 0
    assert proc.stdout.startswith("trace: 192.168.0.21 → 192.168.0.22 ICMP echo request seq 1\n")
    assert "verdict: DELIVERED at 192.168.0.22/eth0" in proc.stdout


def test_trace_to_a_closed_tcp_port_names_the_reset():
    proc = netlab("trace", "192.168.0.21", "192.168.0.22:9999")
    assert proc.returncode == 1
    assert "nothing listens on TCP port 9999: connection refused (RST sent)" in proc.stdout


@pytest.mark.parametrize("text, expected", [
    ("apiVersion: netlab/v1\nkind: Lab\nspec:\n  nodes:\n  - {name: a, ip: 10.0.0.1, podCIDR: 10.244.0.0/33}\n",
     "bad.yaml:5: spec.nodes[0].podCIDR: \"10.244.0.0/33\" is not a CIDR like 10.244.0.0/16"),
    ("apiVersion: netlab/v1\nkind: Lab\nspec:\n  nodes:\n  - name: a\n   ip: 1\n", "bad.yaml:6: invalid YAML"),
    ("apiVersion: netlab/v1\nkind: Lab\nspec: {nodez: []}\n", "bad.yaml:3: spec.nodez: unknown field \"nodez\""),
    ("kind: Pod\n", "bad.yaml:1: kind: the first document must be `kind: Lab`"),
])
def test_bad_lab_files_get_one_line_naming_file_line_and_problem(tmp_path, text, expected):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    proc = netlab("exec", "--lab", str(path), "--", "true")
    assert proc.returncode == 2
    assert_no_traceback(proc)
    assert proc.stderr.count("\n") == 1
    assert expected in proc.stderr


def test_missing_lab_file_and_script():
    proc = netlab("exec", "--lab", "/nonexistent.yaml", "--", "true")
    assert proc.returncode == 2 and "No such file or directory" in proc.stderr
    proc = netlab("run", "/nonexistent.sh")
    assert proc.returncode == 2 and "No such file or directory" in proc.stderr


def test_interactive_shell_reads_lines_until_exit():
    proc = netlab(stdin="hostname\nssh 192.168.0.22\nhostname\nexit\nexit\n")
    assert proc.returncode == 0
    assert "root@192.168.0.21:~# 192.168.0.21" in proc.stdout
    assert "root@192.168.0.22:~# 192.168.0.22" in proc.stdout


def test_interactive_shell_ends_on_eof():
    proc = netlab(stdin="hostname\n")
    assert proc.returncode == 0
    assert_no_traceback(proc)
