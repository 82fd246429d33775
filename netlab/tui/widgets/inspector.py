"""The inspector: any node's or pod's tables, browsable — the same text the shell commands
print (one formatter per format), iptables folded by chain with counters."""
from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Select, Static, TabbedContent, TabPane, Tree

TABLES = [
    ("routes", "ip route"),
    ("neighbours", "ip neigh"),
    ("fdb", "bridge fdb show"),
    ("ipvs", "ipvsadm -ln"),
    ("conntrack", "conntrack -L"),
    ("resolv.conf", "cat /etc/resolv.conf"),
]


class Inspector(Vertical):
    DEFAULT_CSS = """
    Inspector Select { height: 3; }
    Inspector VerticalScroll Static { padding: 0 1; }
    """

    def __init__(self, lab, **kw) -> None:
        super().__init__(**kw)
        self.lab = lab
        self.target: str | None = None

    def compose(self) -> ComposeResult:
        choices = [(name, name) for name in self.lab.context_names()]
        yield Select(choices, prompt="node or pod", id="target")
        with TabbedContent(id="tables"):
            for title, _ in TABLES:
                with TabPane(title, id=f"t-{title.replace('.', '-')}"):
                    with VerticalScroll():
                        yield Static("", classes="table-text")
            with TabPane("iptables", id="t-iptables"):
                yield Tree("iptables", id="iptables-tree")

    @on(Select.Changed, "#target")
    def _target(self, event: Select.Changed) -> None:
        if event.value is Select.BLANK:
            return
        self.target = str(event.value)
        self.refresh_tables()

    def refresh_tables(self) -> None:
        if self.target is None:
            return
        for title, command in TABLES:
            pane = self.query_one(f"#t-{title.replace('.', '-')}", TabPane)
            result = self.lab.sh(command, on=self.target)
            pane.query_one(".table-text", Static).update(result.output or "(empty)")
        self._iptables()

    def _iptables(self) -> None:
        tree = self.query_one("#iptables-tree", Tree)
        tree.clear()
        tree.root.expand()
        result = self.lab.sh("iptables-save -c", on=self.target)
        if result.exit_code != 0:
            tree.root.add_leaf(result.output.strip() or "no iptables here")
            return
        table_node = None
        chains: dict[str, object] = {}
        for line in result.output.splitlines():
            if line.startswith("*"):
                table_node = tree.root.add(line[1:], expand=False)
                chains = {}
            elif line.startswith(":") and table_node is not None:
                name, policy, counters = (line[1:].split(" ") + ["", ""])[:3]
                chains[name] = table_node.add(f"{name}  {policy} {counters}", expand=False)
            elif line.startswith("[") and table_node is not None:
                counters, _, rule = line.partition(" ")
                chain = rule.split(" ")[1] if rule.startswith("-A ") else ""
                parent = chains.get(chain, table_node)
                parent.add_leaf(f"{counters} {rule[len(chain) + 4:]}")
