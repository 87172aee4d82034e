"""Split virtqueues (Virtual I/O Device (VIRTIO) Version 1.2, section 2.7).

Guest memory layout, all little-endian:

- descriptor table (2.7.5): `num` entries of {addr u64, len u32, flags u16,
  next u16}; flags NEXT=1, WRITE=2 (device-writable), INDIRECT=4.
- available ring (2.7.6): {flags u16, idx u16, ring[num] u16, used_event u16}.
- used ring (2.7.8): {flags u16, idx u16, ring[num] {id u32, len u32},
  avail_event u16}.

Indirect descriptors (2.7.5.3): a descriptor with INDIRECT points to a table
of len/16 descriptors; that table's chain starts at entry 0. Nesting and
INDIRECT|NEXT are errors. With VIRTIO_F_EVENT_IDX (2.7.7, 2.7.10) the device
notifies only when the used index crosses the driver's used_event and
publishes its own avail_event; otherwise it honours
VIRTQ_AVAIL_F_NO_INTERRUPT.

All DMA goes through `AddressSpace.read_bytes/write_bytes`. A malformed
queue (memory outside RAM, a head or next index out of range, a chain longer
than the table: a loop) raises `VirtqueueError`, never a host exception; the
transport then sets DEVICE_NEEDS_RESET (2.1.2) and the machine runs on.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field

from pemu.core.memory import AddressSpace, BusError

VIRTQ_DESC_F_NEXT = 1
VIRTQ_DESC_F_WRITE = 2
VIRTQ_DESC_F_INDIRECT = 4
VIRTQ_AVAIL_F_NO_INTERRUPT = 1
VIRTQ_USED_F_NO_NOTIFY = 1

_DESC = struct.Struct("<QIHH")


class VirtqueueError(Exception):
    """The driver broke the virtqueue rules; the device must be reset."""


@dataclass
class VirtqElement:
    """One popped descriptor chain: its head index and its buffers as (addr, len)."""

    head: int
    out_sg: list[tuple[int, int]] = field(default_factory=list)  # driver -> device
    in_sg: list[tuple[int, int]] = field(default_factory=list)  # device -> driver

    @property
    def out_len(self) -> int:
        return sum(n for _, n in self.out_sg)

    @property
    def in_len(self) -> int:
        return sum(n for _, n in self.in_sg)


class VirtQueue:
    """One split virtqueue as the device sees it."""

    def __init__(self, mem: AddressSpace, num_max: int) -> None:
        self.mem = mem
        self.num_max = num_max
        self.event_idx = False
        self.reset()

    def reset(self) -> None:
        self.num = self.num_max
        self.ready = False
        self.desc = 0
        self.driver = 0  # available ring
        self.device = 0  # used ring
        self.last_avail_idx = 0
        self.used_idx = 0
        self.signalled_used: int | None = None

    # --- DMA helpers ---------------------------------------------------------
    def read(self, addr: int, length: int) -> bytes:
        try:
            return self.mem.read_bytes(addr, length)
        except BusError as e:
            raise VirtqueueError(str(e)) from None

    def write(self, addr: int, data: bytes) -> None:
        try:
            self.mem.write_bytes(addr, data)
        except BusError as e:
            raise VirtqueueError(str(e)) from None

    def _u16(self, addr: int) -> int:
        return int.from_bytes(self.read(addr, 2), "little")

    # --- driver -> device ------------------------------------------------------
    def avail_idx(self) -> int:
        return self._u16(self.driver + 2)

    def has_work(self) -> bool:
        return self.ready and self.avail_idx() != self.last_avail_idx

    def pop(self) -> VirtqElement | None:
        """The next available chain, or None; raises VirtqueueError if malformed."""
        if not self.ready:
            return None
        avail = self.avail_idx()
        if avail == self.last_avail_idx:
            return None
        if (avail - self.last_avail_idx) & 0xFFFF > self.num:
            raise VirtqueueError(f"avail idx {avail} is more than {self.num} ahead")
        slot = self.last_avail_idx % self.num
        head = self._u16(self.driver + 4 + 2 * slot)
        if head >= self.num:
            raise VirtqueueError(f"descriptor head {head} out of range")
        elem = VirtqElement(head)
        self._walk(elem, self.desc, self.num, head, indirect_ok=True)
        self.last_avail_idx = (self.last_avail_idx + 1) & 0xFFFF
        if self.event_idx:
            # avail_event (2.7.10): ask to be notified when new buffers arrive.
            self.write(self.device + 4 + 8 * self.num, struct.pack("<H", self.last_avail_idx))
        return elem

    def _walk(self, elem: VirtqElement, table: int, size: int, i: int,
              indirect_ok: bool) -> None:
        seen = 0
        while True:
            seen += 1
            if seen > size:
                raise VirtqueueError("descriptor chain longer than its table (a loop?)")
            addr, length, flags, nxt = _DESC.unpack(self.read(table + 16 * i, 16))
            if flags & VIRTQ_DESC_F_INDIRECT:
                if not indirect_ok or flags & VIRTQ_DESC_F_NEXT:
                    raise VirtqueueError("nested indirect or INDIRECT|NEXT descriptor")
                if length == 0 or length % 16:
                    raise VirtqueueError(f"indirect table length {length}")
                self._walk(elem, addr, length // 16, 0, indirect_ok=False)
                return
            if flags & VIRTQ_DESC_F_WRITE:
                elem.in_sg.append((addr, length))
            elif elem.in_sg:
                raise VirtqueueError("device-readable descriptor after a writable one")
            else:
                elem.out_sg.append((addr, length))
            if not flags & VIRTQ_DESC_F_NEXT:
                return
            if nxt >= size:
                raise VirtqueueError(f"next descriptor {nxt} out of range")
            i = nxt

    # --- buffers ---------------------------------------------------------------
    def read_out(self, elem: VirtqElement, offset: int = 0, length: int | None = None) -> bytes:
        """Bytes of the driver-written buffers, from `offset` (all of them by default)."""
        out = bytearray()
        for addr, n in elem.out_sg:
            if offset >= n:
                offset -= n
                continue
            take = n - offset if length is None else min(n - offset, length - len(out))
            out += self.read(addr + offset, take)
            offset = 0
            if length is not None and len(out) >= length:
                break
        return bytes(out)

    def write_in(self, elem: VirtqElement, data: bytes, offset: int = 0) -> int:
        """Copy data into the device-writable buffers from `offset`; returns bytes written."""
        done = 0
        for addr, n in elem.in_sg:
            if done >= len(data):
                break
            if offset >= n:
                offset -= n
                continue
            take = min(n - offset, len(data) - done)
            self.write(addr + offset, data[done:done + take])
            done += take
            offset = 0
        return done

    # --- device -> driver ------------------------------------------------------
    def push(self, elem: VirtqElement, written: int) -> None:
        """Return a chain to the driver with `written` bytes written (2.7.8)."""
        slot = self.used_idx % self.num
        self.write(self.device + 4 + 8 * slot, struct.pack("<II", elem.head, written))
        self.used_idx = (self.used_idx + 1) & 0xFFFF
        self.write(self.device + 2, struct.pack("<H", self.used_idx))

    def should_notify(self) -> bool:
        """Whether the driver wants an interrupt for what was pushed since the last one."""
        if not self.event_idx:
            return not self._u16(self.driver) & VIRTQ_AVAIL_F_NO_INTERRUPT
        old = self.signalled_used
        new = self.used_idx
        self.signalled_used = new
        if old is None:
            return True
        used_event = self._u16(self.driver + 4 + 2 * self.num)
        # vring_need_event (2.7.10): did new_idx step past used_event since old?
        return ((new - used_event - 1) & 0xFFFF) < ((new - old) & 0xFFFF)
