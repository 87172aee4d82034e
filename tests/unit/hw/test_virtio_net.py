"""virtio-net with no guest: a test driver sets up the rings in RAM as Linux would.

Checks what a guest sees: the config space, frames delivered into posted
buffers with the 12-byte header (one buffer, or several with MRG_RXBUF and
num_buffers), frames waiting (not lost) while no buffer is posted, transmit
reaching the peer, and hostile rings (loops, out-of-RAM addresses, short
buffers) ending in DEVICE_NEEDS_RESET rather than a host exception.
"""
from __future__ import annotations

import struct

import pytest

from pemu.core.memory import AddressSpace, RamRegion
from pemu.hw.net.virtio_net import HDR_LEN, VIRTIO_NET_F_MRG_RXBUF, VirtioNet, parse_mac
from pemu.hw.virtio import virtio_mmio as vm
from pemu.net.client import NetClient
from pemu.qom import PropertyError

RAM = 0x80000000
MMIO = 0x10001000
QSIZE = 8


class Peer(NetClient):
    def __init__(self, room: int | None = None) -> None:
        super().__init__("peer")
        self.got: list[bytes] = []
        self.room = room

    def can_receive(self) -> bool:
        return self.room is None or self.room > 0

    def receive(self, data: bytes) -> bool:
        if self.room is not None:
            if self.room == 0:
                return False
            self.room -= 1
        self.got.append(data)
        return True


class Ring:
    """One split virtqueue in the test RAM."""

    def __init__(self, mem: AddressSpace, base: int) -> None:
        self.mem = mem
        self.desc, self.avail, self.used_ring = base, base + 0x400, base + 0x800
        self.avail_idx = self.used_seen = self.next_desc = 0

    def add(self, bufs: list[tuple[int, int, bool]], notify: bool = True) -> int:
        head = self.next_desc
        for k, (addr, length, writable) in enumerate(bufs):
            i = (head + k) % QSIZE
            last = k == len(bufs) - 1
            flags = (2 if writable else 0) | (0 if last else 1)
            self.mem.write_bytes(self.desc + 16 * i,
                                 struct.pack("<QIHH", addr, length, flags, (i + 1) % QSIZE))
        self.next_desc = (head + len(bufs)) % QSIZE
        self.mem.write_bytes(self.avail + 4 + 2 * (self.avail_idx % QSIZE), struct.pack("<H", head))
        self.avail_idx = (self.avail_idx + 1) & 0xFFFF
        self.mem.write_bytes(self.avail + 2, struct.pack("<H", self.avail_idx))
        return head

    def used(self) -> list[tuple[int, int]]:
        idx = struct.unpack("<H", self.mem.read_bytes(self.used_ring + 2, 2))[0]
        out = []
        while self.used_seen != idx:
            slot = self.used_seen % QSIZE
            out.append(struct.unpack("<II", self.mem.read_bytes(self.used_ring + 4 + 8 * slot, 8)))
            self.used_seen = (self.used_seen + 1) & 0xFFFF
        return out


class NetDriver:
    def __init__(self, mergeable: bool = True, mac: str = "52:54:00:12:34:57") -> None:
        self.mem = AddressSpace()
        self.mem.map(RAM, RamRegion("ram", 1 << 20))
        self.dev = VirtioNet(mac=mac)
        self.mmio = vm.VirtioMmio(self.mem, self.dev)
        self.mem.map(MMIO, self.mmio.region)
        self.peer = Peer()
        self.dev.nic.connect(self.peer)
        self.rx = Ring(self.mem, RAM)
        self.tx = Ring(self.mem, RAM + 0x1000)
        self.ctrl = Ring(self.mem, RAM + 0x2000)
        self.bump = RAM + 0x10000
        self.w(0x70, 0)
        self.w(0x70, 3)
        feats = self.features()
        if not mergeable:
            feats &= ~VIRTIO_NET_F_MRG_RXBUF
        feats &= ~vm.VIRTIO_F_EVENT_IDX
        for sel in (0, 1):
            self.w(0x24, sel)
            self.w(0x20, (feats >> (32 * sel)) & 0xFFFFFFFF)
        self.w(0x70, 3 | vm.STATUS_FEATURES_OK)
        for q, ring in ((0, self.rx), (1, self.tx), (2, self.ctrl)):
            self.w(0x30, q)
            self.w(0x38, QSIZE)
            for off, addr in ((0x80, ring.desc), (0x90, ring.avail), (0xA0, ring.used_ring)):
                self.w(off, addr & 0xFFFFFFFF)
                self.w(off + 4, addr >> 32)
            self.w(0x44, 1)
        self.w(0x70, 3 | vm.STATUS_FEATURES_OK | vm.STATUS_DRIVER_OK)

    def r(self, off: int, size: int = 4) -> int:
        return self.mem.read(MMIO + off, size)

    def w(self, off: int, v: int) -> None:
        self.mem.write(MMIO + off, 4, v)

    def features(self) -> int:
        self.w(0x14, 0)
        lo = self.r(0x10)
        self.w(0x14, 1)
        return lo | (self.r(0x10) << 32)

    def alloc(self, n: int, data: bytes = b"") -> int:
        addr = self.bump
        self.bump += (n + 15) & ~15
        if data:
            self.mem.write_bytes(addr, data)
        return addr

    def post_rx(self, size: int = 1526) -> int:
        addr = self.alloc(size)
        self.rx.add([(addr, size, True)])
        self.w(0x50, 0)
        return addr

    def transmit(self, frame: bytes, header: bytes = bytes(HDR_LEN)) -> None:
        addr = self.alloc(len(header) + len(frame), header + frame)
        self.tx.add([(addr, len(header), False), (addr + len(header), len(frame), False)])
        self.w(0x50, 1)

    def command(self, cls: int, cmd: int, data: bytes = b"") -> int:
        """One control-queue command; returns the device's ack byte."""
        out = self.alloc(2 + len(data), bytes((cls, cmd)) + data)
        ack = self.alloc(1, b"\x77")
        self.ctrl.add([(out, 2 + len(data), False), (ack, 1, True)])
        self.w(0x50, 2)
        assert [n for _, n in self.ctrl.used()] == [1]
        return self.mem.read_bytes(ack, 1)[0]

    @property
    def needs_reset(self) -> bool:
        return bool(self.r(0x70) & vm.STATUS_DEVICE_NEEDS_RESET)


