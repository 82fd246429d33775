"""The TUI driven as a person would, with Textual's Pilot, at 80×24 and 200×50."""
from __future__ import annotations

import pytest

from netlab.tui.app import NetlabApp
from netlab.tui.widgets.shell import ShellPane
from netlab.tui.widgets.topology import TopologyView
from netlab.tui.widgets.trace_view import TraceView

SIZES = [(80, 24), (200, 50)]


async def run_line(app, pilot, line: str) -> None:
    box = app.screen.query_one("#line")
    box.value = line  # typing key by key costs ~90 ms a key in Pilot; the key path is tested below
    await pilot.press("enter")
    await app.workers.wait_for_complete()
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES)
async def test_title_screen_offers_the_menu(size):
    app = NetlabApp()
    async with app.run_test(size=size) as pilot:
        menu = app.screen.query_one("#menu")
        labels = [str(menu.get_option_at_index(i).prompt) for i in range(menu.option_count)]
        assert labels == ["Levels", "Sandbox", "Load save", "Help", "Quit"]


@pytest.mark.parametrize("size", SIZES)
async def test_sandbox_runs_a_command_and_shows_its_trace(size):
    app = NetlabApp(start="sandbox")
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        assert "node 192.168.0.21" in str(app.screen.query_one(TopologyView).render_topology())
        await run_line(app, pilot, "kubectl get po")
        log = app.screen.query_one(ShellPane).log_widget
        text = "\n".join(str(line.text) for line in log.lines)
        assert "root@192.168.0.21:~# kubectl get po" in text
        assert "business-manager-" in text and "Running" in text
        await run_line(app, pilot, "ping -c 1 172.30.9.2")
        trace = app.screen.query_one(TraceView)
        assert trace.traces and trace.traces[0].label == "echo request"
        hops = app.screen.query_one("#hops")
        assert hops.option_count == len(trace.traces[0].hops)
        await pilot.press("f2")


