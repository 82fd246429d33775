import pytest

from shellref import kernel_lab


@pytest.fixture
def klab():
    """The kernel-reference topology with the traffic capture.sh sends before it looks."""
    return kernel_lab()
