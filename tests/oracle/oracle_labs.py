"""The labs the kernel oracle rebuilds in real namespaces.

Not oracled: the default lab's legacy flannel 0.7 VXLAN. It routes the whole pod
network to flannel.1 and relies on flanneld answering the kernel's L3MISS (and
L2MISS) netlink notifications with neighbour and FDB entries on demand. A real
kernel without that agent has no neighbour for a remote pod IP, so every
cross-node packet would be dropped there while netlab's in-process flanneld
answers; the two worlds would disagree for a reason that is not a dataplane
difference. The modern (>= 0.9) layout below pre-populates everything.
"""
from __future__ import annotations

_PODS = """
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec:
  replicas: %(replicas)d
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: web, image: nginx:1.27, ports: [{containerPort: 80}]}
"""

VXLAN_TWO_NODE = """\
apiVersion: netlab/v1
kind: Lab
metadata: {name: oracle-flannel-vxlan}
spec:
  podCIDR: 10.244.0.0/16
  serviceCIDR: 10.96.0.0/12
  cni: {plugin: flannel, backend: vxlan, flannelVersion: "0.26.1"}
  underlay: {cidr: 192.168.0.0/24, gateway: 192.168.0.1}
  nodes:
  - {name: node-a, ip: 192.168.0.11, podCIDR: 10.244.0.0/24}
  - {name: node-b, ip: 192.168.0.12, podCIDR: 10.244.1.0/24}
""" + _PODS % {"replicas": 4}

HOSTGW_ONE_SUBNET = """\
apiVersion: netlab/v1
kind: Lab
metadata: {name: oracle-flannel-host-gw}
spec:
  podCIDR: 10.244.0.0/16
  serviceCIDR: 10.96.0.0/12
  cni: {plugin: flannel, backend: host-gw}
  underlay: {cidr: 192.168.0.0/24, gateway: 192.168.0.1}
  nodes:
  - {name: node-a, ip: 192.168.0.11, podCIDR: 10.244.0.0/24}
  - {name: node-b, ip: 192.168.0.12, podCIDR: 10.244.1.0/24}
""" + _PODS % {"replicas": 4}

# node-a and node-b share a layer-2 segment; node-c is behind the router. flannel
# host-gw can route between a and b but not to c ("Nexthop has invalid gateway").
HOSTGW_TWO_SUBNETS = """\
apiVersion: netlab/v1
kind: Lab
metadata: {name: oracle-flannel-host-gw-routed}
spec:
  podCIDR: 10.244.0.0/16
  serviceCIDR: 10.96.0.0/12
  cni: {plugin: flannel, backend: host-gw}
  underlay:
  - {name: rack1, cidr: 192.168.1.0/24, gateway: 192.168.1.1}
  - {name: rack2, cidr: 192.168.2.0/24, gateway: 192.168.2.1}
  nodes:
  - {name: node-a, ip: 192.168.1.11, podCIDR: 10.244.0.0/24}
  - {name: node-b, ip: 192.168.1.12, podCIDR: 10.244.1.0/24}
  - {name: node-c, ip: 192.168.2.13, podCIDR: 10.244.2.0/24}
""" + _PODS % {"replicas": 5}

LABS = {
    "vxlan": VXLAN_TWO_NODE,
    "host-gw": HOSTGW_ONE_SUBNET,
    "host-gw-routed": HOSTGW_TWO_SUBNETS,
}
