"""Processes that listen on every node, where real ones do: the API server (:6443, on the
control plane), kubelet (:10250, TLS), and kube-proxy's health endpoint (:10256)."""
from __future__ import annotations

import json

from netlab.apps.http import TlsServer, json_app
from netlab.net.netns import NetNS
from netlab.net.tcp import Listener

FORBIDDEN = json.dumps({
    "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
    "message": 'forbidden: User "system:anonymous" cannot get path "/"', "reason": "Forbidden",
    "details": {}, "code": 403}, indent=2) + "\n"


def version_json(git_version: str) -> str:
    major, minor = git_version.lstrip("v").split(".")[:2]
    return json.dumps({"major": major, "minor": minor, "gitVersion": git_version, "gitCommit": "0000000000000000000000000000000000000000",
                       "gitTreeState": "clean", "buildDate": "2024-03-14T00:00:00Z", "goVersion": "go1.21.8",
                       "compiler": "gc", "platform": "linux/amd64"}, indent=2) + "\n"


def start_node_processes(ns: NetNS, *, control_plane: bool, version: str, clock) -> list[Listener]:
    listeners = []
    if control_plane:
        api = json_app({"/version": (200, version_json(version)), "/healthz": (200, "ok"), "/livez": (200, "ok"),
                        "/readyz": (200, "ok")}, (403, FORBIDDEN))
        listeners.append(Listener(ns, 6443, TlsServer(api, "kube-apiserver"), "kube-apiserver"))
    unauthorized = (401, "Unauthorized")
    listeners.append(Listener(ns, 10250, TlsServer(json_app({}, unauthorized), ns.hostname), "kubelet"))

    def healthz():
        now = f"2026-11-22T05:{int(clock()) // 60 % 60:02d}:{int(clock()) % 60:02d}.000000000Z"
        return json.dumps({"lastUpdated": now, "currentTime": now, "nodeEligible": True})

    def kube_proxy_health(request, conn):
        return json_app({"/healthz": (200, healthz()), "/livez": (200, healthz())}, (404, "404 page not found\n"))(request, conn)

    listeners.append(Listener(ns, 10256, kube_proxy_health, "kube-proxy"))
    return listeners
