"""net-tools `route`, `ifconfig`, `arp`: the commands live in netlab.shell.nettools."""
from netlab.shell.nettools import arp, ifconfig, route  # noqa: F401 (each registers its command)
