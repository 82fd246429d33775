import pytest

from netlab.levels.changes import forbidden, is_change


@pytest.mark.parametrize("line", [
    "ip route", "ip -4 route show", "ip r get 10.0.0.1", "ip neigh", "bridge fdb show dev flannel.1",
    "iptables -t nat -L -n -v", "iptables-save", "iptables -S KUBE-SERVICES -t nat", "ipvsadm -ln",
    "kubectl get pods -o wide", "kubectl -n kube-system get ep", "kubectl describe svc web",
    "ping -c 1 10.0.0.1", "curl -s http://web", "nslookup web", "ssh 192.168.0.21 ip route",
    "kubectl exec web -- ip route", "cat /etc/resolv.conf | grep search", "ssh 192.168.0.21", "exit",
    "sysctl net.ipv4.ip_forward", "conntrack -L", "echo hello > /dev/null",
])
def test_reads_are_not_changes(line):
    assert not is_change(line)


@pytest.mark.parametrize("line", [
    "ip route add default via 172.30.76.1", "ip link set veth1 master docker0", "ip neigh replace 1.2.3.4 lladdr 02:00:00:00:00:01 dev eth0",
    "bridge fdb replace 02:00:00:00:00:01 dev flannel.1 dst 1.2.3.4", "iptables -t nat -A KUBE-SVC-X -j KUBE-SEP-Y",
    "iptables -I INPUT 1 -j ACCEPT", "ipvsadm -A -t 10.0.0.1:80 -s rr", "kubectl scale deploy coredns --replicas=2",
    "kubectl -n kube-system edit svc kube-dns", "kubectl apply -f x.yaml", "ssh 192.168.0.21 ip route del default",
    "kubectl exec web -- ip route add default via 1.2.3.4", "sysctl -w net.ipv4.ip_forward=1",
    "echo 1 > /proc/sys/net/ipv4/ip_forward", "ip route; ip route add 10.0.0.0/8 dev eth0",
    "sh -c 'ip link set eth0 down'",
])
def test_writes_are_changes(line):
    assert is_change(line)


def test_forbidden_matches_aliases_and_nested_commands():
    pats = ["kubectl delete networkpolicy"]
    assert forbidden("kubectl delete netpol deny-all", pats) == pats[0]
    assert forbidden("kubectl delete networkpolicies/deny-all", pats) == pats[0]
    assert forbidden("ssh n1 kubectl delete networkpolicy x", pats) == pats[0]
    assert forbidden("kubectl get networkpolicy", pats) is None
    assert forbidden("kubectl -n payments delete netpol default-deny", pats) == pats[0]
    assert forbidden("kubectl delete --namespace payments networkpolicy x", pats) == pats[0]
    assert forbidden("kubectl -n tenants delete svc -l tenant=t0001", ["kubectl delete service"]) is not None
    assert forbidden("ip route del default", ["ip route del"]) == "ip route del"
