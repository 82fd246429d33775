"""The checks the API server makes before it stores an object, with its words.

Three stages, in the API server's order:
1. kubectl's own checks: a mapping with `kind` and `apiVersion` that names a kind
   netlab serves (`no matches for kind "Foo" in version "v1"`).
2. Decoding against the Kubernetes v1.26 OpenAPI schema (netlab.k8s.schema): wrong
   JSON types and, with strict field validation, unknown fields — a BadRequest.
3. Validation (pkg/apis/core/validation): required fields, names, labels, ports,
   immutable fields — an Invalid error that lists every cause.
The rules the schema cannot express live here, in one place.
"""
from __future__ import annotations

import json
import re

from netlab.k8s import schema as k8s_schema
from netlab.k8s.api import ApiError

SUPPORTED = {("v1", "Namespace"), ("v1", "Pod"), ("apps/v1", "Deployment"), ("apps/v1", "ReplicaSet"), ("apps/v1", "DaemonSet"),
             ("v1", "Service"), ("v1", "Endpoints"), ("discovery.k8s.io/v1", "EndpointSlice"),
             ("v1", "ConfigMap"), ("v1", "Secret"), ("v1", "ServiceAccount"),
             ("networking.k8s.io/v1", "Ingress"), ("networking.k8s.io/v1", "IngressClass"),
             ("networking.k8s.io/v1", "NetworkPolicy")}
DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")

DNS1123_LABEL_MSG = ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
                     "start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
                     "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
DNS1123_SUBDOMAIN_MSG = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
                         "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
                         "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
DNS1035_LABEL_MSG = ("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
                     "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', "
                     "regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')")
LABEL_NAME_MSG = ("name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
                  "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
                  "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')")
LABEL_VALUE_MSG = ("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and "
                   "must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', "
                   "regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')")
PORT_RANGE_MSG = "must be between 1 and 65535, inclusive"
# Kinds whose names are DNS-1035 (Service) or RFC 1123 labels; the rest are subdomains.
NAME_RULES = {"Service": (DNS1035_LABEL, 63, DNS1035_LABEL_MSG), "Namespace": (DNS1123_LABEL, 63, DNS1123_LABEL_MSG)}
PROTOCOLS = ("SCTP", "TCP", "UDP")


class ManifestError(ApiError):
    """A refused manifest. `reason` says who refused it and so how kubectl words it:
    "client" (kubectl itself), "BadRequest" (decoding), "Invalid" (validation) or
    "NotFound" (a referenced object is missing). `path` is the first field at fault."""

    def __init__(self, reason: str, message: str, path: str = "", kind: str = "", name: str = "",
                 causes: list[tuple[str, str]] | None = None):
        self.reason, self.detail, self.path = reason, message, path
        self.kind, self.name, self.causes = kind, name, causes or []
        super().__init__(self.text())

    def text(self, verb: str | None = None, source: str | None = None) -> str:
        """What kubectl prints; `verb`/`source` add `error when creating "FILE": `."""
        where = f'error when {verb} "{source}": ' if verb and source else ""
        if self.reason == "Invalid":
            if len(self.causes) == 1:
                return f'The {self.kind} "{self.name}" is invalid: {_cause(self.causes[0])}'
            return f'The {self.kind} "{self.name}" is invalid: \n' + "\n".join(f"* {_cause(c)}" for c in self.causes)
        if self.reason == "client":
            return self.detail.replace("{source}", source or "STDIN")
        return f"Error from server ({self.reason}): {where}{self.detail}"


def _cause(cause: tuple[str, str]) -> str:
    return f"{cause[0]}: {cause[1]}"


def go_quote(value) -> str:
    """%q / %v of a field value in a field error (strings quoted, numbers bare)."""
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def invalid(path: str, value, detail: str) -> tuple[str, str]:
    return path, f"Invalid value: {go_quote(value)}: {detail}"


# -- stage 1 and 2 ------------------------------------------------------------------
def identify(obj) -> tuple[str, str, dict]:
    """kubectl's mapping step: (apiVersion, kind, schema) or a client-side error."""
    if not isinstance(obj, dict):
        raise ManifestError("client", 'error: error validating "{source}": error validating data: '
                            "invalid object to validate; if you choose to ignore these errors, turn validation off "
                            "with --validate=false", "")
    api_version, kind = obj.get("apiVersion"), obj.get("kind")
    if not kind:
        raise ManifestError("client", 'error: error validating "{source}": error validating data: kind not set; '
                            "if you choose to ignore these errors, turn validation off with --validate=false", "kind")
    if not api_version:
        raise ManifestError("client", 'error: error validating "{source}": error validating data: apiVersion not set; '
                            "if you choose to ignore these errors, turn validation off with --validate=false", "apiVersion")
    api_version, kind = str(api_version), str(kind)
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    schema = k8s_schema.kind_schema(api_version, kind) if (api_version, kind) in SUPPORTED else None
    if schema is None:
        raise ManifestError("client", f'error: resource mapping not found for name: "{meta.get("name", "")}" '
                            f'namespace: "{meta.get("namespace", "")}" from "{{source}}": no matches for kind '
                            f'"{kind}" in version "{api_version}"\nensure CRDs are installed first', "kind")
    return api_version, kind, schema


