"""A minimal virtio-mmio driver for device tests: queues in RAM, as a guest would."""
from __future__ import annotations

import struct

from pemu.core.memory import AddressSpace, RamRegion
from pemu.hw.virtio import virtio_mmio as vm

RAM = 0x80000000
MMIO = 0x10001000
DESC, AVAIL, USED, BUFS = RAM, RAM + 0x1000, RAM + 0x2000, RAM + 0x10000


class Driver:
    def __init__(self, backend: vm.VirtioDevice | None, qsize: int = 8,
                 event_idx: bool = False, ram_size: int = 1 << 20) -> None:
        self.mem = AddressSpace()
        self.mem.map(RAM, RamRegion("ram", ram_size))
        self.dev = vm.VirtioMmio(self.mem, backend)
        self.mem.map(MMIO, self.dev.region)
        self.qsize = qsize
        self.event_idx = event_idx
        self.avail_idx = 0
        self.used_seen = 0
        self.next_desc = 0
        self.bump = BUFS

    def r(self, off: int) -> int:
        return self.mem.read(MMIO + off, 4)

    def w(self, off: int, v: int) -> None:
        self.mem.write(MMIO + off, 4, v)

    def features(self) -> int:
        self.w(0x14, 0)
        lo = self.r(0x10)
        self.w(0x14, 1)
        return lo | (self.r(0x10) << 32)

    def init(self, accept: int | None = None) -> None:
        """The 3.1.1 driver initialisation sequence; queue 0 set up."""
        self.w(0x70, 0)
        self.w(0x70, vm.STATUS_ACKNOWLEDGE)
        self.w(0x70, vm.STATUS_ACKNOWLEDGE | vm.STATUS_DRIVER)
        offered = self.features()
        want = offered if accept is None else accept
        if not self.event_idx:
            want &= ~vm.VIRTIO_F_EVENT_IDX
        for sel in (0, 1):
            self.w(0x24, sel)
            self.w(0x20, (want >> (32 * sel)) & 0xFFFFFFFF)
        self.w(0x70, vm.STATUS_ACKNOWLEDGE | vm.STATUS_DRIVER | vm.STATUS_FEATURES_OK)
        assert self.r(0x70) & vm.STATUS_FEATURES_OK
        self.w(0x30, 0)
        assert self.r(0x44) == 0
        assert self.r(0x34) >= self.qsize
        self.w(0x38, self.qsize)
        for off, addr in ((0x80, DESC), (0x90, AVAIL), (0xA0, USED)):
            self.w(off, addr & 0xFFFFFFFF)
            self.w(off + 4, addr >> 32)
        self.w(0x44, 1)
        self.w(0x70, 0xF & ~vm.STATUS_FAILED)  # ACK|DRIVER|FEATURES_OK|DRIVER_OK

    # --- buffers and descriptors -------------------------------------------------
    def alloc(self, data: bytes | int) -> int:
        n = data if isinstance(data, int) else len(data)
        addr = self.bump
        self.bump += (n + 15) & ~15
        if not isinstance(data, int):
            self.mem.write_bytes(addr, data)
        return addr

    def desc(self, i: int, addr: int, length: int, flags: int, nxt: int = 0,
             table: int = DESC) -> None:
        self.mem.write_bytes(table + 16 * i, struct.pack("<QIHH", addr, length, flags, nxt))

    def chain(self, bufs: list[tuple[int, int, bool]]) -> int:
        """Write a chain of (addr, len, device_writable) descriptors; returns its head."""
        head = self.next_desc
        for k, (addr, length, writable) in enumerate(bufs):
            i = (head + k) % self.qsize
            last = k == len(bufs) - 1
            flags = (2 if writable else 0) | (0 if last else 1)
            self.desc(i, addr, length, flags, (i + 1) % self.qsize)
        self.next_desc = (head + len(bufs)) % self.qsize
        return head

    def publish(self, head: int, notify: bool = True) -> None:
        slot = self.avail_idx % self.qsize
        self.mem.write_bytes(AVAIL + 4 + 2 * slot, struct.pack("<H", head))
        self.avail_idx = (self.avail_idx + 1) & 0xFFFF
        self.mem.write_bytes(AVAIL + 2, struct.pack("<H", self.avail_idx))
        if notify:
            self.w(0x50, 0)

    def used(self) -> list[tuple[int, int]]:
        """Used elements (id, len) not seen yet."""
        idx = struct.unpack("<H", self.mem.read_bytes(USED + 2, 2))[0]
        out = []
        while self.used_seen != idx:
            slot = self.used_seen % self.qsize
            out.append(struct.unpack("<II", self.mem.read_bytes(USED + 4 + 8 * slot, 8)))
            self.used_seen = (self.used_seen + 1) & 0xFFFF
        return out

    def ack(self) -> int:
        st = self.r(0x60)
        self.w(0x64, st)
        return st
