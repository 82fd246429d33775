"""The container runtime's part: which processes a container's image runs, and on which
ports they listen. Images are recognised by name, as a learner would expect them to
behave:

- `nginx` serves /usr/share/nginx/html on port 80 — whatever containerPort says, as the
  real image does (a wrong targetPort is a classic mistake worth being able to make);
- `serve_hostname` / `serve-hostname` answers with the pod name on 9376;
- `echoserver` (registry.k8s.io/echoserver:1.10) echoes the request it saw on 8080 (8443 TLS);
- `registry.k8s.io/ingress-nginx/controller` runs the ingress-nginx controller (apps/ingress);
- any other image answers with the pod name on each declared TCP port.
"""
from __future__ import annotations

import functools

from netlab.apps.http import NGINX_WELCOME, TlsServer, nginx_app, text_app
from netlab.apps.ingress.controller import is_controller_image
from netlab.apps.ingress.echo import ECHO_PORT, ECHO_TLS_PORT, echoserver_app
from netlab.net.netns import NetNS
from netlab.net.tcp import Listener


def image_base(image: str) -> str:
    """`registry.k8s.io/coredns/coredns:v1.9.3` → `coredns`."""
    return image.rsplit("/", 1)[-1].split(":", 1)[0].split("@", 1)[0]


def container_listeners(pod: dict, ns: NetNS) -> list[Listener]:
    listeners: list[Listener] = []
    name = pod["metadata"]["name"]
    bound: set[int] = set()

    def listen(port: int, app, owner: str) -> None:
        if port in bound:
            return
        bound.add(port)
        listeners.append(Listener(ns, port, app, owner))

    for c in pod.get("spec", {}).get("containers", []):
        base = image_base(str(c.get("image", "")))
        if base == "coredns" or is_controller_image(str(c.get("image", ""))):
            continue  # started by AppRuntime with its cluster
        ports = [int(p["containerPort"]) for p in c.get("ports", []) or []
                 if str(p.get("protocol", "TCP")).upper() == "TCP" and "containerPort" in p]
        if base == "nginx" or base.startswith("nginx-") and "ingress" not in base:
            ns.files.setdefault("/usr/share/nginx/html/index.html", NGINX_WELCOME)
            ns.files.setdefault("/usr/share/nginx/html/50x.html", "<h1>An error occurred.</h1>\n")
            listen(80, nginx_app(ns), "nginx")
        elif base == "echoserver":
            hostname = (pod.get("spec") or {}).get("hostname") or name
            listen(ECHO_PORT, echoserver_app(hostname), "nginx")
            listen(ECHO_TLS_PORT, TlsServer(echoserver_app(hostname, ECHO_TLS_PORT, "https"), hostname), "nginx")
        elif base in ("serve_hostname", "serve-hostname", "serve_hostname-amd64"):
            listen(9376, text_app(lambda: name), "serve_hostname")
        else:
            for port in ports:
                listen(port, text_app(lambda: name), base or "app")
            for p in c.get("ports", []) or []:
                if str(p.get("protocol", "TCP")).upper() == "UDP" and "containerPort" in p:
                    listeners.append(UdpResponder(ns, int(p["containerPort"]), lambda: name + "\n", base or "app"))
    return listeners


class UdpResponder:
    """A datagram server that answers every datagram with a line of text (the pod's name)."""

    def __init__(self, ns: NetNS, port: int, text, owner: str) -> None:
        from netlab.net.packet import IPPROTO_UDP, UDP, IPv4
        from netlab.net.socket import Socket
        from netlab.net import trace as T

        def answer(ns_, pkt, dev, trace) -> None:
            body = text()
            trace.end(T.DELIVERED, f"datagram delivered to {owner} on UDP port {port}", ns_.name, dev.name)
            reply = IPv4(pkt.dst, pkt.src, IPPROTO_UDP, UDP(port, pkt.l4.sport, body, len(body)), id=ns_.next_ip_id(), df=False)
            rtrace = ns_.world.new_trace(f"{owner} answers {pkt.l4.sport}", ns_.name, reply, "udp reply")
            rtrace.t = trace.t
            ns_.ip_local_out(reply, rtrace)

        self.ns = ns
        self.socket = ns.bind(Socket(IPPROTO_UDP, port, on_data=answer, owner=owner))

    def close(self) -> None:
        self.ns.unbind(self.socket)