def decode(obj: dict) -> dict:
    """The API server's strict decoding: wrong types, then unknown fields. Returns the
    object as decoded (nulls dropped, as Go's zero values are)."""
    api_version, kind, schema = identify(obj)
    handled = f'{kind} in version "{api_version.rsplit("/", 1)[-1]}" cannot be handled as a {kind}: '
    kept = {}
    meta = obj.get("metadata")
    if "status" in obj or (isinstance(meta, dict) and isinstance(meta.get("creationTimestamp"), (int, float))):
        # What the API server keeps for itself (status, the creation time netlab holds as
        # simulated seconds) is not part of what a client sends; it is kept as it is.
        kept = {k: obj[k] for k in ("status",) if k in obj}
        obj = {k: v for k, v in obj.items() if k != "status"}
        if isinstance(meta, dict) and "creationTimestamp" in meta:
            obj["metadata"] = {k: v for k, v in meta.items() if k != "creationTimestamp"}
            kept["creationTimestamp"] = meta["creationTimestamp"]
    try:
        decoded, unknown = k8s_schema.decode(obj, schema)
    except k8s_schema.DecodeError as err:
        raise ManifestError("BadRequest", handled + err.message, err.path) from None
    if unknown:
        fields = ", ".join(f'unknown field "{u}"' for u in unknown)
        raise ManifestError("BadRequest", handled + "strict decoding error: " + fields, unknown[0])
    if "creationTimestamp" in kept:
        decoded.setdefault("metadata", {})["creationTimestamp"] = kept.pop("creationTimestamp")
    decoded.update(kept)
    return decoded


# -- stage 3 ------------------------------------------------------------------------
def field_errors(obj: dict, old: dict | None = None) -> list[tuple[str, str]]:
    """Every validation error of a decoded manifest, in the API server's order."""
    kind = obj["kind"]
    schema = k8s_schema.kind_schema(obj["apiVersion"], kind)
    errs: list[tuple[str, str]] = []
    meta = obj.get("metadata") or {}
    name = meta.get("name")
    if not name:
        errs.append(("metadata.name", "Required value: name or generateName is required"))
    else:
        pattern, limit, msg = NAME_RULES.get(kind, (DNS1123_SUBDOMAIN, 253, DNS1123_SUBDOMAIN_MSG))
        if len(name) > limit:
            errs.append(invalid("metadata.name", name, f"must be no more than {limit} characters"))
        if not pattern.match(name):
            errs.append(invalid("metadata.name", name, msg))
    ns = meta.get("namespace")
    if ns and not DNS1123_LABEL.match(ns):
        errs.append(invalid("metadata.namespace", ns, DNS1123_LABEL_MSG))
    errs += label_errors(meta.get("labels") or {}, "metadata.labels")
    for key in meta.get("annotations") or {}:
        if label_key_problem(key):
            errs.append(invalid("metadata.annotations", key, label_key_problem(key)))
    required = [p for p in k8s_schema.required_fields(obj, schema) if not _defaulted(kind, p)]
    errs += [(p, "Required value") for p in required]
    check = KIND_CHECKS.get(kind)
    if check is not None:
        errs += check(obj, set(required))
    if old is not None:
        errs += update_errors(obj, old)
    return errs


def _defaulted(kind: str, path: str) -> bool:
    """Required in the schema but filled by the API server's defaults, or worded by a kind check."""
    return path.endswith(".port") or path.endswith("containerPort") or path == "spec.template"


def label_key_problem(key: str) -> str | None:
    prefix, _, name = key.rpartition("/")
    if len(name) > 63:
        return "name part must be no more than 63 characters"
    if not LABEL_NAME.match(name):
        return LABEL_NAME_MSG
    if prefix and (len(prefix) > 253 or not DNS1123_SUBDOMAIN.match(prefix)):
        return "prefix part " + DNS1123_SUBDOMAIN_MSG
    return None


