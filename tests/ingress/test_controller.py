"""The ingress-nginx controller in a lab: requests from the `client` machine through the
NodePort, as real packets to the controller pod and from it to the Service's endpoints."""
from ingresslab import curl

NODE = "192.168.0.11"
HTTP = f"http://{NODE}:30799"


def echoed(output: str) -> dict:
    """The request headers an echoserver printed."""
    part = output.split("Request Headers:\n", 1)[1].split("\n\n", 1)[0]
    return dict(line.strip().split("=", 1) for line in part.splitlines())


def hostname(output: str) -> str:
    return output.split("Hostname: ", 1)[1].split("\n", 1)[0]


def test_host_and_path_reach_the_right_service(ilab):
    r = curl(ilab, f"-s -H 'Host: a.example.com' {HTTP}/abc")
    assert r.exit_code == 0 and hostname(r.output).startswith("web-")
    assert hostname(curl(ilab, f"-s -H 'Host: a.example.com' {HTTP}/api").output).startswith("api-")
    assert hostname(curl(ilab, f"-s -H 'Host: a.example.com' {HTTP}/api/v1/x").output).startswith("api-")
    assert hostname(curl(ilab, f"-s -H 'Host: a.example.com' {HTTP}/apix").output).startswith("web-")  # not /api
    assert hostname(curl(ilab, f"-s -H 'Host: a.example.com' {HTTP}/exact").output).startswith("api-")
    assert hostname(curl(ilab, f"-s -H 'Host: a.example.com' {HTTP}/exact/more").output).startswith("web-")


def test_wildcard_host_depth(ilab):
    assert hostname(curl(ilab, f"-s -H 'Host: x.wild.example.com' {HTTP}/").output).startswith("api-")
    r = curl(ilab, f"-s -i -H 'Host: y.x.wild.example.com' {HTTP}/")
    assert r.output.startswith("HTTP/1.1 404 Not Found")


def test_unknown_host_gets_the_default_server_404(ilab):
    r = curl(ilab, f"-s -i {HTTP}/")
    assert r.output.startswith("HTTP/1.1 404 Not Found")
    assert "<hr><center>nginx</center>" in r.output and "Content-Length: 146" in r.output


def test_backend_without_endpoints_is_503(ilab):
    r = curl(ilab, f"-s -i -H 'Host: a.example.com' {HTTP}/down")
    assert r.output.startswith("HTTP/1.1 503 Service Temporarily Unavailable")


def test_unknown_class_is_ignored_and_gets_no_address(ilab):
    assert curl(ilab, f"-s -i -H 'Host: b.example.com' {HTTP}/").output.startswith("HTTP/1.1 404")
    rows = {line.split()[0]: line for line in ilab.sh("kubectl get ingress").output.splitlines()[1:]}
    assert NODE not in rows["other-class"] and NODE in rows["web"]
    assert ilab.sh("kubectl get ingress").output.splitlines()[0].split() == ["NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE"]


def test_forwarded_headers_seen_by_the_echo_backend(ilab):
    h = echoed(curl(ilab, f"-s -H 'Host: a.example.com' -H 'X-Forwarded-For: 1.2.3.4' {HTTP}/abc").output)
    # externalTrafficPolicy Cluster: kube-proxy masquerades, so nginx sees a node address, not the client
    assert h["x-real-ip"] == h["x-forwarded-for"] and h["x-forwarded-for"].startswith(("10.244.", "192.168.0."))
    assert h["x-original-forwarded-for"] == "1.2.3.4"  # an incoming X-Forwarded-For is not trusted
    assert h["x-forwarded-host"] == "a.example.com" and h["x-forwarded-proto"] == "http" and h["x-forwarded-port"] == "80"
    assert len(h["x-request-id"]) == 32


def test_client_address_preserved_with_local_traffic_policy(fresh):
    fresh.sh("kubectl patch svc ingress-nginx-controller -n ingress-nginx -p '{\"spec\":{\"externalTrafficPolicy\":\"Local\"}}'")
    h = echoed(curl(fresh, f"-s -H 'Host: a.example.com' {HTTP}/abc").output)
    assert h["x-forwarded-for"] == "203.0.113.10"


def test_proxy_goes_to_endpoints_round_robin(ilab):
    names = {hostname(curl(ilab, f"-s -H 'Host: a.example.com' {HTTP}/rr").output) for _ in range(4)}
    assert len(names) == 2  # both web pods, picked by the controller itself
    r = curl(ilab, f"-s -H 'Host: a.example.com' {HTTP}/abc")
    controller_ip = [line.split()[5] for line in ilab.sh("kubectl get pods -n ingress-nginx -o wide").output.splitlines()[1:]][0]
    assert f"client_address={controller_ip}" in r.output  # from the controller pod, not through the ClusterIP


