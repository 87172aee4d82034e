"""Sizes as qemu-img parses and prints them."""

from __future__ import annotations

import math
import re

from ..errors import BlockError

_SUFFIX = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40,
           "p": 1 << 50, "e": 1 << 60}


def parse_size(text: str, what: str = "size") -> int:
    """``qemu_strtosz``: a number with an optional k/M/G/T/P/E suffix (binary units)."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d*)?)\s*([bBkKmMgGtTpPeE]?)\s*", text)
    if not m:
        raise BlockError(
            f"Invalid {what} specified. You may use k, M, G, T, P or E suffixes for")
    num, suf = m.groups()
    mult = _SUFFIX[suf.lower()]
    if "." in num and mult == 1:
        raise BlockError(f"Invalid {what} specified")
    val = float(num) * mult if "." in num else int(num) * mult
    if val >= 1 << 63:
        raise BlockError("Image size must be less than 8 EiB!")
    return int(val)


def size_to_str(val: int) -> str:
    """QEMU's ``size_to_str``: 3 significant digits, binary prefixes."""
    suffixes = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]
    if val == 0:
        i = 0
    else:
        _, e = math.frexp(val / (1000.0 / 1024.0))
        i = (e - 1) // 10
    div = 1 << (i * 10)
    return f"{val / div:0.3g} {suffixes[i]}B"