def label_errors(labels: dict, path: str) -> list[tuple[str, str]]:
    errs = []
    for key, value in labels.items():
        problem = label_key_problem(str(key))
        if problem:
            errs.append(invalid(path, key, problem))
        value = "" if value is None else str(value)
        if len(value) > 63:
            errs.append(invalid(path, value, "must be no more than 63 characters"))
        elif not LABEL_VALUE.match(value):
            errs.append(invalid(path, value, LABEL_VALUE_MSG))
    return errs


def label_problem(key: str, value: str) -> str | None:
    """The API server's label checks (IsQualifiedName / IsValidLabelValue), first problem only."""
    errs = label_errors({key: value}, "")
    return errs[0][1].split(": ", 2)[-1] if errs else None


def iana_port_name_errors(path: str, name: str) -> list[tuple[str, str]]:
    """validation.IsValidPortName: a container port name or a targetPort by name."""
    out = []
    if len(name) > 15:
        out.append(invalid(path, name, "must be no more than 15 characters"))
    if not re.match(r"^[-a-z0-9]+$", name):
        out.append(invalid(path, name, "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)"))
    if "--" in name:
        out.append(invalid(path, name, "must not contain consecutive hyphens (-)"))
    if not re.search(r"[a-z]", name):
        out.append(invalid(path, name, "must contain at least one letter (a-z)"))
    if name.startswith("-") or name.endswith("-"):
        out.append(invalid(path, name, "must not begin or end with a hyphen (-)"))
    return out


def port_number_errors(path: str, value) -> list[tuple[str, str]]:
    if value is None or not 1 <= int(value) <= 65535:
        return [invalid(path, int(value or 0), PORT_RANGE_MSG)]
    return []


def service_errors(svc: dict, required: set[str]) -> list[tuple[str, str]]:
    spec = svc.get("spec") or {}
    errs: list[tuple[str, str]] = []
    ports = spec.get("ports") or []
    names: set[str] = set()
    for i, p in enumerate(ports):
        base = f"spec.ports[{i}]"
        pname = p.get("name") or ""
        if pname:
            if not DNS1123_LABEL.match(pname) or len(pname) > 63:
                errs.append(invalid(f"{base}.name", pname, DNS1123_LABEL_MSG))
            elif pname in names:
                errs.append((f"{base}.name", f'Duplicate value: "{pname}"'))
            names.add(pname)
        elif len(ports) > 1:
            errs.append((f"{base}.name", "Required value"))
        errs += port_number_errors(f"{base}.port", p.get("port"))
        proto = p.get("protocol")
        if proto is not None and proto not in PROTOCOLS:
            errs.append((f"{base}.protocol", f'Unsupported value: "{proto}": supported values: "SCTP", "TCP", "UDP"'))
        errs += target_port_errors(f"{base}.targetPort", p.get("targetPort"))
    errs += label_errors(spec.get("selector") or {}, "spec.selector")
    return errs


def target_port_errors(path: str, target) -> list[tuple[str, str]]:
    if target is None:
        return []
    if isinstance(target, str) and not target.isdigit():
        return iana_port_name_errors(path, target)
    return port_number_errors(path, target)


def pod_spec_errors(spec: dict, base: str) -> list[tuple[str, str]]:
    errs: list[tuple[str, str]] = []
    seen: set[str] = set()
    for i, c in enumerate(spec.get("containers") or []):
        cpath = f"{base}.containers[{i}]"
        cname = c.get("name")
        if cname:
            if not DNS1123_LABEL.match(cname):
                errs.append(invalid(f"{cpath}.name", cname, DNS1123_LABEL_MSG))
            elif cname in seen:
                errs.append((f"{cpath}.name", f'Duplicate value: "{cname}"'))
            seen.add(cname)
        if not c.get("image"):
            errs.append((f"{cpath}.image", "Required value"))
        for j, p in enumerate(c.get("ports") or []):
            ppath = f"{cpath}.ports[{j}]"
            errs += port_number_errors(f"{ppath}.containerPort", p.get("containerPort"))
            if p.get("name"):
                errs += iana_port_name_errors(f"{ppath}.name", p["name"])
            if p.get("protocol") is not None and p["protocol"] not in PROTOCOLS:
                errs.append((f"{ppath}.protocol", f'Unsupported value: "{p["protocol"]}": supported values: '
                                                 '"SCTP", "TCP", "UDP"'))
    return errs


def pod_errors(pod: dict, required: set[str]) -> list[tuple[str, str]]:
    return pod_spec_errors(pod.get("spec") or {}, "spec")


