"""The interactive shell `netlab` opens until the TUI exists: a prompt per context,
readline history and completion, Ctrl-D (or `exit`) to leave."""
from __future__ import annotations

import os
import sys


def terminal_editor(text: str) -> str | None:
    """kubectl edit in a terminal: $KUBE_EDITOR or $EDITOR (vi by default) on a temporary
    file; the saved text comes back, or None if the editor failed."""
    import subprocess
    import tempfile

    editor = os.environ.get("KUBE_EDITOR") or os.environ.get("EDITOR") or "vi"
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", prefix="kubectl-edit-", delete=False) as fh:
        fh.write(text)
        path = fh.name
    try:
        if subprocess.call([*editor.split(), path]) != 0:
            return None
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except OSError:
        return None
    finally:
        try:
            os.unlink(path)
        except OSError:
            pass


def repl(lab) -> int:
    session = lab.session
    if sys.stdin.isatty():
        session.external_editor = terminal_editor
    try:
        import readline

        hist = os.path.expanduser("~/.netlab_history")
        try:
            readline.read_history_file(hist)
        except OSError:
            pass
        from netlab.shell.complete import complete

        def completer(text, state):
            line = readline.get_line_buffer()
            options = complete(session, line, readline.get_endidx())
            return options[state] if state < len(options) else None

        readline.set_completer_delims(" \t")
        readline.set_completer(completer)
        readline.parse_and_bind("tab: complete")
    except ImportError:  # pragma: no cover
        readline = None
    print(f"netlab: lab \"{lab.spec.name}\" — {len(lab.cluster.nodes)} nodes, {len(lab.cluster.pod_ns)} pods. "
          "Type `help`, `trace FROM TO`, or Ctrl-D to leave.")
    while True:
        try:
            line = input(session.prompt)
        except EOFError:
            print()
            break
        except KeyboardInterrupt:
            print("^C")
            continue
        result = session.run(line)
        sys.stdout.write(result.output)
        sys.stdout.flush()
        if session.exit_requested:
            break
    if readline is not None:
        try:
            readline.write_history_file(hist)
        except OSError:
            pass
    return 0
