"""virtio-tablet-device: an absolute pointer (VIRTIO 1.2 section 5.8) fed by the console.

Pointer events (a VNC client's PointerEvent) become the position scaled to
0..32767 on ABS_X/ABS_Y, buttons as BTN_LEFT/RIGHT/MIDDLE, the wheel as
REL_WHEEL, then SYN_REPORT. Identity as QEMU's tablet: "QEMU Virtio Tablet",
bus virtual, 0627:0003.
"""
from __future__ import annotations

from typing import Any

from pemu.hw.input.virtio_input import EV_ABS, EV_KEY, EV_REL, VirtioInput
from pemu.qom import register_type
from pemu.ui.console import Console

BTN_LEFT, BTN_RIGHT, BTN_MIDDLE = 0x110, 0x111, 0x112
REL_WHEEL = 0x08
ABS_X, ABS_Y = 0x00, 0x01
ABS_MAX = 0x7FFF
#: RFB button-mask bits (RFC 6143 7.5.5) -> Linux buttons.
RFB_BUTTONS = ((0, BTN_LEFT), (1, BTN_MIDDLE), (2, BTN_RIGHT))


@register_type
class VirtioTablet(VirtioInput):
    """An absolute pointer fed by `console`'s pointer events."""

    type_name = "virtio-tablet-device"
    description = "virtio input tablet (absolute pointer)"
    user_creatable = True
    input_name = b"QEMU Virtio Tablet"
    product_id = 0x0003
    event_codes = {EV_KEY: [BTN_LEFT, BTN_RIGHT, BTN_MIDDLE], EV_REL: [REL_WHEEL],
                   EV_ABS: [ABS_X, ABS_Y]}
    abs_max = {ABS_X: ABS_MAX, ABS_Y: ABS_MAX}

    def __init__(self, console: Console, **props: Any) -> None:
        super().__init__(**props)
        self.console = console
        self.buttons = 0
        console.pointer_hooks.append(self.pointer_event)

    def reset(self) -> None:
        super().reset()
        self.buttons = 0

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
            events.append((EV_REL, REL_WHEEL, -1))
        self.buttons = mask
        self.send(events)
