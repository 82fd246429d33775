"""The ingress-nginx controller: a control loop that renders nginx.conf from the Ingresses
it serves and writes their status, and, in each controller pod, the proxy itself.

The proxy works as nginx does: it reads the client's request, picks the Service's
endpoint itself (round robin over ready addresses — ingress-nginx's Lua balancer, not
kube-proxy's ClusterIP), and opens its own TCP connection to that pod as real packets
(`tcp.ClientConnection`). The client's answer waits (`tcp.Deferred`) until the upstream's
response arrives, so the Trace of one curl shows both connections.
"""
from __future__ import annotations

import copy
import time

from netlab.apps.http import HTTP_DATE, HttpRequest, HttpResponse, text_app
from netlab.apps.ingress import routing as R
from netlab.apps.ingress.nginxconf import render
from netlab.net.addr import fmt_ip, parse_ip
from netlab.net.tcp import ClientConnection, Deferred, Listener

RELEASE = "v1.9.6"
NGINX = "nginx/1.21.6"
LAB_EPOCH = 1704099600  # the lab's wall clock at simulated time 0 (as kubectl and iptables-save show it)
CERT_DIR = "/etc/ingress-controller/ssl"
HOP_HEADERS = {"server", "date", "content-type", "content-length", "connection", "keep-alive", "transfer-encoding"}


def is_controller_image(image: str) -> bool:
    """registry.k8s.io/ingress-nginx/controller:v1.9.6, or the old nginx-ingress-controller images."""
    path = image.split("@", 1)[0].rsplit(":", 1)[0] if image.count(":") else image
    return path.endswith("ingress-nginx/controller") or path.rsplit("/", 1)[-1] == "nginx-ingress-controller"


def error_page(status: int) -> str:
    """nginx's own error page with server_tokens off, as ingress-nginx sends it."""
    text = f"{status} {R_REASONS.get(status, '')}"
    return (f"<html>\r\n<head><title>{text}</title></head>\r\n<body>\r\n<center><h1>{text}</h1></center>\r\n"
            f"<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")


R_REASONS = {308: "Permanent Redirect", 400: "Bad Request", 404: "Not Found", 502: "Bad Gateway",
             503: "Service Temporarily Unavailable", 504: "Gateway Time-out"}


def klog(clock: float, where: str, message: str) -> str:
    t = time.gmtime(LAB_EPOCH + int(clock))
    micros = int((clock % 1) * 1_000_000)
    return f"I{t.tm_mon:02d}{t.tm_mday:02d} {t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}.{micros:06d}       7 {where}] {message}"


def time_local(clock: float) -> str:
    return time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(LAB_EPOCH + int(clock)))


