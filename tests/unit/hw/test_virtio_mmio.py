"""virtio-mmio transport and virtio-rng, driven through guest-like queues in RAM."""
from __future__ import annotations

import struct

from virtio_driver import AVAIL, DESC, MMIO, USED, Driver

from pemu.hw.virtio import virtio_mmio as vm
from pemu.hw.virtio.virtio_rng import VirtioRng


def test_identity_registers() -> None:
    d = Driver(VirtioRng())
    assert d.r(0x0) == 0x74726976
    assert d.r(0x4) == 2
    assert d.r(0x8) == 4
    assert d.r(0xC) == 0x554D4551
    feats = d.features()
    assert feats & vm.VIRTIO_F_VERSION_1
    assert d.r(0xB0) == 0xFFFFFFFF  # no shared memory regions
    assert d.dev.region.size == 0x200


def test_empty_slot_reports_device_id_0() -> None:
    d = Driver(None)
    assert d.r(0x0) == 0x74726976 and d.r(0x4) == 2
    assert d.r(0x8) == 0
    d.w(0x50, 0)  # notify on an empty slot: nothing happens
    assert d.r(0x34) == 0


def test_feature_negotiation_refuses_unknown_bits() -> None:
    d = Driver(VirtioRng())
    d.w(0x70, 3)
    d.w(0x24, 0)
    d.w(0x20, 1 << 27)  # not offered
    d.w(0x24, 1)
    d.w(0x20, 1)
    d.w(0x70, 3 | vm.STATUS_FEATURES_OK)
    assert not d.r(0x70) & vm.STATUS_FEATURES_OK


def test_queue_registers_read_back_and_reset() -> None:
    d = Driver(VirtioRng())
    d.init()
    assert d.r(0x38) == 8 and d.r(0x44) == 1
    assert d.r(0x80) == DESC & 0xFFFFFFFF and d.r(0x94) == AVAIL >> 32
    assert d.r(0xA0) == USED & 0xFFFFFFFF
    d.w(0x70, 0)
    assert d.r(0x70) == 0 and d.r(0x44) == 0 and d.r(0x80) == 0


def test_rng_fills_buffers_and_interrupts() -> None:
    d = Driver(VirtioRng())
    d.init()
    a, b = d.alloc(64), d.alloc(32)
    d.publish(d.chain([(a, 64, True)]), notify=False)
    d.publish(d.chain([(b, 32, True)]))
    assert d.used() == [(0, 64), (1, 32)]
    assert d.dev.irq.level == 1
    assert d.ack() == vm.INT_USED_BUFFER
    assert d.dev.irq.level == 0
    assert d.mem.read_bytes(a, 64) != bytes(64)


def test_indirect_descriptors() -> None:
    d = Driver(VirtioRng())
    d.init()
    buf1, buf2 = d.alloc(16), d.alloc(16)
    table = d.alloc(32)
    d.desc(0, buf1, 16, 2 | 1, 1, table=table)
    d.desc(1, buf2, 16, 2, 0, table=table)
    d.desc(0, table, 32, 4)  # INDIRECT
    d.next_desc = 1
    d.publish(0)
    assert d.used() == [(0, 32)]
    assert d.mem.read_bytes(buf2, 16) != bytes(16)


def test_no_interrupt_flag_and_event_idx() -> None:
    d = Driver(VirtioRng())
    d.init()
    d.mem.write_bytes(AVAIL, struct.pack("<H", 1))  # VIRTQ_AVAIL_F_NO_INTERRUPT
    d.publish(d.chain([(d.alloc(8), 8, True)]))
    assert d.used() == [(0, 8)] and d.dev.irq.level == 0

    e = Driver(VirtioRng(), event_idx=True)
    e.init()
    assert e.dev.queues[0].event_idx
    e.publish(e.chain([(e.alloc(8), 8, True)]))
    assert e.dev.irq.level == 1  # first notification always goes out
    e.ack()
    # used_event = 5: the driver wants an interrupt only once used idx passes 5.
    e.mem.write_bytes(AVAIL + 4 + 2 * e.qsize, struct.pack("<H", 5))
    e.publish(e.chain([(e.alloc(8), 8, True)]))
    assert e.dev.irq.level == 0
    # The device published avail_event = its next avail index.
    assert struct.unpack("<H", e.mem.read_bytes(USED + 4 + 8 * e.qsize, 2))[0] == 2


def _assert_needs_reset(d: Driver) -> None:
    assert d.r(0x70) & vm.STATUS_DEVICE_NEEDS_RESET
    assert d.r(0x60) & vm.INT_CONFIG_CHANGE
    assert d.dev.irq.level == 1
    # Further notifications are ignored until the driver resets the device.
    d.w(0x50, 0)
    d.w(0x70, 0)
    assert d.r(0x70) == 0 and d.dev.irq.level == 0


def test_descriptor_outside_ram_needs_reset() -> None:
    d = Driver(VirtioRng())
    d.init()
    d.publish(d.chain([(0x1000, 64, True)]))  # not RAM
    assert d.used() == []
    _assert_needs_reset(d)
    d.init()  # the device works again after reset
    d.next_desc = d.avail_idx = d.used_seen = 0
    d.publish(d.chain([(d.alloc(8), 8, True)]))
    assert d.used() == [(0, 8)]


def test_descriptor_loop_needs_reset() -> None:
    d = Driver(VirtioRng())
    d.init()
    buf = d.alloc(8)
    d.desc(0, buf, 8, 2 | 1, 1)
    d.desc(1, buf, 8, 2 | 1, 0)  # 0 -> 1 -> 0 -> ...
    d.publish(0)
    _assert_needs_reset(d)


def test_bad_rings() -> None:
    d = Driver(VirtioRng())
    d.init()
    d.desc(0, d.alloc(8), 8, 2 | 1, 99)  # next out of range
    d.publish(0)
    _assert_needs_reset(d)
    d = Driver(VirtioRng())
    d.init()
    d.w(0x30, 0)
    d.w(0x44, 0)
    d.w(0x90, 0x10)  # avail ring outside RAM
    d.w(0x94, 0)
    d.w(0x44, 1)
    d.w(0x50, 0)
    _assert_needs_reset(d)


def test_config_space_of_empty_device_reads_zero() -> None:
    d = Driver(VirtioRng())
    assert d.mem.read(MMIO + 0x100, 1) == 0
    assert d.mem.read(MMIO + 0x100, 8) == 0
