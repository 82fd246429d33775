"""registry.k8s.io/echoserver:1.10: answers every request with what it received — the
request line, the headers (lower-cased and sorted, as its Lua prints them) and the client
address it saw — so a learner can read what an ingress controller added on the way."""
from __future__ import annotations

from netlab.apps.http import HTTP_DATE, HttpRequest, HttpResponse
from netlab.net.addr import fmt_ip

ECHO_PORT = 8080
ECHO_TLS_PORT = 8443


def echo_body(hostname: str, request: HttpRequest, client: str, port: int, scheme: str = "http") -> str:
    path, _, query = request.path.partition("?")
    host = request.header("Host").rsplit(":", 1)[0] if request.header("Host").count(":") == 1 else request.header("Host")
    headers = "".join(f"\t{k.lower()}={v}\n" for k, v in sorted(request.headers.items(), key=lambda kv: kv[0].lower()))
    body = f"\t{request.body}\n" if request.body else "\t-no body in request-\n"
    return (f"\n\nHostname: {hostname}\n\nPod Information:\n\t-no pod information available-\n\n"
            f"Server values:\n\tserver_version=nginx: 1.13.3 - lua: 10008\n\n"
            f"Request Information:\n\tclient_address={client}\n\tmethod={request.method}\n\treal path={path}\n"
            f"\tquery={query}\n\trequest_version=1.1\n\trequest_scheme={scheme}\n"
            f"\trequest_uri={scheme}://{host}:{port}{request.path}\n\n"
            f"Request Headers:\n{headers}\nRequest Body:\n{body}\n")


def echoserver_app(hostname: str, port: int = ECHO_PORT, scheme: str = "http"):
    def serve(request, conn):
        client = fmt_ip(conn.remote) if conn is not None else "127.0.0.1"
        if not isinstance(request, HttpRequest):
            return ""
        body = echo_body(hostname, request, client, port, scheme)
        headers = {"Date": HTTP_DATE, "Content-Type": "text/plain", "Content-Length": str(len(body)),
                   "Connection": "keep-alive", "Server": "echoserver"}
        return HttpResponse(200, headers, "" if request.method == "HEAD" else body)

    return serve
