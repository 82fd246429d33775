"""The instructor's dashboard driven with Textual's Pilot against a fake hub link: the
table, its order, every action's exact request, and watching a trainee's real lab."""
from __future__ import annotations

import pytest
from textual.widgets import DataTable, OptionList, RichLog

from netlab.serve.dashboard import (
    ChoiceScreen,
    ConfirmScreen,
    DashboardApp,
    DashboardScreen,
    TextScreen,
)
from netlab.serve.protocol import ProtocolError
from netlab.tui.screens.watch import WatchScreen

SIZES = [(80, 24), (200, 50)]


class FakeConn:
    """Connection's two calls: `request` records the message and answers from `replies`
    (by op: a dict, a function of the message, or an exception to raise); `send` records."""

    def __init__(self, replies: dict | None = None) -> None:
        self.requests: list[dict] = []
        self.sent: list[dict] = []
        self.replies = {"roster": {"members": []}, **(replies or {})}

    def request(self, message: dict, timeout: float = 30.0) -> dict:
        self.requests.append(message)
        reply = self.replies.get(message["op"], {})
        if isinstance(reply, Exception):
            raise reply
        return dict(reply(message) if callable(reply) else reply)

    def send(self, message: dict) -> None:
        self.sent.append(message)

    def actions(self) -> list[dict]:
        return [m for m in self.requests if m["op"] != "roster"]


class FakeLink:
    def __init__(self, conn: FakeConn) -> None:
        self.conn = conn
        self.user = "teacher"
        self.app = None


def row(sid: int, user: str, **fields) -> dict:
    base = {"sid": sid, "user": user, "role": "trainee", "mode": "solo", "group": "", "level": "hairpin",
            "title": "A pod that cannot reach itself", "passed": 0, "total": 2, "changes": 0, "par": 1, "hints": 0,
            "seconds": 60.0, "solved": False, "commands": 0, "last_command": "", "idle": 1.0, "active": True,
            "connected": True}
    base.update(fields)
    return base


CLASS = [
    row(1, "teacher", role="instructor", mode="dashboard", level="", total=0, par=0, seconds=0.0),
    row(2, "carol", passed=2, solved=True, changes=1, seconds=205.0, commands=7, last_command="ssh node-a iptables -S"),
    row(3, "alice", mode="shared", group="team-a", passed=1, changes=4, hints=2, seconds=125.0, idle=190.0,
        active=False, last_command="trace app=client svc/echo:80"),
    row(4, "bob", changes=2, seconds=30.0, connected=False),
]


def make_app(replies: dict | None = None) -> tuple[DashboardApp, FakeConn]:
    conn = FakeConn(replies)
    link = FakeLink(conn)
    app = DashboardApp(link)
    link.app = app
    app.exit_messages = []
    exit_app = app.exit

    def exit(*args, **kw):  # the message is printed and dropped when the app stops: keep a copy
        app.exit_messages.append(kw.get("message"))
        exit_app(*args, **kw)

    app.exit = exit
    return app, conn


async def settle(app, pilot) -> None:
    await app.workers.wait_for_complete()
    await pilot.pause()


def table(app) -> DataTable:
    return app.screen.query_one("#trainees", DataTable)


def users(app) -> list[str]:
    t = table(app)
    return [str(t.get_row_at(i)[0]).replace(" (you)", "") for i in range(t.row_count)]


def row_text(app, user: str) -> list[str]:
    t = table(app)
    for i in range(t.row_count):
        cells = t.get_row_at(i)
        if str(cells[0]).startswith(user):
            return [str(c) for c in cells]
    raise AssertionError(f"{user} is not in the table")


