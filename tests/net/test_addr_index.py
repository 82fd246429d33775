"""Property: NetNS.addr_index (address -> the devices and IfAddrs holding it, what a received
packet's martian-source check and ARP ask) always equals a scan of every device's addresses,
after random `ip addr add|del|flush`, kube-ipvs0-style host_addrs_sync, device creation,
deletion (a veth takes its peer, wherever it lives), renames, moves between namespaces and a
namespace's removal; and the answers built on it equal the answers of the scan."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from netlab.net import rtnl_addr, rtnl_link
from netlab.net.errors import NetError
from netlab.net.rtnl_route import _source_is_local
from netlab.net.world import Dataplane

IPS = [0x0A000001, 0x0A000002, 0x0A000003, 0x0A600001, 0x0A600002, 0x7F000001, 0xC0A80001]
PLENS = [8, 24, 32]
NS = ["n0", "n1", "n2"]
DEVS = ["d0", "d1", "v0", "v1"]

op = st.one_of(
    st.tuples(st.just("add"), st.sampled_from(NS), st.sampled_from(DEVS), st.sampled_from(IPS), st.sampled_from(PLENS)),
    st.tuples(st.just("del"), st.sampled_from(NS), st.sampled_from(DEVS), st.sampled_from(IPS), st.sampled_from(PLENS + [None])),
    st.tuples(st.just("flush"), st.sampled_from(NS), st.sampled_from(DEVS + ["lo"])),
    st.tuples(st.just("sync"), st.sampled_from(NS), st.sampled_from(DEVS), st.sets(st.sampled_from(IPS)),
              st.one_of(st.none(), st.sets(st.sampled_from(IPS)))),
    st.tuples(st.just("dummy"), st.sampled_from(NS), st.sampled_from(DEVS)),
    st.tuples(st.just("veth"), st.sampled_from(NS), st.sampled_from(DEVS), st.sampled_from(NS), st.sampled_from(DEVS)),
    st.tuples(st.just("delete"), st.sampled_from(NS), st.sampled_from(DEVS)),
    st.tuples(st.just("rename"), st.sampled_from(NS), st.sampled_from(DEVS), st.sampled_from(DEVS)),
    st.tuples(st.just("move"), st.sampled_from(NS), st.sampled_from(DEVS), st.sampled_from(NS)),
    st.tuples(st.just("up"), st.sampled_from(NS), st.sampled_from(DEVS), st.booleans()),
    st.tuples(st.just("rmns"), st.sampled_from(NS)),
)


def scan(ns) -> dict[int, list[tuple[int, int]]]:
    out: dict[int, list] = {}
    for d in ns.devices.values():
        for a in d.addrs:
            out.setdefault(a.ip, []).append((id(d), id(a)))
    return {ip: sorted(v) for ip, v in out.items()}


def indexed(ns) -> dict[int, list[tuple[int, int]]]:
    return {ip: sorted((id(d), id(a)) for d, a in held) for ip, held in ns.addr_index.items()}


def apply(world: Dataplane, step: tuple) -> None:
    kind, name = step[0], step[1]
    ns = world.namespaces.get(name)
    if ns is None:
        if kind != "rmns":
            world.add_netns(name)
        return
    dev = ns.dev(step[2]) if len(step) > 2 else None
    try:
        if kind == "add" and dev is not None:
            ns.addr_add(dev, step[3], step[4])
        elif kind == "del" and dev is not None:
            rtnl_addr.addr_del(ns, dev, step[3], step[4])
        elif kind == "flush" and dev is not None:
            for a in list(dev.addrs):
                if a in dev.addrs:
                    ns.addr_del(dev, a.ip, a.plen)
        elif kind == "sync" and dev is not None:
            ns.host_addrs_sync(dev, step[3], only=step[4])
        elif kind == "dummy":
            rtnl_link.add_dummy(ns, step[2])
        elif kind == "veth":
            rtnl_link.add_veth(ns, step[2], step[4], peer_ns=world.namespaces.get(step[3]) or ns)
        elif kind == "delete" and dev is not None:
            rtnl_link.delete(ns, dev)
        elif kind == "rename" and dev is not None:
            ns.rename_device(dev, step[3])
        elif kind == "move" and dev is not None and step[3] in world.namespaces:
            rtnl_link.move_to_netns(ns, dev, world.namespaces[step[3]])
        elif kind == "up" and dev is not None:
            rtnl_link.set_up(ns, dev, step[3])
        elif kind == "rmns":
            world.remove_netns(name)
    except (NetError, rtnl_link.RtnlError):
        pass


@settings(max_examples=200, deadline=None)
@given(st.lists(op, max_size=40))
def test_the_address_index_equals_a_scan(steps):
    world = Dataplane()
    for name in NS:
        world.add_netns(name)
    for step in steps:
        apply(world, step)
        for ns in world.namespaces.values():
            assert indexed(ns) == scan(ns), step
            for ip in IPS:
                held = any(a.ip == ip for d in ns.devices.values() for a in d.addrs)
                assert ns.has_addr(ip) == held
                assert ns._martian_source(ip) == held
                assert _source_is_local(ns, ip) == held
                before = ns.sysctl.get("net.ipv4.conf.all.arp_ignore")
                ns.sysctl["net.ipv4.conf.all.arp_ignore"] = "1"
                for d in ns.devices.values():
                    assert ns._arp_answers_on(d, ip) == any(a.ip == ip for a in d.addrs)
                ns.sysctl["net.ipv4.conf.all.arp_ignore"] = before
