"""What runs inside pods and nodes: clients (ping, probes) and, later, servers."""
