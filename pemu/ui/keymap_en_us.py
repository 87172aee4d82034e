"""X11 keysyms (as RFB KeyEvents carry them, RFC 6143 7.5.4) -> Linux key codes, en-us layout.

The keysym values are X11's (keysymdef.h: Latin-1 equals the character code,
function keys 0xff00-0xffff); the key codes are Linux input-event-codes.h
KEY_*. A shifted character maps to its unshifted key: the client sends the
Shift key's own events around it.
"""
from __future__ import annotations

_ROWS = (
    # (characters, shifted characters, first key code): keys in a row of the keyboard
    ("1234567890-=", "!@#$%^&*()_+", 2),
    ("qwertyuiop[]", "QWERTYUIOP{}", 16),
    ("asdfghjkl;'`", 'ASDFGHJKL:"~', 30),
    ("\\zxcvbnm,./", "|ZXCVBNM<>?", 43),
)

KEYSYM_TO_KEY: dict[int, int] = {}
for plain, shifted, first in _ROWS:
    for i, (a, b) in enumerate(zip(plain, shifted, strict=True)):
        KEYSYM_TO_KEY[ord(a)] = KEYSYM_TO_KEY[ord(b)] = first + i

KEYSYM_TO_KEY.update({
    0x20: 57,                                   # space
    0xFF08: 14, 0xFF09: 15, 0xFF0D: 28,         # BackSpace, Tab, Return
    0xFF1B: 1, 0xFFFF: 111,                     # Escape, Delete
    0xFF50: 102, 0xFF51: 105, 0xFF52: 103,      # Home, Left, Up
    0xFF53: 106, 0xFF54: 108, 0xFF55: 104,      # Right, Down, Page_Up
    0xFF56: 109, 0xFF57: 107, 0xFF63: 110,      # Page_Down, End, Insert
    0xFFE1: 42, 0xFFE2: 54,                     # Shift_L, Shift_R
    0xFFE3: 29, 0xFFE4: 97,                     # Control_L, Control_R
    0xFFE9: 56, 0xFFEA: 100,                    # Alt_L, Alt_R
    0xFFE7: 125, 0xFFEB: 125, 0xFFEC: 126,      # Meta_L, Super_L, Super_R
    0xFFE5: 58,                                 # Caps_Lock
    **{0xFFBE + i: 59 + i for i in range(10)},  # F1..F10
    0xFFC8: 87, 0xFFC9: 88,                     # F11, F12
})
