"""Ingress and IngressClass semantics (networking.k8s.io/v1), as ingress-nginx applies them.

Pure functions over manifests: which Ingresses a controller serves, the servers (one per
host) and locations they become, and which location answers a request. The controller, the
nginx.conf renderer, `kubectl describe ingress` and the tests all ask this module.

How ingress-nginx turns paths into nginx locations (and so how they match):
- `Exact /foo`               → `location = /foo`            (only /foo)
- `Prefix /foo` (or `/foo/`) → `location = /foo` and `location /foo/`: matched per
  `/`-separated element — /foo, /foo/, /foo/bar, never /foobar
- `ImplementationSpecific`   → `location /foo`: nginx's plain string prefix, so /foobar
  matches too; with the `nginx.ingress.kubernetes.io/use-regex: "true"` annotation every
  location of that host becomes a case-insensitive regex `~* "^/foo"`, tried longest first.
nginx picks an exact match first, then the longest prefix; regex locations are tried in
order. Exact beats Prefix on a tie because both render `= /foo` and the Exact one wins.
Hosts: an exact server_name first, then a wildcard `*.foo.com`, rendered as
`~^(?<subdomain>[\\w-]+)\\.foo\\.com$` so that it matches exactly one label; anything else
reaches the default server `_`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

CONTROLLER = "k8s.io/ingress-nginx"
CLASS_ANNOTATION = "kubernetes.io/ingress.class"
DEFAULT_CLASS_ANNOTATION = "ingressclass.kubernetes.io/is-default-class"
USE_REGEX = "nginx.ingress.kubernetes.io/use-regex"
SSL_REDIRECT = "nginx.ingress.kubernetes.io/ssl-redirect"
DEFAULT_SERVER = "_"
DEFAULT_UPSTREAM = "upstream-default-backend"
FAKE_CERT = "Kubernetes Ingress Controller Fake Certificate"


# -- classes -------------------------------------------------------------------------
def default_class(classes: list[dict]) -> str | None:
    """The IngressClass the API server's DefaultIngressClass admission plugin assigns."""
    defaults = [c for c in classes
                if str((c["metadata"].get("annotations") or {}).get(DEFAULT_CLASS_ANNOTATION, "")).lower() == "true"]
    return defaults[0]["metadata"]["name"] if len(defaults) == 1 else None


def ingress_class(ing: dict) -> str | None:
    """The class an Ingress asks for: spec.ingressClassName, or the deprecated annotation."""
    name = (ing.get("spec") or {}).get("ingressClassName")
    if name:
        return str(name)
    ann = (ing["metadata"].get("annotations") or {}).get(CLASS_ANNOTATION)
    return str(ann) if ann else None


def served(ing: dict, classes: list[dict], *, controller: str = CONTROLLER, class_flag: str = "nginx") -> bool:
    """Whether the controller with `--controller-class=controller --ingress-class=class_flag`
    serves this Ingress. An Ingress naming an IngressClass that does not exist, or one of
    another controller, is ignored (no config, no address); one without a class is ignored
    too (`--watch-ingress-without-class=false`, the default)."""
    spec_name = (ing.get("spec") or {}).get("ingressClassName")
    if spec_name:
        cls = next((c for c in classes if c["metadata"]["name"] == spec_name), None)
        return cls is not None and (cls.get("spec") or {}).get("controller") == controller
    ann = (ing["metadata"].get("annotations") or {}).get(CLASS_ANNOTATION)
    return bool(ann) and str(ann) == class_flag


# -- hosts and paths ---------------------------------------------------------------------
def host_matches(rule_host: str, host: str) -> bool:
    """Exact (case-insensitive), or `*.foo.com`: exactly one label in front of foo.com."""
    rule_host, host = rule_host.lower(), host.lower()
    if rule_host.startswith("*."):
        suffix = rule_host[1:]
        label = host[:-len(suffix)] if host.endswith(suffix) else ""
        return bool(label) and "." not in label
    return rule_host == host


