"""Watching a trainee's lab read-only: the world rebuilt from their save blob."""
from __future__ import annotations

from textual.app import App
from textual.widgets import RichLog

from netlab.levels import load_level
from netlab.save import dumps
from netlab.tui.screens.watch import WatchScreen
from netlab.tui.widgets.objectives import ObjectivesPane


class Host(App):
    CSS_PATH = "../../netlab/tui/app.tcss"

    def __init__(self, screen) -> None:
        super().__init__()
        self._first = screen

    def on_mount(self) -> None:
        self.push_screen(self._first)


def _log_text(screen) -> str:
    return "\n".join(str(line.text) for line in screen.query_one("#watch-log", RichLog).lines)


async def test_watch_shows_their_lines_outputs_and_objectives_then_follows():
    lab, run = load_level("flannel-route").start()
    run.sh("ssh 192.168.0.21 ip route")
    run.check()
    screen = WatchScreen("alice", dumps(lab, run))
    async with Host(screen).run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        text = _log_text(screen)
        assert "alice$ ssh 192.168.0.21 ip route" in text
        assert "172.30.76.0/24 dev docker0" in text  # the output, replayed
        objectives = str(screen.query_one(ObjectivesPane).render())
        assert "✗" in objectives and "✓" not in objectives
        assert "watching alice" in screen.title
        # alice fixes it: the next blob shows the fix and the objectives met.
        run.sh("ssh 192.168.0.21 ip route add 172.30.0.0/16 dev flannel.1")
        screen.update(dumps(lab, run))
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert "ip route add 172.30.0.0/16 dev flannel.1" in _log_text(screen)
        objectives = str(screen.query_one(ObjectivesPane).render())
        assert "✓" in objectives and "✗" not in objectives
        # Read-only: there is no prompt to type into.
        assert not screen.query("Input")


def test_watching_a_solved_save_records_nothing_in_the_watchers_progress():
    from netlab.levels.progress import load_progress

    lab, run = load_level("flannel-route").start()
    run.lab.session.run("ssh 192.168.0.21 ip route add 172.30.0.0/16 dev flannel.1")  # solved, not yet checked
    screen = WatchScreen("alice", dumps(lab, run))
    assert screen.results and all(r.passed for r in screen.results)
    assert "flannel-route" not in load_progress()


async def test_watch_at_80x24_stacks_the_panes():
    lab, run = load_level("hairpin").start()
    screen = WatchScreen("bob", dumps(lab, run))
    async with Host(screen).run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert screen.query_one("#watch-main").has_class("narrow")
        assert "bob has not typed anything yet" in _log_text(screen)
