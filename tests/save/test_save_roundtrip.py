"""Random sessions save and load back to the identical world."""
import os
import subprocess
import sys

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netlab.levels import load_level, start_sandbox
from netlab.save import fingerprint, load, quickload, quicksave, save, undo
from netlab.save.fingerprint import differences

BM = "business-manager-5c459c947d-7crrf"  # the default lab's names are seeded: stable
VOCAB = [
    "ssh 192.168.0.21", "ssh 192.168.0.22", "exit", "ip route", "ip neigh", "bridge fdb show",
    "ping -c 1 172.30.9.2", "ping -c 2 172.30.76.3", "curl -s http://10.254.80.22/", "sleep 45",
    "ip route del 172.30.0.0/16 dev flannel.1", "ip route add 172.30.0.0/16 dev flannel.1",
    "kubectl scale deployment business-manager --replicas=2", "kubectl scale deployment business-manager --replicas=4",
    "iptables -t nat -I POSTROUTING 1 -j ACCEPT", "ip neigh flush all", "sysctl -w net.ipv4.ip_forward=0",
    "sysctl -w net.ipv4.ip_forward=1", f"kubectl exec {BM} -- ping -c 1 172.30.9.2",
    f"kubectl exec {BM} -- nslookup data-product", "conntrack -F", "frobnicate",
]
EVENTS = st.one_of(st.sampled_from(VOCAB), st.sampled_from([10.0, 31.0, 75.0]))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(EVENTS, max_size=8))
def test_random_sessions_round_trip(tmp_path, events):
    lab, run = start_sandbox()
    for e in events:
        if isinstance(e, float):
            run.advance(e)
        else:
            run.sh(e)
    path = str(tmp_path / "s.nlsave")
    save(path, lab, run)
    lab2, run2 = load(path)  # load itself refuses a world that differs
    assert differences(fingerprint(lab), fingerprint(lab2)) == []
    assert lab2.session.history == lab.session.history
    assert lab2.session.prompt == lab.session.prompt
    assert run2.advances == run.advances


def test_level_save_keeps_level_hints_and_context(tmp_path):
    level = load_level("flannel-route")
    lab, run = level.start()
    run.hint()
    for line in ["ssh 192.168.0.21", "ip route add 172.30.0.0/16 dev flannel.1"]:
        run.sh(line)
    assert all(r.passed for r in run.check())
    path = save(str(tmp_path / "l.nlsave"), lab, run)
    lab2, run2 = load(path)
    assert run2.level.id == "flannel-route" and run2.hints_used == 1 and run2.solved
    assert lab2.session.ctx.name == "192.168.0.21"
    assert all(r.passed for r in run2.check())
    assert run2.score().changes == 1


def test_external_editor_texts_replay(tmp_path):
    lab, run = start_sandbox()
    lab.session.external_editor = lambda text: text.replace("replicas: 3", "replicas: 1")
    out = run.sh("kubectl edit deployment business-manager")
    assert out.ok, out.output
    path = save(str(tmp_path / "e.nlsave"), lab, run)
    lab2, _ = load(path)
    pods = [k for k in lab2.cluster.pod_ns if "business-manager" in k]
    assert len(pods) == 1


def test_undo_drops_the_last_change_and_keeps_reads():
    lab, run = start_sandbox()
    for line in ["ssh 192.168.0.21", "ip route del 172.30.0.0/16 dev flannel.1", "ip route",
                 "ping -c 1 172.30.9.2"]:
        run.sh(line)
    lab2, run2 = undo(run)
    assert lab2.session.history == ["ssh 192.168.0.21", "ip route", "ping -c 1 172.30.9.2"]
    fresh, fresh_run = start_sandbox()
    for line in lab2.session.history:
        fresh_run.sh(line)
    assert differences(fingerprint(lab2), fingerprint(fresh)) == []
    assert "flannel.1" in lab2.sh("ip route", on="192.168.0.21").output


def test_quicksave_slot_in_the_save_dir(tmp_path):
    lab, run = start_sandbox()
    run.sh("ip route del 172.30.0.0/16 dev flannel.1")
    path = quicksave(lab, run)
    assert path == os.path.join(os.environ["NETLAB_SAVE_DIR"], "sandbox-quick.nlsave")
    lab2, _ = quickload("")
    assert lab2.session.history == lab.session.history


def test_a_save_written_in_another_process_loads_here(tmp_path):
    """Python randomises str hashes per process; nothing in the world may depend on them."""
    path = str(tmp_path / "p.nlsave")
    script = ("import sys; from netlab.levels import start_sandbox; from netlab.save import save\n"
              "lab, run = start_sandbox()\n"
              f"for l in {VOCAB[:12]!r}: run.sh(l)\n"
              "save(sys.argv[1], lab, run)\n")
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run([sys.executable, "-c", script, path], check=True, env=env)
    lab, _ = load(path)
    assert lab.session.history == VOCAB[:12]
