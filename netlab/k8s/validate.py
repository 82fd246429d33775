"""The checks the API server makes before it stores an object, with its words.

This covers the kinds the cluster runs today; each message is the one kubectl
shows for the same mistake.
"""
from __future__ import annotations

import re

SUPPORTED = {("v1", "Namespace"), ("v1", "Pod"), ("apps/v1", "Deployment"), ("v1", "Service"), ("v1", "Endpoints"),
             ("discovery.k8s.io/v1", "EndpointSlice")}
DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def validate_manifest(obj) -> tuple[str, str] | None:
    """Return (field path, message) for the first problem, or None."""
    if not isinstance(obj, dict):
        return "", "a manifest must be a mapping"
    api_version, kind = obj.get("apiVersion"), obj.get("kind")
    if not kind:
        return "kind", "Object 'Kind' is missing"
    if not api_version:
        return "apiVersion", "Object 'apiVersion' is missing"
    if (api_version, kind) not in SUPPORTED:
        return "kind", f'no matches for kind "{kind}" in version "{api_version}"'
    meta = obj.get("metadata")
    if not isinstance(meta, dict) or not meta.get("name"):
        return "metadata.name", f'The {kind} "" is invalid: metadata.name: Required value: name or generateName is required'
    name = str(meta["name"])
    pattern = DNS1123_LABEL if kind in ("Namespace",) else DNS1123_SUBDOMAIN
    if len(name) > (63 if kind == "Namespace" else 253) or not pattern.match(name):
        what = "RFC 1123 label" if kind == "Namespace" else "lowercase RFC 1123 subdomain"
        return "metadata.name", (f'The {kind} "{name}" is invalid: metadata.name: Invalid value: "{name}": a {what} must '
                                 "consist of lower case alphanumeric characters, '-' or '.', and must start and end with "
                                 "an alphanumeric character")
    if kind == "Deployment":
        spec = obj.get("spec") or {}
        template = spec.get("template") or {}
        selector = (spec.get("selector") or {}).get("matchLabels")
        labels = (template.get("metadata") or {}).get("labels") or {}
        if not selector:
            return "spec.selector", f'The Deployment "{name}" is invalid: spec.selector: Required value'
        if any(labels.get(k) != v for k, v in selector.items()):
            return "spec.template.metadata.labels", (f'The Deployment "{name}" is invalid: spec.template.metadata.labels: '
                                                     "Invalid value: map[string]string{...}: `selector` does not match template `labels`")
        if not (template.get("spec") or {}).get("containers"):
            return "spec.template.spec.containers", f'The Deployment "{name}" is invalid: spec.template.spec.containers: Required value'
    if kind == "Pod" and not (obj.get("spec") or {}).get("containers"):
        return "spec.containers", f'The Pod "{name}" is invalid: spec.containers: Required value'
    return None


LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")


def label_problem(key: str, value: str) -> str | None:
    """The API server's label checks (IsQualifiedName / IsValidLabelValue)."""
    name = key.rsplit("/", 1)[-1]
    if len(name) > 63 or not LABEL_NAME.match(name):
        return ("name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
                "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
                "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')")
    if len(value) > 63:
        return "must be no more than 63 characters"
    if not LABEL_VALUE.match(value):
        return ("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must "
                "start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for "
                "validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')")
    return None
