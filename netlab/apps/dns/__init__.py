"""DNS: the cluster's records (records.py), CoreDNS as pods run it (coredns.py), the outside
resolver the cluster forwards to (upstream.py), and the stub resolver inside pods and nodes
(resolver.py). Messages are dnspython messages; on the wire they are real UDP packets."""
