"""The Charts pane after a burst of requests, and progress while long work runs, at 80×24
and 200×50."""
from __future__ import annotations

import re

import pytest

from netlab.tui.app import NetlabApp
from netlab.tui.widgets.charts import LoadSpreadChart, RulesChart

SIZES = [(80, 24), (200, 50)]


async def run_line(app, pilot, line: str) -> None:
    box = app.screen.query_one("#line")
    box.value = line
    await pilot.press("enter")
    await app.workers.wait_for_complete()
    await pilot.pause()


async def enter_a_pod(app, pilot) -> None:
    """Service names resolve through CoreDNS from a pod, not from the workstation."""
    api = app.current[0].cluster.api
    pod = next(p["metadata"]["name"] for p in api.list("Pod", "default")
               if p["metadata"]["name"].startswith("business-manager-"))
    await run_line(app, pilot, f"kubectl exec -it {pod} -- sh")


@pytest.mark.parametrize("size", SIZES)
async def test_a_burst_fills_the_load_spread_and_rules_charts(size):
    app = NetlabApp(start="sandbox")
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await enter_a_pod(app, pilot)
        await run_line(app, pilot, "repeat 30 curl -s data-product:50051")
        await pilot.press("ctrl+t")  # room for the side panes at 80×24
        app.screen.query_one("#side").active = "charts"
        await pilot.pause()

        spread = app.screen.query_one(LoadSpreadChart)
        api = app.current[0].cluster.api
        vip = api.get("Service", "default", "data-product")["spec"]["clusterIP"] + ":50051"
        counts = spread.spread[vip]
        endpoints = {p["status"]["podIP"] + ":50051": p["metadata"]["name"] for p in api.list("Pod", "default")
                     if p["metadata"]["name"].startswith("data-product-")}
        assert set(counts) == set(endpoints) and len(endpoints) == 3
        assert sum(counts.values()) == 30
        drawn = str(spread.render())
        assert "data-product" in drawn and vip in drawn
        for ep, name in endpoints.items():  # each endpoint has a bar with its count
            assert re.search(re.escape(name[-5:]) + r" [█▉▊▋▌▍▎▏ ]+ +" + str(counts[ep]) + " ", drawn), drawn

        rules = app.screen.query_one(RulesChart)
        assert rules.averages()["iptables"] > 0
        drawn = str(rules.render())
        assert re.search(r"SYN +iptables +[█▉▊▋▌▍▎▏]+ +\d+\.\d ×30", drawn), drawn
        assert re.search(r"iptables +[█▉▊▋▌▍▎▏]+ +\d+\.\d/packet", drawn), drawn


async def test_charts_keep_the_last_burst_until_the_next():
    app = NetlabApp(start="sandbox")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert "repeat 100 curl" in str(app.screen.query_one(LoadSpreadChart).render())  # how to fill it
        await enter_a_pod(app, pilot)
        await run_line(app, pilot, "repeat 3 curl -s data-product:50051")
        before = dict(app.screen.query_one(LoadSpreadChart).spread)
        await run_line(app, pilot, "hostname")
        assert app.screen.query_one(LoadSpreadChart).spread == before


@pytest.mark.parametrize("size", SIZES)
async def test_a_long_repeat_shows_progress_above_the_prompt(size):
    from textual.widgets import ProgressBar

    from netlab.tui.widgets.shell import ShellPane

    seen = []

    def hook(message):  # every Progress message, and whether the shell was busy then
        if isinstance(message, ShellPane.Progress):
            seen.append((message.done, message.total, app.screen.query_one(ShellPane).busy))

    app = NetlabApp(start="sandbox")
    async with app.run_test(size=size, message_hook=hook) as pilot:
        await pilot.pause()
        await run_line(app, pilot, "repeat 1000 true")
        bar = app.screen.query_one("#progress", ProgressBar)
        assert seen and seen[-1] == (1000, 1000, True) and len(seen) <= 101  # shown while the burst ran
        assert (bar.total, bar.progress) == (1000, 1000)
        assert not bar.display  # and hidden once the prompt is back
        assert not hasattr(app.current[0].session, "progress")  # the shell holds no Textual callback


async def test_a_lab_file_builds_behind_a_loading_screen(tmp_path, monkeypatch):
    import threading

    import netlab.levels
    from netlab.spec import default_lab_text
    from netlab.tui.screens.lab import LabScreen
    from netlab.tui.screens.loading import LoadingScreen

    path = tmp_path / "lab.yaml"
    path.write_text(default_lab_text())
    release = threading.Event()
    build = netlab.levels.start_sandbox

    def slow_build(lab_path):  # a large lab: still building while we look
        release.wait(10)
        return build(lab_path)

    monkeypatch.setattr(netlab.levels, "start_sandbox", slow_build)
    app = NetlabApp(start="sandbox", lab_path=str(path))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, LoadingScreen)
        assert app.screen.query_one("LoadingIndicator")
        release.set()
        for _ in range(100):
            await app.workers.wait_for_complete()
            await pilot.pause()
            if isinstance(app.screen, LabScreen):
                break
        assert isinstance(app.screen, LabScreen)
        assert app.current[0].cluster.nodes


async def test_a_broken_lab_file_says_so(tmp_path):
    from netlab.tui.screens.title import MessageScreen

    path = tmp_path / "lab.yaml"
    path.write_text("kind: Lab\nspec: {nodes: 3}\n")
    app = NetlabApp(start="sandbox", lab_path=str(path))
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, MessageScreen)
        assert "Could not build the lab" in app.screen.text
