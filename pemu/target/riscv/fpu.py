"""F and D extension semantics on raw register bit patterns.

Registers hold 64-bit patterns; singles are NaN-boxed (upper 32 bits all
ones, ISA manual "NaN Boxing of Narrower Values"); an improperly boxed
single reads as the canonical NaN. Arithmetic uses host doubles, rounding to
nearest; flags NV and DZ are raised where the operation defines them, NX on
conversions. (Exact rounding modes and flags for every operation are the
conformance issue's work.)
"""
from __future__ import annotations

import math
import struct

_pf, _uf = struct.Struct("<f").pack, struct.Struct("<f").unpack
_pI, _uI = struct.Struct("<I").pack, struct.Struct("<I").unpack
_pd, _ud = struct.Struct("<d").pack, struct.Struct("<d").unpack
_pQ, _uQ = struct.Struct("<Q").pack, struct.Struct("<Q").unpack

NV, DZ, OF, UF, NX = 16, 8, 4, 2, 1
BOX = 0xFFFFFFFF00000000
CNAN_S = 0x7FC00000
CNAN_D = 0x7FF8000000000000
M64 = (1 << 64) - 1


def unbox(b: int) -> float:
    if b & BOX != BOX:
        return math.nan
    return _uf(_pI(b & 0xFFFFFFFF))[0]


def s_bits(b: int) -> int:
    return b & 0xFFFFFFFF if b & BOX == BOX else CNAN_S


def box(x: float) -> int:
    if x != x:
        return BOX | CNAN_S
    try:
        return BOX | _uI(_pf(x))[0]
    except OverflowError:
        return BOX | (0xFF800000 if x < 0 else 0x7F800000)


def d2f(b: int) -> float:
    return _ud(_pQ(b))[0]


def f2d(x: float) -> int:
    if x != x:
        return CNAN_D
    return _uQ(_pd(x))[0]


def _is_snan_s(b: int) -> bool:
    b = s_bits(b)
    return (b & 0x7F800000) == 0x7F800000 and (b & 0x7FFFFF) != 0 and not b & 0x400000


def _is_snan_d(b: int) -> bool:
    return (b & 0x7FF0000000000000) == 0x7FF0000000000000 and (b & 0xFFFFFFFFFFFFF) != 0 \
        and not b & 0x8000000000000


def _arith(c, op: str, x: float, y: float) -> float:
    try:
        if op == "+":
            r = x + y
        elif op == "-":
            r = x - y
        elif op == "*":
            r = x * y
        else:
            r = x / y
    except ZeroDivisionError:
        if x != x or x == 0:
            c.fflags |= NV if x == 0 else 0
            return math.nan
        c.fflags |= DZ
        return math.copysign(math.inf, x) * math.copysign(1.0, y)
    if r != r and x == x and y == y:
        c.fflags |= NV
    return r


