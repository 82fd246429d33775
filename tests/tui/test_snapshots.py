"""SVG snapshots of the key screens, with pytest-textual-snapshot's `snap_compare`.

Each test drives the app as a person would (keys, a shell line), then compares the whole
terminal with the SVG in `__snapshots__/test_snapshots/`. A change to what a screen shows fails
the test, and the plugin writes `snapshot_report.html` (old and new side by side; git ignores
it). When the change is wanted, rewrite the pictures and look at them before committing:

    .venv/bin/python -m pytest tests/tui/test_snapshots.py --snapshot-update

What could make a picture differ from run to run or machine to machine is pinned, not tolerated:
- the lab is seeded and its clock simulated: pod names, ports, MACs and `t+…µs` are fixed;
- progress and saves live in a fresh NETLAB_DATA_DIR per test (tests/conftest.py);
- the theme (TEXTUAL_THEME), NO_COLOR and animations (TEXTUAL_ANIMATIONS) are set per app here;
- the shell's cursor is steady: a blinking one is drawn or not depending on how long a run took;
- no screen shows a clock (the lab screen's Header has show_clock=False, the levels screen's
  Header shows none by default), and no screen shows a path or a duration.
"""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from textual.widgets import Input, OptionList, Select

from netlab.net import trace as T
from netlab.tui.app import NetlabApp
from netlab.tui.screens.lab import LabScreen
from netlab.tui.widgets.shell import ShellPane
from netlab.tui.widgets.trace_view import TraceView

LEVEL = "flannel-route"  # chapter 2: a cross-node route is missing


@pytest.fixture(autouse=True)
def _same_colours_everywhere(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)  # read by App.__init__: a monochrome picture


def netlab_app(**kw) -> NetlabApp:
    app = NetlabApp(**kw)
    app.theme = "textual-dark"  # not the TEXTUAL_THEME of whoever runs the tests
    app.animation_level = "none"  # nor their TEXTUAL_ANIMATIONS
    return app


async def lab_screen(pilot) -> LabScreen:
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, LabScreen)
    screen.query_one("#line", Input).cursor_blink = False  # a steady cursor, drawn every time
    return screen


async def run_line(pilot, line: str) -> None:
    """Type a line into the shell and wait until its result is on every pane."""
    app = pilot.app
    shell = app.screen.query_one(ShellPane)
    app.screen.query_one("#line", Input).value = line
    await pilot.press("enter")
    await app.workers.wait_for_complete()
    for _ in range(200):
        if not shell.busy:  # cleared when the lab screen has handed the result to the panes
            break
        await pilot.pause(0.02)
    assert not shell.busy, f"{line!r} did not finish"
    await pilot.pause()


def test_title_screen(snap_compare):
    assert snap_compare(netlab_app(), terminal_size=(80, 24))


def test_help_screen(snap_compare):
    """F1 over the title screen; at 80×24 the help scrolls."""
    assert snap_compare(netlab_app(), press=["f1"], terminal_size=(80, 24))


def test_levels_screen_first_chapters(snap_compare, monkeypatch):
    """The levels of chapters 1-3, the first one solved. Later chapters are left out so that
    adding a level there does not change this picture; a level added to chapters 1-3 does."""
    import netlab.levels
    from netlab.levels.progress import record

    every_level = netlab.levels.list_levels
    monkeypatch.setattr(netlab.levels, "list_levels", lambda: [lv for lv in every_level() if lv.spec.chapter <= 3])
    first = netlab.levels.list_levels()[0].spec
    record(first.id, SimpleNamespace(solved=True, changes=first.par, hints_used=0, seconds=42.0, stars=3))

    async def open_levels(pilot):
        pilot.app.open_levels()
        await pilot.pause()

    assert snap_compare(netlab_app(), run_before=open_levels, terminal_size=(80, 24))


@pytest.mark.parametrize("size", [(80, 24), (200, 50)], ids=["80x24", "200x50"])
def test_level_lab_screen_after_a_command(snap_compare, size):
    """A level's lab screen: the objectives pane (shown when a level starts) after `ip route`
    in the shell, the objectives checked and failing where the packet stopped."""

    async def one_command(pilot):
        screen = await lab_screen(pilot)
        assert screen.query_one("#side").active == "objectives"
        await run_line(pilot, "ip route")

    assert snap_compare(netlab_app(start="level", level=LEVEL), run_before=one_command, terminal_size=size)


def test_trace_pane_steps_a_cross_node_packet(snap_compare):
    """A TCP SYN from a pod on one node to a pod on the other, stepped with → onto the hop where
    flannel.1 wraps it in VXLAN: the hop detail shows the outer and the inner headers, and the
    topology highlights the node the packet is on."""

    async def step_to_the_encap(pilot):
        screen = await lab_screen(pilot)
        api = pilot.app.current[0].cluster.api
        src = next(p for p in api.list("Pod", "default") if p["metadata"]["name"].startswith("business-manager-")
                   and p["spec"]["nodeName"] == "192.168.0.21")
        dst = next(p for p in api.list("Pod", "default") if p["metadata"]["name"].startswith("data-product-")
                   and p["spec"]["nodeName"] == "192.168.0.22")
        await run_line(pilot, f"trace {src['metadata']['name']} {dst['metadata']['name']}:50051")
        trace = screen.query_one(TraceView).traces[0]
        encap = next(i for i, hop in enumerate(trace.hops) if hop.kind == T.ENCAP)
        hops = screen.query_one("#hops", OptionList)
        hops.focus()
        hops.highlighted = encap - 3
        await pilot.press("right", "right", "right")  # step onto the encapsulation
        assert hops.highlighted == encap

    assert snap_compare(netlab_app(start="sandbox"), run_before=step_to_the_encap, terminal_size=(200, 50))


def test_inspector_shows_a_nodes_tables(snap_compare):
    """F4, then a node chosen in the inspector: its routes, with the other tables one tab away."""

    async def inspect_a_node(pilot):
        screen = await lab_screen(pilot)
        await pilot.press("f4")
        screen.query_one("#target", Select).value = "192.168.0.21"
        await pilot.pause()
        assert screen.query_one("#inspector-pane").target == "192.168.0.21"

    assert snap_compare(netlab_app(start="sandbox"), run_before=inspect_a_node, terminal_size=(120, 40))
