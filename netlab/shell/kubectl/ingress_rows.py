"""`kubectl get` rows and `kubectl describe` for Ingress and IngressClass, as kubectl
v1.26 prints them (printers.printIngress, describe.describeIngressV1)."""
from __future__ import annotations

from netlab.shell.kubectl.table import human_duration

INGRESS_HEADERS = (["NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE"], [])
INGRESSCLASS_HEADERS = (["NAME", "CONTROLLER", "PARAMETERS", "AGE"], [])


def _age(obj: dict, now: float) -> str:
    return human_duration(now - obj["metadata"].get("creationTimestamp", now))


def format_hosts(rules: list[dict]) -> str:
    """printers.formatHosts: the first three hosts, then `+ N more...`; `*` when none."""
    hosts, more = [], False
    for rule in rules:
        if len(hosts) == 3:
            more = True
        if not more and rule.get("host"):
            hosts.append(rule["host"])
    if not hosts:
        return "*"
    return ",".join(hosts) + (f" + {len(rules) - 3} more..." if more else "")


def lb_address(ing: dict) -> str:
    ingress = ((ing.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    return ",".join(i.get("ip") or i.get("hostname", "") for i in ingress)


def ingress_row(ing: dict, now: float, wide: bool, all_ns: bool) -> list[str]:
    spec = ing.get("spec") or {}
    row = [ing["metadata"]["name"], spec.get("ingressClassName") or "<none>", format_hosts(spec.get("rules") or []),
           lb_address(ing), "80, 443" if spec.get("tls") else "80", _age(ing, now)]
    if all_ns:
        row.insert(0, ing["metadata"].get("namespace", "default"))
    return row


def ingressclass_row(cls: dict, now: float, wide: bool, all_ns: bool) -> list[str]:
    spec = cls.get("spec") or {}
    params = spec.get("parameters")
    text = "<none>"
    if params:
        group = params.get("apiGroup")
        text = f"{params.get('kind', '')}.{group}/{params.get('name', '')}" if group else f"{params.get('kind', '')}/{params.get('name', '')}"
    return [cls["metadata"]["name"], spec.get("controller", ""), text, _age(cls, now)]


# -- describe -------------------------------------------------------------------------
def tabbed(lines: list[str], padding: int = 2) -> str:
    """Go's text/tabwriter as kubectl's describe uses it (minwidth 0, padding 2): a column is
    aligned over each run of consecutive lines that have a cell in it."""
    rows = [line.split("\t") for line in lines]
    widths: list[list[int]] = [[0] * (len(r) - 1) for r in rows]
    col = 0
    while True:
        i, any_col = 0, False
        while i < len(rows):
            if len(rows[i]) - 1 > col:
                any_col = True
                j = i
                while j < len(rows) and len(rows[j]) - 1 > col:
                    j += 1
                width = max(len(rows[k][col]) for k in range(i, j)) + padding
                for k in range(i, j):
                    widths[k][col] = width
                i = j
            else:
                i += 1
        if not any_col:
            break
        col += 1
    out = []
    for r, w in zip(rows, widths):
        out.append("".join(cell.ljust(w[c]) for c, cell in enumerate(r[:-1])) + r[-1])
    return "\n".join(out) + "\n"


def _backend(api, ns: str, backend: dict | None) -> str:
    if not backend:
        return "<default>"
    svc_ref = backend.get("service")
    if not svc_ref:
        res = backend.get("resource") or {}
        group = res.get("apiGroup")
        return f"APIGroup: {group}, Kind: {res.get('kind', '')}, Name: {res.get('name', '')}"
    name = svc_ref.get("name", "")
    port = svc_ref.get("port") or {}
    ep = api.get("Endpoints", ns, name)
    if ep is None:
        return f'{name}:{port.get("number") or port.get("name", "")} (<error: endpoints "{name}" not found>)'
    svc = api.get("Service", ns, name)
    if svc is None:
        return f'{name}:{port.get("number") or port.get("name", "")} (<error: services "{name}" not found>)'
    sp_name = ""
    for sp in (svc.get("spec") or {}).get("ports") or []:
        if port.get("number") and port["number"] == sp.get("port"):
            sp_name = sp.get("name", "")
        elif port.get("name") and port["name"] == sp.get("name"):
            sp_name = sp.get("name", "")
    items = []
    for subset in ep.get("subsets") or []:
        for p in subset.get("ports") or []:
            if (p.get("name") or "") == sp_name:
                items += [f"{a['ip']}:{p['port']}" for a in subset.get("addresses") or []]
    text = ",".join(items[:3]) + (f" + {len(items) - 3} more..." if len(items) > 3 else "") if items else "<none>"
    return f"{name}:{port.get('number') or port.get('name', '')} ({text})"


def describe_ingress(api, ing: dict) -> str:
    meta, spec = ing["metadata"], ing.get("spec") or {}
    ns = meta.get("namespace", "default")
    labels = [f"{k}={v}" for k, v in sorted((meta.get("labels") or {}).items())] or ["<none>"]
    lines = [f"Name:\t{meta['name']}", f"Labels:\t{labels[0]}"] + [f"\t{v}" for v in labels[1:]]
    lines += [f"Namespace:\t{ns}", f"Address:\t{lb_address(ing)}", f"Ingress Class:\t{spec.get('ingressClassName') or '<none>'}",
              f"Default backend:\t{_backend(api, ns, spec.get('defaultBackend'))}"]
    if spec.get("tls"):
        lines.append("TLS:")
        for t in spec["tls"]:
            hosts = ",".join(t.get("hosts") or [])
            lines.append(f"  {t['secretName']} terminates {hosts}" if t.get("secretName") else f"  SNI routes {hosts}")
    lines += ["Rules:", "  Host\tPath\tBackends", "  ----\t----\t--------"]
    count = 0
    for rule in spec.get("rules") or []:
        if not rule.get("http"):
            continue
        count += 1
        lines.append(f"  {rule.get('host') or '*'}\t")
        for p in rule["http"].get("paths") or []:
            lines.append(f"    \t{p.get('path', '')} \t{_backend(api, ns, p.get('backend'))}")
    if count == 0:
        lines.append(f"  *\t*\t{_backend(api, ns, spec.get('defaultBackend'))}")
    ann = [f"{k}: {v}" for k, v in sorted((meta.get("annotations") or {}).items())] or ["<none>"]
    lines += [f"Annotations:\t{ann[0]}"] + [f"\t{v}" for v in ann[1:]]
    lines.append("Events:\t<none>")
    return tabbed(lines)


def describe_ingressclass(cls: dict) -> str:
    meta, spec = cls["metadata"], cls.get("spec") or {}
    labels = [f"{k}={v}" for k, v in sorted((meta.get("labels") or {}).items())] or ["<none>"]
    ann = [f"{k}: {v}" for k, v in sorted((meta.get("annotations") or {}).items())] or ["<none>"]
    lines = [f"Name:\t{meta['name']}", f"Labels:\t{labels[0]}"] + [f"\t{v}" for v in labels[1:]]
    lines += [f"Annotations:\t{ann[0]}"] + [f"\t{v}" for v in ann[1:]]
    lines.append(f"Controller:\t{spec.get('controller', '')}")
    lines.append("Events:\t<none>")
    return tabbed(lines)