FRAME = bytes.fromhex("525400123457" "525500000002" "0800") + b"payload" * 10


def test_identity_features_and_config():
    d = NetDriver()
    assert d.r(0x8) == 1  # network card
    f = d.features()
    assert f & (1 << 5) and f & (1 << 16) and f & (1 << 15) and f & vm.VIRTIO_F_VERSION_1
    assert bytes(d.r(0x100 + i, 1) for i in range(6)) == bytes.fromhex("525400123457")
    assert d.r(0x106, 2) == 1  # LINK_UP
    d.dev.set_link(False)
    assert d.r(0x106, 2) == 0 and d.r(0x60) & vm.INT_CONFIG_CHANGE


def test_mac_property_is_checked():
    assert parse_mac("52:54:00:AB:cd:01") == bytes.fromhex("525400abcd01")
    with pytest.raises(PropertyError, match="doesn't take value"):
        VirtioNet(mac="52:54:00:12:34")


def test_receive_into_a_posted_buffer_with_header():
    d = NetDriver()
    addr = d.post_rx()
    assert d.peer.send(FRAME) is True
    (head, length), = d.rx.used()
    assert length == HDR_LEN + len(FRAME)
    hdr = d.mem.read_bytes(addr, HDR_LEN)
    assert hdr == bytes(10) + struct.pack("<H", 1)  # no offload info, num_buffers 1
    assert d.mem.read_bytes(addr + HDR_LEN, len(FRAME)) == FRAME
    assert d.r(0x60) & vm.INT_USED_BUFFER


def test_frames_wait_for_buffers_in_order_and_are_not_lost():
    d = NetDriver()
    assert d.peer.send(b"A" * 60) is False
    assert d.peer.send(b"B" * 60) is False
    assert d.rx.used() == [] and len(d.dev.nic.incoming) == 2
    a1 = d.post_rx()
    assert [n for _, n in d.rx.used()] == [HDR_LEN + 60]
    assert d.mem.read_bytes(a1 + HDR_LEN, 60) == b"A" * 60
    a2 = d.post_rx()
    assert d.mem.read_bytes(a2 + HDR_LEN, 60) == b"B" * 60
    assert not d.dev.nic.incoming


def test_mergeable_buffers_span_a_frame_with_num_buffers():
    d = NetDriver(mergeable=True)
    bufs = [d.alloc(64) for _ in range(3)]
    for b in bufs:
        d.rx.add([(b, 64, True)])
    frame = bytes(range(140))
    d.peer.send(frame)
    used = d.rx.used()
    assert [n for _, n in used] == [64, 64, HDR_LEN + 140 - 128]
    assert struct.unpack("<H", d.mem.read_bytes(bufs[0] + 10, 2))[0] == 3
    got = b"".join(d.mem.read_bytes(b, n) for b, (_, n) in zip(bufs, used, strict=True))
    assert got[HDR_LEN:] == frame


def test_mergeable_frame_waits_when_buffers_are_too_few():
    d = NetDriver(mergeable=True)
    d.rx.add([(d.alloc(64), 64, True)])
    assert d.peer.send(bytes(100)) is False  # needs two buffers: none consumed
    assert d.rx.used() == []
    d.post_rx(64)
    assert len(d.rx.used()) == 2 and not d.dev.nic.incoming


def test_nothing_is_delivered_before_driver_ok():
    d = NetDriver()
    d.w(0x70, 0)  # reset
    assert d.peer.send(FRAME) is False  # waits for the driver
    assert len(d.dev.nic.incoming) == 1


def test_transmit_reaches_the_peer_without_the_header():
    d = NetDriver()
    d.transmit(FRAME)
    assert d.peer.got == [FRAME]
    assert [n for _, n in d.tx.used()] == [0]


