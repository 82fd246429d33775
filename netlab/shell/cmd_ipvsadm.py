"""ipvsadm (1.31, built with libnl-3 as on Debian and Ubuntu nodes): option parsing as popt
does it, the legal-combination table, and the errors the real tool prints.

Kernel errors reach ipvsadm through libnl-3, which folds ESRCH and ENOENT into one
"object not found" code that ipvsadm turns back into ENOENT (nlerr2syserr). So on a real
node deleting a missing service prints strerror(ENOENT), "No such file or directory",
and adding a real server to a missing service does too; "Service not defined" is only
seen with the old setsockopt interface. `ipvsadm_error` follows that chain.
"""
from __future__ import annotations

from netlab.net.addr import AddrError, parse_ip
from netlab.net.ipvs import MASQ, ROUTE, TUNNEL, Ipvs, IpvsError
from netlab.net.ipvs_sched import SCHEDULERS
from netlab.net.ipvs_text import SERVICE_PORTS, list_conns, list_services, save, timeouts
from netlab.net.packet import IPPROTO_TCP, IPPROTO_UDP
from netlab.shell.registry import Invocation, command

VERSION = "ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)"
TRYHELP = "Try `ipvsadm -h' or 'ipvsadm --help' for more information."
MAX_TIMEOUT = 86400 * 31

COMMANDS = ("add-service", "edit-service", "delete-service", "flush", "list", "add-server", "delete-server",
            "edit-server", "set", "start-daemon", "stop-daemon", "restore", "save", "zero")
OPTIONS = ("numeric", "connection", "service-address", "scheduler", "persistent", "netmask", "real-server",
           "forwarding-method", "weight", "u-threshold", "l-threshold", "mcast-interface", "timeout", "daemon",
           "stats", "rate", "thresholds", "persistent-conn", "nosort", "syncid", "exact", "ops", "sched-flags")
# commands_v_options (ipvsadm.c): per command, one character per option in OPTIONS order:
# '+' compulsory, 'x' illegal, '1' exclusive (only one of them), ' ' optional.
LEGAL = {
    "add-service": "xx+   " + "x" * 15 + "  ",
    "edit-service": "xx+   " + "x" * 15 + "  ",
    "delete-service": "xx+" + "x" * 20,
    "flush": "x" * 23,
    "list": " 11" + "x" * 9 + "11" + " " * 7 + "xx",
    "add-server": "xx+xxx+    " + "x" * 12,
    "delete-server": "xx+xxx+" + "x" * 16,
    "edit-server": "xx+xxx+    " + "x" * 12,
    "set": "x" * 23,
    "start-daemon": "x" * 11 + " " + "x" * 7 + " " + "xxx",
    "stop-daemon": "x" * 19 + " " + "xxx",
    "restore": "x" * 23,
    "save": " " + "x" * 22,
    "zero": "xx " + "x" * 20,
}
assert all(len(row) == len(OPTIONS) for row in LEGAL.values())
# (short, long) → (name, takes an argument: 0 no, 1 yes, 2 optional)
SPEC = {
    "A": ("add-service", 0), "E": ("edit-service", 0), "D": ("delete-service", 0), "C": ("clear", 0),
    "L": ("list", 0), "l": ("list", 0), "Z": ("zero", 0), "a": ("add-server", 0), "e": ("edit-server", 0),
    "d": ("delete-server", 0), "h": ("help", 0), "v": ("version", 0), "R": ("restore", 0), "S": ("save", 0),
    "t": ("tcp-service", 1), "u": ("udp-service", 1), "f": ("fwmark-service", 1), "s": ("scheduler", 1),
    "p": ("persistent", 2), "M": ("netmask", 1), "r": ("real-server", 1), "m": ("masquerading", 0),
    "i": ("ipip", 0), "g": ("gatewaying", 0), "w": ("weight", 1), "x": ("u-threshold", 1),
    "y": ("l-threshold", 1), "n": ("numeric", 0), "c": ("connection", 0), "X": ("exact", 0), "6": ("ipv6", 0),
    "o": ("ops", 0), "b": ("sched-flags", 1),
}
LONG = {name: (name, arg) for name, arg in SPEC.values()}
LONG.update({"set": ("set", 0), "start-daemon": ("start-daemon", 1), "stop-daemon": ("stop-daemon", 1),
             "mcast-interface": ("mcast-interface", 1), "syncid": ("syncid", 1), "timeout": ("timeout", 0),
             "daemon": ("daemon", 0), "stats": ("stats", 0), "rate": ("rate", 0), "thresholds": ("thresholds", 0),
             "persistent-conn": ("persistent-conn", 0), "nosort": ("nosort", 0), "sort": ("sort", 0)})
