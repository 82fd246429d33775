"""Which shell lines change the world, and which a level forbids.

Scoring counts *changes*, not keystrokes: a line is a change unless every command in
it only reads. Reading means looking at state (`ip route`, `iptables -L`, `kubectl get`)
or sending traffic (`ping`, `curl`, `nslookup`): traffic leaves conntrack and neighbour
entries behind, as it would on a real node, but it is how one investigates, and a
learner must never be penalised for looking. Anything not known to be a read is a
change (an unknown command fails anyway and is not counted: see `is_change`).
`ssh NODE CMD`, `kubectl exec POD -- CMD` and `sh -c 'CMD'` are judged by CMD; a
redirect into a file (`echo 1 > /proc/sys/...`) is a change.
"""
from __future__ import annotations

from netlab.shell.session import ShellSyntaxError, tokenize

# Commands that never change state (traffic is not a change: see the module docstring).
READERS = {"arp", "cat", "clear", "curl", "dig", "echo", "egrep", "env", "exit", "false", "getent", "grep", "head",
           "help", "history", "host", "hostname", "iptables-save", "iptables-nft-save", "logout", "nc", "netcat",
           "nslookup", "ping", "printenv", "sleep", "sort", "ss", "tail", "trace", "traceroute", "true", "wc", "wget",
           "ssh", "conntrack", "ifconfig", "route", "sysctl", "ipset", "ipvsadm", "bridge", "ip", "iptables",
           "iptables-nft", "kubectl", "sed", "bash", "sh"}
IP_WRITE_VERBS = {"add", "del", "delete", "change", "replace", "set", "flush", "append", "prepend", "exec"}
IPTABLES_WRITE = {"-A", "--append", "-I", "--insert", "-D", "--delete", "-R", "--replace", "-N", "--new-chain", "-X",
                  "--delete-chain", "-F", "--flush", "-P", "--policy", "-Z", "--zero", "-E", "--rename-chain"}
IPVSADM_WRITE = {"-A", "--add-service", "-E", "--edit-service", "-D", "--delete-service", "-C", "--clear", "-a",
                 "--add-server", "-e", "--edit-server", "-d", "--delete-server", "-R", "--restore", "--set", "-Z",
                 "--zero", "restore"}
KUBECTL_READ = {"get", "describe", "logs", "explain", "top", "version", "cluster-info", "api-resources",
                "api-versions", "config", "auth", "diff", "wait", "completion", "help"}
KUBECTL_ALIASES = {"netpol": "networkpolicy", "networkpolicies": "networkpolicy", "svc": "service", "services": "service",
                   "ep": "endpoints", "ds": "daemonset", "daemonsets": "daemonset", "deploy": "deployment", "deployments": "deployment", "po": "pod", "pods": "pod",
                   "cm": "configmap", "configmaps": "configmap", "ing": "ingress", "ingresses": "ingress",
                   "ns": "namespace", "namespaces": "namespace"}


def commands(line: str) -> list[tuple[list[str], bool]]:
    """Every simple command of a line as (argv, redirected-into-a-file), nested commands
    (`ssh NODE CMD`, `kubectl exec POD -- CMD`, `sh -c CMD`) unwrapped."""
    try:
        tokens = tokenize(line)
    except ShellSyntaxError:
        return []
    out: list[tuple[list[str], bool]] = []
    current: list[str] = []
    redirect = False
    i = 0
    while i <= len(tokens):
        tok = tokens[i] if i < len(tokens) else ";"
        if tok in (";", "&&", "||", "&", "|"):
            if current:
                out.extend(_unwrap(current, redirect))
            current, redirect = [], False
        elif tok in (">", ">>"):
            target = tokens[i + 1] if i + 1 < len(tokens) else ""
            if current and current[-1] in ("1", "2"):
                current.pop()
            if target and target != "/dev/null" and not target.startswith("&"):
                redirect = True
            i += 1
        else:
            current.append(tok)
        i += 1
    return out


def _unwrap(argv: list[str], redirect: bool) -> list[tuple[list[str], bool]]:
    while argv and "=" in argv[0] and not argv[0].startswith("="):
        argv = argv[1:]  # VAR=value prefixes
    if not argv:
        return []
    name = argv[0].rsplit("/", 1)[-1]
    if name == "ssh":
        rest = [a for a in argv[1:]]
        while rest and rest[0].startswith("-"):
            rest = rest[1:]
        if len(rest) > 1:
            return commands(" ".join(_quote(a) for a in rest[1:])) + ([(["ssh"], True)] if redirect else [])
        return [(argv, redirect)]
    if name == "kubectl" and "exec" in argv and "--" in argv:
        inner = argv[argv.index("--") + 1:]
        return commands(" ".join(_quote(a) for a in inner)) + ([(["kubectl"], True)] if redirect else [])
    if name in ("sh", "bash") and "-c" in argv and argv.index("-c") + 1 < len(argv):
        return commands(argv[argv.index("-c") + 1]) + ([([name], True)] if redirect else [])
    return [([name] + argv[1:], redirect)]


