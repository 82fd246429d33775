"""The FIB: longest-prefix match, metrics, route types, policy rules, and what link
state does to routes — each case as the Linux kernel (fib_trie, fib_rules) answers it."""
from __future__ import annotations

import pytest

from netbuild import ip, route, routed
from netlab.net import topology
from netlab.net.device import Dummy
from netlab.net.errors import EEXIST, ESRCH, NetError
from netlab.net.fib import (BLACKHOLE, LOCAL, PROHIBIT, RT_TABLE_LOCAL, RT_TABLE_MAIN, THROW, UNREACHABLE, Fib,
                            Rule)
from netlab.net.netns import ERR_ACCES, ERR_HOSTUNREACH, ERR_INVAL, ERR_NETUNREACH, RouteError
from netlab.net.route_text import format_route
from netlab.net.world import Dataplane


def up_dev(name: str) -> Dummy:
    dev = Dummy(name, "02:00:00:00:00:01")
    dev.admin_up = True
    return dev


@pytest.fixture
def devs():
    return {n: up_dev(n) for n in ("d0", "d8", "d16", "d24", "d32")}


def test_longest_prefix_wins_whatever_the_insertion_order(devs):
    fib = Fib()
    fib.add(route("10.1.2.0/24", dev=devs["d24"]))
    fib.add(route("default", via="192.0.2.1", dev=devs["d0"]))
    fib.add(route("10.1.2.3/32", dev=devs["d32"]))
    fib.add(route("10.0.0.0/8", dev=devs["d8"]))
    fib.add(route("10.1.0.0/16", dev=devs["d16"]))
    assert fib.lookup(ip("10.1.2.3")).dev is devs["d32"]
    assert fib.lookup(ip("10.1.2.4")).dev is devs["d24"]
    assert fib.lookup(ip("10.1.3.4")).dev is devs["d16"]
    assert fib.lookup(ip("10.2.0.1")).dev is devs["d8"]
    assert fib.lookup(ip("11.0.0.1")).dev is devs["d0"]


def test_no_route_and_no_default_is_none():
    fib = Fib()
    assert fib.lookup(ip("10.0.0.1")) is None


def test_lowest_metric_wins_among_routes_for_one_prefix(devs):
    fib = Fib()
    fib.add(route("10.0.0.0/8", dev=devs["d16"], metric=200))
    fib.add(route("10.0.0.0/8", dev=devs["d24"], metric=50))
    fib.add(route("10.0.0.0/8", dev=devs["d32"], metric=100))
    assert fib.lookup(ip("10.9.9.9")).metric == 50
    fib.delete(lambda r: r.metric == 50)
    assert fib.lookup(ip("10.9.9.9")).metric == 100


def test_a_longer_prefix_beats_a_lower_metric(devs):
    fib = Fib()
    fib.add(route("10.0.0.0/8", dev=devs["d8"], metric=0))
    fib.add(route("10.1.0.0/16", dev=devs["d16"], metric=1000))
    assert fib.lookup(ip("10.1.0.1")).dev is devs["d16"]


def test_same_prefix_same_metric_appended_routes_keep_insertion_order(devs):
    fib = Fib()
    fib.add(route("10.0.0.0/8", dev=devs["d8"]))
    fib.add(route("10.0.0.0/8", dev=devs["d16"]), append=True)
    fib.add(route("10.0.0.0/8", dev=devs["d24"]), append=True)
    assert [r.dev.name for r in fib.table(RT_TABLE_MAIN).routes()] == ["d8", "d16", "d24"]
    assert fib.lookup(ip("10.0.0.1")).dev is devs["d8"]


def test_a_dead_nexthop_is_skipped_and_the_next_alias_or_shorter_prefix_answers(devs):
    fib = Fib()
    fib.add(route("10.0.0.0/8", dev=devs["d8"]))
    fib.add(route("10.1.0.0/16", dev=devs["d16"]))
    fib.add(route("10.1.0.0/16", dev=devs["d24"]), append=True)
    devs["d16"].admin_up = False  # RTNH_F_DEAD: the kernel skips it and tries the next alias
    assert fib.lookup(ip("10.1.0.1")).dev is devs["d24"]
    devs["d24"].admin_up = False  # every alias dead: backtrack to the shorter prefix
    assert fib.lookup(ip("10.1.0.1")).dev is devs["d8"]