def notes(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


def select(app, user: str) -> None:
    table(app).move_cursor(row=users(app).index(user))


@pytest.mark.parametrize("size", SIZES)
async def test_table_shows_every_trainee_and_dims_dashboards(size):
    app, _ = make_app()
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, DashboardScreen)
        assert app.screen.query_one("#empty").display  # nobody yet
        app.classroom_members({"op": "members", "members": CLASS})
        await pilot.pause()
        assert not app.screen.query_one("#empty").display
        assert users(app) == ["alice", "bob", "carol", "teacher"]  # by user; dashboards last
        assert row_text(app, "alice") == ["alice", "team-a (shared)", "hairpin", "1/2", "4 (par 1)", "2", "2:05",
                                          "idle 3m", "trace app=client svc/echo:80"]
        assert row_text(app, "carol")[3] == "2/2 ✓"
        assert row_text(app, "carol")[7] == "active"
        assert row_text(app, "bob")[7] == "offline"
        teacher = table(app).get_row_at(3)
        assert str(teacher[0]) == "teacher (you)" and str(teacher[1]) == "dashboard"
        assert all(str(cell.style) == "dim" for cell in teacher)
        assert "3 trainees · 1 active · 1 solved" in app.sub_title
        await pilot.press("d")
        assert users(app) == ["alice", "bob", "carol"]
        await pilot.press("d")
        assert users(app) == ["alice", "bob", "carol", "teacher"]


async def test_the_roster_is_fetched_at_start():
    """The hub's first push may arrive before the app runs: the dashboard asks once."""
    app, conn = make_app({"roster": {"members": CLASS}})
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        assert conn.requests[0] == {"op": "roster"}
        assert users(app) == ["alice", "bob", "carol", "teacher"]


@pytest.mark.parametrize("size", SIZES)
async def test_sort_by_key_and_by_clicking_a_header(size):
    app, _ = make_app()
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        app.classroom_members({"op": "members", "members": CLASS})
        await pilot.pause()
        await pilot.press("s")  # next column: group/mode
        assert app.sort_key == "group"
        assert users(app) == ["bob", "carol", "alice", "teacher"]  # solo, solo (then by name), team-a
        await pilot.press("S")
        assert users(app) == ["alice", "carol", "bob", "teacher"]
        assert str(table(app).ordered_columns[1].label) == "Group/mode ▼"

        t = table(app)
        index = [str(c.key.value) for c in t.ordered_columns].index("changes")
        x = sum(c.get_render_width(t) for c in t.ordered_columns[:index]) + 2
        assert x < t.size.width
        await pilot.click("#trainees", offset=(x, 0))
        await pilot.pause()
        assert app.sort_key == "changes" and not app.sort_reverse
        assert users(app) == ["carol", "bob", "alice", "teacher"]  # changes over par: 0, 1, 3
        await pilot.click("#trainees", offset=(x, 0))
        await pilot.pause()
        assert app.sort_reverse
        assert users(app) == ["alice", "bob", "carol", "teacher"]
        app.sort_by("idle")  # who needs a look first: offline, then the longest idle
        await pilot.pause()
        assert users(app) == ["bob", "alice", "carol", "teacher"]


async def test_updates_keep_the_selected_trainee_selected():
    app, _ = make_app()
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(app, pilot)
        app.classroom_members({"op": "members", "members": CLASS})
        await pilot.pause()
        await pilot.press("down")
        assert app.selected_key() == "4"  # bob
        changed = [dict(r) for r in CLASS]
        changed[3].update(last_command="ip route", connected=True)
        app.classroom_members({"op": "members", "members": changed})
        await pilot.pause()
        assert row_text(app, "bob")[7:] == ["active", "ip route"]
        assert app.selected_key() == "4"
        app.classroom_members({"op": "members", "members": [*changed, row(5, "aaron")]})
        await pilot.pause()
        assert users(app) == ["aaron", "alice", "bob", "carol", "teacher"]
        assert app.selected_key() == "4"  # the cursor followed bob down a row
        app.classroom_members({"op": "members", "members": [r for r in changed if r["user"] != "bob"]})
        await pilot.pause()
        assert users(app) == ["alice", "carol", "teacher"]


