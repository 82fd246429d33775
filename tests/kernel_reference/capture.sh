#!/bin/bash
# Capture reference outputs from the topology built by build.sh.
# Each file: first line "$ <command>", then the raw stdout+stderr.
cd "$(dirname "$0")"

# cap FILE NS CMD...   (NS "-" = host)
cap() {
    local f=$1 ns=$2; shift 2
    printf '$ %s\n' "$*" > "$f"
    if [ "$ns" = - ]; then "$@" >> "$f" 2>&1
    else ip netns exec "nlref-$ns" "$@" >> "$f" 2>&1; fi
    printf '%s\t%d\n' "$f" $? >> exit_codes.tsv
}
# capsh FILE NS 'shell command'
capsh() {
    local f=$1 ns=$2 c=$3
    printf '$ %s\n' "$c" > "$f"
    ip netns exec "nlref-$ns" sh -c "$c" >> "$f" 2>&1
    printf '%s\t%d\n' "$f" $? >> exit_codes.tsv
}
# err NS CMD...  -> appended to errors.txt with exit code
err() {
    local ns=$1; shift
    printf '$ %s\n' "$*" >> errors.txt
    ip netns exec "nlref-$ns" "$@" >> errors.txt 2>&1
    printf 'exit=%d\n\n' $? >> errors.txt
}
# errsh NS 'shell command'
errsh() {
    local ns=$1; shift
    printf '$ %s\n' "$1" >> errors.txt
    ip netns exec "nlref-$ns" sh -c "$1" >> errors.txt 2>&1
    printf 'exit=%d\n\n' $? >> errors.txt
}

