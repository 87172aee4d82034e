"""The read-modify-write of the A extension's AMOs, as a table: op -> the new
memory value from (old, src) as unsigned, and signed views for min/max
(ISA manual vol. I, "Atomic Memory Operations"). Shared by system and
user-mode CPUs, which differ only in how they reach memory."""
from __future__ import annotations

from collections.abc import Callable

M64 = (1 << 64) - 1

AMO_OPS: dict[str, Callable[[int, int, int, int], int]] = {
    # (a, b, sa, sb): unsigned old/src and their signed values
    "swap": lambda a, b, sa, sb: b,
    "add": lambda a, b, sa, sb: a + b,
    "xor": lambda a, b, sa, sb: a ^ b,
    "and": lambda a, b, sa, sb: a & b,
    "or": lambda a, b, sa, sb: a | b,
    "min": lambda a, b, sa, sb: a if sa < sb else b,
    "max": lambda a, b, sa, sb: a if sa > sb else b,
    "minu": lambda a, b, sa, sb: a if a < b else b,
    "maxu": lambda a, b, sa, sb: a if a > b else b,
}


def amo_apply(op: str, old: int, src: int, size: int) -> tuple[int, int]:
    """(value to store, old value sign-extended to 64 bits for rd)."""
    bits = 8 * size
    mask = (1 << bits) - 1
    sign = 1 << (bits - 1)
    a, b = old & mask, src & mask
    new = AMO_OPS[op](a, b, (a ^ sign) - sign, (b ^ sign) - sign) & mask
    return new, ((a ^ sign) - sign) & M64
