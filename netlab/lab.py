"""Lab: one world (dataplane + control plane + clock + RNG). The engine API.

The TUI, the shell, levels, saves, the SSH server and tests talk to a Lab and
never around it:

    lab = Lab.default()
    r = lab.sh("ping -c 1 172.30.9.2", on="business-manager-...")
    r.output, r.exit_code, r.traces
"""
from __future__ import annotations

from dataclasses import dataclass, field

from netlab.k8s.api import ApiError
from netlab.k8s.cluster import Cluster
from netlab.k8s.validate import decode, validate_manifest
from netlab.net.trace import Trace
from netlab.net.world import Dataplane
from netlab.spec import LabSpec, default_lab_text, load_lab_spec
from netlab.yamlsrc import SourceError

# Objects in a lab file are created at t=0; the lab opens a few minutes later, so
# AGE columns read like a cluster that has settled.
STARTUP_SECONDS = 300.0


@dataclass
class Result:
    output: str
    exit_code: int = 0
    traces: list[Trace] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


class Lab:
    def __init__(self, spec: LabSpec) -> None:
        self.spec = spec
        self.world = Dataplane(seed=spec.seed)
        from netlab.apps.runtime import AppRuntime

        self.cluster = Cluster(self.world, spec, AppRuntime())
        from netlab.k8s.ingress_addon import install as install_ingress

        install_ingress(self.cluster, spec.ingress)  # before the manifests: they may use its IngressClass
        for doc in spec.manifests:
            problem = validate_manifest(doc.data)
            if problem is not None:
                path, message = problem
                raise doc.error(path, message)
            try:
                self.cluster.apply(decode(doc.data))  # as decoded: a null field is a zero value
            except ApiError as err:
                raise SourceError(doc.source, doc.start_line, err.message) from None
        if spec.dns_replicas:
            self.cluster.add_dns_addon(spec.dns_replicas)
        self.cluster.add_kube_proxy_addon()  # last: the objects before it keep their UIDs and versions
        self.cluster.tick()  # node agents catch up with the lab file's objects
        self.world.clock = STARTUP_SECONDS
        self.world.take_traces()
        from netlab.shell.session import Session

        self.session = Session(self)

    # -- construction ----------------------------------------------------------
    @classmethod
    def load(cls, path_or_text: str) -> "Lab":
        return cls(load_lab_spec(path_or_text))

    @classmethod
    def default(cls) -> "Lab":
        return cls(load_lab_spec_text(default_lab_text(), "default-lab.yaml"))

    # -- running commands ------------------------------------------------------
    def sh(self, command: str, on: str | None = None) -> Result:
        """Run one shell line in a context: `on` is a node or pod name, None the admin workstation."""
        from netlab.shell.session import Session

        session = Session(self)
        if on is not None:
            err = session.enter(on)
            if err is not None:
                return Result(err + "\n", 1)
        return session.run(command)

    def trace(self, src: str, dst: str, *, port: int | None = None, proto: str = "icmp") -> Trace:
        """Send one packet from src to dst (pod, node or IP) and return its Trace."""
        from netlab.shell.probe import send_probe

        self.cluster.tick()
        traces, _ = send_probe(self, src, dst, port=port, proto=proto)
        return traces[0]

    # -- lookups used by the shell and the UI ----------------------------------
    def context_names(self) -> list[str]:
        return list(self.cluster.nodes) + [k.split("/", 1)[1] if k.startswith("default/") else k
                                           for k in self.cluster.pod_ns]


def load_lab_spec_text(text: str, source: str) -> LabSpec:
    from netlab.spec import parse_lab
    from netlab.yamlsrc import load_documents

    docs = load_documents(text, source)
    return parse_lab(docs[0], tuple(docs[1:]))
