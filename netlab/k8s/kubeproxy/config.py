"""kube-proxy as kubeadm installs it, and what restarting it does.

kubeadm runs kube-proxy as the `kube-proxy` DaemonSet in kube-system. Each pod mounts the
`kube-proxy` ConfigMap at /var/lib/kube-proxy and reads `config.conf` (a
KubeProxyConfiguration) once, when it starts. So `kubectl -n kube-system edit cm
kube-proxy` changes nothing on the nodes: the running processes keep their mode until
their pods restart (`kubectl -n kube-system rollout restart daemonset kube-proxy`, or
deleting the pods, which the DaemonSet replaces). Each new pod's kube-proxy then runs in
the mode its config says. (Upstream kube-proxy also exits when its config file is
written in place; kubelet updates a ConfigMap volume by swapping a symlink, which that
watch does not see, hence the restart every guide tells you to do.)

A config the real one refuses (`mode: ipvss`, an unknown IPVS scheduler, a bad
clusterCIDR, YAML that does not parse) makes the new pod crash: CrashLoopBackOff, the
error in `kubectl logs`, and no kube-proxy on that node — its rules stay as they were,
unsynced, until the ConfigMap is fixed (the container's next restart reads it again).

Switching modes cleans nothing up, as upstream (1.26): the ipvs proxier rewrites the
chains it owns (KUBE-SERVICES, KUBE-POSTROUTING, KUBE-MARK-MASQ, KUBE-FORWARD, ...) and
leaves the iptables proxier's KUBE-SVC-*, KUBE-SEP-*, KUBE-EXT-*, KUBE-NODEPORTS chains
and its filter rules in place; going back to iptables leaves the IPVS virtual services,
ipsets and kube-ipvs0 behind. `kube-proxy --cleanup` (netlab/k8s/kubeproxy/cleanup.py)
removes what either mode wrote.

Only the fields netlab's kube-proxy acts on are read: `mode`, `ipvs.scheduler` and
`clusterCIDR`. The lab file's `kubeProxy` settings seed the ConfigMap; netlab's own
`style` and `paused` stay as they were across restarts.
"""
from __future__ import annotations

from dataclasses import dataclass

import yaml

from netlab.k8s.api import ADDED, DELETED, MODIFIED, Event
from netlab.net.addr import AddrError, fmt_ip, fmt_prefix, network, parse_prefix

NAMESPACE = "kube-system"
NAME = "kube-proxy"
CONFIG_KEY = "config.conf"
LABELS = {"k8s-app": "kube-proxy"}
SCHEDULERS = ("rr", "wrr", "lc", "wlc", "lblc", "lblcr", "sh", "dh", "sed", "nq")
LAB_EPOCH = 1704099600  # simulated time 0 on the lab's wall clock (as kubectl and iptables-save show it)


# -- what kubeadm writes ---------------------------------------------------------------
def config_conf(spec) -> str:
    """The KubeProxyConfiguration kubeadm 1.26 writes (`mode: ""` means iptables)."""
    kp = spec.kube_proxy
    mode = "ipvs" if kp.mode == "ipvs" else '""'
    scheduler = '""' if kp.scheduler in ("", "rr") else kp.scheduler
    return f"""apiVersion: kubeproxy.config.k8s.io/v1alpha1
bindAddress: 0.0.0.0
bindAddressHardFail: false
clientConnection:
  acceptContentTypes: ""
  burst: 0
  contentType: ""
  kubeconfig: /var/lib/kube-proxy/kubeconfig.conf
  qps: 0
clusterCIDR: {fmt_prefix(*spec.pod_cidr)}
configSyncPeriod: 0s
conntrack:
  maxPerCore: null
  min: null
  tcpCloseWaitTimeout: null
  tcpEstablishedTimeout: null
detectLocal:
  bridgeInterface: ""
  interfaceNamePrefix: ""
detectLocalMode: ""
enableProfiling: false
healthzBindAddress: ""
hostnameOverride: ""
iptables:
  localhostNodePorts: null
  masqueradeAll: false
  masqueradeBit: null
  minSyncPeriod: 0s
  syncPeriod: 0s
ipvs:
  excludeCIDRs: null
  minSyncPeriod: 0s
  scheduler: {scheduler}
  strictARP: false
  syncPeriod: 0s
  tcpFinTimeout: 0s
  tcpTimeout: 0s
  udpTimeout: 0s
kind: KubeProxyConfiguration
metricsBindAddress: ""
mode: {mode}
nodePortAddresses: null
oomScoreAdj: null
portRange: ""
showHiddenMetricsForVersion: ""
winkernel:
  enableDSR: false
  forwardHealthCheckVip: false
  networkName: ""
  rootHnsEndpointName: ""
  sourceVip: ""
"""


