import pytest
from ingresslab import LAB_FILE

from netlab.lab import Lab


@pytest.fixture(scope="module")
def ilab():
    """The ingress lab, shared by tests that only send requests."""
    return Lab.load(LAB_FILE)


@pytest.fixture
def fresh():
    """The ingress lab, for tests that change it."""
    return Lab.load(LAB_FILE)
