import pytest

from netlab.net import netfilter as nf
from netlab.net.device import Veth
from netlab.net.world import Dataplane


class Host:
    """One namespace with eth0 192.168.0.21/24 and eth1 10.0.0.1/24, netfilter loaded."""

    def __init__(self) -> None:
        self.world = Dataplane(seed=7)
        self.ns = self.world.add_netns("node")
        self.eth0 = self._dev("eth0", 0xC0A80015, 24)
        self.eth1 = self._dev("eth1", 0x0A000001, 24)
        self.nf = nf.load(self.ns)

    def _dev(self, name, ip, plen):
        dev = Veth(name, f"02:00:00:00:00:0{len(self.ns.devices)}")
        self.ns.add_device(dev)
        self.ns.set_link(dev, up=True)
        self.ns.addr_add(dev, ip, plen)
        return dev

    def restore(self, text: str, **kw) -> None:
        self.nf.restore(text, **kw)

    def sh(self, line: str):
        import shlex

        from netlab.net.netfilter.cli import iptables, iptables_save

        argv = shlex.split(line)
        if argv[0] == "iptables-save":
            return iptables_save(self.nf, argv[1:])
        return iptables(self.nf, argv[1:])


@pytest.fixture
def host():
    return Host()
