"""`repeat N CMD`: the burst of requests the load-spread chart is drawn from."""
from __future__ import annotations

import pytest

from netlab.levels import start_sandbox


@pytest.fixture(scope="module")
def sandbox():
    lab, _ = start_sandbox()
    pod = next(p["metadata"]["name"] for p in lab.cluster.api.list("Pod", "default")
               if p["metadata"]["name"].startswith("business-manager-"))
    lab.session.run(f"kubectl exec -it {pod} -- sh")  # in a pod: Service names resolve
    return lab


def test_prints_the_last_run_and_a_summary(sandbox):
    r = sandbox.session.run("repeat 5 curl -s data-product:50051")
    lines = r.output.splitlines()
    assert len(lines) == 2 and lines[0].startswith("data-product-")
    assert lines[1] == "repeat: 5 runs, 5 succeeded"
    assert r.exit_code == 0
    assert sum(t.label == "SYN" for t in r.traces) == 5  # every run's packets, not only the last


def test_counts_failures_and_returns_the_last_code(sandbox):
    r = sandbox.session.run("repeat 3 false")
    assert (r.output, r.exit_code) == ("repeat: 3 runs, 0 succeeded\n", 1)
    r = sandbox.session.run("repeat 2 echo 'a  b'")
    assert r.output == "a  b\nrepeat: 2 runs, 2 succeeded\n"  # arguments keep their quoting


def test_usage_errors(sandbox):
    assert sandbox.session.run("repeat").exit_code == 2
    assert sandbox.session.run("repeat x echo").output == "usage: repeat N COMMAND [ARG...]\n"
    assert sandbox.session.run("repeat 0 echo").output.startswith("repeat: N must be between 1 and")


def test_reports_progress_to_a_front_end(sandbox):
    seen = []
    sandbox.session.progress = lambda done, total: seen.append((done, total))
    try:
        sandbox.session.run("repeat 4 true")
    finally:
        del sandbox.session.progress
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]
