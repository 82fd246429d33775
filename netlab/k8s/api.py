"""The API store: objects by kind, namespace and name, with watch callbacks.

Objects are plain manifests (dicts), as the API server keeps them. The store adds
metadata the server owns (uid, resourceVersion, creationTimestamp) and tells
watchers about every change, so controllers react the way they do upstream.
"""
from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass
from typing import Callable

CLUSTER_SCOPED = {"Node", "Namespace", "IngressClass", "PersistentVolume", "ClusterRole"}
ADDED, MODIFIED, DELETED = "ADDED", "MODIFIED", "DELETED"


class ApiError(Exception):
    """An API server error, worded as kubectl prints it."""

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass
class Event:
    type: str
    obj: dict
    old: dict | None = None


def clone(value):
    """A deep copy of manifest data (dicts, lists, tuples and immutable scalars), as
    copy.deepcopy makes it but several times faster: manifests have no shared or cyclic
    parts, so deepcopy's memo and per-type dispatch are pure overhead. Anything else
    (not produced by YAML or JSON) still goes through copy.deepcopy."""
    if isinstance(value, dict):
        return {k: clone(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clone(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, tuple):
        return tuple(clone(v) for v in value)
    return copy.deepcopy(value)


def key_of(obj: dict) -> tuple[str, str, str]:
    meta = obj.get("metadata", {})
    kind = obj["kind"]
    ns = "" if kind in CLUSTER_SCOPED else meta.get("namespace", "default")
    return kind, ns, meta["name"]


class ApiStore:
    def __init__(self, clock: Callable[[], float], rng) -> None:
        self._clock = clock
        self._rng = rng
        self.objects: dict[tuple[str, str, str], dict] = {}
        # The same objects grouped by kind, so that listing Services does not walk every Pod.
        # Kept in step with `objects` by create, update and delete, the only writers.
        self._by_kind: dict[str, dict[tuple[str, str, str], dict]] = {}
        self._watchers: list[tuple[set[str] | None, Callable[[Event], None]]] = []
        self._admission: dict[str, list[Callable[[dict, dict | None], None]]] = {}
        self._release: dict[str, list[Callable[[dict], None]]] = {}
        self._rv = 0

    def on_release(self, kind: str, fn: Callable[[dict], None]) -> None:
        """Run fn(obj) when an object is deleted (give back its ClusterIP and NodePorts)."""
        self._release.setdefault(kind, []).append(fn)

    def admit(self, kind: str, fn: Callable[[dict, dict | None], None]) -> None:
        """Register an admission step: fn(new, old) may fill defaults (allocate a ClusterIP)
        or raise ApiError; it runs before anything is stored, so a refusal stores nothing."""
        self._admission.setdefault(kind, []).append(fn)

    def _run_admission(self, obj: dict, old: dict | None) -> None:
        for fn in self._admission.get(obj["kind"], []):
            fn(obj, old)

    def watch(self, kinds: set[str] | None, fn: Callable[[Event], None]) -> None:
        self._watchers.append((kinds, fn))

    def unwatch(self, fn: Callable[[Event], None]) -> None:
        """Stop telling fn about changes (a node agent that exits, as kube-proxy does on restart)."""
        self._watchers = [(kinds, f) for kinds, f in self._watchers if f != fn]

    def _notify(self, event: Event) -> None:
        kind = event.obj["kind"]
        for kinds, fn in list(self._watchers):
            if kinds is None or kind in kinds:
                fn(event)

    def _stamp(self, obj: dict) -> None:
        self._rv += 1
        obj["metadata"]["resourceVersion"] = str(self._rv)

    def create(self, obj: dict) -> dict:
        obj = clone(obj)
        meta = obj.setdefault("metadata", {})
        kind = obj["kind"]
        if kind not in CLUSTER_SCOPED:
            meta.setdefault("namespace", "default")
            ns = meta["namespace"]
            if kind != "Namespace" and ("Namespace", "", ns) not in self.objects:
                raise ApiError(f'Error from server (NotFound): namespaces "{ns}" not found')
        key = key_of(obj)
        if key in self.objects:
            raise ApiError(f'Error from server (AlreadyExists): {plural(kind)} "{key[2]}" already exists')
        self._run_admission(obj, None)
        meta["uid"] = str(uuid.UUID(int=self._rng.getrandbits(128), version=4))
        meta["creationTimestamp"] = self._clock()
        self._stamp(obj)
        self.objects[key] = obj
        self._by_kind.setdefault(kind, {})[key] = obj
        self._notify(Event(ADDED, obj))
        return obj

    def update(self, obj: dict) -> dict:
        key = key_of(obj)
        old = self.objects.get(key)
        if old is None:
            raise ApiError(f'Error from server (NotFound): {plural(obj["kind"])} "{key[2]}" not found')
        obj = clone(obj)
        for field in ("uid", "creationTimestamp"):
            obj["metadata"][field] = old["metadata"][field]
        self._run_admission(obj, old)
        self._stamp(obj)
        self.objects[key] = obj
        self._by_kind[key[0]][key] = obj
        self._notify(Event(MODIFIED, obj, old))
        return obj

    def delete(self, kind: str, namespace: str, name: str) -> dict:
        key = (kind, "" if kind in CLUSTER_SCOPED else namespace, name)
        obj = self.objects.pop(key, None)
        if obj is None:
            raise ApiError(f'Error from server (NotFound): {plural(kind)} "{name}" not found')
        del self._by_kind[kind][key]
        for fn in self._release.get(kind, []):
            fn(obj)
        self._notify(Event(DELETED, obj))
        return obj

    def get(self, kind: str, namespace: str, name: str) -> dict | None:
        return self.objects.get((kind, "" if kind in CLUSTER_SCOPED else namespace, name))

    def list(self, kind: str, namespace: str | None = None) -> list[dict]:
        """Objects of a kind (in one namespace), sorted by namespace and name."""
        of_kind = self._by_kind.get(kind, {})
        keys = sorted(of_kind if namespace is None else [k for k in of_kind if k[1] == namespace])
        return [of_kind[k] for k in keys]


PLURALS = {"Endpoints": "endpoints", "Ingress": "ingresses", "IngressClass": "ingressclasses",
           "NetworkPolicy": "networkpolicies"}


def plural(kind: str) -> str:
    return PLURALS.get(kind, kind.lower() + "s")