def kubeconfig_conf(server: str) -> str:
    return f"""apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority: /var/run/secrets/kubernetes.io/serviceaccount/ca.crt
    server: {server}
  name: default
contexts:
- context:
    cluster: default
    namespace: default
    user: default
  name: default
current-context: default
users:
- name: default
  user:
    tokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token"""


def addon_objects(spec, version: str) -> list[dict]:
    """The ServiceAccount, ConfigMap and DaemonSet of kubeadm's kube-proxy add-on."""
    server = f"https://{fmt_ip(spec.nodes[0].ip)}:6443"
    pod_spec = {
        "priorityClassName": "system-node-critical",
        "containers": [{
            "name": "kube-proxy", "image": f"registry.k8s.io/kube-proxy:{version}", "imagePullPolicy": "IfNotPresent",
            "command": ["/usr/local/bin/kube-proxy", "--config=/var/lib/kube-proxy/config.conf",
                        "--hostname-override=$(NODE_NAME)"],
            "env": [{"name": "NODE_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "spec.nodeName"}}}],
            "securityContext": {"privileged": True},
            "volumeMounts": [{"mountPath": "/var/lib/kube-proxy", "name": "kube-proxy"},
                             {"mountPath": "/run/xtables.lock", "name": "xtables-lock"},
                             {"mountPath": "/lib/modules", "name": "lib-modules", "readOnly": True}]}],
        "hostNetwork": True, "serviceAccountName": "kube-proxy", "nodeSelector": {"kubernetes.io/os": "linux"},
        "tolerations": [{"operator": "Exists"}],
        "volumes": [{"name": "kube-proxy", "configMap": {"name": "kube-proxy", "defaultMode": 420}},
                    {"name": "xtables-lock", "hostPath": {"path": "/run/xtables.lock", "type": "FileOrCreate"}},
                    {"name": "lib-modules", "hostPath": {"path": "/lib/modules", "type": ""}}],
    }
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": NAME, "namespace": NAMESPACE}},
        {"apiVersion": "v1", "kind": "ConfigMap",
         "metadata": {"name": NAME, "namespace": NAMESPACE, "labels": {"app": "kube-proxy"}},
         "data": {CONFIG_KEY: config_conf(spec), "kubeconfig.conf": kubeconfig_conf(server)}},
        {"apiVersion": "apps/v1", "kind": "DaemonSet",
         "metadata": {"name": NAME, "namespace": NAMESPACE, "labels": dict(LABELS), "generation": 1},
         "spec": {"selector": {"matchLabels": dict(LABELS)},
                  "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}},
                  "template": {"metadata": {"labels": dict(LABELS)}, "spec": pod_spec}}},
    ]


# -- reading it back, as kube-proxy does at start ---------------------------------------
@dataclass(frozen=True)
class ProxyConfig:
    mode: str  # "iptables" or "ipvs"
    scheduler: str
    cluster_cidr: str | None  # None: not set (netlab keeps the lab's pod network)


class ConfigError(Exception):
    """Why kube-proxy refused to start, worded as its `command failed` log line."""


def parse(text: str) -> ProxyConfig:
    """The fields netlab's kube-proxy uses, checked as pkg/proxy/apis/config/validation
    checks them (1.26: userspace is gone, so only iptables, ipvs or blank)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise ConfigError(f"failed complete: error converting YAML to JSON: yaml: {where}"
                          f"{getattr(err, 'problem', None) or err}") from None
    if not isinstance(data, dict):
        raise ConfigError("failed complete: error unmarshaling JSON: while decoding JSON: "
                          "json: cannot unmarshal string into Go value of type struct { APIVersion string "
                          "\"json:\\\"apiVersion,omitempty\\\"\"; Kind string \"json:\\\"kind,omitempty\\\"\" }")
    kind, version = data.get("kind"), data.get("apiVersion")
    if kind != "KubeProxyConfiguration" or version != "kubeproxy.config.k8s.io/v1alpha1":
        if not kind:
            raise ConfigError("failed complete: Object 'Kind' is missing in '" + _json_ish(data) + "'")
        raise ConfigError(f'failed complete: no kind "{kind}" is registered for version "{version}" in scheme '
                          '"pkg/proxy/apis/config/scheme/scheme.go:29"')
    errors = []
    mode = data.get("mode") or ""
    if not isinstance(mode, str) or mode not in ("", "iptables", "ipvs"):
        errors.append(f'KubeProxyConfiguration.Mode.ProxyMode: Invalid value: "{mode}": must be iptables,ipvs or blank '
                      "(blank means the best-available proxy [currently iptables])")
    ipvs = data.get("ipvs") or {}
    scheduler = (ipvs.get("scheduler") if isinstance(ipvs, dict) else "") or ""
    if mode == "ipvs" and (not isinstance(scheduler, str) or scheduler not in SCHEDULERS + ("",)):
        errors.append(f'KubeProxyConfiguration.KubeProxyIPVSConfiguration.Scheduler.Scheduler: Invalid value: '
                      f'"{scheduler}": must be in [{" ".join(SCHEDULERS)} ], blank means the default algorithm '
                      "method (currently rr)")
    cidr = data.get("clusterCIDR") or ""
    cluster_cidr = None
    if cidr:
        try:
            ip, plen = parse_prefix(str(cidr), default_plen=-1)
            if plen < 0:
                raise AddrError(cidr)
            cluster_cidr = fmt_prefix(network(ip, plen), plen)
        except AddrError:
            errors.append(f'KubeProxyConfiguration.ClusterCIDR: Invalid value: "{cidr}": must be a valid CIDR block '
                          "(e.g. 10.100.0.0/16 or fde4:8dba:82e1::/48)")
    if errors:
        text = errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]"
        raise ConfigError(f"failed validate: {text}")
    return ProxyConfig(mode or "iptables", scheduler or "rr", cluster_cidr)


def _json_ish(data: dict) -> str:
    import json

    return json.dumps(data, separators=(",", ":"), sort_keys=True, default=str)


def read(api) -> ProxyConfig:
    """What a starting kube-proxy reads from its mounted ConfigMap; ConfigError if it would not start."""
    cm = api.get("ConfigMap", NAMESPACE, NAME)
    if cm is None:
        raise ConfigError(f'MountVolume.SetUp failed for volume "kube-proxy" : configmap "{NAME}" not found')
    text = (cm.get("data") or {}).get(CONFIG_KEY)
    if text is None:
        raise ConfigError("failed complete: open /var/lib/kube-proxy/config.conf: no such file or directory")
    return parse(str(text))


# -- the pods and the processes ---------------------------------------------------------
def klog(clock: float, line: str, *, level: str = "I", where: str = "server_others.go:176") -> str:
    """A klog header as kube-proxy prints it: `I0101 09:05:00.000000       1 file.go:N] msg`."""
    import datetime

    t = datetime.datetime.fromtimestamp(LAB_EPOCH + clock, datetime.timezone.utc)
    return f"{level}{t:%m%d %H:%M:%S}.{t.microsecond:06d}       1 {where}] {line}"


class KubeProxyPods:
    """The kube-proxy process on each node, tied to its pod's life.

    A kube-proxy pod that starts on a node (kubelet runs it) starts a fresh KubeProxy
    there with the config it reads: a new object, so nothing of the old process's memory
    (partial-sync state, caches, the IPVS services it remembers making) survives, while
    everything it wrote to the kernel does. The first pod on each node, made while the lab
    is built, adopts the agent the cluster already runs."""

    def __init__(self, cluster) -> None:
        self.cluster = cluster
        self.pod_of: dict[str, str] = {}  # node -> the kube-proxy pod running there
        self.started: set[str] = set()  # nodes whose first pod (made with the lab) has started
        self.crashed: dict[str, bool] = {}  # node -> the paused flag its process had before it crashed
        cluster.api.watch({"Pod"}, self.on_pod)
        cluster.api.watch({"ConfigMap"}, self.on_config)

    def on_pod(self, event: Event) -> None:
        pod = event.obj
        meta = pod["metadata"]
        if meta.get("namespace") != NAMESPACE or (meta.get("labels") or {}).get("k8s-app") != "kube-proxy":
            return
        node = (pod.get("spec") or {}).get("nodeName")
        if node not in self.cluster.kube_proxies:
            return
        if event.type == ADDED:
            first = node not in self.started
            self.started.add(node)
            self.pod_of[node] = meta["name"]
            self.start(node, pod, adopt=first)
        elif event.type == DELETED and self.pod_of.get(node) == meta["name"]:
            self.stop(node)
            del self.pod_of[node]

    def on_config(self, event: Event) -> None:
        """A crash-looping kube-proxy reads its config again at each container restart."""
        meta = event.obj["metadata"]
        if event.type != MODIFIED or meta.get("namespace") != NAMESPACE or meta.get("name") != NAME:
            return
        for node in list(self.crashed):
            pod = self._pod(node)
            if pod is not None:
                self.start(node, pod, adopt=False)

    def _pod(self, node: str) -> dict | None:
        name = self.pod_of.get(node)
        return self.cluster.api.get("Pod", NAMESPACE, name) if name else None

    def start(self, node: str, pod: dict, *, adopt: bool) -> None:
        from netlab.k8s.kubeproxy import KubeProxy

        cluster = self.cluster
        old = cluster.kube_proxies[node]
        key = f"{NAMESPACE}/{pod['metadata']['name']}"
        clock = cluster.world.clock
        if adopt:  # the agent the cluster started with is this pod's process
            self._log_start(key, node, old.mode, clock)
            return
        try:
            cfg = read(cluster.api)
        except ConfigError as err:
            self._crash(node, pod, old, str(err))
            return
        paused = self.crashed.pop(node, old.paused)
        # The old process exits: it stops watching the API (and is dropped); what it wrote
        # stays in the kernel, as a real kube-proxy's rules and IPVS services do.
        cluster.api.unwatch(old._changed)
        cluster.kube_proxies[node] = KubeProxy(
            cluster.api, cluster.nodes[node].ns, node, cluster_cidr=cfg.cluster_cidr or fmt_prefix(*cluster.spec.pod_cidr),
            mode=cfg.mode, style=old.style, paused=paused, scheduler=cfg.scheduler)
        _set_running(pod, clock)
        self._log_start(key, node, cfg.mode, clock)
        self._status_changed()

    def stop(self, node: str) -> None:
        """The pod is gone: its process exits and stops syncing (what it wrote stays)."""
        proxy = self.cluster.kube_proxies[node]
        if node not in self.crashed:
            self.crashed[node] = proxy.paused  # not crashed, but not running either: nothing syncs
            proxy.paused = True

    def _crash(self, node: str, pod: dict, proxy, error: str) -> None:
        key = f"{NAMESPACE}/{pod['metadata']['name']}"
        if node not in self.crashed:
            self.crashed[node] = proxy.paused
            proxy.paused = True  # no kube-proxy runs on this node now
        mounting = error.startswith("MountVolume")
        status = pod.setdefault("status", {})
        statuses = status.get("containerStatuses") or [{"name": "kube-proxy", "image": "", "restartCount": 0}]
        cs = statuses[0]
        cs["ready"] = False
        if mounting:
            cs["state"] = {"waiting": {"reason": "ContainerCreating"}}
        else:
            cs["restartCount"] = int(cs.get("restartCount", 0)) + 1
            cs["state"] = {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 10s restarting failed "
                                       f"container=kube-proxy pod={pod['metadata']['name']}_{NAMESPACE}"
                                       f"({pod['metadata'].get('uid', '')})"}}
            cs["lastState"] = {"terminated": {"exitCode": 1, "reason": "Error"}}
            self.cluster.pod_log(key, klog(self.cluster.world.clock, f'"command failed" err="{_quote(error)}"',
                                           level="E", where="run.go:74"))
        status["containerStatuses"] = statuses
        for cond in status.get("conditions") or []:
            if cond.get("type") in ("Ready", "ContainersReady"):
                cond["status"] = "False"
        self._status_changed()

    def _log_start(self, key: str, node: str, mode: str, clock: float) -> None:
        ip = fmt_ip(self.cluster.nodes[node].spec.ip)
        log = self.cluster.pod_log
        log(key, klog(clock, f"Successfully retrieved node IP: {ip}", where="node.go:163"))
        log(key, klog(clock, f'"Detected node IP" address="{ip}"', where="server_others.go:138"))
        log(key, klog(clock, f'"Using {mode} Proxier"', where="server_others.go:176" if mode == "iptables"
                      else "server_others.go:264"))
        log(key, klog(clock, f'"Creating dualStackProxier for {mode}"', where="server_others.go:184"))
        log(key, klog(clock, f'"Version info" version="{self.cluster.version}"', where="server.go:655"))
        log(key, klog(clock, '"Starting service config controller"', where="config.go:317"))
        log(key, klog(clock, '"Starting endpoint slice config controller"', where="config.go:226"))
        log(key, klog(clock, "Caches are synced for service config", where="shared_informer.go:277"))

    def _status_changed(self) -> None:
        ds = self.cluster.api.get("DaemonSet", NAMESPACE, NAME)
        if ds is not None:
            self.cluster.daemonsets.update_status(ds)


def _set_running(pod: dict, clock: float) -> None:
    """A container that starts cleanly after a crash: Running and Ready again."""
    status = pod.get("status") or {}
    for cs in status.get("containerStatuses") or []:
        if "waiting" in (cs.get("state") or {}):
            cs["state"] = {"running": {"startedAt": clock}}
            cs["ready"] = True
    for cond in status.get("conditions") or []:
        if cond.get("type") in ("Ready", "ContainersReady"):
            cond["status"] = "True"


def _quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')