async def test_keys_typed_into_the_shell_and_history():
    app = NetlabApp(start="sandbox")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press(*"hostname", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        text = "\n".join(str(line.text) for line in app.screen.query_one(ShellPane).log_widget.lines)
        assert "192.168.0.21" in text
        await pilot.press("up")
        assert app.screen.query_one("#line").value == "hostname"


async def test_trace_steps_highlight_the_topology():
    app = NetlabApp(start="sandbox")
    async with app.run_test(size=(200, 50)) as pilot:
        await pilot.pause()
        await run_line(app, pilot, "trace 192.168.0.21 192.168.0.22")
        app.screen.query_one("#hops").focus()
        await pilot.press("right", "right")
        await pilot.pause()
        assert app.screen.query_one(TopologyView).highlight is not None


async def test_kubectl_edit_opens_the_yaml_editor_and_applies_on_save():
    from textual.widgets import TextArea

    from netlab.tui.screens.editor import EditorScreen

    app = NetlabApp(start="sandbox")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        box = app.screen.query_one("#line")
        box.value = "kubectl edit svc data-product"
        await pilot.press("enter")
        for _ in range(50):
            await pilot.pause(0.05)
            if isinstance(app.screen, EditorScreen):
                break
        assert isinstance(app.screen, EditorScreen)
        area = app.screen.query_one(TextArea)
        assert "name: data-product" in area.text
        area.text = area.text.replace("sessionAffinity: None", "sessionAffinity: ClientIP")
        await pilot.press("ctrl+s")
        await app.workers.wait_for_complete()
        await pilot.pause()
        svc = app.current[0].cluster.api.get("Service", "default", "data-product")
        assert svc["spec"]["sessionAffinity"] == "ClientIP"


async def test_play_a_level_fix_it_and_see_the_objectives_tick():
    from netlab.tui.widgets.objectives import ObjectivesPane

    app = NetlabApp(start="level", level="flannel-route")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        pane = app.screen.query_one(ObjectivesPane)
        assert "The missing flannel.1 route" in str(pane.render())
        await run_line(app, pilot, "ip route")
        assert pane.last and not any(r.passed for r in pane.last)
        assert "DROPPED" in pane.last[0].detail or pane.last[0].detail
        await pilot.press("f6")
        assert "hint 1:" in str(pane.render())
        await run_line(app, pilot, "ip route add 172.30.0.0/16 dev flannel.1")
        assert pane.last and all(r.passed for r in pane.last)
        assert "Solved!" in str(pane.render())


async def test_quicksave_undo_and_quickload(tmp_path, monkeypatch):
    monkeypatch.setenv("NETLAB_SAVE_DIR", str(tmp_path))
    app = NetlabApp(start="sandbox")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await run_line(app, pilot, "ip route del 172.30.0.0/16 dev flannel.1")
        lab = app.current[0]
        assert "flannel.1" not in lab.sh("ip route").output
        await pilot.press("f7")
        await pilot.pause()
        assert (tmp_path / "sandbox-quick.nlsave").exists()
        await pilot.press("ctrl+z")
        await pilot.pause()
        assert app.current[0] is not lab
        assert "172.30.0.0/16 dev flannel.1" in app.current[0].sh("ip route").output  # undone
        await pilot.press("f8")
        await pilot.pause()
        assert "flannel.1" not in app.current[0].sh("ip route").output  # the saved world again


async def test_command_palette_lists_netlab_actions():
    app = NetlabApp(start="sandbox")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for wanted in ("Quick save", "Undo", "Hint", "Inspector", "Levels", "Toggle light/dark"):
            assert wanted in titles


async def test_an_invalid_edit_reopens_the_editor_with_the_errors_on_top():
    from textual.widgets import TextArea

    from netlab.tui.screens.editor import EditorScreen

    async def editor_open(previous=None):
        for _ in range(60):
            await pilot.pause(0.05)
            if isinstance(app.screen, EditorScreen) and app.screen is not previous:
                return app.screen
        raise AssertionError("the editor did not open")

    app = NetlabApp(start="sandbox")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.screen.query_one("#line").value = "kubectl edit svc data-product"
        await pilot.press("enter")
        first = await editor_open()
        area = first.query_one(TextArea)
        area.text = area.text.replace("sessionAffinity: None", "sessionAffinity: Sometimes")
        await pilot.press("ctrl+s")
        area = (await editor_open(first)).query_one(TextArea)
        assert 'services "data-product" was not valid:' in area.text  # reopened, failures on top
        area.text = area.text.replace("sessionAffinity: Sometimes", "sessionAffinity: ClientIP")
        await pilot.press("ctrl+s")
        await app.workers.wait_for_complete()
        await pilot.pause()
        svc = app.current[0].cluster.api.get("Service", "default", "data-product")
        assert svc["spec"]["sessionAffinity"] == "ClientIP"


async def test_help_scrolls_to_its_last_line_on_a_small_terminal():
    app = NetlabApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f1")
        await pilot.pause()
        box = app.screen.query_one("#help")
        assert box.has_focus and box.max_scroll_y > 0  # the keys do not fit in 24 rows...
        await pilot.press("end")
        await pilot.wait_for_scheduled_animations()
        assert box.scroll_y == box.max_scroll_y  # ...and the keyboard reaches the last of them


async def test_at_80x24_the_trace_pane_has_rows_for_its_hops():
    app = NetlabApp(start="sandbox")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await run_line(app, pilot, "trace 192.168.0.21 192.168.0.22")
        hops = app.screen.query_one("#hops")
        assert hops.option_count > 2
        assert hops.content_region.height >= 2  # under the title, above the hop's headers


def test_level_prose_is_joined_into_paragraphs_for_the_pane_to_wrap():
    from netlab.tui.widgets.objectives import prose

    story = "Pods talk, but nothing reaches the\npods on the other node.\n\nA second paragraph\nhere.\n"
    assert prose(story) == "Pods talk, but nothing reaches the pods on the other node.\n\nA second paragraph here."
    listing = "Check:\n- the route\n- the neighbour"
    assert prose(listing) == listing  # a list keeps its lines


async def test_levels_screen_names_its_chapters():
    app = NetlabApp()
    async with app.run_test(size=(100, 30)) as pilot:
        app.open_levels()
        await pilot.pause()
        menu = app.screen.query_one("#levels")
        first = str(menu.get_option_at_index(0).prompt)
        assert first.startswith("── Chapter 1: ") and first.endswith(" ──")


async def test_the_highlighted_hop_stays_in_view_when_its_detail_grows():
    """The hop detail grows with the hop's headers (VXLAN shows two sets) and the list shrinks
    under the highlighted hop it had just scrolled to; it must scroll again."""
    app = NetlabApp(start="sandbox")
    async with app.run_test(size=(200, 50)) as pilot:
        await pilot.pause()
        pods = app.current[0].cluster.api.list("Pod", "default")
        src = next(p["metadata"]["name"] for p in pods if p["metadata"]["name"].startswith("business-manager-")
                   and p["spec"]["nodeName"] == "192.168.0.21")
        dst = next(p["metadata"]["name"] for p in pods if p["metadata"]["name"].startswith("data-product-")
                   and p["spec"]["nodeName"] == "192.168.0.22")
        await run_line(app, pilot, f"trace {src} {dst}:50051")
        trace = app.screen.query_one(TraceView).traces[0]
        encap = next(i for i, hop in enumerate(trace.hops) if hop.kind == "encap")
        hops = app.screen.query_one("#hops")
        hops.focus()
        hops.highlighted = encap
        await pilot.pause()
        await pilot.pause()
        assert "vxlan vni" in str(app.screen.query_one("#hop-detail").render())
        top = hops._index_to_line[encap]  # the option's first line in the list (Textual is pinned)
        bottom = top + hops._heights[encap]
        assert hops.scroll_y <= top and bottom <= hops.scroll_y + hops.scrollable_content_region.height


async def test_a_bug_in_the_app_is_one_line_and_a_crash_log_not_a_traceback(tmp_path, monkeypatch, capsys):
    import os

    from netlab.tui.app import NetlabApp

    monkeypatch.setenv("NETLAB_DATA_DIR", str(tmp_path))
    app = NetlabApp()

    def broken() -> None:
        raise ValueError("a deliberate bug")

    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            app.call_later(broken)
            await pilot.pause()
    except ValueError:
        pass  # Pilot re-raises the app's exception for the test framework
    err = capsys.readouterr().err
    assert "netlab: internal error: ValueError: a deliberate bug (details in" in err
    assert "crash.log" in err and "Traceback" not in err and "locals" not in err
    log = (tmp_path / "crash.log").read_text()
    assert "Traceback" in log and "a deliberate bug" in log and os.path.getsize(tmp_path / "crash.log") > 0
