import pytest
from dnslab import LAB_FILE

from netlab.lab import Lab


@pytest.fixture(scope="module")
def dlab():
    """The DNS lab, shared by tests that only ask questions."""
    return Lab.load(LAB_FILE)


@pytest.fixture
def fresh():
    """The DNS lab, for tests that change it."""
    return Lab.load(LAB_FILE)
