"""NetlabApp: the title screen, the lab screen, help, themes, the command palette."""
from __future__ import annotations

from textual.app import App, SystemCommand
from textual.binding import Binding

from netlab.tui.crash import OneLineCrash
from netlab.tui.screens.lab import LabScreen
from netlab.tui.screens.title import HelpScreen, MessageScreen, TitleScreen


class NetlabApp(OneLineCrash, App):
    """`netlab`: start on the title screen, or straight in a lab (`netlab sandbox`)."""

    CSS_PATH = "app.tcss"
    TITLE = "netlab"
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", priority=True),
        Binding("f1", "help", "Help"),
        Binding("ctrl+d", "toggle_dark", "Theme", show=False),
    ]

    def __init__(self, *, lab_path: str | None = None, start: str = "title", lab_title: str = "sandbox",
                 level: str | None = None, classroom=None) -> None:
        super().__init__()
        # In a classroom (netlab serve) a ClassroomLink: progress goes to the instructor, and
        # their pushes, resets, faults and messages come back (the classroom_* methods).
        self.classroom = classroom
        self.level = level
        self.lab_path = lab_path  # the sandbox's lab file (None: the default lab)
        self.start = start
        self.lab_title = lab_title
        self.current = None  # (lab, run, title) of the lab in play

    def on_mount(self) -> None:
        self.push_screen(TitleScreen())
        if self.start == "sandbox":
            self.open_sandbox()
        elif self.start == "level" and self.level:
            self.start_level(self.level)

    # -- navigation ------------------------------------------------------------
    def can_continue(self) -> bool:
        return self.current is not None

    def open_sandbox(self) -> None:
        from netlab.levels import start_sandbox

        if self._shared():
            self._join_shared()
            return
        if self.lab_path is not None:  # a lab file may be large: build it off the event loop
            from netlab.tui.screens.loading import LoadingScreen

            self.push_screen(LoadingScreen(f"building {self.lab_path} …", lambda: start_sandbox(self.lab_path),
                                           lambda built: self.play(*built, self.lab_title)))
            return
        lab, run = start_sandbox(self.lab_path)  # a run without a level: saves and undo work too
        self.play(lab, run, self.lab_title)

    def play(self, lab, run, title: str) -> None:
        """Show a lab screen for (lab, run), replacing the lab screen on top if there is one."""
        self.current = (lab, run, title)
        if isinstance(self.screen, LabScreen):
            self.pop_screen()
        screen = LabScreen(lab, run, title)
        self.push_screen(screen)
        if run is not None and run.level is not None:
            screen.call_after_refresh(screen.action_pane, "objectives")
        if self.classroom is not None:
            self.classroom.played(lab, run)

    def continue_game(self) -> None:
        if self.current is not None:
            lab, run, title = self.current
            self.push_screen(LabScreen(lab, run, title))

    def open_levels(self) -> None:
        try:
            from netlab.tui.screens.levels import LevelsScreen
        except ImportError:
            self.push_screen(MessageScreen("The level system is not in this build yet: use the Sandbox."))
            return
        self.push_screen(LevelsScreen())

    def open_load(self) -> None:
        try:
            from netlab.tui.screens.levels import LoadScreen
        except ImportError:
            self.push_screen(MessageScreen("Saves are not in this build yet."))
            return
        self.push_screen(LoadScreen())

    def start_level(self, level_id: str) -> None:
        from netlab.levels import load_level

        if self._shared():  # a group plays the level its shared lab is in
            self._join_shared()
            return
        level = load_level(level_id)
        lab, run = level.start()
        self.play(lab, run, level.spec.title)

    def level_solved(self, run) -> None:
        self._autosave()
        self.notify("Level solved! Press Esc for the menu.", title="netlab", timeout=8)

    # -- the classroom (netlab.serve) -------------------------------------------
    def _shared(self) -> bool:
        return self.classroom is not None and self.classroom.mode == "shared"

    def _join_shared(self) -> None:
        from netlab.tui.screens.loading import LoadingScreen

        def shown(built) -> None:
            lab, run = built
            self.play(lab, run, f"{run.level.spec.title if run.level else 'sandbox'} — shared with {self.classroom.group}")

        self.push_screen(LoadingScreen("joining your group's lab …", self.classroom.join_shared, shown))

    def command_done(self, line: str, exit_code: int) -> None:
        if self.classroom is not None:
            self.classroom.command_done(line, exit_code)

    def classroom_level(self, level_id: str) -> None:
        """The instructor pushed a level."""
        self.notify(f"The instructor started level {level_id!r} for you.", title="classroom", timeout=10)
        while len(self.screen_stack) > 2:  # back to the title screen, then into the level
            self.pop_screen()
        self.current = None
        self.start_level(level_id)

    def classroom_reset(self, note: str = "The instructor reset your lab.") -> None:
        if self.current is None:
            return
        lab, run, title = self.current
        self.notify(note, title="classroom", timeout=10)
        if self._shared():
            self._join_shared()
        elif run is not None and run.level is not None:
            self.start_level(run.level.id)
        else:
            self.open_sandbox()

    def classroom_inject(self, fault: str) -> None:
        """Something broke: the instructor's fault, run as a line in the learner's lab (so
        saves replay it), shown in the shell like any other line."""
        if self.current is None or self.current[1] is None:
            return
        from netlab.serve.faults import NoTarget, fault_lines

        lab, run, _ = self.current
        try:
            lines = fault_lines(lab, fault)
        except NoTarget as err:
            self.notify(f"fault {fault}: {err}", title="classroom")
            return
        for line in lines:
            run.inject(line)
        self.notify("Something in your cluster just changed…", title="classroom", severity="warning", timeout=10)
        screen = self.screen
        if isinstance(screen, LabScreen):
            screen.refresh_all()
        self.classroom.report()

    def classroom_remote(self, user: str, line: str, result) -> None:
        """A teammate's line ran in our shared lab: show it and its packets."""
        screen = self.screen
        if isinstance(screen, LabScreen):
            screen.remote_line(user, line, result)

    def classroom_end(self, by: str) -> None:
        self.exit(message=f"netlab: the classroom session was ended by {by}.")

    # -- saves (netlab.save) ---------------------------------------------------
    def _autosave(self) -> None:
        if self._shared():
            return  # a shared lab is the group's; it lives on the server
        if self.current is not None and self.current[1] is not None:
            from netlab.save import SaveError, autosave

            try:
                autosave(self.current[0], self.current[1])
            except SaveError as err:
                self.notify(str(err), title="autosave failed", severity="error")

    def quicksave(self) -> None:
        from netlab.save import SaveError, quicksave

        lab, run, _ = self.current
        try:
            path = quicksave(lab, run)
        except SaveError as err:
            self.notify(str(err), title="save failed", severity="error")
            return
        self.notify(f"saved to {path}", title="quick save")

    def quickload(self) -> None:
        from netlab.save import SaveError, quickload

        lab, run, title = self.current
        try:
            new_lab, new_run = quickload(run.level.spec.id if run.level is not None else "")
        except SaveError as err:
            self.notify(str(err), title="load failed", severity="error")
            return
        self.play(new_lab, new_run, title)

    def undo(self) -> None:
        from netlab.save import SaveError, undo

        lab, run, title = self.current
        try:
            new_lab, new_run = undo(run)
        except SaveError as err:
            self.notify(str(err), title="undo", severity="warning")
            return
        self.play(new_lab, new_run, title)
        self.notify("the last change is undone", title="undo")

    def load_save(self, path: str) -> None:
        from netlab.save import SaveError, load

        try:
            lab, run = load(path)
        except SaveError as err:
            self.notify(str(err), title="load failed", severity="error")
            return
        title = run.level.spec.title if run.level is not None else "sandbox"
        self.play(lab, run, title)

    def _solo(self) -> bool:
        if self.current is None or self.current[1] is None:
            return False
        if self._shared():
            self.notify("Saves and undo are off in a shared lab: it belongs to the whole group.", title="classroom")
            return False
        return True

    def action_quicksave_key(self) -> None:
        if self._solo():
            self.quicksave()

    def action_quickload_key(self) -> None:
        if self._solo():
            self.quickload()

    def action_undo_key(self) -> None:
        if self._solo():
            self.undo()

    async def action_quit(self) -> None:
        self._autosave()
        self.exit()

    def get_system_commands(self, screen):
        """Ctrl-P reaches every action: navigation, saves, panes, hints, theme."""
        for command in super().get_system_commands(screen):
            if self.classroom is not None and command.title == "Screenshot":
                continue  # it writes a file on the classroom server: not a trainee's to write
            yield command
        yield SystemCommand("Sandbox", "Open the default lab", self.open_sandbox)
        yield SystemCommand("Levels", "Choose a level", self.open_levels)
        yield SystemCommand("Load save", "Load a saved game", self.open_load)
        yield SystemCommand("Help", "Keys and commands", self.action_help)
        yield SystemCommand("Toggle light/dark", "Switch the theme", self.action_toggle_dark)
        if isinstance(screen, LabScreen):
            yield SystemCommand("Quick save", "Save to this level's quick slot (F7)", self.action_quicksave_key)
            yield SystemCommand("Quick load", "Load this level's quick slot (F8)", self.action_quickload_key)
            yield SystemCommand("Undo", "Undo the last change (Ctrl-Z)", self.action_undo_key)
            yield SystemCommand("Hint", "Show the next hint (F6)", screen.action_hint)
            yield SystemCommand("Trace pane", "Show the last packets (F2)", lambda: screen.action_pane("trace"))
            yield SystemCommand("Objectives pane", "What must flow (F3)", lambda: screen.action_pane("objectives"))
            yield SystemCommand("Inspector", "Browse a node's or pod's tables (F4)", lambda: screen.action_pane("inspector"))
            yield SystemCommand("Toggle topology", "Hide or show the topology (Ctrl-T)", screen.action_toggle_topology)
            yield SystemCommand("Focus shell", "Back to the command line (F5)", screen.action_focus_shell)

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_toggle_dark(self) -> None:
        self.theme = "textual-light" if self.theme == "textual-dark" else "textual-dark"
