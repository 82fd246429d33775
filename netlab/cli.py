"""The `netlab` command."""
from __future__ import annotations

import argparse
import os
import sys

USAGE_EPILOG = """commands:
  netlab                        the TUI (title screen); with stdin/stdout not a terminal: the line shell
  netlab sandbox [--lab FILE]   the TUI, straight into a lab
  netlab play LEVEL             the TUI, straight into a level
  netlab shell [--lab FILE]     the line shell (history, Tab completion)
  netlab exec [--lab FILE | --save FILE] [--save-to FILE] -- CMD ...
  netlab run [--lab FILE | --save FILE] [--save-to FILE] SCRIPT
  netlab trace [--lab FILE] FROM TO[:PORT] [--proto tcp|udp|icmp]
  netlab dns serve [--lab FILE] [--port N]
  netlab policy matrix [--lab FILE] [-n NS ...] [--port P] [--udp]
  netlab http serve [--lab FILE] [--port N]
  netlab levels [lint [FILE ...]]
  netlab check LEVEL --save FILE
  netlab serve --roster FILE [--listen HOST:PORT] [--level LEVEL] [--host-key FILE] [limits]
  netlab serve passwd | netlab serve report FILE
"""


def _load_lab(path: str | None):
    from netlab.lab import Lab

    return Lab.load(path) if path else Lab.default()


def _save_options(p) -> None:
    p.add_argument("--save", help="start from a save file instead of a lab file")
    p.add_argument("--save-to", help="write a save file of the lab afterwards")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="netlab", description="A terminal lab for Kubernetes networking.",
                                epilog=USAGE_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=_version())
    p.add_argument("--lab", help="lab file (YAML); default: the built-in two-node flannel lab")
    p.add_argument("--save-dir", help="folder for quick saves and autosaves (default: saves/)")
    sub = p.add_subparsers(dest="cmd")
    e = sub.add_parser("exec", help="run one command in a fresh lab and exit with its code")
    e.add_argument("--lab", dest="lab_sub")
    _save_options(e)
    e.add_argument("argv", nargs=argparse.REMAINDER)
    r = sub.add_parser("run", help="run every line of a script in one lab")
    r.add_argument("--lab", dest="lab_sub")
    _save_options(r)
    r.add_argument("script")
    t = sub.add_parser("trace", help="print one packet's journey")
    t.add_argument("--lab", dest="lab_sub")
    t.add_argument("src")
    t.add_argument("dst")
    t.add_argument("--proto", choices=("tcp", "udp", "icmp"))
    t.add_argument("-v", "--verbose", action="store_true")
    d = sub.add_parser("dns", help="DNS from the lab's CoreDNS")
    dsub = d.add_subparsers(dest="dns_cmd", required=True)
    ds = dsub.add_parser("serve", help="answer real DNS queries on 127.0.0.1 from the lab's CoreDNS")
    ds.add_argument("--lab", dest="lab_sub")
    ds.add_argument("--port", type=int, default=5353)
    hp = sub.add_parser("http", help="HTTP into the lab's ingress controller")
    hsub = hp.add_subparsers(dest="http_cmd", required=True)
    hs = hsub.add_parser("serve", help="forward real HTTP requests on 127.0.0.1 to the lab's ingress (from `client`)")
    hs.add_argument("--lab", dest="lab_sub")
    hs.add_argument("--port", type=int, default=8080)
    pl = sub.add_parser("play", help="the TUI, straight into a level")
    pl.add_argument("level", help="a level id (see `netlab levels`) or a level file")
    sb = sub.add_parser("sandbox", help="the TUI, straight into a lab")
    sb.add_argument("--lab", dest="lab_sub")
    from netlab.levels.cli import add_parsers as add_level_parsers

    add_level_parsers(sub)  # levels, levels lint, check
    from netlab.shell.policy_matrix import add_parser as add_policy_parser

    add_policy_parser(sub)  # policy matrix
    from netlab.serve import add_parser as add_serve_parser

    add_serve_parser(sub)
    sh = sub.add_parser("shell", help="an interactive shell on a lab")
    sh.add_argument("--lab", dest="lab_sub")
    return p


def _tui(lab_path: str | None, *, start: str) -> int:
    """The Textual app. A bad lab file is reported before the screen takes over."""
    if lab_path:
        _load_lab(lab_path)  # fail early, with one line, if the file is wrong
    from netlab.tui.app import NetlabApp

    NetlabApp(lab_path=lab_path, start=start, lab_title=lab_path or "sandbox").run()
    return 0


def run_script(lab, lines: list[str], write, run=None) -> int:
    """`netlab run`: every line of a script in one session, each echoed as `$ <line>`
    before its output. Blank lines and `#` comments are skipped. Returns the last exit code."""
    code = 0
    for line in lines:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        write(f"$ {line}\n")
        result = run.sh(line) if run is not None else lab.session.run(line)
        write(result.output)
        code = result.exit_code
    return code


