"""The trainee's TUI in a classroom: what the hub's messages do to it, and what it reports
back (NetlabApp with a stand-in for the ClassroomLink)."""
from __future__ import annotations

from textual.widgets import Input, RichLog

from netlab.serve.guard import CommandGuard
from netlab.serve.limits import Limits
from netlab.tui.app import NetlabApp
from netlab.tui.screens.lab import LabScreen


class FakeLink:
    """What NetlabApp uses of a ClassroomLink: a mode, the guard, and the reports."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.mode = "solo"
        self.group = ""
        self.guard = CommandGuard(limits or Limits())
        self.played_runs: list = []
        self.commands: list = []
        self.reports = 0

    def played(self, lab, run) -> None:
        self.played_runs.append(run)

    def command_done(self, line: str, exit_code: int) -> None:
        self.commands.append((line, exit_code))

    def report(self) -> None:
        self.reports += 1


async def _type(pilot, line: str) -> None:
    box = pilot.app.screen.query_one("#line", Input)
    box.value = line
    await pilot.press("enter")
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.pause()


def _log(app) -> str:
    return "\n".join(str(line.text) for line in app.screen.query_one("#output", RichLog).lines)


async def test_a_pushed_level_a_typed_line_and_the_reports():
    link = FakeLink()
    app = NetlabApp(classroom=link)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        app.classroom_level("flannel-route")
        await pilot.pause()
        assert isinstance(app.screen, LabScreen)
        assert link.played_runs[-1].level.id == "flannel-route"
        await _type(pilot, "ip route add 172.30.0.0/16 dev flannel.1")
        assert link.commands == [("ip route add 172.30.0.0/16 dev flannel.1", 0)]
        assert link.played_runs[-1].solved


async def test_an_injected_fault_breaks_the_lab_but_is_not_the_learners_change_nor_undoable():
    link = FakeLink()
    app = NetlabApp(classroom=link)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        app.classroom_level("hairpin")
        await pilot.pause()
        lab, run, _ = app.current
        before = lab.sh("ip route", on="node-b").output
        app.classroom_inject("drop-route")
        await pilot.pause()
        after = lab.sh("ip route", on="node-b").output
        assert "10.244.0.0/24" in before and "10.244.0.0/24" not in after  # node-b lost its route to node-a's pods
        assert run.changes() == 0 and run.injected == [0]
        assert link.reports == 1
        app.action_undo_key()  # nothing of the learner's to undo: the fault stays
        await pilot.pause()
        assert app.current[0].sh("ip route", on="node-b").output == after


async def test_reset_rebuilds_the_level_and_end_closes_the_app():
    link = FakeLink()
    app = NetlabApp(classroom=link)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        app.classroom_level("flannel-route")
        await pilot.pause()
        await _type(pilot, "ip route add 172.30.0.0/16 dev flannel.1")
        assert app.current[1].solved
        app.classroom_reset()
        await pilot.pause()
        lab, run, _ = app.current
        assert not run.solved and lab.session.history == []
        app.classroom_end("teacher")
        await pilot.pause()
    assert app.return_code == 0


async def test_a_classroom_limit_applies_to_lines_typed_in_the_shell():
    link = FakeLink(Limits(max_output=300))
    app = NetlabApp(classroom=link, start="sandbox")
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        await _type(pilot, "iptables-save")
        text = _log(app)
        assert "netlab: output cut at 300 bytes (this classroom's limit)" in text
        assert app.screen.query_one("#line", Input).cursor_blink is False  # no blinking over SSH


async def test_saves_and_undo_are_off_in_a_shared_lab():
    link = FakeLink()
    link.mode = "shared"
    link.group = "team"
    from netlab.levels import start_sandbox

    app = NetlabApp(classroom=link)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        lab, run = start_sandbox(None)
        app.play(lab, run, "sandbox — shared with team")
        await pilot.pause()
        app.action_quicksave_key()
        await pilot.pause()
        assert any("off in a shared lab" in str(n.message) for n in app._notifications)


async def test_the_palette_offers_no_screenshot_in_a_classroom():
    """Textual's Screenshot writes an SVG into the server's working directory."""
    app = NetlabApp(classroom=FakeLink())
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Levels" in titles and "Screenshot" not in titles
    plain = NetlabApp()
    async with plain.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        assert "Screenshot" in [c.title for c in plain.get_system_commands(plain.screen)]