CMD_OF = {"add-service": "add-service", "edit-service": "edit-service", "delete-service": "delete-service",
          "clear": "flush", "list": "list", "zero": "zero", "add-server": "add-server", "edit-server": "edit-server",
          "delete-server": "delete-server", "set": "set", "restore": "restore", "save": "save",
          "start-daemon": "start-daemon", "stop-daemon": "stop-daemon"}
SCHED_FLAGS = ("sh-fallback", "sh-port", "flag-1", "flag-2", "flag-3")

# libipvs ipvs_strerror, after libnl-3 (ESRCH → ENOENT)
STRERROR = {
    ("add_service", "EEXIST"): "Service already exists",
    ("add_service", "ENOENT"): "Scheduler or persistence engine not found",
    ("edit_service", "ENOENT"): "Scheduler or persistence engine not found",
    ("add_dest", "EEXIST"): "Destination already exists",
    ("update_dest", "ENOENT"): "No such destination",
    ("del_dest", "ENOENT"): "No such destination",
}
LIBC = {"ENOENT": "No such file or directory", "EEXIST": "File exists", "EINVAL":
        "Invalid operation.  Possibly wrong module version, address not unicast, ..."}


def ipvsadm_error(err: IpvsError) -> str:
    errno = "ENOENT" if err.errno == "ESRCH" else err.errno  # libnl-3: NLE_OBJ_NOTFOUND → ENOENT
    return STRERROR.get((err.op, errno)) or LIBC.get(errno, errno)


class Fail(Exception):
    """fail(): message and exit status."""

    def __init__(self, message: str, code: int = 2):
        super().__init__(message)
        self.message = message
        self.code = code


class Entry:
    """struct ipvs_command_entry, with the defaults process_options sets."""

    def __init__(self) -> None:
        self.cmd: str | None = None
        self.options: list[str] = []
        self.protocol = IPPROTO_TCP
        self.addr = 0
        self.port = 0
        self.fwmark = 0
        self.sched = ""
        self.persistent: int | None = None
        self.netmask = 0xFFFFFFFF
        self.flags: set[str] = set()
        self.rip = 0
        self.rport: int | None = None
        self.fwd = ROUTE  # direct routing is ipvsadm's default forwarding method
        self.weight = 1
        self.u = self.l = 0
        self.numeric = self.stats = self.rate = self.exact = self.thresholds = self.pconn = False
        self.nosort = False
        self.set_args: list[str] = []
        self.explicit_port = False

    def set_command(self, name: str) -> None:
        if self.cmd is not None:
            raise Fail("multiple commands specified")
        self.cmd = name

    def set_option(self, name: str) -> None:
        if name in self.options:
            raise Fail(f"multiple '{name}' options specified")
        self.options.append(name)


def _number(text: str, lo: int, hi: int) -> int | None:
    try:
        n = int(text, 10)
    except ValueError:
        return None
    return n if lo <= n <= hi else None


