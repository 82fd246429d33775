"""`ip` (iproute2): global options, then one module per object.

Each object's module parses as iproute2 does and asks the kernel side (netlab.net.rtnl_*)
to act; output text comes from the one formatter per format (net.route_text,
net.link_text). Errors carry iproute2's words and exit codes (see common.py).
"""
from __future__ import annotations

from netlab.net.rtnl import RtnlError
from netlab.net.errors import NetError
from netlab.shell.ip.common import VERSION, IpExit, IpOptions, invarg, matches

USAGE = """Usage: ip [ OPTIONS ] OBJECT { COMMAND | help }
       ip [ -force ] -batch filename
where  OBJECT := { address | addrlabel | amt | fou | help | ila | ioam | l2tp |
                   link | macsec | maddress | monitor | mptcp | mroute | mrule |
                   neighbor | neighbour | netconf | netns | nexthop | ntable |
                   ntbl | route | rule | sr | stats | tap | tcpmetrics |
                   token | tunnel | tuntap | vrf | xfrm }
       OPTIONS := { -V[ersion] | -s[tatistics] | -d[etails] | -r[esolve] |
                    -h[uman-readable] | -iec | -j[son] | -p[retty] |
                    -f[amily] { inet | inet6 | mpls | bridge | link } |
                    -4 | -6 | -M | -B | -0 |
                    -l[oops] { maximum-addr-flush-attempts } | -echo | -br[ief] |
                    -o[neline] | -t[imestamp] | -ts[hort] | -b[atch] [filename] |
                    -rc[vbuf] [size] | -n[etns] name | -N[umeric] | -a[ll] |
                    -c[olor]}"""

# iproute2's object table, in its order (prefixes resolve to the first match).
OBJECTS = ("address", "addrlabel", "maddress", "route", "rule", "neighbor", "neighbour", "ntable", "ntbl", "link",
           "l2tp", "fou", "ila", "macsec", "tunnel", "tunl", "tuntap", "tap", "token", "tcpmetrics", "tcp_metrics",
           "monitor", "xfrm", "mroute", "mrule", "netns", "netconf", "vrf", "sr", "nexthop", "mptcp", "ioam", "help",
           "stats")


def usage():
    raise IpExit(USAGE, 255)


def parse_options(opts: IpOptions, argv: list[str]) -> list[str]:
    i = 0
    while i < len(argv):
        opt = argv[i]
        if opt == "--":
            return argv[i + 1:]
        if not opt.startswith("-") or opt == "-":
            break
        o = opt[1:] if opt.startswith("--") else opt
        if matches(o, "-loops"):
            i += 1
        elif matches(o, "-family"):
            i += 1
            if i >= len(argv):
                usage()
            fam = argv[i]
            if fam in ("inet", "inet6", "link"):
                opts.family = fam
            elif fam == "help":
                usage()
            else:
                invarg("invalid protocol family", fam)
        elif o == "-4":
            opts.family = "inet"
        elif o == "-6":
            opts.family = "inet6"
        elif o == "-0":
            opts.family = "link"
        elif matches(o, "-human") or matches(o, "-human-readable"):
            opts.human = True
        elif matches(o, "-iec"):
            pass
        elif matches(o, "-stats") or matches(o, "-statistics"):
            opts.stats += 1
        elif matches(o, "-details"):
            opts.details += 1
        elif matches(o, "-resolve"):
            opts.resolve = True
        elif matches(o, "-oneline"):
            opts.oneline = True
        elif matches(o, "-timestamp") or matches(o, "-tshort") or matches(o, "-force"):
            pass
        elif matches(o, "-Version"):
            raise IpExit(VERSION, 0)
        elif matches(o, "-batch"):
            raise IpExit("netlab runs one command per line: use `netlab run SCRIPT` for a batch", 1)
        elif matches(o, "-brief"):
            opts.brief = True
        elif matches(o, "-json") or matches(o, "-pretty"):
            raise IpExit("netlab prints iproute2's text output; -json is not modelled", 1)
        elif matches(o, "-color") or matches(o, "-Numeric") or matches(o, "-all") or o == "-echo":
            pass
        elif matches(o, "-help"):
            usage()
        elif matches(o, "-netns"):
            i += 1
            if i >= len(argv):
                raise IpExit('Command line is not complete. Try option "help"', 255)
            from netlab.shell.ip.netns import resolve

            opts.ns = resolve(opts, argv[i])
        elif matches(o, "-rcvbuf"):
            i += 1
        else:
            raise IpExit(f'Option "{opt}" is unknown, try "ip -help".', 255)
        i += 1
    return argv[i:]


def dispatch(opts: IpOptions, argv: list[str]) -> int:
    if not argv:
        usage()
    word = argv[0]
    obj = next((o for o in OBJECTS if matches(word, o)), None)
    if obj is None:
        raise IpExit(f'Object "{word}" is unknown, try "ip help".', 1)
    rest = argv[1:]
    if obj in ("address",):
        from netlab.shell.ip.addr import do_ipaddr
        return do_ipaddr(opts, rest)
    if obj == "route":
        from netlab.shell.ip.route import do_iproute
        return do_iproute(opts, rest)
    if obj in ("neighbor", "neighbour"):
        from netlab.shell.ip.neigh import do_ipneigh
        return do_ipneigh(opts, rest)
    if obj == "link":
        from netlab.shell.ip.link import do_iplink
        return do_iplink(opts, rest)
    if obj == "netns":
        from netlab.shell.ip.netns import do_netns
        return do_netns(opts, rest)
    if obj == "rule":
        from netlab.shell.ip.rule import do_iprule
        return do_iprule(opts, rest)
    if obj == "help":
        usage()
    raise IpExit(f'ip {obj}: not modelled in netlab (it models link, address, route, rule, neigh and netns)', 1)


def ip_main(inv) -> int:
    """Run `ip ARGS` for an Invocation; returns the exit code."""
    opts = IpOptions(inv, inv.ns)
    code = 0
    try:
        code = dispatch(opts, parse_options(opts, inv.argv[1:]))
    except IpExit as stop:
        inv.out.extend(opts.out)
        if stop.message is not None:
            inv.write(stop.message + "\n")
        return stop.code
    except RtnlError as err:
        inv.out.extend(opts.out)
        inv.print(err.message)
        return 2
    except NetError as err:
        inv.out.extend(opts.out)
        inv.print(err.message)
        return err.exit_code
    inv.out.extend(opts.out)
    return code
