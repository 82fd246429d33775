"""`sysctl` (procps-ng 4.0): read and write the namespace's /proc/sys/net keys."""
from __future__ import annotations

from netlab.net.sysctl import is_directory, key_of, sysctl_get, sysctl_items, sysctl_set
from netlab.shell.registry import Invocation, command

USAGE = """
Usage:
 sysctl [options] [variable[=value] ...]

Options:
  -a, --all            display all variables
  -A                   alias of -a
  -X                   alias of -a
      --deprecated     include deprecated parameters to listing
  -b, --binary         print value without new line
  -e, --ignore         ignore unknown variables errors
  -N, --names          print variable names without values
  -n, --values         print only values of the given variable(s)
  -p, --load[=<file>]  read values from file
  -f                   alias of -p
      --system         read values from all system directories
  -r, --pattern <expression>
                       select setting that match expression
  -q, --quiet          do not echo variable set
  -w, --write          enable writing a value to variable
  -o                   does nothing
  -x                   does nothing
  -d                   alias of -h

 -h, --help     display this help and exit
 -V, --version  output version information and exit

For more details see sysctl(8)."""


@command("sysctl", summary="read and write kernel parameters (procps)")
def sysctl(inv: Invocation) -> int:
    args = inv.argv[1:]
    opts = {"all": False, "names": False, "values": False, "quiet": False, "write": False, "ignore": False,
            "pattern": None, "load": None}
    names: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        if a.startswith("--"):
            long = {"--all": "all", "--names": "names", "--values": "values", "--quiet": "quiet", "--write": "write",
                    "--ignore": "ignore"}.get(a)
            if long:
                opts[long] = True
            elif a == "--pattern" and i + 1 < len(args):
                i += 1
                opts["pattern"] = args[i]
            elif a.startswith("--load") or a == "--system":
                opts["load"] = a.partition("=")[2] or "/etc/sysctl.conf"
            elif a == "--help":
                inv.print(USAGE)
                return 0
            elif a == "--version":
                inv.print("sysctl from procps-ng 4.0.2")
                return 0
            else:
                return inv.fail(f"sysctl: unrecognized option '{a}'\n{USAGE}", 1)
        elif a.startswith("-") and len(a) > 1:
            for ch in a[1:]:
                if ch in "aAX":
                    opts["all"] = True
                elif ch == "N":
                    opts["names"] = True
                elif ch == "n":
                    opts["values"] = True
                elif ch == "q":
                    opts["quiet"] = True
                elif ch == "w":
                    opts["write"] = True
                elif ch == "e":
                    opts["ignore"] = True
                elif ch in "pf":
                    opts["load"] = "/etc/sysctl.conf"
                elif ch == "r" and i + 1 < len(args):
                    i += 1
                    opts["pattern"] = args[i]
                elif ch in "oxb":
                    pass
                elif ch in "hd":
                    inv.print(USAGE)
                    return 0
                elif ch == "V":
                    inv.print("sysctl from procps-ng 4.0.2")
                    return 0
                else:
                    return inv.fail(f"sysctl: invalid option -- '{ch}'\n{USAGE}", 1)
        else:
            names.append(a)
        i += 1
    ns = inv.ns
    code = 0

    def show(key: str, value: str) -> None:
        if opts["names"]:
            inv.print(key)
        elif opts["values"]:
            inv.print(value)
        else:
            inv.print(f"{key} = {value}")

    if opts["load"] is not None:
        text = ns.read_file(opts["load"])
        if text is None:
            return inv.fail("sysctl: cannot open \"{opts['load']}\": No such file or directory", 1)
        names = [line.strip() for line in text.splitlines() if line.strip() and line.strip()[0] not in "#;"]
        opts["write"] = True
    if opts["all"] or (not names and opts["pattern"]):
        import re

        regex = re.compile(opts["pattern"]) if opts["pattern"] else None
        for key, value in sysctl_items(ns).items():
            if regex is None or regex.search(key):
                show(key, value)
        return 0
    if not names:
        return inv.fail("sysctl: no variables specified\nTry `sysctl --help' for more information.", 1)
    for setting in names:
        if "=" in setting or opts["write"]:
            name, eq, value = setting.partition("=")
            key = key_of(name.strip())
            if not eq:
                inv.print(f'sysctl: "{setting}" must be of the form name=value')
                code = 1
                continue
            if sysctl_get(ns, key) is None:
                if not opts["ignore"]:
                    inv.print(f"sysctl: cannot stat /proc/sys/{_path(key)}: No such file or directory")
                    code = 1
                continue
            try:
                value = sysctl_set(ns, key, value.strip())
            except ValueError as err:
                inv.print(f'sysctl: setting key "{key}": {err}')
                code = 1
                continue
            if not opts["quiet"]:
                show(key, value)
            continue
        key = key_of(setting)
        value = sysctl_get(ns, key)
        if value is not None:
            show(key, value)
        elif is_directory(ns, key):
            prefix = key.rstrip(".") + "."
            for k, v in sysctl_items(ns).items():
                if k.startswith(prefix):
                    show(k, v)
        elif not opts["ignore"]:
            inv.print(f"sysctl: cannot stat /proc/sys/{_path(key)}: No such file or directory")
            code = 1
    return code


def _path(key: str) -> str:
    return key.translate(str.maketrans("./", "/."))