def test_transmit_stops_while_the_peer_is_full_and_resumes():
    d = NetDriver()
    d.peer.room = 1
    d.transmit(b"one")
    d.transmit(b"two")
    d.transmit(b"three")
    assert d.peer.got == [b"one"]
    assert len(d.tx.used()) == 2  # "two" taken and queued in the peer; "three" not popped yet
    d.peer.room = 10
    d.peer.flush_queued()
    assert d.peer.got == [b"one", b"two", b"three"]
    assert len(d.tx.used()) == 1


def test_hostile_tx_header_too_short_needs_reset():
    d = NetDriver()
    addr = d.alloc(4, b"abcd")
    d.tx.add([(addr, 4, False)])
    d.w(0x50, 1)
    assert d.needs_reset and d.peer.got == []


@pytest.mark.parametrize("bad", ["loop", "outside_ram", "zero_len_rx"])
def test_hostile_rings_need_reset_never_raise(bad):
    d = NetDriver()
    if bad == "loop":
        # two transmit descriptors chained to each other forever
        addr = d.alloc(32, bytes(32))
        d.mem.write_bytes(d.tx.desc, struct.pack("<QIHH", addr, 16, 1, 1))
        d.mem.write_bytes(d.tx.desc + 16, struct.pack("<QIHH", addr, 16, 1, 0))
        d.mem.write_bytes(d.tx.avail + 4, struct.pack("<H", 0))
        d.mem.write_bytes(d.tx.avail + 2, struct.pack("<H", 1))
        d.w(0x50, 1)
    elif bad == "outside_ram":
        d.rx.add([(0x4000_0000, 1526, True)])
        d.w(0x50, 0)
        d.peer.send(FRAME)
    else:
        d.rx.add([(d.alloc(16), 0, True)])
        d.w(0x50, 0)
        d.peer.send(FRAME)
    assert d.needs_reset
    assert d.r(0x60) & vm.INT_CONFIG_CHANGE
    # the card stays broken until the driver resets it, and then works again
    d.peer.send(FRAME)
    d.w(0x70, 0)
    assert not d.needs_reset


def test_oversized_transmit_is_dropped_not_read():
    d = NetDriver()
    addr = d.alloc(HDR_LEN, bytes(HDR_LEN))
    d.tx.add([(addr, HDR_LEN, False), (RAM, 0x80000, False)])  # 512 KiB "frame"
    d.w(0x50, 1)
    assert d.peer.got == [] and d.dev.tx_errors == 1 and not d.needs_reset
    d.transmit(FRAME)
    assert d.peer.got == [FRAME]


OTHER = bytes.fromhex("525400aaaaaa")


def delivered(d: NetDriver, dst: bytes) -> bool:
    """Whether a frame to `dst` reaches the guest's buffers."""
    d.post_rx()
    d.peer.send(dst + bytes.fromhex("525500000002" "0800") + b"x" * 50)
    return bool(d.rx.used())


def test_control_queue_rx_mode_and_mac_tables():
    d = NetDriver()
    f = d.features()
    assert f & (1 << 17) and f & (1 << 18) and f & (1 << 23)
    mine = bytes.fromhex("525400123457")
    assert delivered(d, OTHER)  # promiscuous after reset, as QEMU
    assert d.command(0, 0, b"\x00") == 0  # PROMISC off
    assert not delivered(d, OTHER) and d.dev.rx_filtered == 1
    assert delivered(d, mine)
    assert delivered(d, b"\xff" * 6)
    group = bytes.fromhex("01005e000001")
    assert not delivered(d, group)
    assert d.command(0, 1, b"\x01") == 0  # ALLMULTI on
    assert delivered(d, group)
    table = struct.pack("<I", 1) + OTHER + struct.pack("<I", 0)
    assert d.command(1, 0, table) == 0  # MAC_TABLE_SET: OTHER in the unicast table
    assert delivered(d, OTHER)
    info = d.dev.rx_filter.info()
    assert info["unicast-table"] == ["52:54:00:aa:aa:aa"] and info["multicast"] == "all"


def test_control_queue_mac_addr_set_and_errors():
    d = NetDriver()
    assert d.command(1, 1, bytes.fromhex("020000000001")) == 0
    assert bytes(d.r(0x100 + i, 1) for i in range(6)) == bytes.fromhex("020000000001")
    assert "macaddr=02:00:00:00:00:01" in d.dev.nic.info()
    assert d.command(9, 0) == 1  # unknown class: VIRTIO_NET_ERR
    assert d.command(1, 0, b"\x05\x00\x00\x00") == 1  # table shorter than it says
    assert d.command(0, 0, b"") == 1  # PROMISC without its byte
    d.w(0x70, 0)  # reset: the configured MAC comes back
    assert bytes(d.r(0x100 + i, 1) for i in range(6)) == bytes.fromhex("525400123457")


def test_control_command_without_ack_byte_needs_reset():
    d = NetDriver()
    out = d.alloc(3, b"\x00\x00\x00")
    d.ctrl.add([(out, 3, False)])
    d.w(0x50, 2)
    assert d.needs_reset