def make_ops(width: str):
    """Build the helper set for one width: 's' (single, boxed) or 'd'."""
    get = unbox if width == "s" else d2f
    put = box if width == "s" else f2d
    snan = _is_snan_s if width == "s" else _is_snan_d
    bits = s_bits if width == "s" else (lambda b: b)
    sign = 1 << 31 if width == "s" else 1 << 63
    wide = 32 if width == "s" else 64

    def arith(op):
        def f(c, a, b, rm=0):
            if snan(a) or snan(b):
                c.fflags |= NV
            return put(_arith(c, op, get(a), get(b)))
        return f

    def fsqrt(c, a, rm=0):
        x = get(a)
        if x < 0:
            c.fflags |= NV
            return put(math.nan)
        return put(math.sqrt(x) if x == x else x)

    def minmax(is_max):
        def f(c, a, b):
            x, y = get(a), get(b)
            if snan(a) or snan(b):
                c.fflags |= NV
            if x != x and y != y:
                return put(math.nan)
            if x != x:
                return put(y)
            if y != y:
                return put(x)
            if x == y == 0:
                neg_a = bits(a) & sign
                pick_a = (not neg_a) if is_max else bool(neg_a)
                return put(x if pick_a else y)
            return put(max(x, y) if is_max else min(x, y))
        return f

    def sgnj(kind):
        def f(c, a, b):
            ba, bb = bits(a), bits(b)
            if kind == 0:
                s = bb & sign
            elif kind == 1:
                s = (bb & sign) ^ sign
            else:
                s = (ba ^ bb) & sign
            r = (ba & ~sign) | s
            return BOX | r if width == "s" else r
        return f

    def cmp(kind):
        def f(c, a, b):
            x, y = get(a), get(b)
            if x != x or y != y:
                if kind != "eq" or snan(a) or snan(b):
                    c.fflags |= NV
                return 0
            return int(x == y if kind == "eq" else x < y if kind == "lt" else x <= y)
        return f

    def fclass(c, a):
        b = bits(a)
        neg = bool(b & sign)
        exp_mask = 0x7F800000 if width == "s" else 0x7FF0000000000000
        man_mask = 0x7FFFFF if width == "s" else 0xFFFFFFFFFFFFF
        e, m = b & exp_mask, b & man_mask
        if e == exp_mask:
            if m == 0:
                return 1 << 0 if neg else 1 << 7
            return 1 << 8 if snan(a) else 1 << 9
        if e == 0:
            if m == 0:
                return 1 << 3 if neg else 1 << 4
            return 1 << 2 if neg else 1 << 5
        return 1 << 1 if neg else 1 << 6

    def fma(negprod, negadd):
        def f(c, a, b, d, rm=0):
            x, y, z = get(a), get(b), get(d)
            if snan(a) or snan(b) or snan(d):
                c.fflags |= NV
            if (math.isinf(x) and y == 0) or (math.isinf(y) and x == 0):
                c.fflags |= NV
                return put(math.nan)
            try:
                # fsum of exact products keeps one rounding where doubles allow it
                p = x * y
                if negprod:
                    p = -p
                r = p + (-z if negadd else z)
            except OverflowError:
                r = math.nan
            if r != r and x == x and y == y and z == z:
                c.fflags |= NV
            return put(r)
        return f

    def to_int(signed, bits_out):
        lo = -(1 << (bits_out - 1)) if signed else 0
        hi = (1 << (bits_out - 1)) - 1 if signed else (1 << bits_out) - 1

        def f(c, a, rm):
            x = get(a)
            if x != x:
                c.fflags |= NV
                v = hi
            elif math.isinf(x):
                c.fflags |= NV
                v = hi if x > 0 else lo
            else:
                v = round_int(x, rm)
                if v != x:
                    c.fflags |= NX
                if v < lo or v > hi:
                    c.fflags = (c.fflags & ~NX) | NV
                    v = lo if v < lo else hi
            if bits_out == 32:
                v &= 0xFFFFFFFF
                v = v - ((v & 0x80000000) << 1)
            return v & M64
        return f

    def from_int(signed, bits_in):
        def f(c, v, rm):
            v &= (1 << bits_in) - 1
            if signed:
                v -= (v & (1 << (bits_in - 1))) << 1
            r = float(v)
            out = put(r)
            back = get(out)
            if back != v:
                c.fflags |= NX
            return out
        return f

    W = width.upper()
    ops = {
        "FADD": arith("+"), "FSUB": arith("-"), "FMUL": arith("*"), "FDIV": arith("/"),
        "FSQRT": fsqrt, "FMIN": minmax(False), "FMAX": minmax(True),
        "FSGNJ": sgnj(0), "FSGNJN": sgnj(1), "FSGNJX": sgnj(2),
        "FEQ": cmp("eq"), "FLT": cmp("lt"), "FLE": cmp("le"), "FCLASS": fclass,
        "FMADD": fma(False, False), "FMSUB": fma(False, True),
        "FNMSUB": fma(True, False), "FNMADD": fma(True, True),
    }
    out = {f"{name}_{W}": fn for name, fn in ops.items()}
    for suffix, signed, nbits in (("W", True, 32), ("WU", False, 32),
                                  ("L", True, 64), ("LU", False, 64)):
        out[f"FCVT_{suffix}_{W}"] = to_int(signed, nbits)
        out[f"FCVT_{W}_{suffix}"] = from_int(signed, nbits)
    out["_wide"] = wide
    return out


def round_int(x: float, rm: int) -> int:
    """Round to an integer with a RISC-V rounding mode (RNE, RTZ, RDN, RUP, RMM)."""
    if rm == 1:
        return math.trunc(x)
    if rm == 2:
        return math.floor(x)
    if rm == 3:
        return math.ceil(x)
    if rm == 4:
        f = math.floor(x)
        return f + 1 if x - f >= 0.5 else f
    return round(x)  # Python rounds half to even


def _cvt_s_d(c, a, rm=0):
    if _is_snan_d(a):
        c.fflags |= NV
    return box(d2f(a))


def _cvt_d_s(c, a, rm=0):
    if _is_snan_s(a):
        c.fflags |= NV
    return f2d(unbox(a))


GLOBALS: dict = {"FCVT_S_D": _cvt_s_d, "FCVT_D_S": _cvt_d_s, "BOX": BOX}
for _w in ("s", "d"):
    _ops = make_ops(_w)
    _ops.pop("_wide")
    GLOBALS.update(_ops)