def _version() -> str:
    from netlab import __version__

    return f"netlab {__version__}"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        return _main(argv)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as err:  # the one place that turns any error into one line
        from netlab.yamlsrc import SourceError

        if isinstance(err, SourceError):
            print(f"netlab: {err}", file=sys.stderr)
            return 2
        print(f"netlab: internal error: {type(err).__name__}: {err}", file=sys.stderr)
        return 1


def _main(argv: list[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    lab_path = getattr(args, "lab_sub", None) or args.lab
    if args.save_dir:
        from netlab.save import set_save_dir

        set_save_dir(args.save_dir)
    if args.cmd == "exec":
        cmd = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
        if not cmd:
            parser.error("exec: give a command after --")
        from netlab.levels.cli import open_for_saving, save_if_asked

        lab, run = open_for_saving(lab_path, args.save)
        import shlex

        line = cmd[0] if len(cmd) == 1 else " ".join(shlex.quote(a) for a in cmd)
        result = run.sh(line)
        sys.stdout.write(result.output)
        return save_if_asked(lab, run, args.save_to, result.exit_code)
    if args.cmd == "run":
        try:
            with open(args.script, encoding="utf-8") as fh:
                lines = fh.read().splitlines()
        except OSError as err:
            print(f"netlab: {args.script}: {err.strerror}", file=sys.stderr)
            return 2
        from netlab.levels.cli import open_for_saving, save_if_asked

        lab, run = open_for_saving(lab_path, args.save)
        return save_if_asked(lab, run, args.save_to, run_script(lab, lines, sys.stdout.write, run=run))
    if args.cmd == "trace":
        from netlab.shell.cmd_trace import render_traces
        from netlab.shell.probe import ProbeError, send_probe

        lab = _load_lab(lab_path)
        proto = args.proto
        try:
            traces, _ = send_probe(lab, args.src, args.dst, proto=proto or "icmp")
        except ProbeError as err:
            print(f"netlab trace: {err}", file=sys.stderr)
            return 2
        sys.stdout.write(render_traces(traces, args.verbose))
        return 0 if traces and traces[0].delivered else 1
    if args.cmd in ("levels", "check"):
        from netlab.levels.cli import run as run_level_command

        return run_level_command(args)
    if args.cmd == "policy":
        from netlab.shell.policy_matrix import run as run_policy

        return run_policy(_load_lab(lab_path), args, sys.stdout.write)
    if args.cmd == "dns":
        return _dns_serve(_load_lab(lab_path), args.port)
    if args.cmd == "http":
        return _http_serve(_load_lab(lab_path), args.port)
    if args.cmd == "serve":
        from netlab.serve import run as run_serve

        return run_serve(args)
    if args.cmd == "play":
        from netlab.levels import load_level

        load_level(args.level)  # an unknown level or a bad file: one line, before the screen
        from netlab.tui.app import NetlabApp

        NetlabApp(start="level", level=args.level).run()
        return 0
    if args.cmd == "sandbox" or (args.cmd is None and sys.stdin.isatty() and sys.stdout.isatty()):
        return _tui(lab_path, start="sandbox" if args.cmd == "sandbox" else "title")
    from netlab.repl import repl

    return repl(_load_lab(lab_path))


def _dns_serve(lab, port: int) -> int:
    """`netlab dns serve`: the lab's CoreDNS on a real UDP/TCP port."""
    from netlab.apps.dns.server import DnsServer

    return _serve_until_stopped("dns serve", lambda: DnsServer(lab, "127.0.0.1", port), port)


def _http_serve(lab, port: int) -> int:
    """`netlab http serve`: the lab's ingress on a real TCP port."""
    from netlab.apps.ingress.serve import LabHttpServer, NoIngress

    return _serve_until_stopped("http serve", lambda: LabHttpServer(lab, "127.0.0.1", port), port, NoIngress)


def _serve_until_stopped(name: str, make, port: int, *refusals: type[Exception]) -> int:
    """Run a server from `make()` until Ctrl-C or SIGTERM, both of which stop it cleanly.
    `refusals` are the server's own reasons not to start (one line each)."""
    import signal

    try:
        server = make()
    except refusals as err:
        print(f"netlab {name}: {err}", file=sys.stderr)
        return 1
    except OSError as err:
        print(f"netlab {name}: cannot listen on 127.0.0.1:{port}: {err.strerror}", file=sys.stderr)
        return 1
    signal.signal(signal.SIGTERM, lambda *_: server.stop())  # before the line a caller waits for
    print(server.describe(), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
