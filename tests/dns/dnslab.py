"""The DNS tests' lab and helpers. (A module of its own, not conftest: every test folder
has a conftest, so `from conftest import ...` gets whichever was imported first.)"""
import os

LAB_FILE = os.path.join(os.path.dirname(__file__), "dns_lab.yaml")
DNS = "10.96.0.10"


def pod_ns(lab, name: str, namespace: str = "default"):
    return lab.cluster.pod_ns[f"{namespace}/{name}"]