async def test_the_cursor_leaves_the_instructors_own_row_when_a_trainee_arrives():
    app, conn = make_app({"watch": {"user": "alice", "mode": "solo", "group": "", "state": None}})
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.classroom_members({"op": "members", "members": CLASS[:1]})  # the instructor alone
        await pilot.pause()
        assert app.selected_key() == "1"
        app.classroom_members({"op": "members", "members": [CLASS[0], CLASS[2]]})  # alice logs in
        await pilot.pause()
        assert users(app) == ["alice", "teacher"] and app.selected_key() == "3"
        await pilot.press("enter")
        await settle(app, pilot)
        assert conn.actions() == [{"op": "watch", "sid": 3}]


@pytest.mark.parametrize("size", SIZES)
async def test_push_a_level_to_the_selected_trainee_and_to_everyone(size):
    app, conn = make_app({"push-level": lambda m: {"count": 1 if m["to"] != "all" else 3}})
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        app.classroom_members({"op": "members", "members": CLASS})
        await pilot.pause()
        select(app, "carol")
        await pilot.press("l")
        assert isinstance(app.screen, ChoiceScreen)
        options = app.screen.query_one(OptionList)
        ids = [options.get_option_at_index(i).id for i in range(options.option_count)]
        assert "hairpin" in ids and "flannel-route" in ids
        options.highlighted = ids.index("flannel-route")
        await pilot.press("enter")
        await settle(app, pilot)
        assert conn.actions() == [{"op": "push-level", "level": "flannel-route", "to": [2]}]
        assert "flannel-route pushed to 1 trainee" in notes(app)

        await pilot.press("L")
        assert isinstance(app.screen, ChoiceScreen)
        app.screen.query_one(OptionList).highlighted = ids.index("hairpin")
        await pilot.press("enter")
        await settle(app, pilot)
        assert conn.actions()[-1] == {"op": "push-level", "level": "hairpin", "to": "all"}
        assert "hairpin pushed to 3 trainees" in notes(app)

        await pilot.press("l", "escape")  # cancelled: nothing sent
        await settle(app, pilot)
        assert isinstance(app.screen, DashboardScreen)
        assert len(conn.actions()) == 2


@pytest.mark.parametrize("size", SIZES)
async def test_reset_asks_first(size):
    app, conn = make_app({"reset": {"count": 1}})
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        app.classroom_members({"op": "members", "members": CLASS})
        await pilot.pause()
        select(app, "alice")
        await pilot.press("r")
        assert isinstance(app.screen, ConfirmScreen)
        assert "alice's lab" in str(app.screen.question)
        await pilot.press("y")
        await settle(app, pilot)
        assert conn.actions() == [{"op": "reset", "to": [3]}]
        await pilot.press("R", "n")
        await settle(app, pilot)
        assert len(conn.actions()) == 1
        await pilot.press("R")
        assert "everyone's lab" in app.screen.question
        await pilot.press("y")
        await settle(app, pilot)
        assert conn.actions()[-1] == {"op": "reset", "to": "all"}


@pytest.mark.parametrize("size", SIZES)
async def test_inject_a_fault(size):
    app, conn = make_app({"inject": {"count": 1}})
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        app.classroom_members({"op": "members", "members": CLASS})
        await pilot.pause()
        select(app, "bob")
        await pilot.press("f")
        options = app.screen.query_one(OptionList)
        assert [options.get_option_at_index(i).id for i in range(options.option_count)] == \
            ["drop-route", "delete-endpoint", "deny-policy"]
        await pilot.press("down", "down", "enter")
        await settle(app, pilot)
        assert conn.actions() == [{"op": "inject", "fault": "deny-policy", "to": [4]}]
        assert "deny-policy injected into 1 trainee" in notes(app)
        await pilot.press("F", "enter")
        await settle(app, pilot)
        assert conn.actions()[-1] == {"op": "inject", "fault": "drop-route", "to": "all"}


