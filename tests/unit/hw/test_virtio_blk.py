"""virtio-blk over an in-memory backend, driven through guest-like queues."""
from __future__ import annotations

import struct

import pytest
from virtio_driver import MMIO, Driver

from pemu.hw.virtio import virtio_blk as vb
from pemu.hw.virtio import virtio_mmio as vm


class FakeBackend:
    """The block backend interface (read/write/flush/discard/write_zeroes/size/readonly)."""

    def __init__(self, size: int = 64 * 512, readonly: bool = False) -> None:
        self.data = bytearray(bytes(range(256)) * (size // 256))
        self.size = size
        self.readonly = readonly
        self.flushes = 0
        self.discarded: list[tuple[int, int]] = []

    def read(self, offset: int, length: int) -> bytes:
        return bytes(self.data[offset:offset + length])

    def write(self, offset: int, data: bytes) -> None:
        self.data[offset:offset + len(data)] = data

    def flush(self) -> None:
        self.flushes += 1

    def discard(self, offset: int, length: int) -> None:
        self.discarded.append((offset, length))

    def write_zeroes(self, offset: int, length: int) -> None:
        self.data[offset:offset + length] = bytes(length)


@pytest.fixture
def rig():
    be = FakeBackend()
    d = Driver(vb.VirtioBlk(be, serial="PEMU-DISK-0001"))
    d.init()
    return d, be


def request(d: Driver, rtype: int, sector: int = 0, out: bytes = b"", in_len: int = 0,
            split: bool = False) -> tuple[int, bytes, int]:
    """Submit one request; returns (status, data read, used len)."""
    hdr = d.alloc(struct.pack("<IIQ", rtype, 0, sector))
    bufs = [(hdr, 16, False)]
    if out:
        bufs.append((d.alloc(out), len(out), False))
    data = None
    if in_len:
        data = d.alloc(in_len)
        if split and in_len > 512:  # two descriptors for the data
            bufs += [(data, 512, True), (data + 512, in_len - 512, True)]
        else:
            bufs.append((data, in_len, True))
    status = d.alloc(1)
    d.mem.write_bytes(status, b"\xff")
    bufs.append((status, 1, True))
    head = d.chain(bufs)
    d.publish(head)
    used = d.used()
    assert len(used) == 1 and used[0][0] == head
    got = d.mem.read_bytes(data, in_len) if data is not None else b""
    return d.mem.read_bytes(status, 1)[0], got, used[0][1]


def test_config_and_features(rig) -> None:
    d, be = rig
    assert d.r(0x8) == 2
    assert d.mem.read(MMIO + 0x100, 8) == be.size // 512
    assert d.mem.read(MMIO + 0x100 + 20, 4) == 512
    assert d.mem.read(MMIO + 0x100 + 36, 4) == vb.MAX_DISCARD_SECTORS
    feats = d.features()
    assert feats & vb.VIRTIO_BLK_F_FLUSH and not feats & vb.VIRTIO_BLK_F_RO
    ro = Driver(vb.VirtioBlk(FakeBackend(readonly=True)))
    assert ro.features() & vb.VIRTIO_BLK_F_RO


def test_read(rig) -> None:
    d, be = rig
    status, got, used = request(d, vb.VIRTIO_BLK_T_IN, sector=2, in_len=1024, split=True)
    assert status == vb.VIRTIO_BLK_S_OK
    assert got == bytes(be.data[1024:2048])
    assert used == 1025
    assert d.dev.irq.level == 1


def test_write_then_read(rig) -> None:
    d, be = rig
    payload = b"pemu" * 128
    status, _, used = request(d, vb.VIRTIO_BLK_T_OUT, sector=5, out=payload)
    assert status == vb.VIRTIO_BLK_S_OK and used == 1
    assert bytes(be.data[5 * 512:6 * 512]) == payload
    assert request(d, vb.VIRTIO_BLK_T_IN, sector=5, in_len=512)[1] == payload


def test_out_of_range_and_misaligned_fail(rig) -> None:
    d, _ = rig
    assert request(d, vb.VIRTIO_BLK_T_IN, sector=64, in_len=512)[0] == vb.VIRTIO_BLK_S_IOERR
    assert request(d, vb.VIRTIO_BLK_T_OUT, sector=0, out=b"x" * 100)[0] == vb.VIRTIO_BLK_S_IOERR


def test_readonly_write_fails() -> None:
    be = FakeBackend(readonly=True)
    d = Driver(vb.VirtioBlk(be))
    d.init()
    assert request(d, vb.VIRTIO_BLK_T_OUT, out=bytes(512))[0] == vb.VIRTIO_BLK_S_IOERR
    assert be.data[0:4] == b"\x00\x01\x02\x03"


def test_flush_get_id_unsupported(rig) -> None:
    d, be = rig
    assert request(d, vb.VIRTIO_BLK_T_FLUSH)[0] == vb.VIRTIO_BLK_S_OK
    assert be.flushes == 1
    status, got, used = request(d, vb.VIRTIO_BLK_T_GET_ID, in_len=20)
    assert status == vb.VIRTIO_BLK_S_OK and got == b"PEMU-DISK-0001".ljust(20, b"\0")
    assert used == 21
    assert request(d, 99)[0] == vb.VIRTIO_BLK_S_UNSUPP


def test_discard_and_write_zeroes(rig) -> None:
    d, be = rig
    seg = struct.pack("<QII", 4, 2, 0)
    assert request(d, vb.VIRTIO_BLK_T_DISCARD, out=seg)[0] == vb.VIRTIO_BLK_S_OK
    assert be.discarded == [(2048, 1024)]
    seg = struct.pack("<QII", 1, 3, 1)  # unmap allowed
    assert request(d, vb.VIRTIO_BLK_T_WRITE_ZEROES, out=seg)[0] == vb.VIRTIO_BLK_S_OK
    assert be.data[512:2048] == bytes(1536)
    assert be.data[511] == 255 and be.data[2048:2050] == b"\x00\x01"
    bad = struct.pack("<QII", 63, 2, 0)  # runs past the end
    assert request(d, vb.VIRTIO_BLK_T_WRITE_ZEROES, out=bad)[0] == vb.VIRTIO_BLK_S_IOERR


def test_data_buffer_outside_ram_is_ioerr(rig) -> None:
    d, _ = rig
    hdr = d.alloc(struct.pack("<IIQ", vb.VIRTIO_BLK_T_IN, 0, 0))
    status = d.alloc(1)
    d.publish(d.chain([(hdr, 16, False), (0x4000, 512, True), (status, 1, True)]))
    assert d.used() == [(0, 1)]
    assert d.mem.read_bytes(status, 1) == bytes([vb.VIRTIO_BLK_S_IOERR])
    assert not d.r(0x70) & vm.STATUS_DEVICE_NEEDS_RESET
    # The device keeps serving requests.
    assert request(d, vb.VIRTIO_BLK_T_FLUSH)[0] == vb.VIRTIO_BLK_S_OK


def test_status_outside_ram_needs_reset(rig) -> None:
    d, _ = rig
    hdr = d.alloc(struct.pack("<IIQ", vb.VIRTIO_BLK_T_FLUSH, 0, 0))
    d.publish(d.chain([(hdr, 16, False), (0x4000, 1, True)]))
    assert d.used() == []
    assert d.r(0x70) & vm.STATUS_DEVICE_NEEDS_RESET
    assert d.r(0x60) & vm.INT_CONFIG_CHANGE


def test_descriptor_loop_needs_reset(rig) -> None:
    d, _ = rig
    hdr = d.alloc(struct.pack("<IIQ", vb.VIRTIO_BLK_T_IN, 0, 0))
    d.desc(0, hdr, 16, 1, 1)
    d.desc(1, d.alloc(512), 512, 2 | 1, 2)
    d.desc(2, d.alloc(512), 512, 2 | 1, 1)  # 1 -> 2 -> 1 -> ...
    d.publish(0)
    assert d.used() == []
    assert d.r(0x70) & vm.STATUS_DEVICE_NEEDS_RESET


def test_missing_status_byte_needs_reset(rig) -> None:
    d, _ = rig
    hdr = d.alloc(struct.pack("<IIQ", vb.VIRTIO_BLK_T_FLUSH, 0, 0))
    d.publish(d.chain([(hdr, 16, False)]))
    assert d.r(0x70) & vm.STATUS_DEVICE_NEEDS_RESET


def test_backend_error_is_ioerr(rig) -> None:
    d, be = rig

    def broken(offset: int, length: int) -> bytes:
        raise RuntimeError("medium error")

    be.read = broken
    assert request(d, vb.VIRTIO_BLK_T_IN, in_len=512)[0] == vb.VIRTIO_BLK_S_IOERR
    assert not d.r(0x70) & vm.STATUS_DEVICE_NEEDS_RESET


def test_over_the_real_raw_backend(tmp_path) -> None:
    try:
        from pemu.block.open import open_image
        from pemu.block.raw import create_raw
    except ImportError as e:  # the block layer is another part of the tree
        pytest.skip(f"pemu.block not available: {e}")
    path = str(tmp_path / "disk.raw")
    create_raw(path, 1 << 20)
    node = open_image(path, "raw", readonly=False)
    d = Driver(vb.VirtioBlk(node))
    d.init()
    assert d.mem.read(MMIO + 0x100, 8) == 2048
    assert request(d, vb.VIRTIO_BLK_T_OUT, sector=7, out=b"\xab" * 512)[0] == 0
    assert request(d, vb.VIRTIO_BLK_T_FLUSH)[0] == 0
    assert request(d, vb.VIRTIO_BLK_T_IN, sector=7, in_len=512)[1] == b"\xab" * 512
    seg = struct.pack("<QII", 7, 1, 0)
    assert request(d, vb.VIRTIO_BLK_T_WRITE_ZEROES, out=seg)[0] == 0
    assert request(d, vb.VIRTIO_BLK_T_IN, sector=7, in_len=512)[1] == bytes(512)
    node.close()
    with open(path, "rb") as fh:
        assert fh.read() == bytes(1 << 20)