def _parse_service(text: str, proto: int) -> tuple[int, int | None] | None:
    """parse_service: host[:port]; None if unparsable."""
    if text.isdigit():
        return None
    host, colon, port_text = text.rpartition(":")
    if not colon:
        host, port_text = text, None
    try:
        addr = parse_ip(host)
    except AddrError:
        return None
    if port_text is None:
        return addr, None
    port = _number(port_text, 0, 65535)
    if port is None:
        port = SERVICE_PORTS.get((port_text, proto))
        if port is None:
            return None
    return addr, port


def tokens(argv: list[str]):
    """popt: yields (name, value) for options in order, then ("--", leftovers)."""
    rest: list[str] = []
    i = 0
    while i < len(argv):
        a = argv[i]
        i += 1
        if a == "--":
            rest.extend(argv[i:])
            break
        if a.startswith("--"):
            name, eq, val = a[2:].partition("=")
            spec = LONG.get(name)
            if spec is None:
                yield ("?bad", a)
                return
            oname, arg = spec
            if arg == 0:
                yield (oname, None)
            elif eq:
                yield (oname, val)
            elif arg == 1:
                if i >= len(argv):
                    yield ("?noarg", a)
                    return
                yield (oname, argv[i])
                i += 1
            else:
                if i < len(argv) and not argv[i].startswith("-"):
                    yield (oname, argv[i])
                    i += 1
                else:
                    yield (oname, None)
            continue
        if a.startswith("-") and len(a) > 1:
            j = 1
            while j < len(a):
                ch = a[j]
                spec = SPEC.get(ch)
                if spec is None:
                    yield ("?bad", f"-{ch}")
                    return
                oname, arg = spec
                j += 1
                if arg == 0:
                    yield (oname, None)
                    continue
                if j < len(a):
                    yield (oname, a[j:])
                elif arg == 1:
                    if i >= len(argv):
                        yield ("?noarg", f"-{ch}")
                        return
                    yield (oname, argv[i])
                    i += 1
                elif i < len(argv) and not argv[i].startswith("-"):
                    yield (oname, argv[i])
                    i += 1
                else:
                    yield (oname, None)
                break
            continue
        rest.append(a)
    yield ("--", rest)


def parse(argv: list[str]) -> Entry:
    ce = Entry()
    first = True
    for name, val in tokens(argv):
        if name in ("?bad", "?noarg"):
            if first:
                raise Fail(TRYHELP, 255)
            raise Fail(f"{val}: {'unknown option' if name == '?bad' else 'missing argument'}", 255)
        if name == "--":
            if ce.cmd == "set":
                if len(val) < 3:
                    raise Fail("--set option requires 3 timeout values")
                ce.set_args, val = val[:3], val[3:]
            if val:
                raise Fail(f"unexpected argument {val[0]}")
            break
        if first:
            first = False
            if name == "help":
                raise Fail(usage(), 0)
            if name == "version":
                raise Fail(VERSION, 0)
            if name not in CMD_OF:
                raise Fail(TRYHELP, 255)
            ce.set_command(CMD_OF[name])
            if name in ("start-daemon", "stop-daemon") and val not in ("master", "backup"):
                raise Fail("illegal start-daemon parameter specified" if name == "start-daemon"
                           else "illegal start_daemon specified")
            continue
        if name in CMD_OF:
            ce.set_command(CMD_OF[name])
            continue
        _option(ce, name, val)
    if ce.cmd is None:
        raise Fail(TRYHELP, 255)
    _check(ce)
    return ce


