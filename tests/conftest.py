import pytest

from netlab.lab import Lab


@pytest.fixture(scope="session")
def default_lab_text():
    from netlab.spec import default_lab_text

    return default_lab_text()


@pytest.fixture
def lab():
    """A fresh default lab (the seed article's two-node flannel cluster)."""
    return Lab.default()