@pytest.mark.parametrize("size", SIZES)
async def test_broadcast(size):
    app, conn = make_app({"broadcast": {"count": 3}})
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        await pilot.press("b")
        assert isinstance(app.screen, TextScreen)
        await pilot.press(*"5 min left", "enter")
        await settle(app, pilot)
        assert conn.actions() == [{"op": "broadcast", "text": "5 min left"}]
        assert "sent to 3 sessions" in notes(app)
        await pilot.press("b", "enter")  # an empty message is not sent
        await settle(app, pilot)
        assert isinstance(app.screen, DashboardScreen)
        assert len(conn.actions()) == 1


@pytest.mark.parametrize("size", SIZES)
async def test_end_the_class_after_confirmation(size):
    app, conn = make_app()
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        await pilot.press("e", "n")
        await settle(app, pilot)
        assert conn.actions() == [] and app.is_running
        await pilot.press("e")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.click("#yes")
        await settle(app, pilot)
        assert conn.actions() == [{"op": "end"}]
    assert app.exit_messages == ["netlab: the classroom was ended by you."]


async def test_the_hub_going_away_ends_the_app():
    app, _ = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.classroom_end("the server")
        app.classroom_end("the instructor")  # a second end (the socket closing after) changes nothing
        await pilot.pause()
    assert app.exit_messages == ["netlab: the classroom was ended by the server."]


async def test_errors_are_notifications():
    app, conn = make_app({"reset": ProtocolError("only an instructor may do that"),
                          "broadcast": ConnectionResetError("broken pipe"),
                          "end": ProtocolError("the classroom server did not answer")})
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.classroom_members({"op": "members", "members": CLASS})
        await pilot.pause()
        await pilot.press("r", "y")
        await settle(app, pilot)
        await pilot.press("b", *"hi", "enter")
        await settle(app, pilot)
        await pilot.press("e", "y")
        await settle(app, pilot)
        assert app.is_running
        assert "only an instructor may do that" in notes(app)
        assert "the classroom server did not answer: broken pipe" in notes(app)
        assert "the classroom server did not answer" in notes(app)
        assert [m["op"] for m in conn.actions()] == ["reset", "broadcast", "end"]


async def test_actions_need_a_trainee_selected():
    app, conn = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("r", "l", "f", "w")  # an empty class
        await settle(app, pilot)
        assert isinstance(app.screen, DashboardScreen)
        assert notes(app).count("No trainee is selected.") == 4
        app.classroom_members({"op": "members", "members": CLASS})
        await pilot.pause()
        select(app, "teacher")
        await pilot.press("enter", "r")
        await settle(app, pilot)
        assert notes(app).count("teacher is a dashboard session, not a trainee.") == 2
        assert conn.actions() == []


async def test_command_palette_reaches_the_actions():
    app, _ = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("ctrl+p")
        await pilot.press(*"Broadcast")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, TextScreen)


# -- watching -----------------------------------------------------------------
@pytest.fixture(scope="module")
def hairpin_saves():
    """Two save blobs of one trainee's hairpin lab: after two lines, and after a third."""
    from netlab.levels import load_level
    from netlab.save import dumps

    lab, run = load_level("hairpin").start()
    run.sh("ssh node-a iptables -t nat -S KUBE-SERVICES")
    run.sh("hostname")
    first = dumps(lab, run)
    run.sh("ssh node-b ip route")
    return first, dumps(lab, run)


def log_text(screen) -> str:
    return "\n".join(str(line.text) for line in screen.query_one(RichLog).lines)


