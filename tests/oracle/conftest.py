"""Fixtures for the kernel oracle: real namespaces built from a netlab Lab, always torn down."""
from __future__ import annotations

import pytest

from netlab import Lab

from oracle_compare import TALLY
from oracle_kernel import KernelWorld, sweep_stale, unavailable_reason
from oracle_labs import LABS


@pytest.fixture(scope="session")
def kernel_ok():
    why = unavailable_reason()
    if why is not None:
        pytest.skip(f"kernel oracle needs root and iproute2 (ip netns, veth, bridge, vxlan): {why}")
    sweep_stale()


@pytest.fixture
def kernel_world(kernel_ok):
    """A factory: kernel_world(lab) builds the lab's world in fresh real namespaces, all
    deleted by name when the test ends, pass or fail."""
    worlds: list[KernelWorld] = []

    def make(lab: Lab) -> KernelWorld:
        kw = KernelWorld()
        kw.prefix = f"{kw.prefix}{len(_SERIAL)}-"
        _SERIAL.append(kw.prefix)
        worlds.append(kw)
        kw.build(lab.world)
        return kw

    yield make
    left = [name for kw in worlds for name in kw.cleanup()]
    assert not left, f"namespaces that would not be deleted: {left}"


_SERIAL: list[str] = []


@pytest.fixture(scope="module", params=sorted(LABS))
def built(request, kernel_ok):
    """(lab name, Lab, KernelWorld) for each oracle lab, built once per module, untouched."""
    lab = Lab.load(LABS[request.param])
    kw = KernelWorld()
    kw.prefix = f"{kw.prefix}{len(_SERIAL)}-"
    _SERIAL.append(kw.prefix)
    try:
        kw.build(lab.world)
    except BaseException:
        kw.cleanup()
        raise
    yield request.param, lab, kw
    left = kw.cleanup()
    assert not left, f"namespaces that would not be deleted: {left}"


def pytest_terminal_summary(terminalreporter):
    if not TALLY.kinds:
        return
    parts = [f"{kind}: {agreed}/{compared} agree" if not kind.startswith("breaks") else f"{kind}: {compared}"
             for kind, (compared, agreed) in sorted(TALLY.kinds.items())]
    terminalreporter.write_line("kernel oracle comparisons — " + "; ".join(parts))
