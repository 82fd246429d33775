"""Packets are values: `evolve` copies, never changes in place."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from netlab.net.packet import ICMP, ICMP_ECHO, IPPROTO_ICMP, Frame, IPv4, evolve


def test_evolve_copies_with_changes_and_leaves_the_original_alone():
    pkt = IPv4(1, 2, IPPROTO_ICMP, ICMP(ICMP_ECHO, 0, 7, 1), ttl=64, mark=5)
    out = evolve(pkt, ttl=63)
    assert out is not pkt and pkt.ttl == 64
    assert out == IPv4(1, 2, IPPROTO_ICMP, ICMP(ICMP_ECHO, 0, 7, 1), ttl=63, mark=5)
    assert out.l4 is pkt.l4  # shallow: headers that did not change are shared


def test_evolve_keeps_every_field_including_defaults_set_later():
    frame = Frame("02:00:00:00:00:01", "ff:ff:ff:ff:ff:ff", 0x0800, IPv4(1, 2, 1, ICMP(8)))
    frame.meta["physin"] = "veth1"
    copy = evolve(frame, dst="02:00:00:00:00:02")
    assert (copy.src, copy.ethertype, copy.payload, copy.meta) == (frame.src, frame.ethertype, frame.payload, frame.meta)
    assert evolve(frame, meta={}).meta == {} and frame.meta == {"physin": "veth1"}


def test_evolve_refuses_a_field_the_packet_does_not_have():
    with pytest.raises(AttributeError):
        evolve(IPv4(1, 2, 1, ICMP(8)), ttll=3)


def test_evolve_works_on_plain_classes_too():
    @dataclass
    class Note:
        text: str
        n: int = 0

    note = Note("a", 1)
    assert evolve(note, n=2) == Note("a", 2) and note.n == 1
