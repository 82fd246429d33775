"""`netlab serve`: a classroom over SSH.

    server.py    the asyncssh server: roster auth, refusals, one PTY + TUI process per session
    launcher.py  the fork server that starts those processes (preloaded, copy-on-write)
    hub.py       the classroom's state in the server: sessions, progress, shared labs, the record
    protocol.py  msgpack over a Unix socket between the hub and the session processes
    child.py     a session process: the TUI or the instructor's dashboard, linked to the hub
    shared.py    a group's shared lab: one ordered log, replicas that replay it
    guard.py     per-line limits in a session (CPU, output, bursts)
    roster.py    who may log in (keys, the hashed workshop password), roles, groups
    record.py    the session record and `netlab serve report`
"""
from __future__ import annotations

import os
import sys
import time


def add_parser(sub) -> None:
    from netlab.serve.limits import add_flags

    p = sub.add_parser("serve", help="a classroom: trainees ssh in and play in their own terminal")
    p.add_argument("--listen", default="127.0.0.1:2222", metavar="HOST:PORT",
                   help="address to listen on (default 127.0.0.1:2222; other addresses only when asked)")
    p.add_argument("--roster", metavar="FILE", help="who may log in (YAML: users, roles, keys, groups)")
    p.add_argument("--host-key", default="netlab-host-key", metavar="FILE",
                   help="the server's SSH host key; generated there if missing (default ./netlab-host-key)")
    p.add_argument("--level", default="", metavar="LEVEL", help="start every trainee in this level")
    p.add_argument("--record", metavar="FILE",
                   help="session record (default classroom-YYYYmmdd-HHMMSS.jsonl in the save dir)")
    add_flags(p)
    ssub = p.add_subparsers(dest="serve_cmd")
    pw = ssub.add_parser("passwd", help="hash a workshop password for the roster (read from the terminal or stdin)")
    pw.set_defaults(serve_cmd="passwd")
    rp = ssub.add_parser("report", help="print a session record as a table")
    rp.add_argument("file")


def run(args) -> int:
    if args.serve_cmd == "passwd":
        return _passwd()
    if args.serve_cmd == "report":
        from netlab.serve.record import report

        try:
            sys.stdout.write(report(args.file))
        except OSError as err:
            print(f"netlab serve report: {args.file}: {err.strerror}", file=sys.stderr)
            return 2
        except ValueError as err:
            print(f"netlab serve report: {err}", file=sys.stderr)
            return 2
        return 0
    return _serve(args)


def _passwd() -> int:
    import getpass

    from netlab.serve.roster import hash_password

    if sys.stdin.isatty():
        first = getpass.getpass("workshop password: ")
        if first != getpass.getpass("again: "):
            print("netlab serve passwd: the two passwords differ", file=sys.stderr)
            return 1
    else:
        first = sys.stdin.readline().rstrip("\n")
    if len(first) < 8:
        print("netlab serve passwd: use at least 8 characters", file=sys.stderr)
        return 1
    print(f'password: "{hash_password(first)}"')
    return 0


def parse_listen(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"--listen {text!r}: give HOST:PORT, e.g. 127.0.0.1:2222")
    return host.strip("[]") or "127.0.0.1", int(port)


def _serve(args) -> int:
    import asyncio

    from netlab.serve.limits import from_args
    from netlab.serve.roster import load_roster

    if not args.roster:
        print("netlab serve: give --roster FILE: the users who may log in (see README, Classroom)", file=sys.stderr)
        return 2
    try:
        host, port = parse_listen(args.listen)
        limits = from_args(args)
    except ValueError as err:
        print(f"netlab serve: {err}", file=sys.stderr)
        return 2
    roster = load_roster(args.roster)  # SourceError: one line naming the place
    if args.level:
        from netlab.levels import load_level

        load_level(args.level)
    from netlab.save import save_dir
    from netlab.serve.launcher import Launcher

    save_root = os.path.join(save_dir(), "classroom")
    os.makedirs(save_root, exist_ok=True)
    record_path = args.record or os.path.join(save_root, time.strftime("classroom-%Y%m%d-%H%M%S.jsonl"))
    launcher = Launcher()  # forked now, before the event loop exists
    try:
        return asyncio.run(_main(args, roster, limits, host, port, record_path, save_root, launcher))
    except KeyboardInterrupt:
        return 0
    finally:
        launcher.close()


async def _main(args, roster, limits, host, port, record_path, save_root, launcher) -> int:
    import asyncio
    import shutil
    import signal
    import tempfile

    from netlab.serve.hub import Hub
    from netlab.serve.record import Record
    from netlab.serve.server import Classroom, load_host_key, start

    key, created = load_host_key(args.host_key)
    sockdir = tempfile.mkdtemp(prefix="netlab-serve-")  # 0700: only this user reaches the hub
    socket_path = os.path.join(sockdir, "hub.sock")
    record = Record(record_path)
    hub = Hub(roster, level=args.level, record=record)
    hub_server = await hub.start(socket_path)
    room = Classroom(roster, limits, hub, launcher, socket_path, save_root)
    try:
        acceptor = await start(room, host, port, key)
    except OSError as err:
        print(f"netlab serve: cannot listen on {host}:{port}: {err.strerror}", file=sys.stderr)
        hub_server.close()
        shutil.rmtree(sockdir, ignore_errors=True)
        return 1
    bound = acceptor.sockets[0].getsockname()[1] if acceptor.sockets else port
    record.write("server-start", listen=f"{host}:{bound}", level=args.level)
    fingerprint = key.get_fingerprint("sha256")
    print(f"netlab classroom on {host}:{bound}" + (f", level {args.level}" if args.level else ""), flush=True)
    print(f"host key {args.host_key}{' (new)' if created else ''}: {fingerprint}", flush=True)
    print(f"trainees connect with:  ssh -p {bound} USER@{_public(host)}", flush=True)
    print(f"record: {record_path}   stop: Ctrl-C", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    ended = loop.create_task(hub.ended.wait())
    stopped = loop.create_task(stop.wait())
    await asyncio.wait([ended, stopped], return_when=asyncio.FIRST_COMPLETED)
    if hub.ended.is_set():
        await asyncio.sleep(1.0)  # let the trainees' screens say goodbye
    acceptor.close()
    for session in list(room.sessions):
        session._finish(0)
    record.write("server-stop")
    record.close()
    hub_server.close()
    shutil.rmtree(sockdir, ignore_errors=True)
    print("netlab classroom closed", flush=True)
    return 0


def _public(host: str) -> str:
    return "HOST" if host in ("0.0.0.0", "::", "") else host
