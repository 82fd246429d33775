"""`netlab levels`, `netlab levels lint`, `netlab check LEVEL --save FILE`: the parts
of the `netlab` command that belong to levels and saves (netlab/cli.py wires them in)."""
from __future__ import annotations

import sys


def add_parsers(sub) -> None:
    lv = sub.add_parser("levels", help="list levels and your progress; `levels lint` proves them")
    lv.add_argument("action", nargs="?", choices=("list", "lint"), default="list")
    lv.add_argument("files", nargs="*", help="level files to lint (default: every level)")
    ck = sub.add_parser("check", help="grade a save against a level's objectives (exit 0 when solved)")
    ck.add_argument("level", help="level id or level file")
    ck.add_argument("--save", required=True, help="save file to grade")


def run(args, out=None, err=None) -> int:
    out = out or sys.stdout.write
    err = err or (lambda s: print(s, file=sys.stderr, end=""))
    if args.cmd == "levels":
        return _lint(args.files, out) if args.action == "lint" else _list(out)
    if args.cmd == "check":
        return _check(args.level, args.save, out, err)
    raise ValueError(args.cmd)


def _list(out) -> int:
    from netlab.levels import list_levels, load_progress

    progress = load_progress()
    chapter = None
    for level in list_levels():
        spec = level.spec
        if spec.chapter != chapter:
            chapter = spec.chapter
            out(f"Chapter {chapter}" + (f": {spec.chapter_title}" if spec.chapter_title else "") + "\n")
        got = progress.get(spec.id) or {}
        mark = "★" * got.get("stars", 0) + "☆" * (3 - got.get("stars", 0)) if got.get("solved") else "   "
        best = f"  best {got['best_changes']} changes (par {spec.par})" if got.get("solved") else f"  par {spec.par}"
        out(f"  {mark} {spec.id:<24} {spec.title}{best}\n")
    return 0


def _lint(files: list[str], out) -> int:
    from netlab.levels import level_files
    from netlab.levels.lint import lint_files

    reports = lint_files(files or level_files())
    bad = 0
    for report in reports:
        if report.ok:
            out(f"ok    {report.level_id:<24} {report.source}\n")
        else:
            bad += 1
            out(f"FAIL  {report.level_id or '?':<24} {report.source}\n")
            for problem in report.problems:
                out(f"      {problem}\n")
    out(f"{len(reports) - bad} of {len(reports)} levels pass\n")
    return 1 if bad else 0


def _check(level_id: str, save_path: str, out, err) -> int:
    from netlab.levels import load_level
    from netlab.save import SaveError, load
    from netlab.save.format import decode, read

    level = load_level(level_id)
    try:
        header, body = decode(read(save_path), save_path)
        saved_level = header.get("level") or ""
        if saved_level != level.id and (saved_level or body.get("lab_text") != level.spec.lab_text):
            raise SaveError(f"{save_path} is a save of {('level ' + saved_level) if saved_level else 'another lab'}, "
                            f"not of level {level.id}")
        lab, run = load(save_path, level=level)
    except SaveError as e:
        err(f"netlab check: {e}\n")
        return 2
    results = run.check()
    for r in results:
        out(f"{r}\n")
    score = run.score()
    solved = all(r.passed for r in results)
    out(f"{'solved' if solved else 'not solved'}: {score.changes} changes (par {score.par}), "
        f"{score.hints_used} hints\n")
    return 0 if solved else 1


def open_for_saving(lab_path: str | None, save_path: str | None):
    """(lab, run) for `netlab exec`/`netlab run`: from a save (`--save`), else a lab file
    or the default lab, as a sandbox run so `--save-to` can write it."""
    from netlab.levels.run import start_sandbox

    if save_path and lab_path:
        raise SystemExit("netlab: give --lab or --save, not both")
    if save_path:
        from netlab.save import SaveError, load

        try:
            return load(save_path)
        except SaveError as err:
            print(f"netlab: {err}", file=sys.stderr)
            raise SystemExit(2) from None
    return start_sandbox(lab_path)


def save_if_asked(lab, run, save_to: str | None, code: int) -> int:
    """Write `--save-to` (if given) and pass the command's exit code on."""
    if save_to:
        from netlab.save import SaveError, save

        try:
            save(save_to, lab, run)
        except SaveError as err:
            print(f"netlab: {err}", file=sys.stderr)
            return 2
    return code