def test_a_route_whose_link_has_no_carrier_is_still_used():
    """Carrier loss only marks the nexthop `linkdown`; with the default
    net.ipv4.conf.all.ignore_routes_with_linkdown=0 lookups still return it
    (kernel: `ip route get 10.1.0.5` → `10.1.0.5 dev va src 10.1.0.1` with va's peer down)."""
    w = Dataplane()
    ns = w.add_netns("t")
    va, vb = topology.veth_pair(ns, "va", ns, "vb")
    ns.set_link(va, up=True)  # vb stays down: va has no carrier
    ns.addr_add(va, ip("10.1.0.1"), 24)
    assert not va.carrier
    res = ns.route_output(ip("10.1.0.5"))
    assert res.dev is va and res.src == ip("10.1.0.1")
    main = [format_route(r) for r in ns.fib.table(RT_TABLE_MAIN).routes()]
    assert main == ["10.1.0.0/24 dev va proto kernel scope link src 10.1.0.1 linkdown "]
    # A host-scope (local) route never carries the linkdown flag.
    local = [format_route(r, show_table=True) for r in ns.fib.table(RT_TABLE_LOCAL).routes() if r.dev is va]
    assert local == ["local 10.1.0.1 dev va table local proto kernel scope host src 10.1.0.1 ",
                     "broadcast 10.1.0.255 dev va table local proto kernel scope link src 10.1.0.1 linkdown "]


@pytest.mark.parametrize("kind,errno", [(BLACKHOLE, ERR_INVAL), (UNREACHABLE, ERR_HOSTUNREACH), (PROHIBIT, ERR_ACCES)])
def test_error_routes_stop_the_lookup_where_they_match(kind, errno):
    net = routed()
    a = net.a
    a.fib.add(route("10.66.0.0/16", type=kind))
    a.fib.add(route("10.66.1.0/24", via="192.0.2.1", dev=a.dev("eth0")))
    # The longer unicast prefix still wins over the error route...
    assert a.fib.lookup(ip("10.66.1.1")).type == "unicast"
    # ...but inside the error route's prefix the default route is never reached.
    assert a.fib.lookup(ip("10.66.2.1")).type == kind
    with pytest.raises(RouteError) as err:
        a.route_output(ip("10.66.2.1"))
    assert err.value.errno_text == errno


def test_forwarding_into_error_routes_blackhole_is_silent_the_others_answer():
    net = routed()
    r = net.r
    for prefix, kind in (("10.66.0.0/16", BLACKHOLE), ("10.67.0.0/16", UNREACHABLE), ("10.68.0.0/16", PROHIBIT)):
        r.fib.add(route(prefix, type=kind))
    from netbuild import ping_once

    assert ping_once(net.a, ip("10.66.1.1")).kind == "timeout"
    out = ping_once(net.a, ip("10.67.1.1"))
    assert (out.kind, out.reply.src, out.reply.l4.type, out.reply.l4.code) == ("error", ip("192.0.2.1"), 3, 1)
    out = ping_once(net.a, ip("10.68.1.1"))
    assert (out.kind, out.reply.l4.code) == ("error", 13)  # "Packet filtered"


def test_throw_ends_the_table_and_the_next_rule_answers(devs):
    fib = Fib()
    fib.rules.insert(1, Rule(100, 100))  # ip rule add pref 100 table 100
    fib.add(route("default", via="192.0.2.1", dev=devs["d0"], table=100))
    fib.add(route("10.5.0.0/16", type=THROW, table=100))
    fib.add(route("10.5.0.0/16", dev=devs["d16"]))
    assert fib.lookup(ip("8.8.8.8")).table == 100
    hit = fib.lookup(ip("10.5.1.1"))
    assert (hit.table, hit.dev) == (RT_TABLE_MAIN, devs["d16"])


def test_throw_with_nothing_after_it_is_network_unreachable():
    w = Dataplane()
    ns = w.add_netns("t")
    ns.fib.add(route("10.5.0.0/16", type=THROW))
    assert ns.fib.lookup(ip("10.5.0.1")) is None
    with pytest.raises(RouteError) as err:
        ns.route_output(ip("10.5.0.1"))
    assert err.value.errno_text == ERR_NETUNREACH


def test_rules_are_asked_in_priority_order_local_table_first(devs):
    fib = Fib()
    fib.add(route("192.0.2.7/32", type=LOCAL, dev=devs["d32"], table=RT_TABLE_LOCAL))
    fib.add(route("192.0.2.0/24", dev=devs["d24"]))
    fib.add(route("192.0.2.7/32", dev=devs["d16"]))  # a more specific main route cannot hide a local address
    assert fib.lookup(ip("192.0.2.7")).type == LOCAL
    fib.rules.insert(1, Rule(10, 10))
    fib.add(route("192.0.2.0/24", dev=devs["d8"], table=10))
    assert fib.lookup(ip("192.0.2.9")).dev is devs["d8"]  # table 10 is asked before main


def test_add_existing_is_eexist_and_changes_nothing(devs):
    fib = Fib()
    fib.add(route("10.3.0.0/16", via="192.0.2.1", dev=devs["d0"], metric=100))
    before = (fib.version, [r.gateway for r in fib.all_routes()])
    with pytest.raises(NetError) as err:
        fib.add(route("10.3.0.0/16", via="192.0.2.22", dev=devs["d0"], metric=100))
    assert err.value.message == EEXIST == "RTNETLINK answers: File exists"
    assert (fib.version, [r.gateway for r in fib.all_routes()]) == before
    # Another metric is another route; replace swaps the one with the same key.
    fib.add(route("10.3.0.0/16", via="192.0.2.33", dev=devs["d0"], metric=200))
    fib.add(route("10.3.0.0/16", via="192.0.2.22", dev=devs["d0"], metric=100), replace=True)
    assert sorted((r.metric, r.gateway) for r in fib.all_routes()) == [(100, ip("192.0.2.22")), (200, ip("192.0.2.33"))]


