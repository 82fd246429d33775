"""kubectl: argument parsing shared by every verb, and the dispatch to verbs."""
from __future__ import annotations

import shlex

from netlab.k8s.api import ApiError, plural
from netlab.shell.kubectl import verbs
from netlab.shell.kubectl.apply import run_files
from netlab.shell.kubectl.edit import edit
from netlab.shell.kubectl.explain import explain
from netlab.shell.kubectl.get import ALIASES, parse_selector, run_get
from netlab.shell.kubectl.logs import logs
from netlab.shell.kubectl.patch import patch
from netlab.shell.kubectl.rollout import rollout
from netlab.shell.kubectl.run import create, run_pod
from netlab.shell.registry import Invocation, command

VALUE_FLAGS = {"port", "target-port", "type", "name", "protocol", "replicas", "cluster-ip", "external-ip",
               "session-affinity", "image", "grace-period", "labels", "restart", "patch", "dry-run", "tail",
               "field-manager", "validate", "api-version"}
MULTI_FLAGS = {"filename": "files", "from-literal": "literals", "env": "env"}
BOOL_FLAGS = {"overwrite", "all", "now", "force", "wait", "ignore-not-found", "show-labels", "recursive",
              "save-config", "previous", "timestamps", "all-containers"}
NOT_CONFIGURED = "The connection to the server localhost:8080 was refused - did you specify the right host or port?"


def parse_common(args: list[str]):
    """Split kubectl's global flags from positional arguments. Returns (opts, positional, after --)."""
    opts = {"namespace": None, "all_ns": False, "output": None, "selector": None, "container": None, "flags": {},
            "files": [], "literals": [], "env": []}
    pos, rest = [], []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            rest = args[i + 1:]
            break
        value = None
        if a.startswith("--") and "=" in a:
            a, value = a.split("=", 1)
        def take():
            nonlocal i
            if value is not None:
                return value
            if i + 1 >= len(args):
                raise ValueError(f"error: flag needs an argument: '{a.lstrip('-')[:1] if not a.startswith('--') else a}' in {a}")
            i += 1
            return args[i]
        if a in ("-n", "--namespace"):
            opts["namespace"] = take()
        elif a in ("-A", "--all-namespaces"):
            opts["all_ns"] = True
        elif a in ("-o", "--output"):
            opts["output"] = take()
        elif a.startswith("-o") and len(a) > 2:
            opts["output"] = a[2:]
        elif a in ("-l", "--selector"):
            opts["selector"] = take()
        elif a in ("-c", "--container"):
            opts["container"] = take()
        elif a in ("-f", "--filename"):
            opts["files"].append(take())
        elif a.startswith("-f") and len(a) > 2 and not a.startswith("--"):
            opts["files"].append(a[2:])
        elif a in ("-p", "--patch"):
            opts["flags"]["patch"] = take()
        elif a == "--show-labels":
            opts["show_labels"] = True
        elif a.startswith("--") and a[2:] in MULTI_FLAGS:
            opts[MULTI_FLAGS[a[2:]]].append(take())
        elif a in ("-i", "-t", "-it", "-ti", "--stdin", "--tty"):
            opts["tty"] = True
        elif a.startswith("--") and a[2:] in VALUE_FLAGS:
            opts["flags"][a[2:]] = take()
        elif a.startswith("--") and a[2:] in BOOL_FLAGS:
            opts["flags"][a[2:]] = value if value is not None else "true"
        elif a.startswith("-") and len(a) > 1:
            raise ValueError(f"error: unknown flag: {a}")
        else:
            pos.append(a)
        i += 1
    return opts, pos, rest


GLOBAL_WITH_VALUE = {"-n", "--namespace", "--context", "--cluster", "--user", "--kubeconfig", "-s", "--server"}


def _verb_first(args: list[str]) -> list[str]:
    """kubectl accepts global flags before the verb (`kubectl -n kube-system get po`)."""
    i = 0
    while i < len(args) and args[i].startswith("-") and args[i] != "--":
        i += 2 if args[i] in GLOBAL_WITH_VALUE else 1
    if 0 < i < len(args):
        return [args[i]] + args[:i] + args[i + 1:]
    return args