def request_host(host_header: str) -> str:
    """The Host header without its port, lower-cased, as nginx matches server_name."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def path_matches(path_type: str, rule_path: str, path: str) -> bool:
    """The Kubernetes definition (Exact / Prefix by element), and ImplementationSpecific as
    ingress-nginx's plain prefix location."""
    path = path.split("?", 1)[0]
    if path_type == "Exact":
        return path == rule_path
    if path_type == "Prefix":
        base = rule_path.rstrip("/")
        return base == "" or path == base or path.startswith(base + "/")
    return path.startswith(rule_path)


@dataclass(frozen=True)
class Backend:
    """A Service port (or a resource backend) an Ingress sends requests to."""

    namespace: str
    service: str = ""
    port: int | str = ""
    resource: str = ""

    @property
    def upstream(self) -> str:
        """ingress-nginx's upstream name: `<namespace>-<service>-<port>`."""
        if not self.service:
            return DEFAULT_UPSTREAM
        return f"{self.namespace}-{self.service}-{self.port}"

    def text(self) -> str:
        return f"{self.service}:{self.port}" if self.service else f"{self.resource} (resource)"


def backend_of(namespace: str, raw: dict | None) -> Backend | None:
    if not raw:
        return None
    svc = raw.get("service")
    if svc:
        port = svc.get("port") or {}
        return Backend(namespace, str(svc.get("name", "")), port.get("number") or str(port.get("name", "")))
    res = raw.get("resource")
    if res:
        return Backend(namespace, resource=f"{res.get('kind', '')}/{res.get('name', '')}")
    return None


@dataclass
class Location:
    """One nginx location block."""

    modifier: str  # "=" exact, "" prefix, "~*" regex
    path: str  # as nginx matches it
    rule_path: str  # as the Ingress wrote it ($location_path)
    path_type: str
    backend: Backend | None  # None: the controller's default backend (404)
    ingress: str = ""  # namespace/name
    implicit: bool = False  # the `= /foo` ingress-nginx adds for Prefix /foo
    placeholder: bool = False  # the server's root: the default backend until a rule claims `/`

    def matches(self, path: str) -> bool:
        path = path.split("?", 1)[0]
        if self.modifier == "=":
            return path == self.path
        if self.modifier == "~*":
            return re.match(self.path, path, re.IGNORECASE) is not None
        return path.startswith(self.path)

    @property
    def namespace(self) -> str:
        return self.ingress.split("/", 1)[0] if self.ingress else ""

    @property
    def ingress_name(self) -> str:
        return self.ingress.split("/", 1)[1] if self.ingress else ""


@dataclass
class Server:
    """One nginx server block: a host and its locations."""

    hostname: str
    locations: list[Location] = field(default_factory=list)
    tls_secret: str = ""  # namespace/name named by an Ingress's tls section
    tls: bool = False  # some Ingress lists this host under tls
    ssl_redirect: bool = True
    regex: bool = False

    @property
    def server_name(self) -> str:
        if self.hostname.startswith("*."):
            parts = self.hostname[2:].split(".")
            return r"~^(?<subdomain>[\w-]+)\." + r"\.".join(parts) + "$"
        return self.hostname

    def ordered(self) -> list[Location]:
        """Longest path first, as ingress-nginx writes them (regex locations are tried in this order)."""
        return sorted(self.locations, key=lambda loc: (-len(loc.rule_path), loc.modifier != "=", loc.path))

    def find(self, path: str) -> Location | None:
        path = path.split("?", 1)[0]
        exact = [loc for loc in self.locations if loc.modifier == "=" and loc.matches(path)]
        if exact:
            return exact[0]
        if self.regex:
            return next((loc for loc in self.ordered() if loc.modifier == "~*" and loc.matches(path)), None)
        prefixes = [loc for loc in self.locations if loc.modifier == "" and loc.matches(path)]
        return max(prefixes, key=lambda loc: len(loc.path), default=None)


@dataclass
class RouteMatch:
    server: Server
    location: Location | None

    @property
    def backend(self) -> Backend | None:
        return self.location.backend if self.location is not None else None