def test_tls_terminated_at_the_controller(ilab):
    r = curl(ilab, f"-s -k --resolve secure.example.com:31522:{NODE} https://secure.example.com:31522/x")
    assert r.exit_code == 0 and "request_scheme=http" in r.output  # plain HTTP to the backend
    assert echoed(r.output)["x-forwarded-proto"] == "https"
    assert curl(ilab, f"-s --resolve secure.example.com:31522:{NODE} https://secure.example.com:31522/").exit_code == 60
    redirect = curl(ilab, f"-s -i -H 'Host: secure.example.com' {HTTP}/x")
    assert redirect.output.startswith("HTTP/1.1 308 Permanent Redirect")
    assert "Location: https://secure.example.com/x" in redirect.output
    # a host with no tls section still answers https, with the controller's fake certificate
    r = curl(ilab, f"-s -k --resolve a.example.com:31522:{NODE} https://a.example.com:31522/abc")
    assert r.exit_code == 0 and hostname(r.output).startswith("web-")
    plain = curl(ilab, f"-s -i -H 'Host: a.example.com' http://{NODE}:31522/")
    assert "400 The plain HTTP request was sent to HTTPS port" in plain.output


def test_nginx_conf_and_reload(fresh):
    pod = fresh.sh("kubectl get pods -n ingress-nginx -o name").output.strip().split("/", 1)[1]
    conf = fresh.sh(f"kubectl exec -n ingress-nginx {pod} -- cat /etc/nginx/nginx.conf").output
    assert "## start server a.example.com" in conf and "server_name a.example.com ;" in conf
    assert "listen 80;" in conf and "location /api/ {" in conf and "location = /api {" in conf
    assert "location = /exact {" in conf
    for line in ('set $namespace      "default";', 'set $ingress_name   "web";', 'set $service_name   "api";',
                 'set $service_port   "http";', 'set $location_path  "/api";', 'set $proxy_upstream_name "default-api-http";'):
        assert line in conf
    assert "upstream upstream_balancer {" in conf
    assert r"server_name ~^(?<subdomain>[\w-]+)\.wild\.example\.com$ ;" in conf
    assert "b.example.com" not in conf  # the traefik Ingress is not ours
    assert "ssl_certificate     /etc/ingress-controller/ssl/default-a-tls.pem;" in conf
    logs = fresh.sh(f"kubectl logs -n ingress-nginx {pod}").output
    reloads = logs.count("Backend successfully reloaded")
    assert reloads >= 1
    fresh.cluster.apply({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "late"},
                         "spec": {"ingressClassName": "nginx", "rules": [{"host": "late.example.com", "http": {"paths": [
                             {"path": "/", "pathType": "Prefix",
                              "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}]}})
    assert "## start server late.example.com" in fresh.sh(f"kubectl exec -n ingress-nginx {pod} -- cat /etc/nginx/nginx.conf").output
    logs = fresh.sh(f"kubectl logs -n ingress-nginx {pod}").output
    assert logs.count("Backend successfully reloaded") == reloads + 1
    assert hostname(curl(fresh, f"-s -H 'Host: late.example.com' {HTTP}/").output).startswith("web-")
    last = fresh.sh(f"kubectl logs -n ingress-nginx {pod} --tail=1").output
    assert '"GET / HTTP/1.1" 200' in last and "[default-web-80] []" in last and "curl/8.5.0" in last


def test_describe_ingress(ilab):
    out = ilab.sh("kubectl describe ingress web").output
    assert out.startswith("Name:             web\n")
    assert "Ingress Class:    nginx" in out and "a-tls terminates secure.example.com" in out
    assert "/down    empty:80 (<none>)" in out
    assert ilab.sh("kubectl get ingressclass").output.splitlines()[1].split()[:3] == ["nginx", "k8s.io/ingress-nginx", "<none>"]


def test_an_objective_checked_on_a_copy_of_the_lab_is_served_by_the_copy(fresh):
    """Objectives run on a deep copy of the lab: the copy's controller must answer, and the
    request must be logged in the copy, not in the learner's world."""
    from netlab.levels.objectives import Objective, check_all

    key = next(k for k in fresh.cluster.pod_ns if k.startswith("ingress-nginx/"))
    logged = len(fresh.cluster.pod_logs(key))
    (r,) = check_all(fresh, [Objective("http client http://192.168.0.11:30799/abc -H 'Host: a.example.com' "
                                       "expects 200 body ~ 'Hostname: web-'")])
    assert r.passed, r.detail
    assert len(fresh.cluster.pod_logs(key)) == logged