def _option(ce: Entry, name: str, val: str | None) -> None:
    if name in ("tcp-service", "udp-service"):
        ce.set_option("service-address")
        ce.protocol = IPPROTO_TCP if name == "tcp-service" else IPPROTO_UDP
        parsed = _parse_service(val, ce.protocol)
        if parsed is None:
            raise Fail("illegal virtual server address[:port] specified")
        ce.addr, port = parsed
        ce.port = port or 0
    elif name == "fwmark-service":
        ce.set_option("service-address")
        mark = _number(val, 1, 0xFFFFFFFF)
        if mark is None:
            raise Fail(f"invalid fwmark value `{val}' specified")
        ce.fwmark, ce.protocol = mark, IPPROTO_TCP
    elif name == "scheduler":
        ce.set_option("scheduler")
        ce.sched = val[:15]
    elif name == "persistent":
        ce.set_option("persistent")
        if val is None:
            ce.persistent = 300  # IPVS_SVC_PERSISTENT_TIMEOUT
        else:
            t = _number(val, 1, MAX_TIMEOUT)
            if t is None:
                raise Fail(f"invalid timeout value `{val}' specified")
            ce.persistent = t
    elif name == "netmask":
        ce.set_option("netmask")
        try:
            ce.netmask = parse_ip(val)
        except AddrError:
            raise Fail("illegal virtual server persistent mask specified") from None
    elif name == "real-server":
        ce.set_option("real-server")
        parsed = _parse_service(val, ce.protocol)
        if parsed is None:
            raise Fail("illegal real server address[:port] specified")
        ce.rip, ce.rport = parsed
    elif name in ("masquerading", "ipip", "gatewaying"):
        ce.set_option("forwarding-method")
        ce.fwd = {"masquerading": MASQ, "ipip": TUNNEL, "gatewaying": ROUTE}[name]
    elif name == "weight":
        ce.set_option("weight")
        w = _number(val, 0, 65535)
        if w is None:
            raise Fail("illegal weight specified")
        ce.weight = w
    elif name in ("u-threshold", "l-threshold"):
        ce.set_option(name)
        v = _number(val, 0, 2**31 - 1)
        if v is None:
            raise Fail(f"illegal {name[0]}_threshold specified")
        if name == "u-threshold":
            ce.u = v
        else:
            ce.l = v
    elif name == "sched-flags":
        ce.set_option("sched-flags")
        for flag in val.split(","):
            if flag not in SCHED_FLAGS:
                raise Fail(f"invalid scheduler flag `{flag}'")
            ce.flags.add(flag)
    elif name == "sort":
        pass
    elif name == "ipv6":
        raise Fail("-6 used before -f\n" if not ce.fwmark else "netlab models IPv4 only")
    elif name in ("numeric", "connection", "timeout", "daemon", "stats", "rate", "thresholds", "persistent-conn",
                  "nosort", "exact", "ops", "mcast-interface", "syncid"):
        ce.set_option(name)
        if name == "numeric":
            ce.numeric = True
        elif name == "stats":
            ce.stats = True
        elif name == "rate":
            ce.rate = True
        elif name == "exact":
            ce.exact = True
        elif name == "thresholds":
            ce.thresholds = True
        elif name == "persistent-conn":
            ce.pconn = True
        elif name == "nosort":
            ce.nosort = True
    else:
        raise Fail(TRYHELP, 255)


def _check(ce: Entry) -> None:
    """generic_opt_check: compulsory, illegal and mutually exclusive options."""
    row = LEGAL[ce.cmd]
    last = None
    for j, opt in enumerate(OPTIONS):
        have = opt in ce.options
        rule = row[j]
        if not have:
            if rule == "+":
                raise Fail(f"You need to supply the '{opt}' option for the '{ce.cmd}' command")
            continue
        if rule == "x":
            raise Fail(f"Illegal '{opt}' option with the '{ce.cmd}' command")
        if rule == "1":
            if last is not None:
                raise Fail(f"The option '{opt}' conflicts with the '{last}' option in the '{ce.cmd}' command")
            last = opt


def run(inv: Invocation, argv: list[str], stdin: str = "", reading_stdin: bool = False) -> int:
    try:
        return execute(inv, parse(argv), stdin, reading_stdin)
    except Fail as f:
        inv.print(f.message)
        return f.code


