"""The Kubernetes DNS specification (cluster-dns schema 1.1.0), answered from the API store.

`ClusterDns.answer(qname, qtype)` returns (rcode, answers, authority): A for ClusterIP
Services, A per ready endpoint for headless ones, `hostname.subdomain` pod records, SRV for
named ports, PTR, CNAME for ExternalName, the dns-version TXT, NXDOMAIN with the zone's SOA
for unknown names, and NODATA (NOERROR, no answer, SOA) for known names without the type.
"""
from __future__ import annotations

import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from netlab.net.addr import AddrError, parse_ip

NOERROR, NXDOMAIN, SERVFAIL, REFUSED = 0, 3, 2, 5
SCHEMA_VERSION = "1.1.0"


def rr(name: str, ttl: int, rtype: str, *values: str) -> dns.rrset.RRset:
    return dns.rrset.from_text(name, ttl, "IN", rtype, *values)


class ClusterDns:
    def __init__(self, api, zone: str = "cluster.local", ttl: int = 5, pods: str = "insecure") -> None:
        self.api = api
        self.zone = zone.rstrip(".") + "."
        self.ttl = ttl
        self.pods = pods

    def soa(self) -> dns.rrset.RRset:
        serial = 1700000000
        return rr(self.zone, self.ttl, "SOA", f"ns.dns.{self.zone} hostmaster.{self.zone} {serial} 7200 1800 86400 {self.ttl}")

    def handles(self, qname: str) -> bool:
        q = qname.lower()
        return q == self.zone or q.endswith("." + self.zone) or q.endswith(".in-addr.arpa.")

    # -- answering -------------------------------------------------------------
    def answer(self, qname: str, qtype: str):
        q = qname.lower()
        if q.endswith(".in-addr.arpa."):
            return self._ptr(q, qtype)
        if q == f"dns-version.{self.zone}":
            if qtype in ("TXT", "ANY"):
                return NOERROR, [rr(q, self.ttl, "TXT", f'"{SCHEMA_VERSION}"')], []
            return NOERROR, [], [self.soa()]
        labels = q[: -len(self.zone) - 1].split(".") if q != self.zone else []
        if not labels:
            return NOERROR, ([self.soa()] if qtype in ("SOA", "ANY") else []), ([] if qtype in ("SOA", "ANY") else [self.soa()])
        if labels[-1] == "svc":
            return self._service(q, labels[:-1], qtype)
        if labels[-1] == "pod":
            return self._pod(q, labels[:-1], qtype)
        return NXDOMAIN, [], [self.soa()]

    def _records(self, q: str, qtype: str, found: dict[str, list[str]]):
        """found: type → values that exist at this name (an existing name with none of the
        asked type is NODATA)."""
        if qtype in found and found[qtype]:
            return NOERROR, [rr(q, self.ttl, qtype, *found[qtype])], []
        if "CNAME" in found and found["CNAME"]:
            return NOERROR, [rr(q, self.ttl, "CNAME", *found["CNAME"])], []
        return NOERROR, [], [self.soa()]

    def _namespace_exists(self, ns: str) -> bool:
        return self.api.get("Namespace", "", ns) is not None

    def _service(self, q: str, labels: list[str], qtype: str):
        if not labels:
            return NOERROR, [], [self.soa()]  # svc.<zone> exists
        ns = labels[-1]
        if not self._namespace_exists(ns):
            return NXDOMAIN, [], [self.soa()]
        if len(labels) == 1:
            return NOERROR, [], [self.soa()]  # <ns>.svc.<zone>
        name = labels[-2]
        svc = self.api.get("Service", ns, name)
        if svc is None:
            return NXDOMAIN, [], [self.soa()]
        spec = svc.get("spec", {})
        base = f"{name}.{ns}.svc.{self.zone}"
        rest = labels[:-2]
        endpoints = self._endpoints(ns, name)
        if not rest:
            if spec.get("type") == "ExternalName":
                return self._records(q, qtype, {"CNAME": [spec.get("externalName", "").rstrip(".") + "."]})
            if spec.get("clusterIP") == "None":
                return self._records(q, qtype, {"A": sorted({ip for ip, _, _ in endpoints}, key=parse_ip)})
            return self._records(q, qtype, {"A": [spec["clusterIP"]]})
        if len(rest) == 2 and rest[0].startswith("_") and rest[1].startswith("_"):
            port_name, proto = rest[0][1:], rest[1][1:].upper()
            ports = [p for p in spec.get("ports", []) if (p.get("name") or "") == port_name and p.get("protocol", "TCP") == proto]
            if not ports:
                return NXDOMAIN, [], [self.soa()]
            if spec.get("clusterIP") == "None":
                targets = [(self._endpoint_host(ip, host) + "." + base, port)
                           for ip, host, port in self._endpoints(ns, name, port_name, proto)]
            else:
                targets = [(base, ports[0]["port"])]
            weight = 100 // max(len(targets), 1)
            return self._records(q, qtype, {"SRV": [f"0 {weight} {port} {t}" for t, port in sorted(set(targets))]})
        if len(rest) == 1 and spec.get("clusterIP") == "None":
            for ip, host, _ in endpoints:
                if rest[0] == self._endpoint_host(ip, host):
                    return self._records(q, qtype, {"A": [ip]})
        return NXDOMAIN, [], [self.soa()]

    @staticmethod
    def _endpoint_host(ip: str, hostname: str | None) -> str:
        return hostname or ip.replace(".", "-")

    def _endpoints(self, ns: str, name: str, port_name: str | None = None,
                   proto: str = "TCP") -> list[tuple[str, str | None, int]]:
        """(ip, hostname, port) per ready address; `port` is the named port's when one is given.
        A pod's own hostname names its record only when its subdomain is this Service (the
        endpoints controller's rule); otherwise the record is the dashed IP."""
        ep = self.api.get("Endpoints", ns, name) or {}
        out = []
        for subset in ep.get("subsets") or []:
            ports = subset.get("ports") or [{}]
            if port_name is not None:
                ports = [p for p in ports if (p.get("name") or "") == port_name and p.get("protocol", "TCP") == proto]
                if not ports:
                    continue
            for a in subset.get("addresses", []):
                host = a.get("hostname")
                ref = a.get("targetRef") or {}
                if host and ref.get("kind") == "Pod":
                    pod = self.api.get("Pod", ref.get("namespace", ns), ref.get("name", ""))
                    if pod is not None and pod.get("spec", {}).get("subdomain") != name:
                        host = None
                out.append((a["ip"], host, ports[0].get("port", 0)))
        return out

    def _pod(self, q: str, labels: list[str], qtype: str):
        if len(labels) == 1:
            return (NOERROR if self._namespace_exists(labels[0]) else NXDOMAIN), [], [self.soa()]
        if len(labels) != 2 or self.pods == "disabled":
            return NXDOMAIN, [], [self.soa()]
        dashed, ns = labels
        try:
            ip = parse_ip(dashed.replace("-", "."))
        except AddrError:
            return NXDOMAIN, [], [self.soa()]
        if self.pods == "verified" and not any(p.get("status", {}).get("podIP") == dashed.replace("-", ".")
                                                for p in self.api.list("Pod", ns)):
            return NXDOMAIN, [], [self.soa()]
        return self._records(q, qtype, {"A": [dashed.replace("-", ".")]} if ip else {})

    def _ptr(self, q: str, qtype: str):
        parts = q[: -len(".in-addr.arpa.")].split(".")
        if len(parts) != 4:
            return NXDOMAIN, [], [self.soa()]
        ip = ".".join(reversed(parts))
        for svc in self.api.list("Service"):
            meta, spec = svc["metadata"], svc.get("spec", {})
            ns, name = meta.get("namespace", "default"), meta["name"]
            if spec.get("clusterIP") == ip:
                return self._records(q, qtype, {"PTR": [f"{name}.{ns}.svc.{self.zone}"]})
            for ep_ip, host, _ in self._endpoints(ns, name):
                if ep_ip == ip and spec.get("clusterIP") == "None":
                    return self._records(q, qtype, {"PTR": [f"{self._endpoint_host(ep_ip, host)}.{name}.{ns}.svc.{self.zone}"]})
        return None  # not ours: fall through to the next plugin (forward)
