"""The queue between net clients: delivery, flow control, drain callbacks, hubs, pcap."""
from __future__ import annotations

import struct

from pemu.net.client import QUEUE_LIMIT, NetClient
from pemu.net.filter_dump import FilterDump
from pemu.net.hub import Hubs


class Box(NetClient):
    """A receiver with `room` free slots (None: unlimited)."""

    def __init__(self, name: str, room: int | None = None) -> None:
        super().__init__(name)
        self.room = room
        self.got: list[bytes] = []
        self.drained = 0

    def can_receive(self) -> bool:
        return self.room is None or self.room > 0

    def receive(self, data: bytes) -> bool:
        if self.room is not None:
            if self.room == 0:
                return False
            self.room -= 1
        self.got.append(data)
        return True

    def on_peer_drained(self) -> None:
        self.drained += 1


def pair(room: int | None = None) -> tuple[Box, Box]:
    a, b = Box("a"), Box("b", room)
    a.connect(b)
    return a, b


def test_packets_reach_the_peer_in_order():
    a, b = pair()
    assert a.send(b"1") and a.send(b"2")
    assert b.got == [b"1", b"2"]
    assert (a.sent, b.received) == (2, 2)


def test_a_full_receiver_queues_and_flushes_in_order_then_tells_the_sender():
    a, b = pair(room=1)
    assert a.send(b"1") is True
    assert a.send(b"2") is False and a.send(b"3") is False
    assert b.got == [b"1"] and len(b.incoming) == 2
    b.room = 1
    assert b.flush_queued() is False  # one delivered, one still waits
    assert b.got == [b"1", b"2"] and a.drained == 0
    b.room = 5
    assert b.flush_queued() is True
    assert b.got == [b"1", b"2", b"3"] and a.drained == 1
    # once the queue is empty, packets go straight through again
    assert a.send(b"4") is True and b.got[-1] == b"4"


def test_nothing_overtakes_a_waiting_packet():
    a, b = pair(room=0)
    a.send(b"1")
    b.room = 10  # room appears, but the queue must be emptied first
    a.send(b"2")
    assert b.got == [] and [d for d, _ in b.incoming] == [b"1", b"2"]
    b.flush_queued()
    assert b.got == [b"1", b"2"]


def test_queue_limit_counts_drops_instead_of_growing():
    a, b = pair(room=0)
    for i in range(QUEUE_LIMIT + 5):
        a.send(i.to_bytes(4, "little"))
    assert len(b.incoming) == QUEUE_LIMIT and b.dropped == 5


def test_no_peer_or_link_down_drops_and_counts():
    lone = Box("lone")
    assert lone.send(b"x") is True and lone.dropped == 1
    a, b = pair()
    b.link_up = False
    a.send(b"x")
    assert b.got == [] and a.dropped == 1


def test_purge_forgets_waiting_packets_and_frees_the_sender():
    a, b = pair(room=0)
    a.send(b"1")
    b.purge_queue()
    assert not b.incoming and b.dropped == 1 and a.drained == 1


def test_hub_forwards_to_every_other_port():
    hub = Hubs().get(0)
    nodes = [Box(f"n{i}") for i in range(3)]
    for n in nodes:
        n.connect(hub.add_port())
    nodes[0].send(b"hello")
    assert nodes[0].got == [] and nodes[1].got == [b"hello"] and nodes[2].got == [b"hello"]
    assert [p.name for p in hub.ports] == ["hub0port0", "hub0port1", "hub0port2"]


def test_filter_dump_writes_pcap_of_both_directions(tmp_path):
    a, b = pair()
    path = tmp_path / "x.pcap"
    dump = FilterDump("f0", b, str(path), maxlen=4)
    a.send(b"to-b-frame")
    b.send(b"from-b")
    dump.close()
    a.send(b"after close")
    data = path.read_bytes()
    assert struct.unpack_from("<IHHiIII", data) == (0xA1B2C3D4, 2, 4, 0, 0, 4, 1)
    recs, pos = [], 24
    while pos < len(data):
        _, _, incl, orig = struct.unpack_from("<IIII", data, pos)
        recs.append((data[pos + 16:pos + 16 + incl], orig))
        pos += 16 + incl
    assert recs == [(b"to-b", 10), (b"from", 6)]


def test_filter_dump_queue_rx_records_only_what_the_netdev_receives(tmp_path):
    a, b = pair()
    path = tmp_path / "rx.pcap"
    FilterDump("f0", b, str(path), queue="rx")
    a.send(b"in")
    b.send(b"out")
    assert path.read_bytes()[24 + 16:] == b"in"
