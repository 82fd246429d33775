import pytest


@pytest.fixture(autouse=True)
def _private_data_dir(tmp_path, monkeypatch):
    """Progress files go to a temporary data dir, never the developer's home."""
    monkeypatch.setenv("NETLAB_DATA_DIR", str(tmp_path / "data"))
