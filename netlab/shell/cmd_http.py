"""curl, wget (busybox) and nc (OpenBSD netcat): TCP clients with the real tools' output."""
from __future__ import annotations

from urllib.parse import urlsplit

from netlab.apps.http import HttpRequest, HttpResponse
from netlab.net.addr import fmt_ip
from netlab.net.tcp import exchange
from netlab.shell.registry import Invocation, command
from netlab.shell.resolve import resolve_host

CURL_VERSION = "8.5.0"
SERVICES = {22: "ssh", 53: "domain", 80: "http", 443: "https", 6443: "sun-sr-https", 8080: "http-alt",
            10250: "*", 9376: "*"}


def _split_url(url: str) -> tuple[str, str, int, str]:
    if "://" not in url:
        url = "http://" + url
    parts = urlsplit(url)
    scheme = parts.scheme
    default = 443 if scheme == "https" else 80
    try:
        port = parts.port or default
    except ValueError:
        port = -1
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return scheme, parts.hostname or "", port, path


def _resolve(inv: Invocation, host: str, resolves: dict[tuple[str, int], str], port: int) -> int | None:
    if (host, port) in resolves:
        from netlab.net.addr import parse_ip

        return parse_ip(resolves[(host, port)])
    return resolve_host(inv.session, inv.ctx, host)


@command("curl", summary="transfer a URL")
def curl(inv: Invocation) -> int:
    args = inv.argv[1:]
    silent = verbose = head = include = show_error = fail = insecure = False
    method, timeout, url, output = None, None, None, None
    headers: dict[str, str] = {}
    resolves: dict[tuple[str, int], str] = {}
    data = None
    i = 0
    while i < len(args):
        a = args[i]
        nxt = args[i + 1] if i + 1 < len(args) else None
        if a.startswith("-") and not a.startswith("--") and len(a) > 2 and all(c in "svIiSfkL" for c in a[1:]):
            insecure |= "k" in a[1:]
            flags = a[1:]
        else:
            flags = None
        if flags is not None:
            silent |= "s" in flags
            verbose |= "v" in flags
            head |= "I" in flags
            include |= "i" in flags
            show_error |= "S" in flags
            fail |= "f" in flags
        elif a in ("-s", "--silent"):
            silent = True
        elif a in ("-v", "--verbose"):
            verbose = True
        elif a in ("-I", "--head"):
            head = True
        elif a in ("-i", "--include"):
            include = True
        elif a in ("-S", "--show-error"):
            show_error = True
        elif a in ("-f", "--fail"):
            fail = True
        elif a in ("-k", "--insecure"):
            insecure = True
        elif a in ("-L", "--location"):
            pass
        elif a in ("-m", "--max-time", "--connect-timeout") and nxt is not None:
            try:
                timeout = float(nxt)
            except ValueError:
                return inv.fail(f"curl: option {a}: expected a proper numerical parameter\ncurl: try 'curl --help' or 'curl --manual' for more information", 2)
            i += 1
        elif a in ("-H", "--header") and nxt is not None:
            if ":" in nxt:
                k, v = nxt.split(":", 1)
                headers[k.strip()] = v.strip()
            i += 1
        elif a in ("-X", "--request") and nxt is not None:
            method = nxt
            i += 1
        elif a in ("-d", "--data") and nxt is not None:
            data = nxt
            i += 1
        elif a in ("-o", "--output") and nxt is not None:
            output = nxt
            i += 1
        elif a == "--resolve" and nxt is not None:
            parts = nxt.split(":")
            if len(parts) >= 3 and parts[1].isdigit():
                resolves[(parts[0], int(parts[1]))] = parts[2]
            i += 1
        elif a.startswith("-"):
            return inv.fail(f"curl: option {a}: is unknown\ncurl: try 'curl --help' or 'curl --manual' for more information", 2)
        else:
            url = a
        i += 1
    if url is None:
        return inv.fail("curl: no URL specified!\ncurl: try 'curl --help' or 'curl --manual' for more information", 2)
    scheme, host, port, path = _split_url(url)
    if port <= 0 or port > 65535:
        return inv.fail(f"curl: (3) URL rejected: Port number was not a decimal number between 0 and 65535", 3)
    if not host:
        return inv.fail("curl: (3) URL rejected: No host part in the URL", 3)
    quiet_errors = silent and not show_error
    dst = _resolve(inv, host, resolves, port)
    if dst is None:
        return 6 if quiet_errors else inv.fail(f"curl: (6) Could not resolve host: {host}", 6)
    method = method or ("HEAD" if head else ("POST" if data is not None else "GET"))
    host_header = headers.pop("Host", None) or headers.pop("host", None) or (host if port in (80, 443) else f"{host}:{port}")
    req_headers = {"Host": host_header, "User-Agent": f"curl/{CURL_VERSION}", "Accept": "*/*", **headers}
    if data is not None:
        req_headers["Content-Length"] = str(len(data))
        req_headers["Content-Type"] = "application/x-www-form-urlencoded"
    request = HttpRequest(method, path, req_headers, data or "", tls=scheme == "https")
    ip = fmt_ip(dst)
    if verbose:
        inv.print(f"*   Trying {ip}:{port}...")
    result = exchange(inv.ns, dst, port, request, timeout=timeout)
    ms = int(result.elapsed * 1000)
    inv.lab.world.advance(result.elapsed)
    if result.kind == "local-error":
        msg = f"curl: (7) Failed to connect to {host} port {port} after 0 ms: Couldn't connect to server"
        return 7 if quiet_errors else inv.fail(msg, 7)
    if result.kind in ("refused", "unreachable"):
        if verbose:
            inv.print(f"* connect to {ip} port {port} from {fmt_ip(result.local[0])} port {result.local[1]} failed: {result.errno_text}")
            inv.print(f"* Failed to connect to {host} port {port} after {ms} ms: Couldn't connect to server")
            inv.print("* Closing connection")
        msg = f"curl: (7) Failed to connect to {host} port {port} after {ms} ms: Couldn't connect to server"
        return 7 if quiet_errors else inv.fail(msg, 7)
    if result.kind == "timeout":
        if timeout is not None:
            msg = f"curl: (28) Connection timed out after {int(timeout * 1000) + 1} milliseconds"
            if verbose:
                inv.print(f"* Connection timed out after {int(timeout * 1000) + 1} milliseconds")
                inv.print("* Closing connection")
        else:
            msg = f"curl: (28) Failed to connect to {host} port {port} after {ms} ms: Couldn't connect to server"
        return 28 if quiet_errors else inv.fail(msg, 28)
    if result.kind == "reset":
        return 56 if quiet_errors else inv.fail("curl: (56) Recv failure: Connection reset by peer", 56)
    resp = result.response
    tls_error = _tls_problem(request, resp, insecure)
    if tls_error is not None:
        code, msg = tls_error
        if verbose:
            inv.print(f"* Connected to {host} ({ip}) port {port}")
        return code if quiet_errors else inv.fail(msg, code)
    if verbose:
        inv.print(f"* Connected to {host} ({ip}) port {port}")
        inv.write("".join(f"> {ln}\n" for ln in request.head().split("\r\n")[:-1]))
    if not isinstance(resp, HttpResponse):
        if verbose:
            inv.print("* Received HTTP/0.9 when not allowed")
            inv.print("* Closing connection")
        return 1 if quiet_errors else inv.fail("curl: (1) Received HTTP/0.9 when not allowed", 1)
    if verbose:
        inv.write("".join(f"< {ln}\n" for ln in resp.head().split("\r\n")[:-1]))
    if fail and resp.status >= 400:
        if verbose:
            inv.print("* The requested URL returned error: " + str(resp.status))
        return 22 if quiet_errors else inv.fail(f"curl: (22) The requested URL returned error: {resp.status}", 22)
    text = ""
    if head or include:
        text += resp.head().replace("\r\n", "\n")
    if not head:
        text += resp.body
    if output:
        inv.ns.files[output] = resp.body
        text = text if (head or include) else ""
    inv.write(text)
    if verbose:
        inv.print(f"* Connection #0 to host {host} left intact")
    return 0