def execute(inv: Invocation, ce: Entry, stdin: str, reading_stdin: bool) -> int:
    """process_options after parsing. A Fail ends ipvsadm; a kernel error prints and returns 255."""
    ipvs = Ipvs.of(inv.ns)
    cmd = ce.cmd
    if cmd in ("add-service", "edit-service"):
        if not ce.fwmark and not ce.port and ce.persistent is None:
            raise Fail("Zero port specified for non-persistent service")
        if "ops" in ce.options and not ce.fwmark and ce.protocol != IPPROTO_UDP:
            raise Fail("One-Packet Scheduling is only for UDP virtual services")
        ce.sched = ce.sched or "wlc"
    if cmd in ("add-server", "edit-server", "delete-server"):
        if ce.rport is None or (not ce.fwmark and ce.fwd in (TUNNEL, ROUTE) and cmd != "delete-server"):
            ce.rport = ce.port  # the real port must be the service port unless masquerading
    if cmd == "list":
        return _list(inv, ipvs, ce)
    if cmd == "save":
        inv.write(save(ipvs, numeric=ce.numeric))
        return 0
    if cmd == "restore":
        if reading_stdin:
            raise Fail(TRYHELP, 255)
        return _restore(inv, stdin)
    if cmd in ("start-daemon", "stop-daemon"):
        return 0
    key = dict(protocol=ce.protocol, addr=ce.addr, port=ce.port, fwmark=ce.fwmark)
    dest = dict(rip=ce.rip, rport=ce.rport, weight=ce.weight, fwd=ce.fwd, u_threshold=ce.u, l_threshold=ce.l)
    svc_kw = dict(scheduler=ce.sched, persistent=ce.persistent, netmask=ce.netmask, flags=ce.flags)
    try:
        if cmd == "flush":
            ipvs.clear()
        elif cmd == "add-service":
            ipvs.add_service(**key, **svc_kw)
        elif cmd == "edit-service":
            ipvs.edit_service(**key, **svc_kw)
        elif cmd == "delete-service":
            ipvs.del_service(**key)
        elif cmd == "add-server":
            ipvs.add_dest(**key, **dest)
        elif cmd == "edit-server":
            ipvs.edit_dest(**key, **dest)
        elif cmd == "delete-server":
            ipvs.del_dest(**key, rip=ce.rip, rport=ce.rport)
        elif cmd == "zero":
            svc = None
            if "service-address" in ce.options:
                svc = ipvs.find(ce.protocol, ce.addr, ce.port, fwmark=ce.fwmark)
                if svc is None:
                    raise IpvsError("ESRCH", "zero_service")
            ipvs.zero(svc)
        elif cmd == "set":
            vals = []
            for text in ce.set_args:
                v = _number(text, 0, MAX_TIMEOUT)
                if v is None:
                    raise Fail(f"invalid timeout value `{text}' specified")
                vals.append(v)
            ipvs.set_timeouts(*vals)
    except IpvsError as err:
        inv.print(ipvsadm_error(err))
        return 255
    return 0


def _list(inv: Invocation, ipvs: Ipvs, ce: Entry) -> int:
    if ({"connection", "timeout", "daemon"} & set(ce.options)) and (ce.stats or ce.pconn or ce.rate or ce.thresholds):
        inv.print("options conflicts in the list command")
        return 2
    if "connection" in ce.options:
        inv.write(list_conns(ipvs, numeric=ce.numeric))
        return 0
    if "timeout" in ce.options:
        inv.write(timeouts(ipvs))
        return 0
    if "daemon" in ce.options:
        return 0
    kw = dict(numeric=ce.numeric, stats=ce.stats, rate=ce.rate, exact=ce.exact, sort=not ce.nosort,
              thresholds=ce.thresholds, persistent_conn=ce.pconn)
    if "service-address" in ce.options:
        svc = ipvs.find(ce.protocol, ce.addr, ce.port, fwmark=ce.fwmark)
        if svc is None:
            inv.print(ipvsadm_error(IpvsError("ESRCH", "get_service")))
            return 1
        inv.write(list_services(ipvs, only=svc, header=False, **kw))
        return 0
    inv.write(list_services(ipvs, **kw))
    return 0


