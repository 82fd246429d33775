"""kubelet: runs a node's pods. For each pod bound to its node it makes a network
namespace, calls the CNI plugin, writes the pod's files, and reports status."""
from __future__ import annotations

from netlab.net.addr import fmt_ip
from netlab.net.netns import NetNS


class Kubelet:
    def __init__(self, cluster, node_name: str) -> None:
        self.cluster = cluster
        self.node_name = node_name
        self.pods: dict[str, NetNS] = {}  # pod key -> sandbox namespace
        self.listeners: dict[str, list] = {}  # pod key -> the processes listening in it

    def run_pod(self, pod: dict) -> None:
        cluster = self.cluster
        meta = pod["metadata"]
        key = f"{meta.get('namespace', 'default')}/{meta['name']}"
        node = cluster.nodes[self.node_name]
        spec = pod.get("spec", {})
        if spec.get("hostNetwork"):
            ns, ip = node.ns, node.spec.ip
        else:
            world = cluster.world
            display = meta["name"] if meta.get("namespace", "default") == "default" else key
            if display in world.namespaces:  # a pod named like a node, `client` or `router`
                display = key
            ns = world.add_netns(display, hostname=spec.get("hostname") or meta["name"], kind="pod")
            ns.netns_name = "cni-" + "-".join("".join(world.stream("netns-ids").choice("0123456789abcdef") for _ in range(n)) for n in (8, 4, 4, 4, 12))
            ns.pod_key = key
            from netlab.net.errors import NetError

            try:
                ip, host_if = node.cni.add(ns, key)
            except NetError as err:  # the node's podCIDR is full: the sandbox is never made
                world.remove_netns(ns.name)
                self._sandbox_failed(pod, node, str(err))
                return
            ns.files["/etc/hostname"] = (spec.get("hostname") or meta["name"]) + "\n"
            ns.files["/etc/resolv.conf"] = self.resolv_conf(pod)
            ns.env = self.environment(pod)
            ns.files["/etc/hosts"] = self.hosts_file(pod, fmt_ip(ip))
        self.pods[key] = ns
        cluster.pod_ns[key] = ns
        if ns is not node.ns:
            self.listeners[key] = cluster.runtime.start_pod(cluster, pod, ns)
        containers = spec.get("containers", [])
        pod["status"] = {
            "phase": "Running",
            "hostIP": fmt_ip(node.spec.ip),
            "podIP": fmt_ip(ip),
            "podIPs": [{"ip": fmt_ip(ip)}],
            "startTime": cluster.world.clock,
            "conditions": [{"type": t, "status": "True"} for t in ("Initialized", "Ready", "ContainersReady", "PodScheduled")],
            "containerStatuses": [{"name": c.get("name", "main"), "ready": True, "restartCount": 0,
                                   "image": c.get("image", ""), "state": {"running": {}}} for c in containers],
        }

    def _sandbox_failed(self, pod: dict, node, error: str) -> None:
        """CNI ADD failed: the pod stays ContainerCreating, as kubelet leaves it (and says why
        in the pod's events: `failed to setup network for sandbox`)."""
        containers = pod.get("spec", {}).get("containers", [])
        pod["status"] = {
            "phase": "Pending", "hostIP": fmt_ip(node.spec.ip), "startTime": self.cluster.world.clock,
            "conditions": [{"type": "PodScheduled", "status": "True"}, {"type": "Ready", "status": "False"},
                           {"type": "ContainersReady", "status": "False"}],
            "containerStatuses": [{"name": c.get("name", "main"), "ready": False, "restartCount": 0,
                                   "image": c.get("image", ""), "state": {"waiting": {
                                       "reason": "ContainerCreating",
                                       "message": f"failed to setup network for sandbox: plugin type=\"bridge\" "
                                                  f"failed (add): {error}"}}} for c in containers],
        }

    def probe_readiness(self) -> list[dict]:
        """Run every readiness probe once; returns the pods whose Ready condition changed."""
        probe = self.cluster.runtime.probe
        changed = []
        api = self.cluster.api
        for key, ns in self.pods.items():
            namespace, name = key.split("/", 1)
            pod = api.get("Pod", namespace, name)
            if pod is None:
                continue
            probes = [c["readinessProbe"] for c in pod.get("spec", {}).get("containers", []) if c.get("readinessProbe")]
            status = pod.setdefault("status", {})
            # a container that is not running (CrashLoopBackOff, ContainerCreating) is never ready
            waiting = any("waiting" in (cs.get("state") or {}) for cs in status.get("containerStatuses") or [])
            ready = not waiting and all(probe(pod, ns, p) for p in probes)
            was = any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions", []))
            if ready != was:
                for c in status.get("conditions", []):
                    if c.get("type") in ("Ready", "ContainersReady"):
                        c["status"] = "True" if ready else "False"
                for cs in status.get("containerStatuses", []):
                    cs["ready"] = ready
                changed.append(pod)
        return changed

    def environment(self, pod: dict) -> dict[str, str]:
        """PATH, HOSTNAME, the containers' own env, and the Service variables (docker-link
        style) for Services that exist now — the ones created later never appear."""
        from netlab.k8s.services import service_env

        api = self.cluster.api
        namespace = pod["metadata"].get("namespace", "default")
        env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOSTNAME": pod["metadata"]["name"]}
        if pod.get("spec", {}).get("enableServiceLinks", True):
            services = api.list("Service", namespace)
        else:
            services = []
        master = api.get("Service", "default", "kubernetes")
        if master is not None and master not in services:
            services.append(master)
        env.update(service_env(services))
        for c in pod.get("spec", {}).get("containers", [])[:1]:
            for e in c.get("env", []) or []:
                if "value" in e:
                    env[e["name"]] = str(e["value"])
        env["HOME"] = "/root"
        return env

    def hosts_file(self, pod: dict, ip: str) -> str:
        """kubelet's managed /etc/hosts: the pod's own name (its FQDN first when hostname and
        subdomain are set), then `hostAliases` under the comment kubelet writes."""
        meta, spec = pod["metadata"], pod.get("spec", {})
        text = ("# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
                "fe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n")
        hostname = spec.get("hostname") or meta["name"]
        if spec.get("subdomain"):
            fqdn = f"{hostname}.{spec['subdomain']}.{meta.get('namespace', 'default')}.svc.{self.cluster.spec.cluster_domain}"
            text += f"{ip}\t{fqdn}\t{hostname}\n"
        else:
            text += f"{ip}\t{hostname}\n"
        aliases = spec.get("hostAliases") or []
        if aliases:
            text += "\n# Entries added by HostAliases.\n"
            for alias in aliases:
                text += f"{alias.get('ip', '')}\t" + "\t".join(alias.get("hostnames") or []) + "\n"
        return text

    def resolv_conf(self, pod: dict) -> str:
        """What kubelet writes for the pod's dnsPolicy (ClusterFirst unless told otherwise)."""
        spec = pod.get("spec", {})
        cluster = self.cluster
        policy = spec.get("dnsPolicy", "ClusterFirst")
        node_ns = cluster.nodes[self.node_name].ns
        servers, searches, options = [], [], []
        if policy == "Default" or (policy == "ClusterFirst" and spec.get("hostNetwork")):
            # the node's resolv.conf, with dnsConfig merged on top (kubelet's DNSDefault)
            for line in (node_ns.read_file("/etc/resolv.conf") or "").splitlines():
                parts = line.split("#", 1)[0].split()
                if parts[:1] == ["nameserver"] and len(parts) > 1:
                    servers.append(parts[1])
                elif parts[:1] in (["search"], ["domain"]):
                    searches = parts[1:]
                elif parts[:1] == ["options"]:
                    options = parts[1:]
        elif policy != "None":
            namespace = pod["metadata"].get("namespace", "default")
            domain = cluster.spec.cluster_domain
            servers = [fmt_ip(cluster.spec.cluster_dns)]
            searches = [f"{namespace}.svc.{domain}", f"svc.{domain}", domain]
            options = ["ndots:5"]
        cfg = spec.get("dnsConfig") or {}
        servers = (servers + [s for s in cfg.get("nameservers", []) if s not in servers])[:3]
        searches += [s for s in cfg.get("searches", []) if s not in searches]
        for opt in cfg.get("options", []):
            text = opt["name"] + (f":{opt['value']}" if opt.get("value") is not None else "")
            options = [o for o in options if o.split(":")[0] != opt["name"]] + [text]
        lines = [f"search {' '.join(searches)}"] if searches else []
        lines += [f"nameserver {s}" for s in servers]
        if options:
            lines.append(f"options {' '.join(options)}")
        return "\n".join(lines) + "\n"

    def kill_pod(self, pod: dict) -> None:
        meta = pod["metadata"]
        key = f"{meta.get('namespace', 'default')}/{meta['name']}"
        ns = self.pods.pop(key, None)
        self.cluster.pod_ns.pop(key, None)
        self.cluster.runtime.stop_pod(self.listeners.pop(key, []))
        if ns is None or ns is self.cluster.nodes[self.node_name].ns:
            return
        from netlab.net.addr import parse_ip

        ip_text = pod.get("status", {}).get("podIP")
        self.cluster.nodes[self.node_name].cni.delete(ns, parse_ip(ip_text) if ip_text else None)
        self.cluster.world.remove_netns(ns.name)