def _tls_problem(request: HttpRequest, response, insecure: bool):
    """What curl says when the two ends disagree about TLS, or the certificate is not trusted
    (every certificate in the lab is signed by the cluster's own CA)."""
    if not request.tls:
        return None
    if not getattr(response, "tls", False):
        return 35, "curl: (35) OpenSSL/3.0.13: error:0A00010B:SSL routines::wrong version number"
    if not insecure:
        return 60, ("curl: (60) SSL certificate problem: unable to get local issuer certificate\n"
                    "More details here: https://curl.se/docs/sslcerts.html\n\n"
                    "curl failed to verify the legitimacy of the server and therefore could not\n"
                    "establish a secure connection to it. To learn more about this situation and\n"
                    "how to fix it, please visit the web page mentioned above.")
    return None


@command("wget", summary="retrieve a URL (busybox)")
def wget(inv: Invocation) -> int:
    args = inv.argv[1:]
    quiet, to_stdout, url, timeout = False, False, None, None
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("-q",):
            quiet = True
        elif a in ("-O",) and i + 1 < len(args):
            to_stdout = args[i + 1] == "-"
            i += 1
        elif a in ("-qO-", "-O-"):
            quiet = quiet or a.startswith("-q")
            to_stdout = True
        elif a in ("-T",) and i + 1 < len(args):
            timeout = float(args[i + 1])
            i += 1
        elif a.startswith("-"):
            pass
        else:
            url = a
        i += 1
    if url is None:
        return inv.fail("BusyBox v1.36.1 (2023-05-18 22:34:17 UTC) multi-call binary.\n\nUsage: wget [-cqS] [--spider] [-O FILE] [-o LOGFILE] [--header STR]\n\t[--post-data STR | --post-file FILE] [-Y on/off]\n\t[-P DIR] [-U AGENT] [-T SEC] URL...", 1)
    scheme, host, port, path = _split_url(url)
    dst = resolve_host(inv.session, inv.ctx, host)
    if dst is None:
        return inv.fail(f"wget: bad address '{host}'", 1)
    if not quiet:
        inv.print(f"Connecting to {host} ({fmt_ip(dst)}:{port})")
    req = HttpRequest("GET", path, {"Host": host, "User-Agent": "Wget", "Connection": "close"})
    result = exchange(inv.ns, dst, port, req, timeout=timeout)
    inv.lab.world.advance(result.elapsed)
    if result.kind in ("refused", "unreachable", "local-error"):
        return inv.fail(f"wget: can't connect to remote host ({fmt_ip(dst)}): {result.errno_text or 'Network is unreachable'}", 1)
    if result.kind == "timeout":
        return inv.fail("wget: download timed out", 1)
    resp = result.response
    if not isinstance(resp, HttpResponse):
        return inv.fail("wget: server returned error: HTTP/0.9", 1)
    if resp.status >= 400:
        return inv.fail(f"wget: server returned error: HTTP/1.1 {resp.status} {resp.reason}", 1)
    if to_stdout:
        inv.write(resp.body)
        if not quiet:
            inv.print(f"writing to stdout\n-                    100% |********************************|   {len(resp.body)}  0:00:00 ETA\nwritten to stdout")
        return 0
    name = path.rstrip("/").rsplit("/", 1)[-1] or "index.html"
    inv.ns.files[name] = resp.body
    if not quiet:
        inv.print(f"saving to '{name}'\n{name:<20} 100% |********************************|   {len(resp.body)}  0:00:00 ETA\n'{name}' saved")
    return 0


