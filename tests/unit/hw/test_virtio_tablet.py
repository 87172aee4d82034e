"""virtio-tablet-device on the virt board: config queries and pointer events, as a driver sees."""
from __future__ import annotations

import struct

from virtio_driver import RAM, Driver

from pemu.hw.input import virtio_input as vi
from pemu.hw.input import virtio_tablet as vt
from pemu.hw.riscv.virt import VirtMachine
from pemu.ui.console import Console

CONFIG = 0x10001100


class TabletDriver(Driver):
    """The virt board with a virtio input device (a tablet by default) in slot 0."""

    def __init__(self, cls: type = vt.VirtioTablet) -> None:
        self.machine = VirtMachine(ram_size=16 << 20, bios="none")
        self.console = Console(800, 600)
        self.tablet = cls(self.console)
        self.machine.virtio[0].plug(self.tablet)
        self.mem, self.dev = self.machine.memory, self.machine.virtio[0]
        self.qsize, self.event_idx = 8, False
        self.avail_idx = self.used_seen = self.next_desc = 0
        self.bump = RAM + 0x10000
        self.init()

    def query(self, select: int, subsel: int) -> bytes:
        self.mem.write(CONFIG, 1, select)
        self.mem.write(CONFIG + 1, 1, subsel)
        size = self.mem.read(CONFIG + 2, 1)
        return bytes(self.mem.read(CONFIG + 8 + i, 1) for i in range(size))

    def post_buffers(self, n: int) -> list[int]:
        bufs = []
        for _ in range(n):
            addr = self.alloc(8)
            self.publish(self.chain([(addr, 8, True)]))
            bufs.append(addr)
        return bufs

    def events(self, bufs: list[int]) -> list[tuple[int, int, int]]:
        return [struct.unpack("<HHi", self.mem.read_bytes(bufs[i], 8))
                for i, _ in enumerate(self.used())]


def test_identity_and_capabilities():
    d = TabletDriver()
    assert d.r(0x008) == 18
    assert d.query(vi.CFG_ID_NAME, 0) == b"QEMU Virtio Tablet"
    assert struct.unpack("<HHHH", d.query(vi.CFG_ID_DEVIDS, 0)) == (6, 0x0627, 3, 1)
    keys = d.query(vi.CFG_EV_BITS, vi.EV_KEY)
    assert all(keys[c // 8] >> (c % 8) & 1 for c in (vt.BTN_LEFT, vt.BTN_RIGHT, vt.BTN_MIDDLE))
    assert d.query(vi.CFG_EV_BITS, vi.EV_ABS) == b"\x03"
    assert struct.unpack("<5I", d.query(vi.CFG_ABS_INFO, vt.ABS_X)) == (0, 0x7FFF, 0, 0, 0)
    assert d.query(vi.CFG_EV_BITS, 0x11) == b""  # no LEDs
    assert d.query(0x7F, 0) == b""


def test_pointer_events_reach_the_guest_scaled():
    d = TabletDriver()
    bufs = d.post_buffers(8)
    d.console.send_pointer(799, 300, 1)  # right edge, half way down, left button pressed
    assert d.events(bufs) == [(vi.EV_ABS, vt.ABS_X, 0x7FFF),
                              (vi.EV_ABS, vt.ABS_Y, 300 * 0x7FFF // 599),
                              (vi.EV_KEY, vt.BTN_LEFT, 1), (vi.EV_SYN, 0, 0)]
    d.console.send_pointer(0, 0, 0)  # back to the corner, button released
    assert d.events(bufs[4:]) == [(vi.EV_ABS, vt.ABS_X, 0), (vi.EV_ABS, vt.ABS_Y, 0),
                                  (vi.EV_KEY, vt.BTN_LEFT, 0), (vi.EV_SYN, 0, 0)]


def test_events_wait_for_buffers_and_are_bounded():
    d = TabletDriver()
    for i in range(200):
        d.console.send_pointer(i, i, 0)
    assert len(d.tablet.pending) == vi.MAX_PENDING
    bufs = d.post_buffers(3)
    assert len(d.events(bufs)) == 3  # delivered as buffers arrive
    assert len(d.tablet.pending) == vi.MAX_PENDING - 3