@command("kubectl", where=("node",), summary="control the cluster")
def kubectl(inv: Invocation) -> int:
    if not inv.ctx.kubectl:
        return inv.fail(NOT_CONFIGURED, 1)
    args = inv.argv[1:]
    if not args:
        return inv.fail("kubectl controls the Kubernetes cluster manager.\n\nUsage:\n  kubectl [flags] [options]", 0)
    args = _verb_first(args)
    verb, rest = args[0], args[1:]
    try:
        opts, pos, after = parse_common(rest)
    except ValueError as err:
        return inv.fail(str(err) + "\nSee 'kubectl " + verb + " --help' for usage.", 1)
    namespace = opts["namespace"] or "default"
    api = inv.lab.cluster.api
    if verb == "get":
        if not pos:
            return inv.fail("You must specify the type of resource to get. Use \"kubectl api-resources\" for a complete list of supported resources.\n\n"
                            "error: Required resource not specified.", 1)
        kinds = pos[0].split(",")
        names = pos[1:]
        if "/" in pos[0]:
            kinds, names = [pos[0].split("/", 1)[0]], [pos[0].split("/", 1)[1]]
        outputs, code = [], 0
        for k in kinds:
            kind = ALIASES.get(k.lower())
            if kind is None:
                return inv.fail(f'error: the server doesn\'t have a resource type "{k}"', 1)
            output = opts["output"]
            if output not in (None, "wide", "yaml", "json", "name") and not output.startswith("jsonpath="):
                return inv.fail(f"error: unable to match a printer suitable for the output format \"{output}\", "
                                "allowed formats are: custom-columns,custom-columns-file,go-template,go-template-file,"
                                "json,jsonpath,jsonpath-as-json,jsonpath-file,name,template,templatefile,wide,yaml", 1)
            selector = None
            if opts["selector"]:
                try:
                    selector = parse_selector(opts["selector"])
                except ValueError as err:
                    return inv.fail(f"error: {err}", 1)
            text, c = run_get(api, inv.lab.world.clock, kind, names, namespace, opts["all_ns"], output, selector,
                              show_kind=len(kinds) > 1, show_labels=bool(opts.get("show_labels")))
            outputs.append(text)
            code = code or c
        inv.write("\n".join(outputs) if len(outputs) > 1 else outputs[0])
        return code
    if verb == "exec":
        if not pos:
            return inv.fail("error: pod, type/name or --filename must be specified", 1)
        target = pos[0]
        if not after:
            if len(pos) > 1:
                inv.print("kubectl exec [POD] [COMMAND] is DEPRECATED and will be removed in a future version. Use kubectl exec [POD] -- [COMMAND] instead.")
                after = pos[1:]
            else:
                return inv.fail("error: you must specify at least one command for the container", 1)
        pod_name = target
        if "/" in target:
            kind_text, name = target.split("/", 1)
            kind = ALIASES.get(kind_text.lower(), kind_text)
            if kind == "Deployment":
                dep = api.get("Deployment", namespace, name)
                if dep is None:
                    return inv.fail(f'Error from server (NotFound): deployments.apps "{name}" not found', 1)
                pods = [p for p in api.list("Pod", namespace)
                        if p["metadata"].get("labels", {}).get("netlab.io/deployment") == name and p.get("status", {}).get("phase") == "Running"]
                if not pods:
                    return inv.fail(f"error: unable to upgrade connection: pod does not exist", 1)
                pod_name = pods[0]["metadata"]["name"]
            elif kind == "DaemonSet":
                from netlab.k8s.daemonsets import owner_of

                if api.get("DaemonSet", namespace, name) is None:
                    return inv.fail(f'Error from server (NotFound): daemonsets.apps "{name}" not found', 1)
                pods = sorted((p for p in api.list("Pod", namespace) if owner_of(p) == name),
                              key=lambda p: p.get("spec", {}).get("nodeName", ""))
                if not pods:
                    return inv.fail("error: unable to upgrade connection: pod does not exist", 1)
                pod_name = pods[0]["metadata"]["name"]
            elif kind == "Pod":
                pod_name = name
            else:
                return inv.fail(f'error: cannot exec into {plural(kind)}', 1)
        pod = api.get("Pod", namespace, pod_name)
        if pod is None:
            return inv.fail(f'Error from server (NotFound): pods "{pod_name}" not found', 1)
        ctx = inv.session.context_for(f"{namespace}/{pod_name}")
        if ctx is None:
            return inv.fail(f"error: unable to upgrade connection: container not found (\"{pod_name}\")", 1)
        line = " ".join(shlex.quote(a) for a in after)
        if len(after) == 1 and after[0] in ("sh", "bash", "/bin/sh", "/bin/bash", "ash"):
            inv.session.stack.append(ctx)  # an interactive shell in the pod until `exit`
            return 0
        return inv.session.run_into(line, inv.out, ctx, inv.stdin)
    opts["after"] = after
    handler = VERBS.get(verb)
    if verb == "delete" and opts["files"]:
        handler = _delete_files
    if handler is not None:
        try:
            return handler(inv, pos, opts, namespace)
        except ApiError as err:
            return inv.fail(err.message, 1)
    try:
        text = _other_verbs(inv, verb, pos, opts, namespace)
    except ApiError as err:
        return inv.fail(err.message, 1)
    if text is not None:
        inv.write(text)
        return 0
    return inv.fail(f'error: unknown command "{verb}" for "kubectl"\n\nDid you mean this?\n\tget\n\texec\n'
                    "Run 'kubectl --help' for usage.", 1)


