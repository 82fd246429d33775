"""A shell session: a stack of contexts (ssh/exec push, exit pops), history, and the
line parser (pipes, `;`, `&&`, `||`, `>`/`>>` redirects, quotes)."""
from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

from netlab.shell.context import Context
from netlab.shell.registry import COMMANDS, Invocation, load_all

if TYPE_CHECKING:
    from netlab.lab import Lab, Result

OPERATORS = {";", "&&", "||", "|", ">", ">>", "&"}


class ShellSyntaxError(Exception):
    pass


def tokenize(line: str) -> list[str]:
    lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|>")
    lexer.whitespace_split = True
    lexer.commenters = "#"
    try:
        return list(lexer)
    except ValueError:
        quote = "'" if line.count("'") % 2 else '"'
        raise ShellSyntaxError(f"unexpected EOF while looking for matching `{quote}'") from None


class Session:
    def __init__(self, lab: "Lab") -> None:
        load_all()
        self.lab = lab
        self.history: list[str] = []
        self.stack: list[Context] = [self.workstation()]
        self.last_exit = 0
        self.exit_requested = False  # `exit` at the outermost context: the REPL ends

    # -- contexts --------------------------------------------------------------
    def workstation(self) -> Context:
        name = self.lab.spec.workstation
        node = self.lab.cluster.nodes[name]
        return Context("node", name, node.ns, name, kubectl=True)

    @property
    def ctx(self) -> Context:
        return self.stack[-1]

    @property
    def prompt(self) -> str:
        return self.ctx.prompt

    def context_for(self, name: str) -> Context | None:
        """A node by name or IP, or a pod by name (`pod`, `ns/pod`)."""
        cluster = self.lab.cluster
        node = cluster.nodes.get(name)
        if node is None:
            node = next((n for n in cluster.nodes.values() if n.spec.name == name or n.ns.hostname == name
                         or _ip_text(n.spec.ip) == name), None)
        if node is not None:
            return Context("node", node.spec.name, node.ns, node.spec.name,
                           kubectl=node.spec.name == self.lab.spec.workstation)
        outside = self.lab.world.namespaces.get(name)
        if outside is not None and outside.kind in ("client", "router"):
            return Context("node", name, outside, name)
        key = name if "/" in name else f"default/{name}"
        ns = cluster.pod_ns.get(key)
        if ns is None:
            matches = [k for k in cluster.pod_ns if k.split("/", 1)[1] == name]
            if len(matches) == 1:
                key, ns = matches[0], cluster.pod_ns[matches[0]]
        if ns is not None:
            pod = cluster.api.get("Pod", key.split("/", 1)[0], key.split("/", 1)[1])
            node_name = (pod or {}).get("spec", {}).get("nodeName", "")
            return Context("pod", key, ns, node_name)
        return None

    def enter(self, name: str) -> str | None:
        ctx = self.context_for(name)
        if ctx is None:
            return f"netlab: no node or pod named {name}"
        self.stack.append(ctx)
        return None

    def leave(self) -> bool:
        if len(self.stack) > 1:
            self.stack.pop()
            return True
        return False

    # -- running lines ---------------------------------------------------------
    def run(self, line: str, ctx: Context | None = None) -> "Result":
        from netlab.lab import Result

        if line.strip() and ctx is None:
            self.history.append(line)
        out: list[str] = []
        code = self.run_into(line, out, ctx or self.ctx)
        self.last_exit = code
        self.lab.cluster.tick()
        return Result("".join(out), code, self.lab.world.take_traces())

    def run_into(self, line: str, out: list[str], ctx: Context, stdin: str = "") -> int:
        try:
            tokens = tokenize(line)
        except ShellSyntaxError as err:
            out.append(f"{ctx.shell}: {err}\n")
            return 2
        if not tokens:
            return self.last_exit if ctx is None else 0
        code = 0
        for op, pipeline in _split_lists(tokens):
            if op == "&&" and code != 0:
                continue
            if op == "||" and code == 0:
                continue
            if not pipeline:
                out.append(f"{ctx.shell}: syntax error near unexpected token `{op}'\n")
                return 2
            code = self._run_pipeline(pipeline, out, ctx, stdin)
        return code

    def _run_pipeline(self, pipeline: list[str], out: list[str], ctx: Context, stdin: str) -> int:
        stages = _split(pipeline, "|")
        data = stdin
        code = 0
        for i, stage in enumerate(stages):
            argv, redirect, append, err = _redirects(stage)
            if err:
                out.append(f"{ctx.shell}: syntax error near unexpected token `newline'\n")
                return 2
            if not argv:
                out.append(f"{ctx.shell}: syntax error near unexpected token `|'\n")
                return 2
            inv = Invocation(argv, ctx, self, stdin=data)
            code = self.call(inv)
            text = "".join(inv.out)
            if redirect is not None:
                if redirect != "/dev/null":
                    old = ctx.ns.read_file(redirect) or "" if append else ""
                    ctx.ns.files[redirect] = old + text
                text = ""
            if i == len(stages) - 1:
                out.append(text)
            else:
                data = text
        return code

    def call(self, inv: Invocation) -> int:
        argv = inv.argv
        while argv and "=" in argv[0] and not argv[0].startswith("="):
            name, value = argv[0].split("=", 1)
            inv.env[name] = value  # VAR=value prefixes: this command's environment
            argv = argv[1:]
        if not argv:
            return 0
        inv.argv = argv
        cmd = COMMANDS.get(argv[0].rsplit("/", 1)[-1] if argv[0].startswith("/") else argv[0])
        if cmd is None or inv.ctx.kind not in cmd.where:
            inv.print(inv.ctx.not_found(argv[0]))
            return 127
        try:
            return cmd.fn(inv)
        except Exception as err:  # a bug must not reach the user as a traceback
            inv.print(f"{argv[0]}: internal error: {type(err).__name__}: {err}")
            return 1


def _ip_text(ip: int) -> str:
    from netlab.net.addr import fmt_ip

    return fmt_ip(ip)


def _split_lists(tokens: list[str]):
    op = None
    current: list[str] = []
    for tok in tokens:
        if tok in (";", "&&", "||", "&"):
            yield op, current
            op, current = (";" if tok == "&" else tok), []
        else:
            current.append(tok)
    if current or op not in (None, ";"):
        yield op, current


def _split(tokens: list[str], sep: str) -> list[list[str]]:
    parts, cur = [], []
    for tok in tokens:
        if tok == sep:
            parts.append(cur)
            cur = []
        else:
            cur.append(tok)
    parts.append(cur)
    return parts


def _redirects(tokens: list[str]):
    argv, target, append = [], None, False
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok in (">", ">>"):
            if argv and argv[-1] in ("2", "1"):
                fd = argv.pop()
                if i + 1 < len(tokens) and tokens[i + 1].startswith("&"):
                    i += 2
                    continue
                if fd == "2":
                    i += 2
                    continue
            if i + 1 >= len(tokens):
                return argv, None, False, True
            target, append = tokens[i + 1], tok == ">>"
            i += 2
            continue
        argv.append(tok)
        i += 1
    return argv, target, append, False
