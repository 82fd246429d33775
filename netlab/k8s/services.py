"""Services and their endpoints, as the API server and the endpoints controllers keep them.

- Admission (the API server's REST strategy): defaults (type, protocol, targetPort,
  sessionAffinity, policies), ClusterIP allocation from the service CIDR (the
  `kubernetes` Service takes the first address; dynamic allocation prefers the upper
  band as Kubernetes does since 1.26), NodePort allocation in 30000-32767, immutable
  clusterIP — with the API server's own error words.
- The endpoints controller: Endpoints and EndpointSlices from the pods a selector
  matches, targetPort by number or by container-port name, ready and not-ready
  addresses from the pods' Ready condition.
"""
from __future__ import annotations

import copy

from netlab.k8s.api import ADDED, DELETED, MODIFIED, ApiError, ApiStore, Event
from netlab.net.addr import AddrError, fmt_ip, fmt_prefix, in_prefix, parse_ip

NODEPORT_RANGE = (30000, 32767)
SERVICE_TYPES = ("ClusterIP", "NodePort", "LoadBalancer", "ExternalName")


def selector_matches(selector: dict, labels: dict) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


class ServiceRegistry:
    """The API server's Service strategy: defaulting, allocation, immutability."""

    def __init__(self, api: ApiStore, service_cidr: tuple[int, int], rng) -> None:
        self.api = api
        self.cidr = service_cidr
        self.rng = rng
        self.ips: dict[int, str] = {}  # allocated ClusterIP -> ns/name
        self.node_ports: dict[tuple[int, str], str] = {}  # (port, protocol) -> ns/name
        api.admit("Service", self.admit)
        api.on_release("Service", self.release)

    # -- allocation ------------------------------------------------------------
    def _range_text(self) -> str:
        return fmt_prefix(*self.cidr)

    def allocate_ip(self, name: str, key: str, requested: str | None) -> str:
        net, plen = self.cidr
        size = 1 << (32 - plen)
        if requested:
            try:
                ip = parse_ip(requested)
            except AddrError:
                raise ApiError(f'The Service "{name}" is invalid: spec.clusterIPs[0]: Invalid value: "{requested}": '
                               "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)") from None
            if not in_prefix(ip, net, plen) or ip in (net, net + size - 1):
                raise ApiError(f'The Service "{name}" is invalid: spec.clusterIPs: Invalid value: []string{{"{requested}"}}: '
                               f"failed to allocate IP {requested}: the provided IP ({requested}) is not in the valid range. "
                               f"The range of valid IPs is {self._range_text()}")
            if ip in self.ips:
                raise ApiError(f'The Service "{name}" is invalid: spec.clusterIPs: Invalid value: []string{{"{requested}"}}: '
                               f"failed to allocate IP {requested}: provided IP is already allocated")
            self.ips[ip] = key
            return requested
        if key == "default/kubernetes" and net + 1 not in self.ips:
            self.ips[net + 1] = key
            return fmt_ip(net + 1)
        # Kubernetes splits the range: dynamic allocation takes from the upper band first.
        lower = min(max(16, size // 16), 256)
        for band in ((lower, size - 1), (1, size - 1)):
            free = band[1] - band[0] - sum(1 for ip in self.ips if band[0] <= ip - net < band[1])
            if free <= 0:
                continue
            for _ in range(64):
                ip = net + self.rng.randrange(*band)
                if ip not in self.ips:
                    self.ips[ip] = key
                    return fmt_ip(ip)
            for offset in range(*band):
                if net + offset not in self.ips:
                    self.ips[net + offset] = key
                    return fmt_ip(net + offset)
        raise ApiError(f'Internal error occurred: failed to allocate a serviceIP: range is full')

    def allocate_node_port(self, name: str, key: str, index: int, proto: str, requested) -> int:
        lo, hi = NODEPORT_RANGE
        if requested:
            port = int(requested)
            if not lo <= port <= hi:
                raise ApiError(f'The Service "{name}" is invalid: spec.ports[{index}].nodePort: Invalid value: {port}: '
                               f"provided port is not in the valid range. The range of valid ports is {lo}-{hi}")
            owner = self.node_ports.get((port, proto))
            if owner is not None and owner != key:
                raise ApiError(f'The Service "{name}" is invalid: spec.ports[{index}].nodePort: Invalid value: {port}: '
                               "provided port is already allocated")
            self.node_ports[(port, proto)] = key
            return port
        for _ in range(256):
            port = self.rng.randint(lo, hi)
            if (port, proto) not in self.node_ports:
                self.node_ports[(port, proto)] = key
                return port
        raise ApiError("Internal error occurred: failed to allocate a nodePort: range is full")

    # -- admission -------------------------------------------------------------
    def admit(self, svc: dict, old: dict | None) -> None:
        meta = svc["metadata"]
        name = meta["name"]
        key = f"{meta.get('namespace', 'default')}/{name}"
        spec = svc.setdefault("spec", {})
        stype = spec.setdefault("type", "ClusterIP")
        if stype not in SERVICE_TYPES:
            raise ApiError(f'The Service "{name}" is invalid: spec.type: Unsupported value: "{stype}": supported values: '
                           '"ClusterIP", "ExternalName", "LoadBalancer", "NodePort"')
        ports = spec.get("ports") or []
        if stype != "ExternalName" and not ports and spec.get("clusterIP") != "None":
            raise ApiError(f'The Service "{name}" is invalid: spec.ports: Required value')
        for i, p in enumerate(ports):
            p.setdefault("protocol", "TCP")
            if "port" not in p:
                raise ApiError(f'The Service "{name}" is invalid: spec.ports[{i}].port: Required value')
            p.setdefault("targetPort", p["port"])
            if len(ports) > 1 and not p.get("name"):
                raise ApiError(f'The Service "{name}" is invalid: spec.ports[{i}].name: Required value')
        if stype == "ExternalName":
            if not spec.get("externalName"):
                raise ApiError(f'The Service "{name}" is invalid: spec.externalName: Required value')
            return
        spec.setdefault("sessionAffinity", "None")
        for field_name, allowed in (("sessionAffinity", ("ClientIP", "None")), ("externalTrafficPolicy", ("Cluster", "Local")),
                                    ("internalTrafficPolicy", ("Cluster", "Local"))):
            value = spec.get(field_name)
            if value is not None and value not in allowed:
                raise ApiError(f'The Service "{name}" is invalid: spec.{field_name}: Unsupported value: "{value}": '
                               f"supported values: {', '.join(repr(a).replace(chr(39), chr(34)) for a in allowed)}")
        spec.setdefault("internalTrafficPolicy", "Cluster")
        if stype in ("NodePort", "LoadBalancer"):
            spec.setdefault("externalTrafficPolicy", "Cluster")
        elif "externalTrafficPolicy" in spec and old is None:
            raise ApiError(f'The Service "{name}" is invalid: spec.externalTrafficPolicy: Invalid value: '
                           f'"{spec["externalTrafficPolicy"]}": may only be set for externally-accessible services')
        if spec.get("sessionAffinity") == "ClientIP":
            spec.setdefault("sessionAffinityConfig", {"clientIP": {"timeoutSeconds": 10800}})
        # ClusterIP: immutable once set.
        if old is not None:
            old_ip = old.get("spec", {}).get("clusterIP")
            new_ip = spec.get("clusterIP")
            if new_ip not in (None, "", old_ip):
                raise ApiError(f'The Service "{name}" is invalid: spec.clusterIPs[0]: Invalid value: []string{{"{new_ip}"}}: '
                               "may not change once set")
            spec["clusterIP"] = old_ip
            spec["clusterIPs"] = old.get("spec", {}).get("clusterIPs", [old_ip])
        else:
            requested = spec.get("clusterIP")
            if requested == "None":
                spec["clusterIPs"] = ["None"]
            else:
                spec["clusterIP"] = self.allocate_ip(name, key, requested or None)
                spec["clusterIPs"] = [spec["clusterIP"]]
        spec.setdefault("ipFamilies", ["IPv4"])
        spec.setdefault("ipFamilyPolicy", "SingleStack")
        # NodePorts: keep the ones already held, allocate the rest.
        old_ports = {(p.get("port"), p.get("protocol", "TCP")): p.get("nodePort")
                     for p in (old or {}).get("spec", {}).get("ports", [])}
        if stype in ("NodePort", "LoadBalancer"):
            taken: list[tuple[int, str]] = []
            try:
                for i, p in enumerate(ports):
                    requested = p.get("nodePort") or old_ports.get((p["port"], p["protocol"]))
                    p["nodePort"] = self.allocate_node_port(name, key, i, p["protocol"], requested)
                    taken.append((p["nodePort"], p["protocol"]))
            except ApiError:
                for t in taken:
                    if old_ports.get(t) is None:
                        self.node_ports.pop(t, None)
                raise
        else:
            for p in ports:
                p.pop("nodePort", None)
        if stype == "LoadBalancer":
            svc.setdefault("status", {}).setdefault("loadBalancer", {})
        # A LoadBalancer with externalTrafficPolicy Local gets a health-check NodePort, which the
        # cloud's health checker asks (kube-proxy answers it) and kube-proxy ACCEPTs in filter.
        old_health = (old or {}).get("spec", {}).get("healthCheckNodePort")
        if stype == "LoadBalancer" and spec.get("externalTrafficPolicy") == "Local":
            spec["healthCheckNodePort"] = self.allocate_node_port(name, key, 0, "TCP",
                                                                  spec.get("healthCheckNodePort") or old_health)
        else:
            spec.pop("healthCheckNodePort", None)
        if old_health and old_health != spec.get("healthCheckNodePort") and self.node_ports.get((old_health, "TCP")) == key:
            del self.node_ports[(old_health, "TCP")]
        # Give back what the update no longer holds.
        if old is not None:
            held = {(p.get("nodePort"), p.get("protocol", "TCP")) for p in ports if p.get("nodePort")}
            for p in old.get("spec", {}).get("ports", []):
                t = (p.get("nodePort"), p.get("protocol", "TCP"))
                if p.get("nodePort") and t not in held and self.node_ports.get(t) == key:
                    del self.node_ports[t]

    def release(self, svc: dict) -> None:
        key = f"{svc['metadata'].get('namespace', 'default')}/{svc['metadata']['name']}"
        ip = svc.get("spec", {}).get("clusterIP")
        if ip and ip != "None":
            self.ips.pop(parse_ip(ip), None)
        for p in svc.get("spec", {}).get("ports", []):
            if p.get("nodePort"):
                self.node_ports.pop((p["nodePort"], p.get("protocol", "TCP")), None)
        if svc.get("spec", {}).get("healthCheckNodePort"):
            self.node_ports.pop((svc["spec"]["healthCheckNodePort"], "TCP"), None)


class EndpointsController:
    """Writes Endpoints and EndpointSlices for every Service that has a selector."""

    def __init__(self, api: ApiStore) -> None:
        self.api = api
        api.watch({"Service"}, self.on_service)
        api.watch({"Pod"}, self.on_pod)

    def on_service(self, event: Event) -> None:
        svc = event.obj
        ns, name = svc["metadata"].get("namespace", "default"), svc["metadata"]["name"]
        if event.type == DELETED:
            for kind, n in (("Endpoints", name), ("EndpointSlice", self.slice_name(svc))):
                if self.api.get(kind, ns, n) is not None:
                    self.api.delete(kind, ns, n)
            return
        self.sync(svc)

    def on_pod(self, event: Event) -> None:
        pod = event.obj
        ns = pod["metadata"].get("namespace", "default")
        labels = pod["metadata"].get("labels", {})
        old_labels = (event.old or {}).get("metadata", {}).get("labels", {})
        for svc in self.api.list("Service", ns):
            sel = svc.get("spec", {}).get("selector") or {}
            if selector_matches(sel, labels) or selector_matches(sel, old_labels):
                self.sync(svc)

    def resync_pods(self, pods: list[dict]) -> None:
        """Readiness changed for these pods (kubelet's probes): recompute their Services."""
        seen = set()
        for pod in pods:
            ns = pod["metadata"].get("namespace", "default")
            for svc in self.api.list("Service", ns):
                key = (ns, svc["metadata"]["name"])
                if key not in seen and selector_matches(svc.get("spec", {}).get("selector") or {}, pod["metadata"].get("labels", {})):
                    seen.add(key)
                    self.sync(svc)

    @staticmethod
    def slice_name(svc: dict) -> str:
        return f"{svc['metadata']['name']}-{svc['metadata'].get('uid', 'xxxxx')[:5]}"

    def sync(self, svc: dict) -> None:
        spec = svc.get("spec", {})
        selector = spec.get("selector")
        if not selector or spec.get("type") == "ExternalName":
            return  # no selector: Endpoints are the user's to write (the external-database pattern)
        ns, name = svc["metadata"].get("namespace", "default"), svc["metadata"]["name"]
        pods = [p for p in self.api.list("Pod", ns)
                if selector_matches(selector, p["metadata"].get("labels", {})) and p.get("status", {}).get("podIP")
                and p.get("status", {}).get("phase") == "Running"]
        subsets: dict[tuple, dict] = {}
        for pod in pods:
            ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in pod["status"].get("conditions", []))
            if not ready and not spec.get("publishNotReadyAddresses"):
                pass
            ports = []
            for sp in spec.get("ports", []):
                target = resolve_target_port(pod, sp)
                if target is None:
                    continue
                entry = {"port": target, "protocol": sp.get("protocol", "TCP")}
                if sp.get("name"):
                    entry["name"] = sp["name"]
                ports.append(entry)
            if not ports:
                continue
            key = tuple((p.get("name", ""), p["port"], p["protocol"]) for p in ports)
            subset = subsets.setdefault(key, {"ports": ports})
            address = {"ip": pod["status"]["podIP"], "nodeName": pod["spec"].get("nodeName"),
                       "targetRef": {"kind": "Pod", "name": pod["metadata"]["name"], "namespace": ns,
                                     "uid": pod["metadata"].get("uid", "")}}
            if pod.get("spec", {}).get("hostname"):
                address["hostname"] = pod["spec"]["hostname"]
            field = "addresses" if ready or spec.get("publishNotReadyAddresses") else "notReadyAddresses"
            subset.setdefault(field, []).append(address)
        for subset in subsets.values():
            for field in ("addresses", "notReadyAddresses"):
                if field in subset:
                    subset[field].sort(key=lambda a: parse_ip(a["ip"]))
        endpoints = {"apiVersion": "v1", "kind": "Endpoints",
                     "metadata": {"name": name, "namespace": ns, "labels": dict(svc["metadata"].get("labels", {}))},
                     "subsets": list(subsets.values()) or None}
        if endpoints["subsets"] is None:
            del endpoints["subsets"]
        self._write(endpoints)
        self._write(self._slice(svc, subsets))

    def _slice(self, svc: dict, subsets: dict) -> dict:
        ns, name = svc["metadata"].get("namespace", "default"), svc["metadata"]["name"]
        endpoints, ports = [], None
        for subset in subsets.values():
            ports = ports or subset["ports"]
            for field, ready in (("addresses", True), ("notReadyAddresses", False)):
                for a in subset.get(field, []):
                    endpoints.append({"addresses": [a["ip"]], "conditions": {"ready": ready, "serving": ready, "terminating": False},
                                      "nodeName": a.get("nodeName"), "targetRef": a["targetRef"]})
        return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
                "metadata": {"name": self.slice_name(svc), "namespace": ns,
                             "labels": {"kubernetes.io/service-name": name,
                                        "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"},
                             "ownerReferences": [{"kind": "Service", "name": name}]},
                "endpoints": endpoints, "ports": ports or []}

    def _write(self, obj: dict) -> None:
        meta = obj["metadata"]
        current = self.api.get(obj["kind"], meta["namespace"], meta["name"])
        if current is None:
            self.api.create(obj)
            return
        if all(current.get(k) == v for k, v in obj.items() if k != "metadata") and \
                all(k in obj or k == "metadata" for k in current if k not in ("status",)):
            return
        merged = copy.deepcopy(obj)
        merged["metadata"] = {**current["metadata"], **meta}
        self.api.update(merged)


