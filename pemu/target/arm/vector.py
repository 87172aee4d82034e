"""Advanced SIMD lane arithmetic over whole 128-bit register values.

Vector instructions run as helpers (the IR is scalar): a helper reads its
source registers from the CPU's "V" space, computes lanes with the
functions here, and writes the destination, clearing the upper 64 bits
for a 64-bit (Q=0) operation, as every A64 vector write does.
"""
from __future__ import annotations

from collections.abc import Callable

M64 = (1 << 64) - 1
M128 = (1 << 128) - 1


def get(c, n: int) -> int:
    return c.v[2 * n] | (c.v[2 * n + 1] << 64)


def put(c, d: int, value: int, q: int = 1) -> None:
    c.v[2 * d] = value & M64
    c.v[2 * d + 1] = (value >> 64) & M64 if q else 0


def lanes(v: int, esize: int, count: int) -> list[int]:
    m = (1 << esize) - 1
    return [(v >> (i * esize)) & m for i in range(count)]


def pack(values: list[int], esize: int) -> int:
    m = (1 << esize) - 1
    out = 0
    for i, x in enumerate(values):
        out |= (x & m) << (i * esize)
    return out


def signed(x: int, esize: int) -> int:
    return x - ((x >> (esize - 1)) << esize)


def replicate(value: int, esize: int) -> int:
    return pack([value] * (128 // esize), esize)


#: three-same lane operations: (x, y, esize) -> lane (masked by pack)
THREE_SAME: dict[str, Callable[[int, int, int], int]] = {
    "add": lambda x, y, e: x + y,
    "sub": lambda x, y, e: x - y,
    "mul": lambda x, y, e: x * y,
    "cmeq": lambda x, y, e: -(x == y),
    "cmtst": lambda x, y, e: -((x & y) != 0),
    "cmhs": lambda x, y, e: -(x >= y),
    "cmhi": lambda x, y, e: -(x > y),
    "cmge": lambda x, y, e: -(signed(x, e) >= signed(y, e)),
    "cmgt": lambda x, y, e: -(signed(x, e) > signed(y, e)),
    "umax": lambda x, y, e: max(x, y),
    "umin": lambda x, y, e: min(x, y),
    "smax": lambda x, y, e: max(signed(x, e), signed(y, e)),
    "smin": lambda x, y, e: min(signed(x, e), signed(y, e)),
    "uabd": lambda x, y, e: abs(x - y),
    "sshl": lambda x, y, e: _shl(signed(x, e), signed(y & 0xFF, 8), e),
    "ushl": lambda x, y, e: _shl(x, signed(y & 0xFF, 8), e),
}


def _shl(x: int, shift: int, esize: int) -> int:
    """SSHL/USHL lane: shift left by a signed byte amount (negative: right,
    arithmetic when x is signed); shifts past the lane give 0 (or the sign)."""
    if shift >= 0:
        return x << shift if shift < esize else 0
    return x >> min(-shift, esize)
PAIRWISE = {"addp": "add", "umaxp": "umax", "uminp": "umin", "smaxp": "smax",
            "sminp": "smin"}


def three_same(op: str, n: int, m: int, esize: int, q: int) -> int:
    count = (128 if q else 64) // esize
    f = THREE_SAME[op]
    return pack([f(x, y, esize) for x, y in zip(lanes(n, esize, count),
                                                 lanes(m, esize, count), strict=True)], esize)


def pairwise(op: str, n: int, m: int, esize: int, q: int) -> int:
    """ADDP, UMAXP...: lanes of the concatenation m:n, combined in pairs."""
    count = (128 if q else 64) // esize
    both = lanes(n, esize, count) + lanes(m, esize, count)
    f = THREE_SAME[PAIRWISE[op]]
    return pack([f(both[2 * i], both[2 * i + 1], esize) for i in range(count)], esize)


def logical(op: str, d: int, n: int, m: int) -> int:
    """The size-selected logical three-same group: AND BIC ORR ORN EOR BSL BIT BIF."""
    if op == "and":
        return n & m
    if op == "bic":
        return n & ~m
    if op == "orr":
        return n | m
    if op == "orn":
        return n | (~m & M128)
    if op == "eor":
        return n ^ m
    if op == "bsl":
        return (d & n) | (~d & m)
    if op == "bit":
        return (d & ~m) | (n & m)
    return (d & m) | (n & ~m)  # bif


def expand_imm(op: int, cmode: int, imm8: int) -> int | None:
    """AdvSIMDExpandImm: the 64-bit pattern of MOVI/MVNI/ORR/BIC (immediate),
    or None where pemu does not implement the form (FMOV vector)."""
    kind = cmode >> 1
    if kind <= 3:  # 32-bit lanes, shifted by 0/8/16/24
        return replicate(imm8 << (8 * kind), 32) & M64
    if kind <= 5:  # 16-bit lanes, shifted by 0/8
        return replicate(imm8 << (8 * (kind & 1)), 16) & M64
    if kind == 6:  # 32-bit lanes, shifting ones in
        return replicate((imm8 << (8 * ((cmode & 1) + 1))) | ((1 << (8 * ((cmode & 1) + 1))) - 1),
                         32) & M64
    if cmode == 0b1110 and op == 0:
        return replicate(imm8, 8) & M64
    if cmode == 0b1110 and op == 1:  # each bit of imm8 is a byte of ones
        return sum(0xFF << (8 * i) for i in range(8) if imm8 >> i & 1)
    return None
