"""virtio input devices (VIRTIO 1.2 section 5.8): config queries, event delivery.

Config (5.8.4): select u8 @0, subsel u8 @1, size u8 @2, reserved[5], then 128
bytes of answer: the driver writes select/subsel and reads size and the union.
Selects: ID_NAME 0x01, ID_SERIAL 0x02, ID_DEVIDS 0x03 {bustype, vendor,
product, version u16}, PROP_BITS 0x10, EV_BITS 0x11 (subsel: an event type;
a bitmap of its codes), ABS_INFO 0x12 (subsel: an axis; {min, max, fuzz,
flat, res u32}). Queues (5.8.2): 0 eventq (the driver posts writable buffers,
the device fills each with one 8-byte event {type u16, code u16, value u32}),
1 statusq (LEDs and the like; consumed and dropped, a tablet has none).

A device kind (virtio_tablet.py, virtio_keyboard.py) declares its name,
product id, event codes and axes; `send` queues events, which wait for
buffers in a bounded queue (the oldest are dropped when the guest does not
read them).
"""
from __future__ import annotations

import collections
import struct
from typing import Any, ClassVar

from pemu.hw.virtio.virtio_mmio import VirtioDevice
from pemu.hw.virtio.virtqueue import VirtqueueError

VIRTIO_ID_INPUT = 18
# Config selects (5.8.4).
CFG_ID_NAME, CFG_ID_SERIAL, CFG_ID_DEVIDS = 0x01, 0x02, 0x03
CFG_PROP_BITS, CFG_EV_BITS, CFG_ABS_INFO = 0x10, 0x11, 0x12
# Linux input event codes (the codes 5.8.6 refers to, include/uapi/linux/input-event-codes.h).
EV_SYN, EV_KEY, EV_REL, EV_ABS = 0x00, 0x01, 0x02, 0x03
SYN_REPORT = 0
BUS_VIRTUAL = 0x06
MAX_PENDING = 256
_EVENT = struct.Struct("<HHI")


def _bitmap(codes: list[int]) -> bytes:
    out = bytearray(max(codes) // 8 + 1)
    for c in codes:
        out[c // 8] |= 1 << (c % 8)
    return bytes(out)


class VirtioInput(VirtioDevice):
    """The part of every virtio input device: config space, event queue, status queue."""

    device_id = VIRTIO_ID_INPUT
    num_queues = 2
    queue_size = 64
    #: What ID_NAME and ID_DEVIDS answer, and the codes of each event type / the axes.
    input_name: ClassVar[bytes] = b""
    product_id: ClassVar[int] = 0
    event_codes: ClassVar[dict[int, list[int]]] = {}
    abs_max: ClassVar[dict[int, int]] = {}

    def __init__(self, **props: Any) -> None:
        super().__init__(**props)
        self.select = 0
        self.subsel = 0
        self.pending: collections.deque[bytes] = collections.deque(maxlen=MAX_PENDING)

    # --- config space (5.8.4) -------------------------------------------------------
    def _answer(self) -> bytes:
        sel, sub = self.select, self.subsel
        if sel == CFG_ID_NAME and sub == 0:
            return self.input_name
        if sel == CFG_ID_DEVIDS and sub == 0:
            return struct.pack("<HHHH", BUS_VIRTUAL, 0x0627, self.product_id, 1)
        if sel == CFG_EV_BITS:
            codes = self.event_codes.get(sub)
            return _bitmap(codes) if codes else b""
        if sel == CFG_ABS_INFO and sub in self.abs_max:
            return struct.pack("<IIIII", 0, self.abs_max[sub], 0, 0, 0)
        return b""

    @property
    def config(self) -> bytes:
        answer = self._answer()
        return bytes((self.select, self.subsel, len(answer))) + bytes(5) + answer.ljust(128, b"\0")

    def config_write(self, offset: int, data: bytes) -> None:
        for i, byte in enumerate(data):
            if offset + i == 0:
                self.select = byte
            elif offset + i == 1:
                self.subsel = byte

    def reset(self) -> None:
        self.select = self.subsel = 0
        self.pending.clear()

    # --- events ---------------------------------------------------------------------
    def send(self, events: list[tuple[int, int, int]]) -> None:
        """Queue (type, code, value) events and a SYN_REPORT; deliver what buffers allow."""
        self.pending.extend(_EVENT.pack(t, c, v & 0xFFFFFFFF) for t, c, v in events)
        self.pending.append(_EVENT.pack(EV_SYN, SYN_REPORT, 0))
        self._deliver()

    def handle(self, queue_index: int) -> None:
        if queue_index == 0:
            self._deliver()
            return
        vq = self.vqs[1]
        try:
            while (elem := vq.pop()) is not None:  # statusq (LEDs): nothing acted on
                vq.push(elem, 0)
            self.notify(1)
        except VirtqueueError:
            self._needs_reset()

    def _deliver(self) -> None:
        if not self.vqs or not self.vqs[0].ready:
            return
        vq = self.vqs[0]
        pushed = False
        try:
            while self.pending:
                elem = vq.pop()
                if elem is None:
                    break
                vq.push(elem, vq.write_in(elem, self.pending.popleft()))
                pushed = True
        except VirtqueueError:
            self._needs_reset()
            return
        if pushed:
            self.notify(0)

    def _needs_reset(self) -> None:
        if self.transport is not None:
            self.transport.needs_reset()