class AppRuntime:
    """netlab's container runtime: what each image runs (netlab.k8s.runtime.ContainerRuntime)."""

    def start_pod(self, cluster, pod: dict, ns: NetNS) -> list:
        handles = container_listeners(pod, ns)
        for c in pod.get("spec", {}).get("containers", []):
            if is_controller_image(str(c.get("image", ""))):
                from netlab.apps.ingress.controller import ControllerPod

                handles.append(ControllerPod(cluster, pod, ns))
            if image_base(c.get("image", "")) == "coredns":
                from netlab.apps.dns.coredns import CoreDns
                from netlab.apps.http import text_app

                key = f"{pod['metadata'].get('namespace', 'default')}/{pod['metadata']['name']}"
                # a partial, not a lambda: a deep copy of the lab (objective checks) logs into its own cluster
                handles.append(CoreDns(cluster, ns, pod["metadata"]["name"], functools.partial(cluster.pod_log, key)))
                handles.append(Listener(ns, 8080, text_app(lambda: "OK"), "coredns"))   # health
                handles.append(Listener(ns, 8181, text_app(lambda: "OK"), "coredns"))   # ready
                handles.append(Listener(ns, 9153, text_app(lambda: "# HELP coredns_build_info"), "coredns"))
        return handles

    def stop_pod(self, handles: list) -> None:
        for h in handles:
            h.close()

    def probe(self, pod: dict, ns: NetNS, probe_spec: dict) -> bool:
        return probe(pod, ns, probe_spec)

    def start_outside(self, cluster, router: NetNS) -> list:
        from netlab.apps.dns.upstream import start_upstream

        return [start_upstream(router)]

    def start_node(self, cluster, node_name: str, ns: NetNS) -> list:
        from netlab.apps.node import start_node_processes

        return start_node_processes(ns, control_plane=node_name == cluster.spec.nodes[0].name,
                                    version=cluster.version, clock=lambda: ns.world.clock)


def probe(pod: dict, ns: NetNS, probe_spec: dict) -> bool:
    """kubelet's readiness/liveness check against what actually listens in the pod."""
    from netlab.apps.http import HttpRequest, HttpResponse
    from netlab.net.packet import IPPROTO_TCP

    def resolve(port) -> int | None:
        if isinstance(port, int) or str(port).isdigit():
            return int(port)
        for c in pod.get("spec", {}).get("containers", []):
            for p in c.get("ports", []) or []:
                if p.get("name") == port:
                    return int(p["containerPort"])
        return None

    if "tcpSocket" in probe_spec:
        port = resolve(probe_spec["tcpSocket"].get("port"))
        return port is not None and (IPPROTO_TCP, port) in ns.sockets
    if "httpGet" in probe_spec:
        spec = probe_spec["httpGet"]
        port = resolve(spec.get("port"))
        sock = ns.sockets.get((IPPROTO_TCP, port)) if port is not None else None
        listener = getattr(sock.on_data, "__self__", None) if sock is not None else None
        if listener is None:
            return False
        resp = listener.app(HttpRequest("GET", spec.get("path", "/"), {"User-Agent": "kube-probe/1.30"}), None)
        return isinstance(resp, HttpResponse) and 200 <= resp.status < 400
    if "exec" in probe_spec:
        cmd = probe_spec["exec"].get("command", [])
        # `cat FILE` / `test -f FILE` style probes read the pod's filesystem.
        if len(cmd) >= 2 and cmd[0] in ("cat", "ls", "test") :
            return ns.read_file(cmd[-1]) is not None
        return True
    return True
