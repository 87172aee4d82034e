"""virtio-keyboard-device on the virt board: keysyms from the console become Linux key events."""
from __future__ import annotations

import struct

from test_virtio_tablet import TabletDriver

from pemu.hw.input import virtio_input as vi
from pemu.hw.input.virtio_keyboard import VirtioKeyboard

KEY_A, KEY_LEFTSHIFT, KEY_ENTER, KEY_1 = 30, 42, 28, 2


def test_identity_and_key_bits():
    d = TabletDriver(VirtioKeyboard)
    assert d.query(vi.CFG_ID_NAME, 0) == b"QEMU Virtio Keyboard"
    assert struct.unpack("<HHHH", d.query(vi.CFG_ID_DEVIDS, 0)) == (6, 0x0627, 1, 1)
    bits = d.query(vi.CFG_EV_BITS, vi.EV_KEY)
    for code in (KEY_A, KEY_LEFTSHIFT, KEY_ENTER, KEY_1):
        assert bits[code // 8] >> (code % 8) & 1, code
    assert d.query(vi.CFG_EV_BITS, vi.EV_ABS) == b""


def test_typing_shift_a_then_return():
    d = TabletDriver(VirtioKeyboard)
    bufs = d.post_buffers(8)
    for keysym, down in ((0xFFE1, True), (ord("A"), True), (ord("A"), False),
                         (0xFFE1, False)):
        d.console.send_key(keysym, down)
    syn = (vi.EV_SYN, 0, 0)
    assert d.events(bufs) == [(vi.EV_KEY, KEY_LEFTSHIFT, 1), syn, (vi.EV_KEY, KEY_A, 1), syn,
                              (vi.EV_KEY, KEY_A, 0), syn, (vi.EV_KEY, KEY_LEFTSHIFT, 0), syn]
    more = d.post_buffers(4)
    d.console.send_key(0x12345678, True)  # a keysym en-us lacks: dropped
    d.console.send_key(0xFF0D, True)
    d.console.send_key(ord("!"), True)
    assert d.events(more) == [(vi.EV_KEY, KEY_ENTER, 1), syn, (vi.EV_KEY, KEY_1, 1), syn]
