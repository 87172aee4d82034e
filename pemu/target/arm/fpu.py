"""Scalar IEEE 754 arithmetic for A64 FP instructions, on raw bit patterns.

Python floats are IEEE binary64 with round-to-nearest-even, so +, -, *, /
and sqrt of doubles are exact to the bit; singles are computed in double
and rounded once (exact for these operations, as binary64 has more than
2*24+2 significand bits). NaNs follow the Arm ARM's FPProcessNaNs: the
first signalling NaN operand (quietened), else the first quiet NaN, else
the default NaN (positive, quiet) for an invalid operation. Only FPCR's
round-to-nearest mode is modelled and FPSR's cumulative flags are not
accumulated (see the report of the aarch64 branch).
"""
from __future__ import annotations

import math
import struct
from fractions import Fraction

M64 = (1 << 64) - 1
DEFAULT_NAN = {True: 0x7FF8000000000000, False: 0x7FC00000}
QUIET_BIT = {True: 1 << 51, False: 1 << 22}


def to_float(bits: int, dbl: bool) -> float:
    if dbl:
        return struct.unpack("<d", struct.pack("<Q", bits & M64))[0]
    return struct.unpack("<f", struct.pack("<I", bits & 0xFFFFFFFF))[0]


def from_float(x: float, dbl: bool) -> int:
    if dbl:
        return struct.unpack("<Q", struct.pack("<d", x))[0]
    try:
        return struct.unpack("<I", struct.pack("<f", x))[0]
    except OverflowError:  # rounds beyond the largest single: infinity
        return 0xFF800000 if x < 0 else 0x7F800000


def is_nan(bits: int, dbl: bool) -> bool:
    if dbl:
        return (bits >> 52) & 0x7FF == 0x7FF and bits & ((1 << 52) - 1) != 0
    return (bits >> 23) & 0xFF == 0xFF and bits & ((1 << 23) - 1) != 0


def process_nans(dbl: bool, *ops: int) -> int | None:
    """FPProcessNaNs: the NaN result an operation with NaN operands gives."""
    q = QUIET_BIT[dbl]
    for b in ops:
        if is_nan(b, dbl) and not b & q:
            return b | q
    for b in ops:
        if is_nan(b, dbl):
            return b
    return None


def _result(x: float, dbl: bool) -> int:
    return DEFAULT_NAN[dbl] if math.isnan(x) else from_float(x, dbl)


def _div(x: float, y: float) -> float:
    if y == 0:
        if x == 0 or math.isnan(x):
            return math.nan
        return math.copysign(math.inf, x) * math.copysign(1.0, y)
    return x / y


def _max(x: float, y: float) -> float:
    if x == y == 0:
        return x if math.copysign(1, x) > 0 else y
    return max(x, y)


def _min(x: float, y: float) -> float:
    if x == y == 0:
        return x if math.copysign(1, x) < 0 else y
    return min(x, y)


BINARY = {
    0b0000: lambda x, y: x * y,  # FMUL
    0b0001: _div,  # FDIV
    0b0010: lambda x, y: x + y,  # FADD
    0b0011: lambda x, y: x - y,  # FSUB
    0b0100: _max,  # FMAX
    0b0101: _min,  # FMIN
    0b0110: _max,  # FMAXNM (NaN operands are handled before; see binary())
    0b0111: _min,  # FMINNM
    0b1000: lambda x, y: -(x * y),  # FNMUL
}


def binary(op: int, a: int, b: int, dbl: int) -> int:
    """FP data-processing (2 source) on bit patterns."""
    dbl = bool(dbl)
    if op in (0b0110, 0b0111):  # FMAXNM/FMINNM: a single quiet NaN loses
        na, nb = is_nan(a, dbl), is_nan(b, dbl)
        q = QUIET_BIT[dbl]
        if na != nb and ((na and a & q) or (nb and b & q)):
            return b if na else a
    nan = process_nans(dbl, a, b)
    if nan is not None:
        return nan
    r = BINARY[op](to_float(a, dbl), to_float(b, dbl))
    if op == 0b1000 and math.isnan(r):
        return DEFAULT_NAN[dbl]
    return _result(r, dbl)


def fused(a: int, n: int, m: int, negate_a: int, negate_p: int, dbl: int) -> int:
    """FMADD/FMSUB/FNMADD/FNMSUB: (-)a + (-)(n*m) with one rounding."""
    dbl = bool(dbl)
    nan = process_nans(dbl, a, n, m)
    if nan is not None:
        return nan
    x, y, z = to_float(a, dbl), to_float(n, dbl), to_float(m, dbl)
    if negate_a:
        x = -x
    if negate_p:
        y = -y
    if any(math.isinf(v) for v in (x, y, z)):
        return _result(x + y * z, dbl)
    exact = Fraction(x) + Fraction(y) * Fraction(z)
    if exact == 0:
        # the sign of an exact zero sum follows IEEE: +0 unless both addends are -0
        prod_neg = (math.copysign(1, y) * math.copysign(1, z)) < 0
        neg = math.copysign(1, x) < 0 and prod_neg and (x == 0 and y * z == 0)
        return from_float(-0.0 if neg else 0.0, dbl)
    if not dbl:
        return from_float(_round_single(exact), dbl)
    try:
        return from_float(float(exact), dbl)  # int / int: correctly rounded
    except OverflowError:
        return from_float(math.inf if exact > 0 else -math.inf, dbl)


