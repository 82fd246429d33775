"""net-tools: `route`, `ifconfig`, `arp` — the ioctl-era tools, with net-tools 2.10's output.

They read the same tables `ip` does (the main routing table, the devices, the ARP table) and
change them through the same kernel paths (netlab.net.rtnl_*), reporting failures the way
the ioctls do: `SIOCADDRT: Network is unreachable`. One module per tool.
"""