def _quote(arg: str) -> str:
    import shlex

    return shlex.quote(arg)


def _writes(argv: list[str]) -> bool:
    name, args = argv[0], argv[1:]
    if name not in READERS:
        return True
    if name == "ip":
        words = [a for a in args if not a.startswith("-")]
        i = 0
        while i < len(args) and args[i].startswith("-"):
            i += 2 if args[i] in ("-n", "-netns", "-f", "-family", "-b", "-batch") else 1
        words = args[i:]
        return len(words) > 1 and words[1] in IP_WRITE_VERBS
    if name == "bridge":
        return len(args) > 1 and args[1] in IP_WRITE_VERBS
    if name in ("iptables", "iptables-nft"):
        return any(a in IPTABLES_WRITE or (a.startswith("-") and not a.startswith("--") and len(a) > 2
                                           and any(c in "AIDRNXFPZE" for c in a[1:2])) for a in args)
    if name == "ipvsadm":
        return any(a in IPVSADM_WRITE for a in args)
    if name == "kubectl":
        verbs = [a for a in args if not a.startswith("-")]
        # the first word that is not an option's value: kubectl [-n NS] VERB
        i = 0
        while i < len(args) and args[i].startswith("-"):
            i += 1 if "=" in args[i] or args[i] in ("--all-namespaces", "-A") else 2
        verb = args[i] if i < len(args) else (verbs[0] if verbs else "")
        if verb == "rollout":
            return "restart" in args or "undo" in args
        return verb not in KUBECTL_READ and verb != "exec"
    if name == "sysctl":
        return any(a == "-w" or ("=" in a and not a.startswith("-")) for a in args)
    if name == "sed":
        return any(a == "-i" or a.startswith("-i") for a in args)
    if name == "conntrack":
        return any(a in ("-D", "--delete", "-F", "--flush", "-I", "--create", "-U", "--update") for a in args)
    if name == "arp":
        return any(a in ("-s", "--set", "-d", "--delete", "-f") for a in args)
    if name == "route":
        return any(a in ("add", "del") for a in args)
    if name == "ifconfig":
        return len([a for a in args if not a.startswith("-")]) > 1
    if name == "ipset":
        return bool(args) and args[0] not in ("list", "-L", "save", "-S", "test", "help", "version", "-v")
    return False


def is_change(line: str) -> bool:
    """True when the line would change state (see the module docstring)."""
    return any(redirect or _writes(argv) for argv, redirect in commands(line))


def _normal(argv: list[str]) -> list[str]:
    out = []
    for a in argv:
        low = a.lower()
        out.append(KUBECTL_ALIASES.get(low, low))
    return out


# Options whose value is the next word: left out with it, so `kubectl -n shop delete svc x`
# reads as `kubectl delete service x`.
VALUE_OPTIONS = {
    "kubectl": {"-n", "--namespace", "-l", "--selector", "-o", "--output", "-f", "--filename", "-c", "--container",
                "-p", "--patch", "--type", "--context", "--cluster", "--user", "--kubeconfig", "-s", "--server"},
    "iptables": {"-t", "--table"},
}


def _words(argv: list[str]) -> list[str]:
    takes = VALUE_OPTIONS.get(argv[0], set()) if argv else set()
    out, skip = [], False
    for a in argv:
        if skip:
            skip = False
        elif a.startswith("-"):
            skip = a in takes
        else:
            out.append(a)
    return out


def forbidden(line: str, patterns: tuple[str, ...] | list[str]) -> str | None:
    """The forbidden pattern a line breaks, or None. A pattern is a command prefix
    (`kubectl delete networkpolicy`): it matches any command in the line whose words,
    options (and their values) left out and kubectl short names expanded, start with the
    pattern's words."""
    import shlex

    for argv, _ in commands(line):
        words = _normal(_words(argv))
        for pattern in patterns:
            want = _normal(shlex.split(pattern))
            if words[:len(want)] == want:
                return pattern
            # `kubectl delete networkpolicy/NAME`
            joined = [w.split("/", 1)[0] if "/" in w else w for w in words]
            if _normal(joined)[:len(want)] == want:
                return pattern
    return None
