import os

import pytest

from netlab.lab import Lab

LAB_FILE = os.path.join(os.path.dirname(__file__), "dns_lab.yaml")
DNS = "10.96.0.10"


@pytest.fixture(scope="module")
def dlab():
    """The DNS lab, shared by tests that only ask questions."""
    return Lab.load(LAB_FILE)


@pytest.fixture
def fresh():
    """The DNS lab, for tests that change it."""
    return Lab.load(LAB_FILE)


def pod_ns(lab, name: str, namespace: str = "default"):
    return lab.cluster.pod_ns[f"{namespace}/{name}"]
