"""virtio-keyboard-device: a keyboard (VIRTIO 1.2 section 5.8) fed by the console's key events.

A key event carries an X11 keysym (from a VNC client); the en-us table
(`pemu.ui.keymap_en_us`) gives the Linux key code, sent as EV_KEY (1 down,
0 up) and SYN_REPORT. A keysym the table lacks is dropped. Identity as QEMU's
keyboard: "QEMU Virtio Keyboard", bus virtual, 0627:0001.
"""
from __future__ import annotations

from typing import Any

from pemu.hw.input.virtio_input import EV_KEY, VirtioInput
from pemu.qom import register_type
from pemu.ui.console import Console
from pemu.ui.keymap_en_us import KEYSYM_TO_KEY


@register_type
class VirtioKeyboard(VirtioInput):
    """A keyboard fed by `console`'s key events (en-us keysym mapping)."""

    type_name = "virtio-keyboard-device"
    description = "virtio input keyboard (en-us keysyms)"
    user_creatable = True
    input_name = b"QEMU Virtio Keyboard"
    product_id = 0x0001
    event_codes = {EV_KEY: sorted(set(KEYSYM_TO_KEY.values()))}

    def __init__(self, console: Console, **props: Any) -> None:
        super().__init__(**props)
        console.key_hooks.append(self.key_event)

    def key_event(self, keysym: int, down: bool) -> None:
        code = KEYSYM_TO_KEY.get(keysym)
        if code is not None:
            self.send([(EV_KEY, code, int(down))])
