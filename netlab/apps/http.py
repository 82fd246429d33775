"""HTTP/1.1 as the lab's servers and clients speak it: request and response values,
and the servers pods run (nginx, serve_hostname, and a default that answers with the
pod's name on every declared port)."""
from __future__ import annotations

import zlib

from dataclasses import dataclass, field

NGINX_VERSION = "1.27.3"
NGINX_WELCOME = """<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
<style>
html { color-scheme: light dark; }
body { width: 35em; margin: 0 auto;
font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and
working. Further configuration is required.</p>

<p>For online documentation and support please refer to
<a href="http://nginx.org/">nginx.org</a>.<br/>
Commercial support is available at
<a href="http://nginx.com/">nginx.com</a>.</p>

<p><em>Thank you for using nginx.</em></p>
</body>
</html>
"""
REASONS = {200: "OK", 201: "Created", 204: "No Content", 301: "Moved Permanently", 302: "Found", 304: "Not Modified", 307: "Temporary Redirect", 308: "Permanent Redirect",
           400: "Bad Request", 403: "Forbidden", 404: "Not Found", 405: "Not Allowed", 500: "Internal Server Error",
           502: "Bad Gateway", 503: "Service Temporarily Unavailable", 504: "Gateway Time-out"}
HTTP_DATE = "Sun, 22 Nov 2026 05:00:00 GMT"


@dataclass
class HttpRequest:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    client: str = ""  # the source address the server saw (for X-Forwarded-For / logs)
    tls: bool = False  # sent inside a TLS session (https://)

    @property
    def wire_length(self) -> int:
        return len(self.head()) + len(self.body)

    def head(self) -> str:
        lines = [f"{self.method} {self.path} HTTP/1.1"] + [f"{k}: {v}" for k, v in self.headers.items()]
        return "\r\n".join(lines) + "\r\n\r\n"

    def header(self, name: str, default: str = "") -> str:
        for k, v in self.headers.items():
            if k.lower() == name.lower():
                return v
        return default


@dataclass
class HttpResponse:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    tls: bool = False  # the server speaks TLS on this port

    @property
    def reason(self) -> str:
        return REASONS.get(self.status, "")

    @property
    def wire_length(self) -> int:
        return len(self.head()) + len(self.body)

    def head(self) -> str:
        lines = [f"HTTP/1.1 {self.status} {self.reason}"] + [f"{k}: {v}" for k, v in self.headers.items()]
        return "\r\n".join(lines) + "\r\n\r\n"


def nginx_error_page(status: int) -> str:
    text = f"{status} {REASONS.get(status, '')}"
    return (f"<html>\r\n<head><title>{text}</title></head>\r\n<body>\r\n<center><h1>{text}</h1></center>\r\n"
            f"<hr><center>nginx/{NGINX_VERSION}</center>\r\n</body>\r\n</html>\r\n")


def nginx_app(ns, docroot: str = "/usr/share/nginx/html"):
    """Static files from the pod's filesystem, as the nginx image's default server does."""

    def serve(request, conn):
        if not isinstance(request, HttpRequest):
            return HttpResponse(400, _nginx_headers("text/html", nginx_error_page(400)), nginx_error_page(400))
        path = request.path.split("?", 1)[0]
        if path.endswith("/"):
            path += "index.html"
        content = ns.read_file(docroot + path)
        if content is None:
            body = nginx_error_page(404)
            return HttpResponse(404, _nginx_headers("text/html", body), body)
        ctype = "text/html" if path.endswith((".html", ".htm")) else "text/plain"
        headers = _nginx_headers(ctype, content)
        headers["Last-Modified"] = HTTP_DATE
        headers["Connection"] = "keep-alive"
        headers["ETag"] = f'"{zlib.crc32(content.encode()):08x}-{len(content):x}"'  # not hash(): randomised per process
        headers["Accept-Ranges"] = "bytes"
        if request.method == "HEAD":
            return HttpResponse(200, headers, "")
        return HttpResponse(200, headers, content)

    return serve


def _nginx_headers(ctype: str, body: str) -> dict[str, str]:
    return {"Server": f"nginx/{NGINX_VERSION}", "Date": HTTP_DATE, "Content-Type": ctype,
            "Content-Length": str(len(body))}


def text_app(text_fn):
    """Answers every request with a line of text (the pod's name: what serve_hostname and
    netlab's default app do)."""

    def serve(request, conn):
        body = text_fn() + "\n"
        if not isinstance(request, HttpRequest):
            return body
        headers = {"Date": HTTP_DATE, "Content-Length": str(len(body)), "Content-Type": "text/plain; charset=utf-8"}
        return HttpResponse(200, headers, "" if request.method == "HEAD" else body)

    return serve


class TlsServer:
    """A server that speaks HTTP only inside TLS, as Go's net/http with a certificate does."""

    def __init__(self, inner, cert_cn: str) -> None:
        self.inner = inner
        self.cert_cn = cert_cn

    def __call__(self, request, conn):
        if isinstance(request, HttpRequest) and not request.tls:
            body = "Client sent an HTTP request to an HTTPS server.\n"
            return HttpResponse(400, {"Content-Type": "text/plain; charset=utf-8", "Connection": "close"}, body, tls=True)
        response = self.inner(request, conn)
        if isinstance(response, HttpResponse):
            response.tls = True
        return response


def json_app(routes: dict[str, tuple[int, str]], default: tuple[int, str]):
    """Fixed JSON answers by path (API server, kubelet and kube-proxy endpoints)."""

    def serve(request, conn):
        if not isinstance(request, HttpRequest):
            return ""
        status, body = routes.get(request.path.split("?", 1)[0], default)
        headers = {"Audit-Id": "5c1f0c2e-3b6a-4d51-9a49-1f0d2e8f6a10", "Cache-Control": "no-cache, private",
                   "Content-Type": "application/json", "Date": HTTP_DATE, "Content-Length": str(len(body))}
        return HttpResponse(status, headers, body)

    return serve
