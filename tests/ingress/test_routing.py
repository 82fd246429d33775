"""Ingress matching rules, decided by netlab.apps.ingress.routing alone."""
import pytest

from netlab.apps.ingress.routing import DEFAULT_SERVER, build_routes, host_matches, path_matches, served


def ing(name, rules=None, default=None, cls="nginx", tls=None, annotations=None, created=0):
    spec = {"rules": rules or []}
    if cls:
        spec["ingressClassName"] = cls
    if default:
        spec["defaultBackend"] = {"service": {"name": default, "port": {"number": 80}}}
    if tls:
        spec["tls"] = tls
    meta = {"name": name, "namespace": "default", "creationTimestamp": created}
    if annotations:
        meta["annotations"] = annotations
    return {"kind": "Ingress", "metadata": meta, "spec": spec}


def rule(host, *paths):
    r = {"http": {"paths": [{"path": p, "pathType": t, "backend": {"service": {"name": svc, "port": {"number": 80}}}}
                            for p, t, svc in paths]}}
    if host:
        r["host"] = host
    return r


def svc_for(routes, host, path):
    b = routes.route(host, path).backend
    return b.service if b is not None else None


@pytest.mark.parametrize("path,expected", [
    ("/foo", True), ("/foo/", True), ("/foo/bar", True), ("/foobar", False), ("/fo", False), ("/", False)])
def test_prefix_matches_whole_path_elements(path, expected):
    assert path_matches("Prefix", "/foo", path) is expected
    assert path_matches("Prefix", "/foo/", path) is expected  # a trailing slash in the rule is ignored


@pytest.mark.parametrize("path,expected", [("/foo", True), ("/foo/", False), ("/foobar", False), ("/foo/bar", False)])
def test_exact_matches_only_itself(path, expected):
    assert path_matches("Exact", "/foo", path) is expected


def test_implementation_specific_is_nginx_string_prefix():
    assert path_matches("ImplementationSpecific", "/foo", "/foobar")
    routes = build_routes([ing("a", [rule("h", ("/foo", "ImplementationSpecific", "impl"))])])
    assert svc_for(routes, "h", "/foobar") == "impl"
    assert svc_for(routes, "h", "/fo") is None


def test_prefix_through_the_routes_foo_vs_foo_slash_vs_foobar():
    routes = build_routes([ing("a", [rule("h", ("/foo", "Prefix", "foo"), ("/", "Prefix", "root"))])])
    assert svc_for(routes, "h", "/foo") == "foo"
    assert svc_for(routes, "h", "/foo/") == "foo"
    assert svc_for(routes, "h", "/foo/bar?x=1") == "foo"
    assert svc_for(routes, "h", "/foobar") == "root"


def test_longest_match_wins():
    routes = build_routes([ing("a", [rule("h", ("/", "Prefix", "root"), ("/a", "Prefix", "a"), ("/a/b", "Prefix", "ab"))])])
    assert svc_for(routes, "h", "/a/b/c") == "ab"
    assert svc_for(routes, "h", "/a/bc") == "a"
    assert svc_for(routes, "h", "/x") == "root"


def test_exact_beats_prefix_on_a_tie():
    for order in ([("/foo", "Prefix", "prefix"), ("/foo", "Exact", "exact")],
                  [("/foo", "Exact", "exact"), ("/foo", "Prefix", "prefix")]):
        routes = build_routes([ing("a", [rule("h", *order)])])
        assert svc_for(routes, "h", "/foo") == "exact"
        assert svc_for(routes, "h", "/foo/x") == "prefix"


def test_wildcard_host_matches_exactly_one_label():
    assert host_matches("*.foo.com", "bar.foo.com")
    assert not host_matches("*.foo.com", "baz.bar.foo.com")
    assert not host_matches("*.foo.com", "foo.com")
    routes = build_routes([ing("a", [rule("*.foo.com", ("/", "Prefix", "wild")), rule("exact.foo.com", ("/", "Prefix", "exact"))])])
    assert svc_for(routes, "bar.foo.com", "/") == "wild"
    assert svc_for(routes, "BAR.foo.com:8080", "/") == "wild"  # case and port do not matter
    assert svc_for(routes, "exact.foo.com", "/") == "exact"  # an exact host beats the wildcard
    assert routes.server_for("baz.bar.foo.com").hostname == DEFAULT_SERVER
    assert routes.servers["*.foo.com"].server_name == r"~^(?<subdomain>[\w-]+)\.foo\.com$"


def test_default_backend_catches_unmatched_hosts_and_paths():
    routes = build_routes([ing("a", [rule("h", ("/app", "Prefix", "app"))], default="fallback")])
    assert svc_for(routes, "h", "/app") == "app"
    assert svc_for(routes, "h", "/other") == "fallback"  # the host's root is the Ingress's defaultBackend
    assert svc_for(routes, "unknown.example", "/") == "fallback"
    no_default = build_routes([ing("a", [rule("h", ("/app", "Prefix", "app"))])])
    assert svc_for(no_default, "h", "/other") is None  # the controller's own 404


def test_hostless_rule_goes_to_the_default_server():
    routes = build_routes([ing("a", [rule(None, ("/x", "Prefix", "x"))])])
    assert svc_for(routes, "anything", "/x/1") == "x"


def test_older_ingress_wins_a_conflict():
    routes = build_routes([ing("new", [rule("h", ("/", "Prefix", "new"))], created=10),
                           ing("old", [rule("h", ("/", "Prefix", "old"))], created=1)])
    assert svc_for(routes, "h", "/") == "old"


def test_tls_uses_the_secret_only_if_it_exists():
    tls = [{"hosts": ["s.example.com"], "secretName": "cert"}]
    with_secret = build_routes([ing("a", [rule("s.example.com", ("/", "Prefix", "s"))], tls=tls)], lambda ns, n: n == "cert")
    assert with_secret.servers["s.example.com"].tls_secret == "default/cert"
    without = build_routes([ing("a", [rule("s.example.com", ("/", "Prefix", "s"))], tls=tls)])
    assert without.servers["s.example.com"].tls and not without.servers["s.example.com"].tls_secret  # fake certificate


def test_use_regex_makes_every_location_of_the_host_a_regex():
    routes = build_routes([ing("a", [rule("h", ("/api/v[0-9]+", "ImplementationSpecific", "api"), ("/", "Prefix", "root"))],
                               annotations={"nginx.ingress.kubernetes.io/use-regex": "true"})])
    assert svc_for(routes, "h", "/API/v2/users") == "api"
    assert svc_for(routes, "h", "/api/vx") == "root"


def test_class_selection():
    classes = [{"metadata": {"name": "nginx"}, "spec": {"controller": "k8s.io/ingress-nginx"}},
               {"metadata": {"name": "traefik"}, "spec": {"controller": "traefik.io/ingress-controller"}}]
    assert served(ing("a", cls="nginx"), classes)
    assert not served(ing("a", cls="traefik"), classes)  # another controller's
    assert not served(ing("a", cls="missing"), classes)  # no such class: ignored
    assert not served(ing("a", cls=None), classes)  # no class: ignored (--watch-ingress-without-class=false)
    assert served(ing("a", cls=None, annotations={"kubernetes.io/ingress.class": "nginx"}), classes)