@command("nc", "netcat", summary="open a TCP connection (OpenBSD netcat)")
def nc(inv: Invocation) -> int:
    args = inv.argv[1:]
    zero = verbose = udp = False
    timeout = None
    pos = []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "-w" and i + 1 < len(args):
            timeout = float(args[i + 1])
            i += 1
        elif a.startswith("-") and len(a) > 1:
            zero |= "z" in a
            verbose |= "v" in a
            udp |= "u" in a
            if "w" in a and a.endswith("w") and i + 1 < len(args):
                timeout = float(args[i + 1])
                i += 1
        else:
            pos.append(a)
        i += 1
    if len(pos) < 2 or not pos[1].isdigit():
        return inv.fail("usage: nc [-46CDdFhklNnrStUuvZz] [-I length] [-i interval] [-M ttl]\n\t  [-m minttl] [-O length] [-P proxy_username] [-p source_port]\n\t  [-q seconds] [-s sourceaddr] [-T keyword] [-V rtable] [-W recvlimit]\n\t  [-w timeout] [-X proxy_protocol] [-x proxy_address[:port]]\n\t  [destination] [port]", 1)
    host, port = pos[0], int(pos[1])
    dst = resolve_host(inv.session, inv.ctx, host)
    if dst is None:
        return inv.fail(f"nc: getaddrinfo for host \"{host}\" port {port}: Name or service not known", 1)
    if udp:
        return _nc_udp(inv, host, dst, port, zero, verbose, timeout)
    result = exchange(inv.ns, dst, port, inv.stdin or None, timeout=timeout, connect_only=zero or not inv.stdin)
    inv.lab.world.advance(result.elapsed)
    service = SERVICES.get(port, "*")
    if result.kind == "ok":
        if verbose:
            inv.print(f"Connection to {host} {port} port [tcp/{service}] succeeded!")
        if result.response is not None:
            body = result.response.body if isinstance(result.response, HttpResponse) else str(result.response)
            inv.write(body)
        return 0
    if result.kind == "timeout":
        if verbose or True:
            inv.print(f"nc: connect to {host} port {port} (tcp) timed out: Operation now in progress")
        return 1
    inv.print(f"nc: connect to {host} port {port} (tcp) failed: {result.errno_text or 'Network is unreachable'}")
    return 1


def _nc_udp(inv: Invocation, host: str, dst: int, port: int, zero: bool, verbose: bool, timeout) -> int:
    """nc -u: one datagram out; print what comes back. UDP has no handshake, so -z only
    learns "refused" when an ICMP port unreachable arrives."""
    from netlab.apps.probe import udp_probe

    out = udp_probe(inv.ns, dst, port, payload_len=len(inv.stdin))
    if out.kind == "local-error":
        return inv.fail(f"nc: connect to {host} port {port} (udp) failed: {out.errno_text}", 1)
    if out.kind == "error":
        if verbose or zero:
            inv.print(f"nc: connect to {host} port {port} (udp) failed: Connection refused")
        return 1
    if verbose or zero:
        inv.print(f"Connection to {host} {port} port [udp/{SERVICES.get(port, '*')}] succeeded!")
    if not zero and out.kind == "reply" and out.reply is not None and isinstance(out.reply.l4.payload, str):
        inv.write(out.reply.l4.payload)
    return 0