rm -f ./*.txt exit_codes.tsv

# ---- populate neighbour tables ------------------------------------------------
ip netns exec nlref-n1 ping -c 1 -W 1 192.168.0.1  >/dev/null
ip netns exec nlref-n1 ping -c 1 -W 1 192.168.0.22 >/dev/null
ip netns exec nlref-n1 ping -c 1 -W 1 172.30.76.2  >/dev/null
ip netns exec nlref-n1 ping -c 1 -W 1 172.30.76.3  >/dev/null
ip netns exec nlref-p1 ping -c 1 -W 1 172.30.9.2   >/dev/null
ip netns exec nlref-p2 ping -c 1 -W 1 172.30.9.2   >/dev/null

# neighbour tables first, while entries are REACHABLE
cap n1_ip_neigh.txt              n1 ip neigh
cap n1_ip_neigh_show_dev_flannel.1.txt n1 ip neigh show dev flannel.1
cap n1_arp_-n.txt                n1 arp -n
cap n1_ip_-s_neigh.txt           n1 ip -s neigh
cap n2_ip_neigh.txt              n2 ip neigh

# ---- n1: routing ------------------------------------------------------------
cap n1_ip_route.txt              n1 ip route
cap n1_ip_route_show.txt         n1 ip route show
cap n1_ip_route_show_table_local.txt n1 ip route show table local
cap n1_ip_route_show_table_all.txt   n1 ip route show table all
cap n1_ip_-d_route.txt           n1 ip -d route
cap n1_ip_route_get_172.30.9.2.txt   n1 ip route get 172.30.9.2
cap n1_ip_route_get_172.30.76.2.txt  n1 ip route get 172.30.76.2
cap n1_ip_route_get_172.30.76.1.txt  n1 ip route get 172.30.76.1
cap n1_ip_route_get_172.30.76.0.txt  n1 ip route get 172.30.76.0
cap n1_ip_route_get_192.168.0.22.txt n1 ip route get 192.168.0.22
cap n1_ip_route_get_192.168.0.21.txt n1 ip route get 192.168.0.21
cap n1_ip_route_get_8.8.8.8.txt      n1 ip route get 8.8.8.8
cap n1_ip_route_get_127.0.0.1.txt    n1 ip route get 127.0.0.1
cap n1_ip_route_get_172.30.9.2_from_172.30.76.2_iif_docker0.txt n1 ip route get 172.30.9.2 from 172.30.76.2 iif docker0
cap n1_ip_route_get_172.30.76.3_from_172.30.76.2_iif_docker0.txt n1 ip route get 172.30.76.3 from 172.30.76.2 iif docker0
cap n1_route_-n.txt              n1 route -n
cap n1_route.txt                 n1 timeout 120 route
cap n1_netstat_-rn.txt           n1 netstat -rn

# ---- n1: addresses / links -----------------------------------------------------
cap n1_ip_addr.txt               n1 ip addr
cap n1_ip_-4_addr.txt            n1 ip -4 addr
cap n1_ip_-o_addr.txt            n1 ip -o addr
cap n1_ip_-br_addr.txt           n1 ip -br addr
cap n1_ip_-br_link.txt           n1 ip -br link
cap n1_ip_link.txt               n1 ip link
cap n1_ip_-d_link_show_flannel.1.txt n1 ip -d link show flannel.1
cap n1_ip_-d_link_show_docker0.txt   n1 ip -d link show docker0
cap n1_ip_-d_link_show_veth1a2b3c4d.txt n1 ip -d link show veth1a2b3c4d
cap n1_ip_-d_link_show_eth0.txt  n1 ip -d link show eth0
cap n1_ip_-s_link_show_eth0.txt  n1 ip -s link show eth0
cap n1_ip_addr_show_dev_flannel.1.txt n1 ip addr show dev flannel.1
cap n1_ifconfig.txt              n1 ifconfig
cap n1_ifconfig_-a.txt           n1 ifconfig -a
cap n1_ifconfig_docker0.txt      n1 ifconfig docker0
cap n1_ifconfig_flannel.1.txt    n1 ifconfig flannel.1

# ---- n1: bridge ----------------------------------------------------------------
cap n1_bridge_fdb_show.txt       n1 bridge fdb show
cap n1_bridge_fdb_show_dev_flannel.1.txt n1 bridge fdb show dev flannel.1
cap n1_bridge_fdb_show_br_docker0.txt    n1 bridge fdb show br docker0
cap n1_bridge_link.txt           n1 bridge link
cap n1_bridge_link_show.txt      n1 bridge link show
cap n2_bridge_fdb_show_dev_flannel.1.txt n2 bridge fdb show dev flannel.1
cap sw_bridge_fdb_show_br_br0.txt sw bridge fdb show br br0
cap sw_bridge_link.txt           sw bridge link

# ---- n1: sysctl ------------------------------------------------------------------
cap n1_sysctl_net.ipv4.ip_forward.txt n1 sysctl net.ipv4.ip_forward
cap n1_cat_proc_sys_net_ipv4_ip_forward.txt n1 cat /proc/sys/net/ipv4/ip_forward

# ---- n2 / gw ---------------------------------------------------------------------
cap n2_ip_route.txt              n2 ip route
cap n2_ip_-br_addr.txt           n2 ip -br addr
cap gw_ip_route.txt              gw ip route

# ---- host: ip netns (filtered) ---------------------------------------------------
printf '$ %s\n' "ip netns | grep '^nlref-'" > host_ip_netns.txt
ip netns | grep '^nlref-' >> host_ip_netns.txt 2>&1
printf '$ %s\n' "ip netns list | grep '^nlref-'" > host_ip_netns_list.txt
ip netns list | grep '^nlref-' >> host_ip_netns_list.txt 2>&1

# ---- pod p1 --------------------------------------------------------------------
cap p1_ip_route.txt              p1 ip route
cap p1_ip_addr.txt               p1 ip addr
cap p1_ip_link.txt               p1 ip link
cap p1_ip_route_get_172.30.9.2.txt p1 ip route get 172.30.9.2
cap p1_ip_route_get_172.30.76.3.txt p1 ip route get 172.30.76.3
cap p1_ping_-c_2_172.30.9.2.txt  p1 ping -c 2 172.30.9.2
cap p1_ping_-c_1_172.30.76.3.txt p1 ping -c 1 172.30.76.3
cap p1_ping_-c_1_172.30.76.1.txt p1 ping -c 1 172.30.76.1
cap p1_ping_-c_1_192.168.0.22.txt p1 ping -c 1 192.168.0.22
cap p1_ping_-c_1_-W_1_172.30.76.99.txt p1 ping -c 1 -W 1 172.30.76.99
cap p1_ping_-c_3_172.30.76.98.txt p1 ping -c 3 172.30.76.98
cap p1_ping_-c_2_-W_1_10.99.99.99_gw_noforward.txt p1 ping -c 2 -W 1 10.99.99.99
ip netns exec nlref-gw sysctl -qw net.ipv4.ip_forward=1
cap p1_ping_-c_2_10.99.99.99_gw_forward.txt p1 ping -c 2 10.99.99.99
ip netns exec nlref-gw sysctl -qw net.ipv4.ip_forward=0
cap p1_traceroute_-n_172.30.9.2.txt p1 traceroute -n 172.30.9.2
sleep 10   # let p3's ICMP rate-limit bucket refill (see README)
cap p1_traceroute_172.30.9.2.txt p1 timeout 120 traceroute 172.30.9.2
cap p1_ping_-c_1_-s_1472_-M_do_172.30.9.2.txt p1 ping -c 1 -s 1472 -M do 172.30.9.2
cap p1_ping_-c_1_-s_1422_-M_do_172.30.9.2.txt p1 ping -c 1 -s 1422 -M do 172.30.9.2
cap p1_ping_-c_1_-s_1423_-M_do_172.30.9.2.txt p1 ping -c 1 -s 1423 -M do 172.30.9.2
cap p1_ip_neigh.txt              p1 ip neigh
cap p1_arp_-n.txt                p1 arp -n
cap p1_route_-n.txt              p1 route -n

cap p1_ping_-c_1_-W_5_172.30.76.97.txt p1 ping -c 1 -W 5 172.30.76.97
cap p1_ping_-c_1_-t_1_172.30.9.2.txt p1 ping -c 1 -t 1 172.30.9.2
cap p1_ping_-c_1_-t_2_172.30.9.2.txt p1 ping -c 1 -t 2 172.30.9.2
# INCOMPLETE neighbour state: look while ARP for .96 is still being resolved
ip netns exec nlref-p1 ping -c 1 -W 3 172.30.76.96 > /dev/null 2>&1 &
sleep 0.5
cap p1_ip_neigh_incomplete.txt   p1 ip neigh
cap p1_arp_-n_incomplete.txt     p1 arp -n
wait
# gw forwarding on, ping from n1 (gw can answer n1 but has no route to pods)
ip netns exec nlref-gw sysctl -qw net.ipv4.ip_forward=1
cap n1_ping_-c_2_10.99.99.99_gw_forward.txt n1 ping -c 2 10.99.99.99
cap n1_traceroute_-n_10.99.99.99_gw_forward.txt n1 traceroute -n -m 3 10.99.99.99
ip netns exec nlref-gw sysctl -qw net.ipv4.ip_forward=0
cap n1_ip_route_show_dev_eth0.txt n1 ip route show dev eth0
cap n1_ip_route_show_dev_flannel.1.txt n1 ip route show dev flannel.1
cap n1_ip_route_show_172.30.9.0_24.txt n1 ip route show 172.30.9.0/24
cap n1_ip_neigh_show_dev_docker0.txt n1 ip neigh show dev docker0
cap n1_ip_-4_-o_addr.txt         n1 ip -4 -o addr
cap n1_ip_-o_link.txt            n1 ip -o link
cap n1_ip_link_show_type_veth.txt n1 ip link show type veth
cap n1_ip_link_show_master_docker0.txt n1 ip link show master docker0
cap n1_ip_route_get_172.30.76.2_from_172.30.9.2_iif_flannel.1.txt n1 ip route get 172.30.76.2 from 172.30.9.2 iif flannel.1
cap n1_ip_route_get_10.99.99.99_from_172.30.76.2_iif_docker0.txt n1 ip route get 10.99.99.99 from 172.30.76.2 iif docker0

# ---- scratch pod without default route -----------------------------------------
ip netns add nlref-pscratch
ip -n nlref-pscratch link set lo up
ip -n nlref-n1 link add vethdeadbeef type veth peer name eth0 netns nlref-pscratch
ip -n nlref-n1 link set vethdeadbeef mtu 1450
ip -n nlref-n1 link set vethdeadbeef master docker0 up
ip -n nlref-pscratch link set eth0 mtu 1450
ip -n nlref-pscratch addr add 172.30.76.4/24 dev eth0
ip -n nlref-pscratch link set eth0 up
sleep 1
cap pscratch_ip_route.txt        pscratch ip route
cap pscratch_ping_-c_2_10.99.99.99.txt pscratch ping -c 2 10.99.99.99
cap pscratch_ip_route_get_10.99.99.99.txt pscratch ip route get 10.99.99.99
cap pscratch_traceroute_-n_10.99.99.99.txt pscratch traceroute -n 10.99.99.99
# broadcast address variants (ip addr add ... brd +)
# (re-add the pod address with brd + : the only address on the device, so ifconfig shows it)
ip -n nlref-pscratch addr del 172.30.76.4/24 dev eth0
ip -n nlref-pscratch addr add 172.30.76.4/24 brd + dev eth0
ip -n nlref-pscratch addr add 10.0.0.5/24 dev eth0
cap pscratch_ip_addr_brd_plus.txt pscratch ip addr show dev eth0
cap pscratch_ifconfig_eth0_brd_plus.txt pscratch ifconfig eth0
cap pscratch_ip_route_show_table_local.txt pscratch ip route show table local

# ---- tcpdump of VXLAN on n1 eth0 -------------------------------------------------
( ip netns exec nlref-n1 timeout 20 tcpdump -nn -e -i eth0 -c 2 udp port 8472 > n1_tcpdump_vxlan.out 2>&1 ) &
TD=$!
sleep 2
ip netns exec nlref-p1 ping -c 1 172.30.9.2 > /dev/null
wait $TD
{ printf '$ %s\n' "tcpdump -nn -e -i eth0 -c 2 udp port 8472"; cat n1_tcpdump_vxlan.out; } > n1_tcpdump_-nn_-e_-i_eth0_-c_2_udp_port_8472.txt
rm -f n1_tcpdump_vxlan.out
( ip netns exec nlref-n1 timeout 20 tcpdump -nn -i eth0 -c 2 udp port 8472 > n1_tcpdump_vxlan.out 2>&1 ) &
TD=$!
sleep 2
ip netns exec nlref-p1 ping -c 1 172.30.9.2 > /dev/null
wait $TD
{ printf '$ %s\n' "tcpdump -nn -i eth0 -c 2 udp port 8472"; cat n1_tcpdump_vxlan.out; } > n1_tcpdump_-nn_-i_eth0_-c_2_udp_port_8472.txt
rm -f n1_tcpdump_vxlan.out

# ---- errors (run in n1) ----------------------------------------------------------
rm -f errors.txt
err n1 ip route add 172.30.9.0/24 via 172.30.9.0 dev flannel.1
err n1 ip route add 172.30.9.0/24 via 172.30.9.0 dev flannel.1
err n1 ip route add 172.30.9.0/24 via 172.30.9.0 dev flannel.1 onlink
err n1 ip route add 10.1.0.0/16 via 10.9.9.9
err n1 ip route add 10.1.0.0/16 via 10.9.9.9 dev eth0
err n1 ip route add 10.1.0.0/16 via 172.30.76.0 dev flannel.1
err n1 ip route add nonsense
err n1 ip route add 10.0.0.0/33 dev eth0
err n1 ip route del 10.77.0.0/16
err n1 ip route add 10.2.0.0/16 dev nosuchdev
err n1 ip route del default via 192.168.0.99
err n1 ip addr add 1.2.3.4/24 dev nosuchdev
err n1 ip addr add 192.168.0.21/24 dev eth0
err n1 ip addr del 9.9.9.9/24 dev eth0
err n1 ip link set nosuchdev up
err n1 ip link show nosuchdev
err n1 ip link add docker0 type bridge
err n1 ip neigh add 172.30.9.9 lladdr zz dev flannel.1
err n1 ip neigh add 172.30.9.0 lladdr aa:bb:cc:dd:ee:ff dev flannel.1
err n1 ip neigh del 1.1.1.1 dev eth0
err n1 ip neigh add 1.1.1.1 lladdr aa:bb:cc:dd:ee:ff dev nosuchdev
err n1 bridge fdb add aa:bb:cc:dd:ee:ff dev nosuchdev
err n1 bridge fdb del aa:bb:cc:dd:ee:ff dev flannel.1 dst 192.168.0.99
err n1 ip route get 300.1.1.1
err n1 ip route get 10.99.99.99 from 1.2.3.4
err n1 ip foo
err n1 ip route foo
err n1 ip neigh foo
err n1 ip addr foo
err n1 route add -net 10.5.0.0 netmask 255.255.0.0 dev nosuchdev
err n1 route add -net 10.5.0.0 netmask 255.255.0.0 gw 10.9.9.9
err n1 route del -net 10.77.0.0 netmask 255.255.0.0
err n1 ip route add blackhole 10.66.0.0/16
err n1 ip route add unreachable 10.67.0.0/16
err n1 ip route add prohibit 10.68.0.0/16
err n1 ip route
err n1 ip route get 10.66.1.1
err n1 ip route get 10.67.1.1
err n1 ip route get 10.68.1.1
err n1 route -n
err n1 ping -c 1 10.66.1.1
err n1 ping -c1 10.67.1.1
err n1 ping -c1 10.68.1.1
err p1 ping -c1 -W 2 10.66.1.1
err p1 ping -c1 -W 2 10.67.1.1
err p1 ping -c1 -W 2 10.68.1.1
err n1 sysctl -w net.ipv4.ip_forward=1
err n1 sysctl net.ipv4.nosuch
err n1 sysctl -w net.ipv4.nosuch=1
err n1 cat /proc/sys/net/ipv4/nosuch
err n1 ip route del blackhole 10.66.0.0/16
err n1 ip route del unreachable 10.67.0.0/16
err n1 ip route del prohibit 10.68.0.0/16
err n1 ip route del 10.68.0.0/16
err n1 ip netns exec nlref-doesnotexist true
err n1 arp -d 1.1.1.1
err n1 traceroute -n 300.1.1.1
err n1 ping -c 1 300.1.1.1
err n1 ping -c 1 nosuchhost.invalid
err n1 ip route del 10.1.0.0/16
err n1 arp -d 172.30.76.50
err n1 ip neigh del 172.30.76.50 dev docker0
err n1 ip link set flannel.1 mtu 99999
err n1 ip link del nosuchdev
err n1 ip route add 10.3.0.0/16 via 192.168.0.1 dev docker0
err n1 ip route add 10.3.0.0/16 via 192.168.0.1 metric 100
err n1 ip route add 10.3.0.0/16 via 192.168.0.1 metric 100
err n1 ip route replace 10.3.0.0/16 via 192.168.0.22 metric 100
err n1 ip route show 10.3.0.0/16
err n1 ip route del 10.3.0.0/16
err n1 ip route get 172.30.9.2 from 172.30.76.2 iif nosuchdev
err n1 ip -4 route get 172.30.9.2 oif docker0
err n1 ip route get 172.30.9.2 oif docker0
err n1 ping -c 1 -I nosuchdev 172.30.9.2
# name resolution with a "files"-only resolver (as if DNS said NXDOMAIN):
# private mount namespace, bind-mount a hosts-only nsswitch.conf (host /etc untouched)
printf 'hosts: files\n' > /tmp/nlref-nsswitch.conf
errsh n1 'unshare -m sh -c "mount --bind /tmp/nlref-nsswitch.conf /etc/nsswitch.conf && ping -c 1 300.1.1.1"   # shown: ping -c 1 300.1.1.1'
errsh n1 'unshare -m sh -c "mount --bind /tmp/nlref-nsswitch.conf /etc/nsswitch.conf && ping -c 1 nosuchhost.invalid"   # shown: ping -c 1 nosuchhost.invalid'
errsh n1 'unshare -m sh -c "mount --bind /tmp/nlref-nsswitch.conf /etc/nsswitch.conf && ip route get nosuchhost.invalid"   # shown: ip route get nosuchhost.invalid'
errsh n1 'unshare -m sh -c "mount --bind /tmp/nlref-nsswitch.conf /etc/nsswitch.conf && traceroute -n nosuchhost.invalid"   # shown: traceroute -n nosuchhost.invalid'
rm -f /tmp/nlref-nsswitch.conf

# ---- neighbour states later (STALE) ----------------------------------------------
sleep 70
cap n1_ip_neigh_after_70s.txt   n1 ip neigh
cap n1_arp_-n_after_70s.txt     n1 arp -n
cap n1_arp.txt                  n1 timeout 120 arp
cap p1_ip_neigh_after_70s.txt   p1 ip neigh

# ---- ifindex numbering --------------------------------------------------------------
{ echo '# ifindex numbering observed (machine/kernel-specific; per-namespace counters).'
  echo '# Format per namespace: "ifindex: name[@ifPEERINDEX]" (first two fields of `ip -o link`)'
  for ns in sw gw n1 n2 p1 p2 p3 pscratch; do
      echo "== nlref-$ns"; ip -n nlref-$ns -o link | cut -d' ' -f1,2 | sed 's/:$//'
  done; } > ifindex.txt