class IngressNginx:
    """The control loop shared by one cluster's controller pods (each real pod runs the same
    loop over the same objects and would reach the same nginx.conf)."""

    KINDS = {"Ingress", "IngressClass", "Service", "Endpoints", "Secret"}

    @classmethod
    def of(cls, cluster) -> "IngressNginx":
        hub = getattr(cluster, "_ingress_nginx", None)
        if hub is None:
            hub = cluster._ingress_nginx = cls(cluster)
        return hub

    def __init__(self, cluster) -> None:
        self.cluster = cluster
        self.api = cluster.api
        self.pods: dict[str, ControllerPod] = {}
        self.routes = R.build_routes([])
        self.conf = ""
        self.served: list[dict] = []
        self.rr: dict[str, int] = {}
        self.statused: set[str] = set()
        self._syncing = False
        self._again = False
        self.api.watch(self.KINDS, self._changed)

    def _changed(self, event) -> None:
        if self.pods:
            self.sync()

    # -- the control loop ----------------------------------------------------------
    def sync(self) -> None:
        if self._syncing:  # our own status writes come back as events
            self._again = True
            return
        self._syncing = True
        try:
            self._again = True
            while self._again:
                self._again = False
                self._sync_once()
        finally:
            self._syncing = False

    def _sync_once(self) -> None:
        api = self.api
        classes = api.list("IngressClass")
        self.served = [i for i in api.list("Ingress") if R.served(i, classes)]
        self.routes = R.build_routes(self.served, self._secret_ok)
        self.conf = render(self.routes, self.cert_path)
        for pod in self.pods.values():
            pod.load(self.conf, self.routes)
        self._write_status()

    def _secret_ok(self, namespace: str, name: str) -> bool:
        secret = self.api.get("Secret", namespace, name)
        if secret is None:
            return False
        data = {**(secret.get("data") or {}), **(secret.get("stringData") or {})}
        return "tls.crt" in data and "tls.key" in data

    @staticmethod
    def cert_path(secret_key: str) -> str:
        ns, name = secret_key.split("/", 1)
        return f"{CERT_DIR}/{ns}-{name}.pem"

    def addresses(self) -> list[str]:
        """What status.loadBalancer says: the LoadBalancer's address when the controller's
        Service has one (--publish-service), else the nodes the controller pods run on."""
        for pod in self.pods.values():
            svc = self.api.get("Service", pod.namespace, "ingress-nginx-controller")
            if svc is not None and (svc.get("spec") or {}).get("type") == "LoadBalancer":
                ips = [i.get("ip") for i in (svc.get("status") or {}).get("loadBalancer", {}).get("ingress") or [] if i.get("ip")]
                if ips:
                    return ips
            break
        out = set()
        for pod in self.pods.values():
            node = self.cluster.nodes.get(pod.node)
            if node is not None:
                out.add(fmt_ip(node.spec.ip))
        return sorted(out, key=parse_ip)

    def _write_status(self) -> None:
        want = {"ingress": [{"ip": ip} for ip in self.addresses()]}
        if not want["ingress"]:
            want = {}
        keys = set()
        for ing in self.served:
            key = f"{ing['metadata'].get('namespace', 'default')}/{ing['metadata']['name']}"
            keys.add(key)
            self._set_status(ing, want)
        for key in self.statused - keys:  # no longer ours (its class changed): take our address back
            ns, name = key.split("/", 1)
            ing = self.api.get("Ingress", ns, name)
            if ing is not None:
                self._set_status(ing, {})
        self.statused = keys

    def _set_status(self, ing: dict, lb: dict) -> None:
        if (ing.get("status") or {}).get("loadBalancer", {}) != lb:
            updated = copy.deepcopy(ing)
            updated["status"] = {"loadBalancer": lb}
            self.api.update(updated)

    # -- backends ----------------------------------------------------------------------
    def endpoints(self, backend: R.Backend) -> list[tuple[int, int]]:
        """The ready endpoints of a Service port, as the controller reads them."""
        svc = self.api.get("Service", backend.namespace, backend.service)
        if svc is None:
            return []
        port = next((p for p in (svc.get("spec") or {}).get("ports") or []
                     if (isinstance(backend.port, int) and p.get("port") == backend.port)
                     or (isinstance(backend.port, str) and backend.port and p.get("name") == backend.port)), None)
        if port is None:
            return []
        ep = self.api.get("Endpoints", backend.namespace, backend.service) or {}
        out = []
        for subset in ep.get("subsets") or []:
            ports = subset.get("ports") or []
            match = [p for p in ports if p.get("name", "") == port.get("name", "")] or (ports if len(ports) == 1 else [])
            for a in subset.get("addresses") or []:
                for p in match:
                    out.append((parse_ip(a["ip"]), int(p["port"])))
        return out

    def pick(self, upstream: str, endpoints: list[tuple[int, int]]) -> tuple[int, int]:
        """ingress-nginx's default load-balance: round_robin."""
        n = self.rr.get(upstream, 0)
        self.rr[upstream] = n + 1
        return endpoints[n % len(endpoints)]

    def register(self, pod: "ControllerPod") -> None:
        self.pods[pod.key] = pod
        self.sync()

    def unregister(self, pod: "ControllerPod") -> None:
        self.pods.pop(pod.key, None)
        if self.pods:
            self.sync()


