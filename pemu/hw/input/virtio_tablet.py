"""virtio input device as an absolute pointer: virtio-tablet-device (VIRTIO 1.2 section 5.8).

Config (5.8.4): select u8 @0, subsel u8 @1, size u8 @2, reserved[5], then 128
bytes of answer: the driver writes select/subsel and reads size and the union.
Selects: ID_NAME 0x01, ID_SERIAL 0x02, ID_DEVIDS 0x03 {bustype, vendor,
product, version u16}, PROP_BITS 0x10, EV_BITS 0x11 (subsel: an event type;
a bitmap of its codes), ABS_INFO 0x12 (subsel: an axis; {min, max, fuzz,
flat, res u32}). Queues (5.8.2): 0 eventq (the driver posts writable buffers,
the device fills each with one 8-byte event {type u16, code u16, value u32}),
1 statusq (LEDs and the like; consumed and dropped, a tablet has none).

Events come from the console's pointer hooks (a VNC client's PointerEvent):
the position scaled to 0..32767 on ABS_X/ABS_Y, buttons as BTN_LEFT/RIGHT/
MIDDLE, the wheel as REL_WHEEL, then SYN_REPORT. Events wait for buffers in a
bounded queue (the oldest are dropped when the guest does not read them).
Identity as QEMU's tablet: "QEMU Virtio Tablet", bus virtual, 0627:0003.
"""
from __future__ import annotations

import collections
import struct
from typing import Any

from pemu.hw.virtio.virtio_mmio import VirtioDevice
from pemu.hw.virtio.virtqueue import VirtqueueError
from pemu.qom import register_type
from pemu.ui.console import Console

VIRTIO_ID_INPUT = 18
# Config selects (5.8.4).
CFG_ID_NAME, CFG_ID_SERIAL, CFG_ID_DEVIDS = 0x01, 0x02, 0x03
CFG_PROP_BITS, CFG_EV_BITS, CFG_ABS_INFO = 0x10, 0x11, 0x12
# Linux input event codes (the codes 5.8.6 refers to, include/uapi/linux/input-event-codes.h).
EV_SYN, EV_KEY, EV_REL, EV_ABS = 0x00, 0x01, 0x02, 0x03
SYN_REPORT = 0
BTN_LEFT, BTN_RIGHT, BTN_MIDDLE = 0x110, 0x111, 0x112
REL_WHEEL = 0x08
ABS_X, ABS_Y = 0x00, 0x01
ABS_MAX = 0x7FFF
BUS_VIRTUAL = 0x06
#: RFB button-mask bits (RFC 6143 7.5.5) -> Linux buttons.
RFB_BUTTONS = ((0, BTN_LEFT), (1, BTN_MIDDLE), (2, BTN_RIGHT))
MAX_PENDING = 256
_EVENT = struct.Struct("<HHI")


def _bitmap(codes: list[int]) -> bytes:
    out = bytearray(max(codes) // 8 + 1)
    for c in codes:
        out[c // 8] |= 1 << (c % 8)
    return bytes(out)


@register_type
class VirtioTablet(VirtioDevice):
    """An absolute pointer fed by `console`'s pointer events."""

    type_name = "virtio-tablet-device"
    description = "virtio input tablet (absolute pointer)"
    user_creatable = True
    device_id = VIRTIO_ID_INPUT
    num_queues = 2
    queue_size = 64

    def __init__(self, console: Console, **props: Any) -> None:
        super().__init__(**props)
        self.console = console
        self.select = 0
        self.subsel = 0
        self.buttons = 0
        self.pending: collections.deque[bytes] = collections.deque(maxlen=MAX_PENDING)
        console.pointer_hooks.append(self.pointer_event)

    # --- config space (5.8.4) -------------------------------------------------------
    def _answer(self) -> bytes:
        sel, sub = self.select, self.subsel
        if sel == CFG_ID_NAME and sub == 0:
            return b"QEMU Virtio Tablet"
        if sel == CFG_ID_DEVIDS and sub == 0:
            return struct.pack("<HHHH", BUS_VIRTUAL, 0x0627, 0x0003, 1)
        if sel == CFG_EV_BITS:
            codes = {EV_KEY: [BTN_LEFT, BTN_RIGHT, BTN_MIDDLE], EV_REL: [REL_WHEEL],
                     EV_ABS: [ABS_X, ABS_Y]}.get(sub)
            return _bitmap(codes) if codes else b""
        if sel == CFG_ABS_INFO and sub in (ABS_X, ABS_Y):
            return struct.pack("<IIIII", 0, ABS_MAX, 0, 0, 0)
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
        self.select = self.subsel = self.buttons = 0
        self.pending.clear()

    # --- events ---------------------------------------------------------------------
    def pointer_event(self, x: int, y: int, mask: int) -> None:
        """A host pointer event at (x, y) of the console with RFB button mask `mask`."""
        w, h = max(2, self.console.width), max(2, self.console.height)
        events = [(EV_ABS, ABS_X, min(x, w - 1) * ABS_MAX // (w - 1)),
                  (EV_ABS, ABS_Y, min(y, h - 1) * ABS_MAX // (h - 1))]
        for bit, code in RFB_BUTTONS:
            if (mask ^ self.buttons) >> bit & 1:
                events.append((EV_KEY, code, mask >> bit & 1))
        if mask & 8 and not self.buttons & 8:
            events.append((EV_REL, REL_WHEEL, 1))
        if mask & 16 and not self.buttons & 16:
            events.append((EV_REL, REL_WHEEL, 0xFFFFFFFF))  # -1
        self.buttons = mask
        events.append((EV_SYN, SYN_REPORT, 0))
        self.pending.extend(_EVENT.pack(*e) for e in events)
        self._deliver()

    def handle(self, queue_index: int) -> None:
        if queue_index == 0:
            self._deliver()
            return
        vq = self.vqs[1]
        try:
            while (elem := vq.pop()) is not None:  # statusq: nothing a tablet acts on
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