def _apply(inv: Invocation, pos: list[str], opts: dict, namespace: str) -> int:
    if not opts["files"]:
        return inv.fail("error: must specify one of -f and -k\n\nSee 'kubectl apply -h' for help and examples", 1)
    return run_files(inv, opts["files"], namespace, opts["namespace"] is not None, "apply")


def _delete_files(inv: Invocation, pos: list[str], opts: dict, namespace: str) -> int:
    return run_files(inv, opts["files"], namespace, opts["namespace"] is not None, "delete")


VERBS = {"apply": _apply, "create": create, "run": run_pod, "logs": logs, "patch": patch, "edit": edit,
         "explain": explain, "rollout": rollout}


def split_target(pos: list[str]) -> tuple[str | None, list[str]]:
    """`TYPE NAME...` or `TYPE/NAME...` → (kind, names)."""
    if not pos:
        return None, []
    if "/" in pos[0]:
        kinds = {p.split("/", 1)[0] for p in pos}
        if len(kinds) > 1:
            raise ApiError("error: there is no need to specify a resource type as a separate argument when passing arguments in resource/name form")
        return ALIASES.get(pos[0].split("/", 1)[0].lower()), [p.split("/", 1)[1] for p in pos]
    return ALIASES.get(pos[0].lower()), pos[1:]


def _other_verbs(inv: Invocation, verb: str, pos: list[str], opts: dict, namespace: str) -> str | None:
    api = inv.lab.cluster.api
    flags = opts["flags"]
    if verb in ("describe", "delete", "label", "scale", "expose"):
        if not pos:
            raise ApiError(f"error: You must provide one or more resources by argument or filename.\n"
                           "Example resource specifications include:\n   '-f rsrc.yaml'\n   '--filename=rsrc.json'\n"
                           "   '<resource> <name>'\n   '<resource>'")
        kind, names = split_target(pos)
        if kind is None:
            raise ApiError(f'error: the server doesn\'t have a resource type "{pos[0].split("/", 1)[0]}"')
    if verb == "describe":
        out = []
        targets = names or [o["metadata"]["name"] for o in api.list(kind, None if kind in ("Node", "Namespace", "IngressClass") else namespace)]
        for name in targets:
            obj = api.get(kind, namespace, name)
            if obj is None:
                raise ApiError(f'Error from server (NotFound): {plural(kind)} "{name}" not found')
            if kind == "Service":
                out.append(verbs.describe_service(api, obj))
            elif kind == "Endpoints":
                out.append(verbs.describe_endpoints(obj))
            elif kind == "Pod":
                out.append(verbs.describe_pod(api, obj, inv.lab.world.clock))
            elif kind in ("Ingress", "IngressClass"):
                from netlab.shell.kubectl.ingress_rows import describe_ingress, describe_ingressclass

                out.append(describe_ingress(api, obj) if kind == "Ingress" else describe_ingressclass(obj))
            elif kind == "NetworkPolicy":
                from netlab.shell.kubectl.netpol import describe_networkpolicy

                out.append(describe_networkpolicy(obj))
            else:
                from netlab.shell.kubectl.describe import describe_other

                text = describe_other(api, kind, obj)
                if text is None:
                    import yaml

                    text = yaml.safe_dump(obj, sort_keys=False)
                out.append(text)
        return "\n\n".join(o.rstrip("\n") for o in out) + "\n" if out else ""
    if verb == "delete":
        if not names and opts["selector"]:  # kubectl delete pods -l k8s-app=kube-proxy
            try:
                match = parse_selector(opts["selector"])
            except ValueError as err:
                raise ApiError(f"error: {err}") from None
            names = [o["metadata"]["name"] for o in api.list(kind, namespace)
                     if match(o["metadata"].get("labels") or {})]
            if not names:
                return "No resources found\n"
        if not names:
            raise ApiError("error: resource(s) were provided, but no name was specified")
        return "".join(verbs.delete(api, namespace, kind, n) for n in names)
    if verb == "label":
        if not names:
            raise ApiError("error: resource(s) were provided, but no name was specified")
        changes = [n for n in names[1:]]
        if not changes:
            raise ApiError("error: at least one label update is required")
        return verbs.label(api, namespace, kind, names[0], changes, flags.get("overwrite") == "true")
    if verb == "scale":
        if "replicas" not in flags:
            raise ApiError("error: required flag(s) \"replicas\" not set")
        return "".join(verbs.scale(api, namespace, pos[0] if "/" not in pos[0] else pos[0].split("/")[0], n, flags["replicas"])
                       for n in names)
    if verb == "expose":
        if not names:
            raise ApiError("error: resource(s) were provided, but no name was specified")
        kind_text = pos[0].split("/", 1)[0]
        return verbs.expose(api, namespace, kind_text, names[0], flags)
    return None