def test_delete_absent_is_esrch():
    fib = Fib()
    with pytest.raises(NetError) as err:
        fib.delete(lambda r: r.dst == ip("10.77.0.0"))
    assert err.value.message == ESRCH == "RTNETLINK answers: No such process"


def test_dump_order_is_key_ascending_longer_prefix_first(devs):
    fib = Fib()
    for prefix in ("192.168.0.0/24", "10.1.0.0/16", "default", "10.0.0.0/24", "10.0.0.0/8"):
        fib.add(route(prefix, dev=devs["d8"]))
    assert [format_route(r).split()[0] for r in fib.table(RT_TABLE_MAIN).routes()] == [
        "default", "10.0.0.0/24", "10.0.0.0/8", "10.1.0.0/16", "192.168.0.0/24"]


def test_link_down_flushes_routes_keeps_local_and_up_restores_only_connected():
    net = routed()
    a = net.a
    eth0 = a.dev("eth0")
    a.fib.add(route("10.9.0.0/16", via="192.0.2.1", dev=eth0))
    a.set_link(eth0, up=False)
    left = [format_route(r, show_table=True) for r in a.fib.all_routes() if r.dev is eth0]
    assert left == ["local 192.0.2.10 dev eth0 table local proto kernel scope host src 192.0.2.10 "]
    assert a.is_local(ip("192.0.2.10"))  # still our address: the local route survives link down
    a.set_link(eth0, up=True)
    after = sorted(format_route(r, show_table=True) for r in a.fib.all_routes() if r.dev is eth0)
    assert after == ["192.0.2.0/24 dev eth0 proto kernel scope link src 192.0.2.10 ",
                     "broadcast 192.0.2.255 dev eth0 table local proto kernel scope link src 192.0.2.10 ",
                     "local 192.0.2.10 dev eth0 table local proto kernel scope host src 192.0.2.10 "]
    # The static route and the default route through eth0 are gone for good, as on Linux.
    assert a.fib.lookup(ip("10.9.0.1")) is None


def test_an_address_on_a_down_link_is_still_local_and_reachable_through_lo():
    """Kernel: after `ip link set va down`, `ip route get 10.1.0.1` → `local 10.1.0.1 dev lo`."""
    net = routed()
    a = net.a
    a.set_link(a.dev("eth0"), up=False)
    res = a.route_output(ip("192.0.2.10"))
    assert (res.type, res.dev.name) == (LOCAL, "lo")
    from netbuild import ping_once

    assert ping_once(a, ip("192.0.2.10")).kind == "reply"


def test_connected_route_carries_address_metric():
    w = Dataplane()
    ns = w.add_netns("t")
    seg = w.add_segment("s")
    nic = topology.attach_nic(ns, seg, ip("192.168.0.21"), 24, metric=100)
    (r,) = [r for r in ns.fib.table(RT_TABLE_MAIN).routes() if r.dev is nic]
    assert format_route(r) == "192.168.0.0/24 dev eth0 proto kernel scope link src 192.168.0.21 metric 100 "


def test_append_of_an_identical_route_is_eexist(devs):
    """`ip route append 10.0.0.0/8 dev d8` twice: the second is a perfect match (fib_table_insert)."""
    fib = Fib()
    fib.add(route("10.0.0.0/8", dev=devs["d8"]))
    with pytest.raises(NetError) as err:
        fib.add(route("10.0.0.0/8", dev=devs["d8"]), append=True)
    assert err.value.message == EEXIST
    fib.add(route("10.0.0.0/8", dev=devs["d16"]), append=True)  # another nexthop is another alias
    assert len(fib.table(RT_TABLE_MAIN)) == 2


def test_replace_takes_the_place_of_the_first_route_with_the_same_key(devs):
    fib = Fib()
    fib.add(route("10.0.0.0/8", dev=devs["d8"]))
    fib.add(route("10.0.0.0/8", dev=devs["d16"]), append=True)
    fib.add(route("10.0.0.0/8", dev=devs["d24"]), replace=True)
    assert [r.dev.name for r in fib.table(RT_TABLE_MAIN).routes()] == ["d24", "d16"]
    assert fib.lookup(ip("10.0.0.1")).dev is devs["d24"]
    # Replacing with a new metric is an add: another key.
    fib.add(route("10.0.0.0/8", dev=devs["d32"], metric=5), replace=True)
    assert [r.metric for r in fib.table(RT_TABLE_MAIN).routes()] == [0, 0, 5]