@pytest.mark.parametrize("size", SIZES)
async def test_watch_a_trainee_read_only(size, hairpin_saves):
    first, second = hairpin_saves
    app, conn = make_app({"watch": {"user": "carol", "mode": "solo", "group": "", "state": first}})
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        app.classroom_members({"op": "members", "members": CLASS})
        await pilot.pause()
        select(app, "carol")
        await pilot.press("enter")
        await settle(app, pilot)
        assert conn.actions() == [{"op": "watch", "sid": 2}]
        screen = app.screen
        assert isinstance(screen, WatchScreen) and screen.user == "carol"
        assert app.watching == 2
        text = log_text(screen)
        assert "iptables -t nat -S KUBE-SERVICES" in text and "-A KUBE-SERVICES" in text  # a line and its output
        assert "hostname" in text and "ssh node-b ip route" not in text

        app.classroom_watched({"op": "watched", "sid": 3, "state": second})  # someone else's: ignored
        await pilot.pause()
        assert "ssh node-b ip route" not in log_text(screen)
        app.classroom_watched({"op": "watched", "sid": 2, "state": second})
        await pilot.pause()
        text = log_text(screen)
        assert "ssh node-b ip route" in text and "10.244.1.0/24" in text
        app.classroom_watched({"op": "watched", "sid": 2, "state": b"garbage"})  # the last good one stays
        await pilot.pause()
        assert app.screen is screen and "ssh node-b ip route" in log_text(screen)
        assert any(note.startswith("carol's lab:") for note in notes(app))

        assert conn.sent == []
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, DashboardScreen)
        assert conn.sent == [{"op": "unwatch"}] and app.watching is None
        app.classroom_watched({"op": "watched", "sid": 2, "state": second})  # late: nothing to update
        await pilot.press("r", "n")  # a modal over the table is not leaving a watch
        await pilot.pause()
        assert conn.sent == [{"op": "unwatch"}]


async def test_watch_a_save_that_does_not_rebuild():
    app, conn = make_app({"watch": {"user": "dave", "mode": "solo", "group": "", "state": b"not a save"}})
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.classroom_members({"op": "members", "members": [row(7, "dave")]})
        await pilot.pause()
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, DashboardScreen) and app.watching is None
        assert conn.sent == [{"op": "unwatch"}]
        assert any(note.startswith("dave's lab:") for note in notes(app))


@pytest.mark.parametrize("size", SIZES)
async def test_watch_a_groups_shared_lab(size):
    """A shared lab comes as the hub's snapshot, then each ordered entry; entries that
    arrive while the replica is built are held, and ones already in the snapshot skipped."""
    from netlab.levels import load_level
    from netlab.serve.shared import SharedWorld

    level = load_level("hairpin")
    _, run = level.start()
    hub_world = SharedWorld(run.setup, level)
    first, _ = hub_world.apply("bob", "ssh node-a ip route")
    snapshot = hub_world.snapshot()
    second, _ = hub_world.apply("carol", "hostname")
    third, _ = hub_world.apply("bob", "ssh node-b ip route")
    holder = {}

    def watch(message):  # the hub answers; entries are already on their way behind the answer
        app = holder["app"]
        for entry in (first, second):
            app.call_from_thread(app.classroom_watched_entry, {"op": "watched-entry", "group": "team",
                                                               "entry": entry.pack()})
        return {"user": "bob", "mode": "shared", "group": "team", "state": None, "snapshot": snapshot}

    app, conn = make_app({"watch": watch})
    holder["app"] = app
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        app.classroom_members({"op": "members", "members": [row(5, "bob", mode="shared", group="team")]})
        await pilot.pause()
        await pilot.press("enter")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, WatchScreen) and app.watching == 5
        text = log_text(screen)
        assert text.count("bob$ ssh node-a ip route") == 1  # in the snapshot, and skipped when it came again
        assert "carol$ hostname" in text and "node-a" in text
        app.classroom_watched_entry({"op": "watched-entry", "group": "other", "entry": third.pack()})
        await pilot.pause()
        assert "ssh node-b ip route" not in log_text(screen)
        app.classroom_watched_entry({"op": "watched-entry", "group": "team", "entry": third.pack()})
        await pilot.pause()
        assert "bob$ ssh node-b ip route" in log_text(screen) and "10.244.1.0/24" in log_text(screen)
        gap = {**third.pack(), "seq": 9, "line": "hostname"}
        app.classroom_watched_entry({"op": "watched-entry", "group": "team", "entry": gap})
        await pilot.pause()
        assert "missed a line of team's lab: Esc and watch again to catch up" in notes(app)
        await pilot.press("escape")
        await pilot.pause()
        assert conn.sent == [{"op": "unwatch"}] and app.watching is None


