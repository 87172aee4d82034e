"""What each pure IR op computes, as Python functions over unsigned 64-bit ints.

The optimiser folds constants with this table, and tests check every backend
against it; it is the IR's definition, not a backend.
"""
from __future__ import annotations

from collections.abc import Callable

M64 = (1 << 64) - 1
SB = 1 << 63


def signed(v: int) -> int:
    return v - ((v & SB) << 1)


def _ext(bits: int, sign: bool) -> Callable[[int], int]:
    mask, top = (1 << bits) - 1, 1 << (bits - 1)
    if sign:
        return lambda a: (((a & mask) ^ top) - top) & M64
    return lambda a: a & mask


def _divs(a: int, b: int) -> int:
    q = abs(signed(a)) // abs(signed(b))
    return (-q if (signed(a) < 0) != (signed(b) < 0) else q) & M64


def _rems(a: int, b: int) -> int:
    r = abs(signed(a)) % abs(signed(b))
    return (-r if signed(a) < 0 else r) & M64


def _rotl(a: int, b: int) -> int:
    return ((a << b) | (a >> (64 - b))) & M64 if b else a


COMPARE: dict[str, Callable[[int, int], bool]] = {
    "eq": lambda a, b: a == b, "ne": lambda a, b: a != b,
    "lt": lambda a, b: signed(a) < signed(b), "ge": lambda a, b: signed(a) >= signed(b),
    "le": lambda a, b: signed(a) <= signed(b), "gt": lambda a, b: signed(a) > signed(b),
    "ltu": lambda a, b: a < b, "geu": lambda a, b: a >= b,
    "leu": lambda a, b: a <= b, "gtu": lambda a, b: a > b,
}

#: op name -> function(*inputs) -> output, for ops without aux
EVAL: dict[str, Callable[..., int]] = {
    "mov": lambda a: a,
    "add": lambda a, b: (a + b) & M64, "sub": lambda a, b: (a - b) & M64,
    "mul": lambda a, b: (a * b) & M64,
    "mulsh": lambda a, b: ((signed(a) * signed(b)) >> 64) & M64,
    "muluh": lambda a, b: (a * b) >> 64,
    "mulsuh": lambda a, b: ((signed(a) * b) >> 64) & M64,
    "divs": _divs, "divu": lambda a, b: a // b, "rems": _rems, "remu": lambda a, b: a % b,
    "and": lambda a, b: a & b, "or": lambda a, b: a | b, "xor": lambda a, b: a ^ b,
    "andc": lambda a, b: a & ~b & M64, "orc": lambda a, b: (a | ~b) & M64,
    "eqv": lambda a, b: ~(a ^ b) & M64,
    "not": lambda a: a ^ M64, "neg": lambda a: -a & M64,
    "shl": lambda a, b: (a << b) & M64, "shr": lambda a, b: a >> b,
    "sar": lambda a, b: (signed(a) >> b) & M64,
    "rotl": _rotl, "rotr": lambda a, b: _rotl(a, -b & 63),
    "ext8s": _ext(8, True), "ext8u": _ext(8, False),
    "ext16s": _ext(16, True), "ext16u": _ext(16, False),
    "ext32s": _ext(32, True), "ext32u": _ext(32, False),
    "clz": lambda a: 64 - a.bit_length(),
    "ctz": lambda a: (a & -a).bit_length() - 1 if a else 64,
    "ctpop": lambda a: a.bit_count(),
    "bswap64": lambda a: int.from_bytes(a.to_bytes(8, "little"), "big"),
}


def evaluate(name: str, args: tuple[int, ...], aux: object = None) -> int:
    """The result of pure op `name` on constant inputs."""
    if name == "setcond":
        return int(COMPARE[aux](args[0], args[1]))
    if name == "movcond":
        return args[2] if COMPARE[aux](args[0], args[1]) else args[3]
    return EVAL[name](*args)