@dataclass
class Routes:
    """Every server the controller renders, in ingress-nginx's order."""

    servers: dict[str, Server]
    ingresses: list[dict]

    def server_for(self, host_header: str) -> Server:
        host = request_host(host_header)
        if host in self.servers and not host.startswith("*."):
            return self.servers[host]
        for name, server in self.servers.items():
            if name.startswith("*.") and host_matches(name, host):
                return server
        return self.servers[DEFAULT_SERVER]

    def route(self, host_header: str, path: str) -> RouteMatch:
        server = self.server_for(host_header)
        return RouteMatch(server, server.find(path))


def _sort_key(ing: dict) -> tuple:
    meta = ing["metadata"]
    return (meta.get("creationTimestamp", 0), meta.get("namespace", "default"), meta["name"])


def build_routes(ingresses: list[dict], secret_exists=lambda ns, name: False) -> Routes:
    """The servers ingress-nginx renders from the Ingresses it serves. Older Ingresses
    win a conflict (the same host and path in two Ingresses), as they do upstream."""
    ingresses = sorted(ingresses, key=_sort_key)
    servers: dict[str, Server] = {DEFAULT_SERVER: Server(DEFAULT_SERVER, [_root(None, "")])}
    for ing in ingresses:
        meta = ing["metadata"]
        ns = meta.get("namespace", "default")
        key = f"{ns}/{meta['name']}"
        spec = ing.get("spec") or {}
        ann = meta.get("annotations") or {}
        default = backend_of(ns, spec.get("defaultBackend"))
        if default is not None:
            root = servers[DEFAULT_SERVER].locations[0]
            if root.backend is None:
                root.backend, root.ingress = default, key
        for rule in spec.get("rules") or []:
            host = str(rule.get("host") or DEFAULT_SERVER)
            server = servers.get(host)
            if server is None:
                server = servers[host] = Server(host, [_root(default, key)])
            if str(ann.get(USE_REGEX, "")).lower() == "true":
                server.regex = True
            if str(ann.get(SSL_REDIRECT, "true")).lower() == "false":
                server.ssl_redirect = False
            for p in ((rule.get("http") or {}).get("paths") or []):
                _add_path(server, key, p)
        for tls in spec.get("tls") or []:
            for host in tls.get("hosts") or []:
                server = servers.get(str(host))
                if server is None:
                    server = servers[str(host)] = Server(str(host), [_root(default, key)])
                server.tls = True
                secret = tls.get("secretName")
                if secret and not server.tls_secret and secret_exists(ns, secret):
                    server.tls_secret = f"{ns}/{secret}"
    for server in servers.values():
        if server.regex:
            for loc in server.locations:
                if loc.modifier == "":
                    loc.modifier, loc.path = "~*", "^" + loc.rule_path
    return Routes(servers, ingresses)


def _root(default: Backend | None, key: str) -> Location:
    """A server's `location /` before any rule claims it: the Ingress's defaultBackend, or
    the controller's own default backend (404)."""
    return Location("", "/", "/", "Prefix", default, key if default else "", placeholder=True)


def _add_path(server: Server, key: str, raw: dict) -> None:
    path = str(raw.get("path") or "/")
    path_type = str(raw.get("pathType") or "ImplementationSpecific")
    backend = backend_of(key.split("/", 1)[0], raw.get("backend"))
    if path_type == "Exact":
        wanted = [Location("=", path, path, path_type, backend, key)]
    elif path_type == "Prefix":
        base = path.rstrip("/")
        wanted = [Location("", base + "/", path, path_type, backend, key)]
        if base:
            wanted.append(Location("=", base, path, path_type, backend, key, implicit=True))
    else:
        wanted = [Location("", path, path, path_type, backend, key)]
    for loc in wanted:
        same = next((o for o in server.locations if o.modifier == loc.modifier and o.path == loc.path), None)
        if same is None:
            server.locations.append(loc)
        elif same.implicit and not loc.implicit:  # Exact /foo beats the `= /foo` of Prefix /foo
            server.locations[server.locations.index(same)] = loc
        elif same.placeholder:  # a rule's `/` replaces the server's default-backend root
            server.locations[server.locations.index(same)] = loc
