"""End to end: a real `netlab serve`, real SSH clients with a PTY, the bytes rendered by a
terminal emulator (pyte), and assertions on what a person would see."""
from __future__ import annotations

import json

import pytest
from serverkit import PASSWORD
from sshterm import Trainee


async def _sandbox(t: Trainee) -> None:
    await t.wait_for("Sandbox")
    t.press("down")  # Levels → Sandbox
    t.press("enter")
    await t.wait_for("root@")


async def test_title_sandbox_command_resize_and_clean_exit(classroom):
    t = await Trainee.connect(classroom.port, "alice", key=classroom.keys["alice"], cols=130, rows=40)
    screen = await t.wait_for("where does this packet go, and why?")
    assert "Levels" in screen and "Load save" in screen
    await _sandbox(t)
    t.type("ip route\r")
    screen = await t.wait_for("172.30.0.0/16 dev flannel.1")
    assert "root@" in screen
    # 130 columns: the side panes stand beside the shell; at 80 they move below it.
    t.resize(80, 24)
    await t.settle()
    narrow = t.text.splitlines()
    assert len(narrow) == 24 and all(len(line) == 80 for line in narrow)
    assert any("Trace" in line for line in narrow)
    t.press("ctrl+q")
    status = await t.closed()
    assert status == 0
    await t.close()


@pytest.mark.serve_args("--level", "flannel-route")
async def test_level_from_the_server_a_typed_fix_and_the_objective_ticks(classroom):
    t = await Trainee.connect(classroom.port, "alice", key=classroom.keys["alice"], cols=160, rows=45)
    await t.wait_for("The missing flannel.1 route")
    await t.wait_for("objectives are checked after each command")
    t.type("ip route\r")  # a look around: objectives checked, still failing
    await t.wait_for("✗")
    t.type("ip route add 172.30.0.0/16 dev flannel.1\r")
    await t.wait_for("Level solved")
    assert "✓" in t.text and "✗" not in t.text
    await t.close()
    # The hub heard about it: the record says who solved what.
    record = [json.loads(line) for line in (classroom.tmp / "record.jsonl").read_text().splitlines()]
    assert any(e["event"] == "solved" and e["user"] == "alice" and e["level"] == "flannel-route" for e in record)


async def test_shared_mode_teammates_see_each_others_change(classroom):
    bob = await Trainee.connect(classroom.port, "bob", password=PASSWORD, cols=160, rows=45)
    carol = await Trainee.connect(classroom.port, "carol", password=PASSWORD, cols=160, rows=45)
    await _sandbox(bob)
    await _sandbox(carol)
    assert "shared with team" in bob.text
    bob.type("kubectl scale deployment data-product --replicas=1\r")
    await bob.wait_for("deployment.apps/data-product scaled")
    screen = await carol.wait_for("[bob] kubectl scale deployment data-product --replicas=1")
    assert "deployment.apps/data-product scaled" in screen
    carol.type("kubectl get deploy data-product\r")
    await carol.wait_for("1/1")
    await bob.close()
    await carol.close()
