import pytest

from netlab.lab import Lab


@pytest.fixture(autouse=True)
def _private_data_dir(tmp_path, monkeypatch):
    """Progress and saves go to a per-test directory, never the user's real one."""
    monkeypatch.setenv("NETLAB_DATA_DIR", str(tmp_path / "netlab-data"))


@pytest.fixture(scope="session")
def default_lab_text():
    from netlab.spec import default_lab_text

    return default_lab_text()


@pytest.fixture
def lab():
    """A fresh default lab (the seed article's two-node flannel cluster)."""
    return Lab.default()
