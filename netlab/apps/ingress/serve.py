"""`netlab http serve`: a real HTTP server on 127.0.0.1 that forwards each request into the
lab — as a request from the `client` machine (203.0.113.10) to the ingress controller's
NodePort on the first node — and returns the lab's response: status, headers and body.

The lab is not thread-safe, so one thread serves every connection in turn.
"""
from __future__ import annotations

from http.server import BaseHTTPRequestHandler, HTTPServer

from netlab.apps.http import HttpRequest, HttpResponse
from netlab.k8s.cloud import CLIENT_IP
from netlab.net.addr import fmt_ip
from netlab.net.tcp import exchange

SERVICE = ("ingress-nginx", "ingress-nginx-controller")


class NoIngress(Exception):
    """The lab has no ingress controller Service to send requests to."""


class LabHttpServer:
    def __init__(self, lab, host: str = "127.0.0.1", port: int = 8080) -> None:
        self.lab = lab
        cluster = lab.cluster
        svc = cluster.api.get("Service", *SERVICE)
        if svc is None:
            raise NoIngress("this lab has no ingress controller: add `ingress: {controller: nginx}` to its spec")
        self.node_port = next((p.get("nodePort") for p in (svc.get("spec") or {}).get("ports") or []
                               if p.get("name") == "http" and p.get("nodePort")), None)
        if self.node_port is None:
            raise NoIngress("the ingress-nginx-controller Service has no http nodePort")
        first = next(iter(cluster.nodes.values()))
        self.node_name, self.node_ip = first.spec.name, first.spec.ip
        self.client = cluster.client
        self.served = 0
        self.stopping = False
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            server_version = "netlab"

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
                status, headers, payload = outer.forward(self.command, self.path, list(self.headers.items()), body)
                self.send_response_only(status)
                for k, v in headers:
                    self.send_header(k, v)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = _any

            def log_message(self, *args) -> None:  # the lab's controller keeps the access log
                pass

        self.httpd = HTTPServer((host, port), Handler)
        self.httpd.timeout = 0.2
        self.address = self.httpd.server_address

    def describe(self) -> str:
        return (f"netlab http: listening on http://{self.address[0]}:{self.address[1]}/; requests go from "
                f"client ({fmt_ip(CLIENT_IP)}) "
                f"to {self.node_name} {fmt_ip(self.node_ip)}:{self.node_port} (ingress-nginx)")

    def forward(self, method: str, path: str, headers: list[tuple[str, str]], body: str) -> tuple[int, list, bytes]:
        """One real request → (status, headers, body) from the lab."""
        req_headers = {k: v for k, v in headers if k.lower() not in ("connection", "keep-alive", "proxy-connection")}
        request = HttpRequest(method, path or "/", req_headers, body)
        self.lab.cluster.tick()
        result = exchange(self.client, self.node_ip, self.node_port, request)
        self.lab.world.advance(result.elapsed)
        self.lab.world.take_traces()  # a long-running server keeps no history
        self.served += 1
        resp = result.response
        if result.kind != "ok" or not isinstance(resp, HttpResponse):
            text = (f"netlab: the lab did not answer: {result.kind}"
                    f"{': ' + result.errno_text if result.errno_text else ''} "
                    f"(client → {fmt_ip(self.node_ip)}:{self.node_port})\n").encode()
            return 502, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(text))),
                         ("Connection", "close")], text
        payload = resp.body.encode("utf-8")
        out = [(k, v) for k, v in resp.headers.items() if k.lower() not in ("content-length", "connection", "transfer-encoding")]
        out += [("Content-Length", str(len(payload))), ("Connection", "close")]
        return resp.status, out, payload

    def serve_forever(self) -> None:
        while not self.stopping:
            self.httpd.handle_request()

    def stop(self) -> None:
        self.stopping = True

    def close(self) -> None:
        self.httpd.server_close()