def deployment_errors(dep: dict, required: set[str]) -> list[tuple[str, str]]:
    spec = dep.get("spec") or {}
    errs: list[tuple[str, str]] = []
    template = spec.get("template") or {}
    selector = (spec.get("selector") or {}).get("matchLabels") or {}
    labels = (template.get("metadata") or {}).get("labels") or {}
    if "spec.selector" not in required and not selector and not (spec.get("selector") or {}).get("matchExpressions"):
        errs.append(("spec.selector", "Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), "
                                      "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid "
                                      "for deployment"))
    if any(labels.get(k) != v for k, v in selector.items()):
        errs.append(("spec.template.metadata.labels", f"Invalid value: map[string]string{{{_go_map(labels)}}}: "
                                                      "`selector` does not match template `labels`"))
    if not (template.get("spec") or {}).get("containers"):
        errs.append(("spec.template.spec.containers", "Required value"))
    errs += pod_spec_errors(template.get("spec") or {}, "spec.template.spec")
    replicas = spec.get("replicas")
    if isinstance(replicas, int) and replicas < 0:
        errs.append(invalid("spec.replicas", replicas, "must be greater than or equal to 0"))
    return errs


def _go_map(labels: dict) -> str:
    return ", ".join(f'"{k}":"{v}"' for k, v in sorted(labels.items()))


def data_key_errors(obj: dict, required: set[str]) -> list[tuple[str, str]]:
    errs = []
    for field in ("data", "binaryData", "stringData"):
        for key in obj.get(field) or {}:
            if not re.match(r"^[-._a-zA-Z0-9]+$", str(key)) or len(str(key)) > 253:
                errs.append(invalid(f"{field}[{key}]", key, "a valid config key must consist of alphanumeric "
                                    "characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', "
                                    "regex used for validation is '[-._a-zA-Z0-9]+')"))
    return errs


KIND_CHECKS = {"Service": service_errors, "Pod": pod_errors, "Deployment": deployment_errors,
               "ConfigMap": data_key_errors, "Secret": data_key_errors}


def update_errors(new: dict, old: dict) -> list[tuple[str, str]]:
    """Fields that may not change once set."""
    errs: list[tuple[str, str]] = []
    kind = new["kind"]
    if kind == "Service":
        nspec, ospec = new.get("spec") or {}, old.get("spec") or {}
        old_ip, new_ip = ospec.get("clusterIP"), nspec.get("clusterIP")
        if ospec.get("type") != "ExternalName" and nspec.get("type") != "ExternalName" and old_ip \
                and new_ip not in (None, "", old_ip):
            errs.append((f"spec.clusterIPs[0]", f'Invalid value: []string{{"{new_ip}"}}: may not change once set'))
            errs.append(invalid("spec.clusterIP", new_ip, "field is immutable"))
    if kind == "Deployment":
        nsel = ((new.get("spec") or {}).get("selector"))
        osel = ((old.get("spec") or {}).get("selector"))
        if nsel is not None and nsel != osel:
            labels = (nsel or {}).get("matchLabels") or {}
            errs.append(("spec.selector", "Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"
                                          f"{_go_map(labels)}}}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}}: "
                                          "field is immutable"))
    if kind == "Pod":
        if (new.get("spec") or {}).get("containers") != (old.get("spec") or {}).get("containers"):
            changed = [c.get("name") for c in (new.get("spec") or {}).get("containers") or []]
            if [c.get("name") for c in (old.get("spec") or {}).get("containers") or []] != changed or any(
                    {k: v for k, v in n.items() if k != "image"} != {k: v for k, v in o.items() if k != "image"}
                    for n, o in zip((new["spec"] or {}).get("containers") or [], old["spec"].get("containers") or [])):
                errs.append(("spec", "Forbidden: pod updates may not change fields other than `spec.containers[*].image`, "
                                     "`spec.initContainers[*].image`, `spec.activeDeadlineSeconds`, "
                                     "`spec.tolerations` (only additions to existing tolerations) or "
                                     "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"))
    return errs


def check_object(obj, old: dict | None = None) -> dict:
    """Decode and validate a manifest as the API server would: returns the decoded
    object to store, or raises ManifestError."""
    obj = decode(obj)
    errs = field_errors(obj, old)
    if errs:
        meta = obj.get("metadata") or {}
        raise ManifestError("Invalid", "", errs[0][0], obj["kind"], str(meta.get("name") or ""), errs)
    return obj


def validate_manifest(obj) -> tuple[str, str] | None:
    """Return (field path, message) for the first problem, or None (lab files use this)."""
    try:
        check_object(obj)
    except ManifestError as err:
        text = err.text()
        if err.reason == "Invalid":  # one line for a lab file: the first cause
            text = f'The {err.kind} "{err.name}" is invalid: {_cause(err.causes[0])}'
        if err.reason == "client":
            text = text.removeprefix("error: ").split("\n")[0]
            if "no matches for kind" in text:
                text = text[text.index("no matches for kind"):]
        return err.path, text
    return None
