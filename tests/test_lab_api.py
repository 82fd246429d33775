from netlab import Lab


def test_default_lab_has_two_nodes_six_app_pods_and_coredns(lab):
    assert sorted(lab.cluster.nodes) == ["192.168.0.21", "192.168.0.22"]
    assert len([k for k in lab.cluster.pod_ns if k.startswith("default/")]) == 6
    assert len([k for k in lab.cluster.pod_ns if k.startswith("kube-system/coredns-")]) == 2


def test_sh_returns_output_exit_code_and_traces(lab):
    pod = next(k for k in lab.cluster.pod_ns if "business-manager" in k).split("/", 1)[1]
    r = lab.sh("ping -c 1 172.30.9.2", on=pod)
    assert r.exit_code == 0
    assert "1 received" in r.output
    labels = [t.label for t in r.traces]
    assert "echo request" in labels and "echo reply" in labels
    assert all(t.delivered for t in r.traces if t.label in ("echo request", "echo reply"))


def test_unknown_command_is_bash_127(lab):
    r = lab.sh("frobnicate")
    assert r.exit_code == 127
    assert r.output == "bash: frobnicate: command not found\n"