def resolve_target_port(pod: dict, service_port: dict) -> int | None:
    """targetPort by number, or by name looked up in the pod's container ports."""
    target = service_port.get("targetPort", service_port.get("port"))
    if isinstance(target, int) or (isinstance(target, str) and target.isdigit()):
        return int(target)
    proto = service_port.get("protocol", "TCP")
    for c in pod.get("spec", {}).get("containers", []):
        for p in c.get("ports", []) or []:
            if p.get("name") == target and p.get("protocol", "TCP") == proto:
                return int(p["containerPort"])
    return None


def service_env(services: list[dict]) -> dict[str, str]:
    """The environment kubelet gives a pod for the Services that exist when it starts."""
    env: dict[str, str] = {}
    for svc in services:
        spec = svc.get("spec", {})
        ip = spec.get("clusterIP")
        if not ip or ip == "None" or spec.get("type") == "ExternalName":
            continue
        prefix = svc["metadata"]["name"].upper().replace("-", "_")
        ports = spec.get("ports", [])
        if not ports:
            continue
        first = ports[0]
        env[f"{prefix}_SERVICE_HOST"] = ip
        env[f"{prefix}_SERVICE_PORT"] = str(first["port"])
        for p in ports:
            if p.get("name"):
                env[f"{prefix}_SERVICE_PORT_{p['name'].upper().replace('-', '_')}"] = str(p["port"])
        proto = first.get("protocol", "TCP").lower()
        env[f"{prefix}_PORT"] = f"{proto}://{ip}:{first['port']}"
        for p in ports:
            proto_l = p.get("protocol", "TCP").lower()
            base = f"{prefix}_PORT_{p['port']}_{p.get('protocol', 'TCP').upper()}"
            env[base] = f"{proto_l}://{ip}:{p['port']}"
            env[f"{base}_PROTO"] = proto_l
            env[f"{base}_PORT"] = str(p["port"])
            env[f"{base}_ADDR"] = ip
    return env


__all__ = ["ServiceRegistry", "EndpointsController", "service_env", "resolve_target_port", "MODIFIED", "ADDED"]