def _restore(inv: Invocation, text: str) -> int:
    """ipvsadm -R: each line is one ipvsadm command without the program name. A kernel
    error is printed and the next line runs; a usage error ends the restore."""
    import shlex

    result = 0
    for line in text.splitlines():
        try:
            words = shlex.split(line, comments=True)
        except ValueError:
            words = line.split()
        if len(words) < 1:
            continue
        result = execute(inv, parse(words), "", True)
    return result


def usage() -> str:
    scheds = "|".join(SCHEDULERS)
    return f"""{VERSION}
Usage:
  ipvsadm -A|E virtual-service [-s scheduler] [-p [timeout]] [-M netmask] [--pe persistence_engine] [-b sched-flags]
  ipvsadm -D virtual-service
  ipvsadm -C
  ipvsadm -R
  ipvsadm -S [-n]
  ipvsadm -a|e virtual-service -r server-address [options]
  ipvsadm -d virtual-service -r server-address
  ipvsadm -L|l [virtual-service] [options]
  ipvsadm -Z [virtual-service]
  ipvsadm --set tcp tcpfin udp
  ipvsadm --start-daemon {{master|backup}} [daemon-options]
  ipvsadm --stop-daemon {{master|backup}}
  ipvsadm -h

Commands:
Either long or short options are allowed.
  --add-service     -A        add virtual service with options
  --edit-service    -E        edit virtual service with options
  --delete-service  -D        delete virtual service
  --clear           -C        clear the whole table
  --restore         -R        restore rules from stdin
  --save            -S        save rules to stdout
  --add-server      -a        add real server with options
  --edit-server     -e        edit real server with options
  --delete-server   -d        delete real server
  --list            -L|-l     list the table
  --zero            -Z        zero counters in a service or all services
  --set tcp tcpfin udp        set connection timeout values
  --start-daemon              start connection sync daemon
  --stop-daemon               stop connection sync daemon
  --help            -h        display this help message

virtual-service:
  --tcp-service|-t  service-address   service-address is host[:port]
  --udp-service|-u  service-address   service-address is host[:port]
  --fwmark-service|-f fwmark          fwmark is an integer greater than zero

Options:
  --scheduler    -s scheduler         one of {scheds},
                                      the default scheduler is wlc.
  --persistent   -p [timeout]         persistent service
  --netmask      -M netmask           persistent granularity mask
  --real-server  -r server-address    server-address is host (and port)
  --gatewaying   -g                   gatewaying (direct routing) (default)
  --ipip         -i                   ipip encapsulation (tunneling)
  --masquerading -m                   masquerading (NAT)
  --weight       -w weight            capacity of real server
  --u-threshold  -x uthreshold        upper threshold of connections
  --l-threshold  -y lthreshold        lower threshold of connections
  --connection   -c                   output of current IPVS connections
  --timeout                           output of timeout (tcp tcpfin udp)
  --stats                             output of statistics information
  --rate                              output of rate information
  --exact                             expand numbers (display exact values)
  --thresholds                        output of thresholds information
  --persistent-conn                   output of persistent connection info
  --nosort                            disable sorting output of service/server entries
  --sort                              does nothing, for backwards compatibility
  --numeric      -n                   numeric output of addresses and ports
  --sched-flags  -b flags             scheduler flags (comma-separated)"""


@command("ipvsadm", where=("node",), summary="Linux Virtual Server administration")
def ipvsadm(inv: Invocation) -> int:
    argv = inv.argv[1:]
    if not argv:
        inv.write(list_services(Ipvs.of(inv.ns)))
        return 0
    return run(inv, argv, inv.stdin)