@pytest.mark.parametrize("mode,expected", [("solo", "carol has not started a lab yet"),
                                           ("shared", "carol works in group team-a's shared lab, which has not")])
async def test_watch_without_a_lab_is_a_notice(mode, expected):
    app, conn = make_app({"watch": {"user": "carol", "mode": mode, "group": "team-a" if mode == "shared" else "",
                                    "state": None}})
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.classroom_members({"op": "members", "members": CLASS})
        await pilot.pause()
        select(app, "carol")
        await pilot.press("w")
        await settle(app, pilot)
        assert isinstance(app.screen, DashboardScreen)
        assert any(note.startswith(expected) for note in notes(app))
        assert conn.sent == [{"op": "unwatch"}]
        assert app.watching is None


async def test_watch_refused_by_the_hub():
    app, conn = make_app({"watch": ProtocolError("no such trainee session")})
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.classroom_members({"op": "members", "members": CLASS})
        await pilot.pause()
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, DashboardScreen)
        assert conn.actions() == [{"op": "watch", "sid": 3}]  # alice, the first row
        assert "no such trainee session" in notes(app)


# -- end to end -----------------------------------------------------------------
async def test_dashboard_over_ssh(classroom):
    """A real `netlab serve`: the instructor's session is the dashboard; a trainee who logs
    in appears in it, and the instructor's actions reach the trainee's screen."""
    from sshterm import Trainee

    teacher = await Trainee.connect(classroom.port, "teacher", key=classroom.keys["teacher"], cols=80, rows=24)
    await teacher.wait_for("netlab classroom")
    alice = await Trainee.connect(classroom.port, "alice", key=classroom.keys["alice"], cols=120, rows=30)
    await alice.wait_for("Sandbox")
    screen = await teacher.wait_for("title screen")  # alice's row: no level yet
    assert "alice" in screen and "teacher (you)" in screen
    teacher.type("L")
    await teacher.wait_for("Push a level to everyone")
    teacher.press("enter")  # the first level
    await teacher.wait_for("pushed to 1 trainee")
    await alice.wait_for("A veth that left the bridge")
    await teacher.wait_for("bridge-detached")
    teacher.type("b")
    await teacher.wait_for("A message to every trainee")
    teacher.type("5 minutes left\r")
    await alice.wait_for("5 minutes left")
    teacher.press("enter")  # the cursor is on alice: watch her lab
    await teacher.wait_for("watching alice")
    teacher.press("escape")
    await teacher.wait_for("Group/mode")
    teacher.type("e")
    await teacher.wait_for("End the classroom")
    teacher.type("y")
    assert await teacher.closed() == 0
    await alice.closed()
    assert "ended by teacher" in alice.text
    await teacher.close()
    await alice.close()


async def test_dashboard_watches_a_groups_shared_lab_over_ssh(classroom):
    """bob and carol share one lab; watching bob shows the group's lines as they are typed."""
    from serverkit import PASSWORD
    from sshterm import Trainee

    bob = await Trainee.connect(classroom.port, "bob", password=PASSWORD, cols=120, rows=30)
    await bob.wait_for("Sandbox")
    bob.press("down")  # Levels → Sandbox
    bob.press("enter")
    await bob.wait_for("root@")
    bob.type("hostname\r")
    await bob.wait_for("~# hostname")
    await bob.settle()
    teacher = await Trainee.connect(classroom.port, "teacher", key=classroom.keys["teacher"], cols=120, rows=30)
    await teacher.wait_for("team (shared)")
    teacher.press("enter")  # bob: the only trainee
    await teacher.wait_for("watching bob")
    await teacher.settle()  # the title is drawn before the log
    assert "bob$ hostname" in teacher.text
    bob.type("kubectl scale deployment data-product --replicas=1\r")
    await bob.wait_for("deployment.apps/data-product scaled")
    screen = await teacher.wait_for("bob$ kubectl scale deployment data-product --replicas=1")
    assert "deployment.apps/data-product scaled" in screen
    await teacher.close()
    await bob.close()
