#!/bin/bash
# Build the nlref- reference topology (run as root). All objects live in
# nlref-* network namespaces; the host's own interfaces are never touched.
set -ex

for ns in sw gw n1 n2 p1 p2 p3; do
    ip netns add nlref-$ns
    ip -n nlref-$ns link set lo up
done

# ---- underlay switch -------------------------------------------------------
ip -n nlref-sw link add br0 type bridge
ip -n nlref-sw link set br0 up

# router: gw eth0 <-> sw gwport
ip -n nlref-sw link add gwport type veth peer name eth0 netns nlref-gw
ip -n nlref-sw link set gwport master br0 up
ip -n nlref-gw addr add 192.168.0.1/24 dev eth0
ip -n nlref-gw link set eth0 up

# nodes: nX eth0 <-> sw nXport
ip -n nlref-sw link add n1port type veth peer name eth0 netns nlref-n1
ip -n nlref-sw link add n2port type veth peer name eth0 netns nlref-n2
ip -n nlref-sw link set n1port master br0 up
ip -n nlref-sw link set n2port master br0 up
ip -n nlref-n1 link set eth0 address 00:15:5d:02:b2:00

setup_node() {  # $1=node  $2=node ip  $3=pod subnet third octet
    local n=nlref-$1 ip=$2 o=$3
    ip -n $n link set eth0 up
    ip -n $n addr add $ip/24 dev eth0 metric 100
    ip -n $n route add default via 192.168.0.1 dev eth0 metric 100
    ip netns exec $n sysctl -w net.ipv4.ip_forward=1
    ip -n $n link add docker0 type bridge
    ip -n $n link set docker0 mtu 1450
    ip -n $n addr add 172.30.$o.1/24 dev docker0
    ip -n $n link set docker0 up
    ip -n $n link add flannel.1 type vxlan id 1 local $ip dev eth0 dstport 8472 nolearning
    ip -n $n addr add 172.30.$o.0/32 dev flannel.1
    ip -n $n link set flannel.1 mtu 1450
    ip -n $n link set flannel.1 up
}
setup_node n1 192.168.0.21 76
setup_node n2 192.168.0.22 9

MAC1=$(ip -n nlref-n1 -br link show flannel.1 | awk '{print $3}')
MAC2=$(ip -n nlref-n2 -br link show flannel.1 | awk '{print $3}')

# flannel >= 0.9 style routing: onlink route + permanent neigh + fdb entry
ip -n nlref-n1 route add 172.30.9.0/24 via 172.30.9.0 dev flannel.1 onlink
ip -n nlref-n1 neigh add 172.30.9.0 lladdr $MAC2 dev flannel.1 nud permanent
bridge -n nlref-n1 fdb append $MAC2 dev flannel.1 dst 192.168.0.22
ip -n nlref-n2 route add 172.30.76.0/24 via 172.30.76.0 dev flannel.1 onlink
ip -n nlref-n2 neigh add 172.30.76.0 lladdr $MAC1 dev flannel.1 nud permanent
bridge -n nlref-n2 fdb append $MAC1 dev flannel.1 dst 192.168.0.21

# ---- pods --------------------------------------------------------------------
add_pod() {  # $1=node $2=pod $3=host veth name $4=pod ip $5=gateway
    local n=nlref-$1 p=nlref-$2
    ip -n $n link add $3 type veth peer name eth0 netns $p
    ip -n $n link set $3 mtu 1450
    ip -n $n link set $3 master docker0 up
    ip -n $p link set eth0 mtu 1450
    ip -n $p addr add $4/24 dev eth0
    ip -n $p link set eth0 up
    ip -n $p route add default via $5
}
add_pod n1 p1 veth1a2b3c4d 172.30.76.2 172.30.76.1
add_pod n1 p2 veth5e6f7a8b 172.30.76.3 172.30.76.1
add_pod n2 p3 veth9c0d1e2f 172.30.9.2 172.30.9.1

# wait for bridge ports to reach forwarding (STP is off: immediate) and DAD
sleep 2