class ControllerPod:
    """One controller pod: nginx listening on 80 and 443, the health endpoint on 10254, its
    nginx.conf and its log."""

    def __init__(self, cluster, pod: dict, ns) -> None:
        meta = pod["metadata"]
        self.cluster = cluster
        self.ns = ns
        self.namespace = meta.get("namespace", "default")
        self.name = meta["name"]
        self.key = f"{self.namespace}/{self.name}"
        self.node = (pod.get("spec") or {}).get("nodeName", "")
        self.hub = IngressNginx.of(cluster)
        self.conf: str | None = None
        self.routes = R.build_routes([])
        self.requests = 0
        self.ids = cluster.world.stream("ingress-request-ids")
        self._banner()
        # Bound methods, not lambdas: copy.deepcopy copies a bound method with its object, but
        # shares a lambda, whose closure would keep serving from the original world (objective
        # checks run on a deep copy of the lab).
        self.listeners = [Listener(ns, 80, self.serve_http, "nginx"), Listener(ns, 443, self.serve_https, "nginx"),
                          Listener(ns, 10254, text_app(lambda: "ok"), "nginx-ingress-c")]
        self.hub.register(self)

    def serve_http(self, request, conn):
        return self.serve(request, conn, False)

    def serve_https(self, request, conn):
        return self.serve(request, conn, True)

    def close(self) -> None:
        for listener in self.listeners:
            listener.close()
        self.hub.unregister(self)

    def log(self, line: str) -> None:
        self.cluster.pod_log(self.key, line)

    def _banner(self) -> None:
        now = self.cluster.world.clock
        for line in ["-------------------------------------------------------------------------------",
                     "NGINX Ingress controller", f"  Release:       {RELEASE}",
                     "  Build:         6a73aa3b05040a97ef8213675a16142a9c95952a",
                     "  Repository:    https://github.com/kubernetes/ingress-nginx", f"  nginx version: {NGINX}", "",
                     "-------------------------------------------------------------------------------", ""]:
            self.log(line)
        self.log(klog(now, "main.go:205", '"Creating API client" host="https://10.96.0.1:443"'))
        self.log(klog(now, "main.go:249", '"Running in Kubernetes cluster" major="1" minor="26" git="v1.26.15" '
                                          'state="clean" commit="1649f592f1909b97aa3c2a0a8f968a3fd05a7b8b" platform="linux/amd64"'))
        self.log(klog(now, "nginx.go:260", '"Starting NGINX Ingress controller"'))
        self.log(klog(now, "leaderelection.go:250", f'attempting to acquire leader lease {self.namespace}/ingress-nginx-leader...'))

    # -- configuration ----------------------------------------------------------------------
    def load(self, conf: str, routes: R.Routes) -> None:
        self.routes = routes
        if conf == self.conf:
            return
        first = self.conf is None
        self.ns.files["/etc/nginx/nginx.conf"] = conf
        self.conf = conf
        now = self.cluster.world.clock
        if first:
            for ing in routes.ingresses:
                meta = ing["metadata"]
                self.log(klog(now, "store.go:440", f'"Found valid IngressClass" ingress="{meta.get("namespace", "default")}/'
                                                   f'{meta["name"]}" ingressclass="{R.ingress_class(ing) or "nginx"}"'))
            self.log(klog(now, "controller.go:190", '"Configuration changes detected, backend reload required"'))
            self.log(klog(now, "controller.go:210", '"Backend successfully reloaded"'))
            self.log(klog(now, "controller.go:221", '"Initial sync, sleeping for 1 second"'))
        else:
            self.log(klog(now, "controller.go:190", '"Configuration changes detected, backend reload required"'))
            self.log(klog(now, "controller.go:210", '"Backend successfully reloaded"'))
        self.log(klog(now, "event.go:298", f'Event(v1.ObjectReference{{Kind:"Pod", Namespace:"{self.namespace}", '
                                           f'Name:"{self.name}", APIVersion:"v1", FieldPath:""}}): type: \'Normal\' '
                                           "reason: 'RELOAD' NGINX reload triggered due to a change in configuration"))

    # -- the proxy ----------------------------------------------------------------------
    def serve(self, request, conn, https: bool):
        self.requests += 1
        client = fmt_ip(conn.remote)
        if not isinstance(request, HttpRequest):
            return self._error(None, 400, https and False, client, "-", None)
        if https and not request.tls:
            body = ("<html>\r\n<head><title>400 The plain HTTP request was sent to HTTPS port</title></head>\r\n<body>\r\n"
                    "<center><h1>400 Bad Request</h1></center>\r\n<center>The plain HTTP request was sent to HTTPS port</center>\r\n"
                    "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")
            return self._respond(request, HttpResponse(400, self._headers("text/html", body), body), client, "-", None)
        if request.tls and not https:
            return self._respond(request, HttpResponse(400, self._headers("text/html", error_page(400)), error_page(400)),
                                 client, "-", None)
        match = self.routes.route(request.header("Host"), request.path)
        server, loc = match.server, match.location
        backend = match.backend
        if not https and server.tls_secret and server.ssl_redirect and backend is not None:
            body = error_page(308)
            headers = self._headers("text/html", body)
            headers["Location"] = f"https://{R.request_host(request.header('Host'))}{request.path}"
            return self._respond(request, HttpResponse(308, headers, body), client, "-", None, https=https)
        if backend is None or not backend.service:
            body = error_page(404)
            resp = HttpResponse(404, self._headers("text/html", body), "" if request.method == "HEAD" else body)
            return self._respond(request, resp, client, R.DEFAULT_UPSTREAM, ("127.0.0.1:8181", len(body), 404), https=https)
        endpoints = self.hub.endpoints(backend)
        if not endpoints:
            body = error_page(503)
            resp = HttpResponse(503, self._headers("text/html", body), "" if request.method == "HEAD" else body)
            return self._respond(request, resp, client, backend.upstream, None, https=https)
        ip, port = self.hub.pick(backend.upstream, endpoints)
        upstream_req = self._upstream_request(request, client, https)
        deferred = Deferred()

        def done(kind, response, trace) -> None:
            addr = f"{fmt_ip(ip)}:{port}"
            if kind == "ok" and isinstance(response, HttpResponse):
                resp = self._relay(response, https and server.tls, request)
                self._log(request, resp, client, backend.upstream, (addr, len(response.body), response.status))
            else:
                status = 504 if kind == "timeout" else 502
                body = error_page(status)
                resp = HttpResponse(status, self._headers("text/html", body), body)
                self._log(request, resp, client, backend.upstream, (addr, 0, status))
                self.log(f"{time.strftime('%Y/%m/%d %H:%M:%S', time.gmtime(LAB_EPOCH + int(self.cluster.world.clock)))} "
                         f"[error] 27#27: *{self.requests} upstream {'timed out (110: Operation timed out)' if kind == 'timeout' else 'prematurely closed connection' if kind == 'reset' else 'connect() failed (111: Connection refused)'} "
                         f"while connecting to upstream, client: {client}, server: {server.hostname}, request: "
                         f"\"{request.method} {request.path} HTTP/1.1\", upstream: \"http://{addr}{request.path}\", "
                         f"host: \"{request.header('Host')}\"")
            resp.tls = https
            deferred.resolve(resp, trace)

        ClientConnection(self.ns, ip, port, upstream_req, done, owner="nginx").start()
        return deferred

    def _upstream_request(self, request: HttpRequest, client: str, https: bool) -> HttpRequest:
        scheme = "https" if https else "http"
        host = request.header("Host")
        headers = {"Host": host, "X-Request-ID": self._request_id(), "X-Real-IP": client, "X-Forwarded-For": client,
                   "X-Forwarded-Host": host, "X-Forwarded-Port": "443" if https else "80", "X-Forwarded-Proto": scheme,
                   "X-Forwarded-Scheme": scheme, "X-Scheme": scheme}
        original = request.header("X-Forwarded-For")
        if original:
            headers["X-Original-Forwarded-For"] = original
        skip = {k.lower() for k in headers} | {"x-forwarded-for", "connection"}
        headers.update({k: v for k, v in request.headers.items() if k.lower() not in skip})
        return HttpRequest(request.method, request.path, headers, request.body, client=client)

    def _request_id(self) -> str:
        return f"{self.ids.getrandbits(128):032x}"

    def _relay(self, up: HttpResponse, hsts: bool, request: HttpRequest) -> HttpResponse:
        body = up.body
        headers = {"Date": HTTP_DATE, "Content-Type": _header(up, "Content-Type") or "text/plain",
                   "Content-Length": _header(up, "Content-Length") or str(len(body)), "Connection": "keep-alive"}
        headers.update({k: v for k, v in up.headers.items() if k.lower() not in HOP_HEADERS})
        if hsts:
            headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        return HttpResponse(up.status, headers, body)

    @staticmethod
    def _headers(ctype: str, body: str) -> dict[str, str]:
        return {"Date": HTTP_DATE, "Content-Type": ctype, "Content-Length": str(len(body)), "Connection": "keep-alive"}

    def _respond(self, request, resp: HttpResponse, client: str, upstream: str, up, *, https: bool = False) -> HttpResponse:
        resp.tls = https or bool(getattr(request, "tls", False))
        if request is not None:
            self._log(request, resp, client, upstream, up)
        return resp

    def _error(self, request, status, https, client, upstream, up) -> HttpResponse:
        body = error_page(status)
        return HttpResponse(status, self._headers("text/html", body), body, tls=https)

    def _log(self, request: HttpRequest, resp: HttpResponse, client: str, upstream: str, up) -> None:
        now = self.cluster.world.clock
        addr, up_len, up_status = up if up is not None else ("-", "-", "-")
        up_time = "0.001" if up is not None else "-"
        self.log(f'{client} - - [{time_local(now)}] "{request.method} {request.path} HTTP/1.1" {resp.status} '
                 f'{len(resp.body)} "{request.header("Referer") or "-"}" "{request.header("User-Agent") or "-"}" '
                 f'{request.wire_length} 0.001 [{upstream}] [] {addr} {up_len} {up_time} {up_status} {self._request_id()}')


def _header(resp: HttpResponse, name: str) -> str:
    for k, v in resp.headers.items():
        if k.lower() == name.lower():
            return v
    return ""