def _round_single(exact: Fraction) -> float:
    """exact rounded once to binary32 (nearest-even), as a Python float."""
    sign = -1 if exact < 0 else 1
    v = abs(exact)
    e = math.floor(math.log2(v)) if v else 0
    while Fraction(2) ** e > v:
        e -= 1
    while Fraction(2) ** (e + 1) <= v:
        e += 1
    e = max(e, -126)
    ulp = Fraction(2) ** (e - 23)
    q, r = divmod(v, ulp)
    if r > ulp / 2 or (r == ulp / 2 and q % 2):
        q += 1
    result = q * ulp
    if result >= Fraction(2) ** 128 - Fraction(2) ** 103:
        return sign * math.inf
    return sign * float(result)


def unary(op: int, a: int, dbl: int) -> int:
    """FABS, FNEG, FSQRT (op 1, 2, 3) on bit patterns."""
    dbl = bool(dbl)
    sign = 1 << (63 if dbl else 31)
    if op == 1:
        return a & ~sign
    if op == 2:
        return a ^ sign
    nan = process_nans(dbl, a)
    if nan is not None:
        return nan
    x = to_float(a, dbl)
    if x < 0:
        return DEFAULT_NAN[dbl]
    return from_float(math.sqrt(x), dbl)


def convert(a: int, from_dbl: int) -> int:
    """FCVT between single and double."""
    nan = process_nans(bool(from_dbl), a)
    if nan is not None:  # keep the payload's top bits, quietened
        if from_dbl:
            return ((nan >> 63) << 31) | 0x7FC00000 | ((nan >> 29) & 0x3FFFFF)
        return ((nan >> 31) << 63) | 0x7FF8000000000000 | ((nan & 0x3FFFFF) << 29)
    return from_float(to_float(a, bool(from_dbl)), not from_dbl)


#: FPRounding of the FCVT*/FRINT* variants, by index: N nearest-even, P toward +inf,
#: M toward -inf, Z toward zero, A to nearest with ties away
MODES = "NPMZA"


def round_value(x: float, mode: str) -> float:
    if math.isinf(x) or math.isnan(x):
        return x
    if mode == "Z":
        return float(math.trunc(x)) if x else x
    if mode == "P":
        return float(math.ceil(x))
    if mode == "M":
        return float(math.floor(x))
    if mode == "A":
        return float(math.floor(abs(x) + 0.5)) * (1 if x >= 0 else -1)
    return float(round(x))


def to_int(a: int, dbl: int, bits: int, unsigned: int, rounding: int) -> int:
    """FCVT[NPMZA][SU]: saturating conversion to a `bits`-bit integer; NaN gives 0."""
    mode = MODES[rounding]
    dbl = bool(dbl)
    if is_nan(a, dbl):
        return 0
    x = to_float(a, dbl)
    lo, hi = (0, (1 << bits) - 1) if unsigned else (-(1 << (bits - 1)), (1 << (bits - 1)) - 1)
    if math.isinf(x):
        v = hi if x > 0 else lo
    else:
        f = Fraction(x)
        if mode == "Z":
            v = math.trunc(f)
        elif mode == "P":
            v = math.ceil(f)
        elif mode == "M":
            v = math.floor(f)
        elif mode == "A":
            v = math.floor(abs(f) + Fraction(1, 2)) * (1 if f >= 0 else -1)
        else:
            v = round(f)
        v = min(max(v, lo), hi)
    return v & ((1 << bits) - 1)


def from_int(v: int, bits: int, unsigned: int, dbl: int) -> int:
    """SCVTF/UCVTF: a `bits`-bit integer to FP, rounded to nearest-even."""
    v &= (1 << bits) - 1
    if not unsigned and v >> (bits - 1):
        v -= 1 << bits
    if dbl:
        return from_float(float(v), True)  # int -> float rounds correctly
    return from_float(_round_single(Fraction(v)) if v else 0.0, False)


def compare(a: int, b: int, dbl: int) -> int:
    """FCMP: the NZCV bits (31:28) for a compared with b."""
    dbl = bool(dbl)
    if is_nan(a, dbl) or is_nan(b, dbl):
        return 0b0011 << 28
    x, y = to_float(a, dbl), to_float(b, dbl)
    if x == y:
        return 0b0110 << 28
    return (0b1000 << 28) if x < y else (0b0010 << 28)


def expand_imm(imm8: int, dbl: int) -> int:
    """VFPExpandImm: the 8-bit FMOV immediate as a single or double pattern."""
    sign, b6, rest = imm8 >> 7, (imm8 >> 6) & 1, imm8 & 0x3F
    if dbl:
        exp = ((b6 ^ 1) << 10) | ((0xFF if b6 else 0) << 2) | ((rest >> 4) & 3)
        return (sign << 63) | (exp << 52) | ((rest & 15) << 48)
    exp = ((b6 ^ 1) << 7) | ((0x1F if b6 else 0) << 2) | ((rest >> 4) & 3)
    return (sign << 31) | (exp << 23) | ((rest & 15) << 19)


def round_to_integral(a: int, dbl: int, rounding: int) -> int:
    """FRINT[NPMZAXI] (X and I use the current mode: nearest)."""
    mode = MODES[rounding]
    dbl = bool(dbl)
    nan = process_nans(dbl, a)
    if nan is not None:
        return nan
    x = to_float(a, dbl)
    r = round_value(x, mode)
    if r == 0:
        r = math.copysign(0.0, x)
    return from_float(r, dbl)
