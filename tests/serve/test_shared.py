"""Shared labs: one ordered log, replicas that replay it to the same world."""
from __future__ import annotations

from netlab.levels import load_level, start_sandbox
from netlab.save.fingerprint import fingerprint
from netlab.serve.shared import Entry, SharedRun, SharedWorld


def _world(level: str | None = None) -> SharedWorld:
    if level:
        lvl = load_level(level)
        _lab, run = lvl.start()
        return SharedWorld(run.setup, lvl)
    _lab, run = start_sandbox(None)
    return SharedWorld(run.setup, None)


def test_replicas_built_from_a_snapshot_and_fed_entries_are_the_same_world():
    hub = _world()
    hub.apply("bob", "ssh 192.168.0.22")  # bob moves to a node; carol stays on the workstation
    replica_a = SharedWorld.from_snapshot(hub.snapshot())
    entries = [hub.apply("carol", "kubectl scale deployment data-product --replicas=1")[0],
               hub.apply("bob", "ip route del 172.30.0.0/16")[0]]
    for entry in entries:
        replica_a.replay(Entry.unpack(entry.pack()))
    replica_b = SharedWorld.from_snapshot(hub.snapshot())
    assert fingerprint(replica_a.lab) == fingerprint(hub.lab) == fingerprint(replica_b.lab)
    # Each user kept their own context: bob's route delete ran on 192.168.0.22.
    assert hub.session("bob").prompt.startswith("root@192.168.0.22")
    assert hub.session("carol").prompt.startswith("root@192.168.0.21")
    assert "172.30.0.0/16" not in hub.lab.sh("ip route", on="192.168.0.22").output
    assert "172.30.0.0/16" in hub.lab.sh("ip route", on="192.168.0.21").output


def test_editor_answers_travel_in_the_entry_and_replay_without_asking():
    hub = _world()
    asked = []

    def editor(text: str) -> str:
        asked.append(text)
        return text.replace("replicas: 3", "replicas: 2")

    entry, result = hub.apply("bob", "kubectl edit deployment data-product", editor)
    assert result.exit_code == 0, result.output
    assert asked and entry.edits and "replicas: 2" in entry.edits[0]
    replica = SharedWorld.from_snapshot(hub.snapshot())
    assert "2/2" in replica.lab.sh("kubectl get deploy data-product").output
    assert fingerprint(replica.lab) == fingerprint(hub.lab)


def test_a_replay_out_of_order_is_refused_not_guessed():
    hub = _world()
    replica = SharedWorld.from_snapshot(hub.snapshot())
    hub.apply("bob", "ip route")
    second, _ = hub.apply("bob", "ip neigh")
    try:
        replica.replay(second)
    except RuntimeError as err:
        assert "out of step" in str(err)
    else:
        raise AssertionError("an entry applied out of order")


def test_shared_run_sends_lines_to_the_hub_and_returns_the_replica_result():
    hub = _world("flannel-route")
    member = SharedWorld.from_snapshot(hub.snapshot())
    runs: dict = {}

    def send(line: str) -> dict:  # the hub: order, apply, broadcast (to our replica), answer
        entry, _ = hub.apply("bob", line)
        runs["bob"].applied(entry)
        return {"seq": entry.seq}

    run = runs["bob"] = SharedRun(member, "bob", send)
    assert run.lab.session is member.session("bob")
    result = run.sh("ssh 192.168.0.21 ip route add 172.30.0.0/16 dev flannel.1")
    assert result.exit_code == 0
    assert all(r.passed for r in run.check())
    assert fingerprint(member.lab) == fingerprint(hub.lab)


def test_forbidden_lines_are_refused_before_they_reach_the_hub():
    hub = _world("hairpin")
    member = SharedWorld.from_snapshot(hub.snapshot())
    sent = []
    run = SharedRun(member, "bob", lambda line: sent.append(line) or {"error": "unreachable"})
    result = run.sh("kubectl get pods")
    assert result.exit_code == 1 and "forbidden" in result.output
    assert sent == []


def test_a_world_made_from_the_lab_a_level_just_built_matches_its_replicas():
    level = load_level("hairpin")
    lab, run = level.start()
    hub = SharedWorld(run.setup, level, lab)  # what the hub's room does: no second build
    assert hub.lab is lab
    hub.apply("bob", "ssh node-a iptables -t nat -S")
    assert fingerprint(SharedWorld.from_snapshot(hub.snapshot()).lab) == fingerprint(hub.lab)
