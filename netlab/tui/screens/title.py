"""The title screen: Continue, Levels, Sandbox, Load save, Help, Quit."""
from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Center, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Markdown, OptionList, Static
from textual.widgets.option_list import Option

LOGO = r"""
             _   _       _
  _ __   ___| |_| | __ _| |__
 | '_ \ / _ \ __| |/ _` | '_ \
 | | | |  __/ |_| | (_| | |_) |
 |_| |_|\___|\__|_|\__,_|_.__/
"""

HELP = """# netlab

A Kubernetes cluster whose dataplane behaves like Linux. Fix it with the commands a real node
offers and watch packets walk the path.

**In the lab screen**

| key | what |
|---|---|
| Enter | run the line typed (`help` lists the commands of where you are) |
| Tab | complete commands, nodes, pods, devices |
| ↑ / ↓ | shell history |
| Ctrl-C | clear the line |
| Ctrl-L | clear the screen |
| F2 | the trace pane |
| F3 | the objectives pane |
| F4 | the inspector pane |
| F5 | back to the shell |
| ← / → | in the trace: step the packet hop by hop |
| [ / ] | in the trace: previous / next packet |
| F6 | the next hint |
| F7 | quick save |
| F8 | quick load |
| Ctrl-Z | undo the last change |
| Ctrl-T | hide or show the topology |
| Ctrl-P | command palette |
| Esc | back to the menu |
| Ctrl-Q | quit |

**Moving around:** `ssh NODE`, `kubectl exec -it POD -- sh`, `exit`.

**Tracing:** `trace FROM TO[:PORT] [--proto tcp|udp|icmp]`, or any `ping`, `curl`, `nslookup`.
"""


class HelpScreen(ModalScreen):
    """The keys and commands, in a box that scrolls (↑/↓, PgUp/PgDn) when the terminal is short."""

    BINDINGS = [("escape,q", "app.pop_screen", "Close")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 90%; max-width: 100; height: 90%; border: round $accent; background: $surface; }
    """

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Markdown(HELP)

    def on_mount(self) -> None:
        self.query_one("#help").focus()


class TitleScreen(Screen):
    DEFAULT_CSS = """
    TitleScreen { align: center middle; }
    TitleScreen #logo { width: auto; color: $accent; }
    TitleScreen #tagline { width: auto; color: $text-muted; margin-bottom: 1; }
    TitleScreen OptionList { width: 40; height: auto; }
    """

    def compose(self) -> ComposeResult:
        with Vertical():
            with Center():
                yield Static(LOGO, id="logo")
            with Center():
                yield Static("where does this packet go, and why?", id="tagline")
            with Center():
                yield OptionList(*self._options(), id="menu")
        yield Footer()

    def _options(self) -> list[Option]:
        app = self.app
        opts = []
        if app.can_continue():
            opts.append(Option("Continue", id="continue"))
        opts += [Option("Levels", id="levels"), Option("Sandbox", id="sandbox"), Option("Load save", id="load"),
                 Option("Help", id="help"), Option("Quit", id="quit")]
        return opts

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected, "#menu")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        choice = event.option.id
        app = self.app
        if choice == "sandbox":
            app.open_sandbox()
        elif choice == "levels":
            app.open_levels()
        elif choice == "continue":
            app.continue_game()
        elif choice == "load":
            app.open_load()
        elif choice == "help":
            app.push_screen(HelpScreen())
        elif choice == "quit":
            app.exit()


class MessageScreen(ModalScreen):
    """One paragraph and a way back."""

    BINDINGS = [("escape,enter,q", "app.pop_screen", "Back")]
    DEFAULT_CSS = """
    MessageScreen { align: center middle; }
    MessageScreen Static { width: 70; border: round $warning; padding: 1 2; background: $surface; }
    """

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def compose(self) -> ComposeResult:
        yield Static(Text(self.text))
