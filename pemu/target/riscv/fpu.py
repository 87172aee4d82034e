"""F and D extension semantics on raw register bit patterns.

Registers hold 64-bit patterns; singles are NaN-boxed (upper 32 bits all
ones, ISA manual "NaN Boxing of Narrower Values"); an improperly boxed
single reads as the canonical NaN.

Every helper is exact (IEEE 754-2008 as RISC-V specifies it): results come
from `softfloat` (integer arithmetic, all rounding modes, exact flags)
unless a fast path applies. The fast paths use host doubles only where they
are provably the correctly rounded result: round-to-nearest-even, finite
operands, a result strictly above the smallest normal (so no overflow and no
underflow), and NX decided exactly (error-free transformations, or already
accrued in fflags). Singles are computed in double and rounded once to
single, which is exact for + - * / sqrt (53 >= 2*24 + 2).
"""
from __future__ import annotations

import math
import struct

from pemu.target.riscv import softfloat as sf
from pemu.target.riscv.softfloat import DZ, F32, F64, NV, NX, OF, UF  # noqa: F401

_pf, _uf = struct.Struct("<f").pack, struct.Struct("<f").unpack
_pI, _uI = struct.Struct("<I").pack, struct.Struct("<I").unpack
_pd, _ud = struct.Struct("<d").pack, struct.Struct("<d").unpack
_pQ, _uQ = struct.Struct("<Q").pack, struct.Struct("<Q").unpack

BOX = 0xFFFFFFFF00000000
CNAN_S = 0x7FC00000
CNAN_D = 0x7FF8000000000000
M64 = (1 << 64) - 1
INF = math.inf
MIN_D = 2.0 ** -1022
MIN_S = 2.0 ** -126
MAX_S = float.fromhex("0x1.fffffep127")
# error-free product range (Veltkamp split without overflow, exact error term)
TP_LO, TP_HI, TP_ARG = 2.0 ** -900, 2.0 ** 1000, 2.0 ** 995
SPLIT = 134217729.0  # 2**27 + 1


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


def two_prod_err(x: float, y: float, p: float) -> float:
    """Exact x*y - p for p = fl(x*y) (Dekker), valid in the TP_* ranges."""
    t = SPLIT * x
    xh = t - (t - x)
    xl = x - xh
    t = SPLIT * y
    yh = t - (t - y)
    yl = y - yh
    return ((xh * yh - p) + xh * yl + xl * yh) + xl * yl


def _tp_ok(x: float, y: float, p: float) -> bool:
    return TP_LO < abs(p) < TP_HI and abs(x) < TP_ARG and abs(y) < TP_ARG


def _r32(c, r: float, exact: bool):
    """Round a double that is the RNE-correct double of the exact result to
    single; None when the fast path cannot decide."""
    try:
        s = _uf(_pf(r))[0]
    except OverflowError:
        return None
    if not MIN_S < abs(s) <= MAX_S:
        return None
    if not exact or s != r:
        c.fflags |= NX
    return BOX | _uI(_pf(s))[0]


# --- double precision ----------------------------------------------------------
def _d_add(c, a, b, rm, neg=False):
    if rm == 0:
        x = _ud(_pQ(a))[0]
        y = _ud(_pQ(b))[0]
        if neg:
            y = -y
        r = x + y
        if MIN_D < abs(r) < INF:
            if not c.fflags & 1:
                t = r - x
                if (x - (r - t)) + (y - t):
                    c.fflags |= 1
            return _uQ(_pd(r))[0]
    bits, fl = sf.add(a, b, F64, rm, neg)
    c.fflags |= fl
    return bits


def FADD_D(c, a, b, rm=0):
    return _d_add(c, a, b, rm)


def FSUB_D(c, a, b, rm=0):
    return _d_add(c, a, b, rm, True)


def FMUL_D(c, a, b, rm=0):
    if rm == 0:
        x = _ud(_pQ(a))[0]
        y = _ud(_pQ(b))[0]
        r = x * y
        if MIN_D < abs(r) < INF:
            if c.fflags & 1:
                return _uQ(_pd(r))[0]
            if _tp_ok(x, y, r):
                if two_prod_err(x, y, r):
                    c.fflags |= 1
                return _uQ(_pd(r))[0]
    bits, fl = sf.mul(a, b, F64, rm)
    c.fflags |= fl
    return bits


def FDIV_D(c, a, b, rm=0):
    if rm == 0:
        x = _ud(_pQ(a))[0]
        y = _ud(_pQ(b))[0]
        if y and x == x:
            r = x / y
            if MIN_D < abs(r) < INF:
                if c.fflags & 1:
                    return _uQ(_pd(r))[0]
                p = r * y
                if _tp_ok(r, y, p):
                    if p != x or two_prod_err(r, y, p):
                        c.fflags |= 1
                    return _uQ(_pd(r))[0]
    bits, fl = sf.div(a, b, F64, rm)
    c.fflags |= fl
    return bits


def FSQRT_D(c, a, rm=0):
    if rm == 0:
        x = _ud(_pQ(a))[0]
        if MIN_D < x < INF:
            r = math.sqrt(x)
            if c.fflags & 1:
                return _uQ(_pd(r))[0]
            p = r * r
            if _tp_ok(r, r, p):
                if p != x or two_prod_err(r, r, p):
                    c.fflags |= 1
                return _uQ(_pd(r))[0]
    bits, fl = sf.sqrt(a, F64, rm)
    c.fflags |= fl
    return bits


def _d_fma(negp, negc):
    def fma(c, a, b, d, rm=0):
        if rm == 0:
            x = _ud(_pQ(a))[0]
            y = _ud(_pQ(b))[0]
            z = _ud(_pQ(d))[0]
            if negp:
                x = -x
            if negc:
                z = -z
            p = x * y
            if _tp_ok(x, y, p) and abs(z) < TP_HI:
                e = two_prod_err(x, y, p)
                r = math.fsum((p, e, z))
                if MIN_D < abs(r) < INF:
                    if not c.fflags & 1 and math.fsum((p, e, z, -r)):
                        c.fflags |= 1
                    return _uQ(_pd(r))[0]
        bits, fl = sf.fma(a, b, d, F64, rm, negp, negc)
        c.fflags |= fl
        return bits
    return fma


# --- single precision ------------------------------------------------------------
def _s_add(c, a, b, rm, neg=False):
    if rm == 0 and a & BOX == BOX and b & BOX == BOX:
        x = _uf(_pI(a & 0xFFFFFFFF))[0]
        y = _uf(_pI(b & 0xFFFFFFFF))[0]
        if neg:
            y = -y
        r = x + y
        if abs(r) < INF:
            t = r - x
            out = _r32(c, r, not (x - (r - t)) + (y - t))
            if out is not None:
                return out
    bits, fl = sf.add(s_bits(a), s_bits(b), F32, rm, neg)
    c.fflags |= fl
    return BOX | bits


def FADD_S(c, a, b, rm=0):
    return _s_add(c, a, b, rm)


def FSUB_S(c, a, b, rm=0):
    return _s_add(c, a, b, rm, True)


def FMUL_S(c, a, b, rm=0):
    if rm == 0 and a & BOX == BOX and b & BOX == BOX:
        r = _uf(_pI(a & 0xFFFFFFFF))[0] * _uf(_pI(b & 0xFFFFFFFF))[0]
        if abs(r) < INF:  # the double product of singles is exact
            out = _r32(c, r, True)
            if out is not None:
                return out
    bits, fl = sf.mul(s_bits(a), s_bits(b), F32, rm)
    c.fflags |= fl
    return BOX | bits


def FDIV_S(c, a, b, rm=0):
    if rm == 0 and a & BOX == BOX and b & BOX == BOX:
        x = _uf(_pI(a & 0xFFFFFFFF))[0]
        y = _uf(_pI(b & 0xFFFFFFFF))[0]
        if y and abs(x) < INF:
            r = x / y
            out = _r32(c, r, True)
            if out is not None:
                if not c.fflags & 1 and _uf(_pI(out & 0xFFFFFFFF))[0] * y != x:
                    c.fflags |= 1
                return out
    bits, fl = sf.div(s_bits(a), s_bits(b), F32, rm)
    c.fflags |= fl
    return BOX | bits


def FSQRT_S(c, a, rm=0):
    if rm == 0 and a & BOX == BOX:
        x = _uf(_pI(a & 0xFFFFFFFF))[0]
        if 0 < x < INF:
            out = _r32(c, math.sqrt(x), True)
            if out is not None:
                s = _uf(_pI(out & 0xFFFFFFFF))[0]
                if not c.fflags & 1 and s * s != x:
                    c.fflags |= 1
                return out
    bits, fl = sf.sqrt(s_bits(a), F32, rm)
    c.fflags |= fl
    return BOX | bits


def _s_fma(negp, negc):
    def fma(c, a, b, d, rm=0):
        if rm == 0 and a & b & d & BOX == BOX:
            x = _uf(_pI(a & 0xFFFFFFFF))[0]
            y = _uf(_pI(b & 0xFFFFFFFF))[0]
            z = _uf(_pI(d & 0xFFFFFFFF))[0]
            p = x * y  # exact
            if negp:
                p = -p
            if negc:
                z = -z
            r = p + z
            if abs(r) < INF:
                t = r - p
                err = (p - (r - t)) + (z - t)
                # a double exactly halfway between two singles cannot be
                # rounded again when the sum was inexact
                if not err or _uQ(_pd(r))[0] & 0x1FFFFFFF != 0x10000000:
                    out = _r32(c, r, not err)
                    if out is not None:
                        return out
        bits, fl = sf.fma(s_bits(a), s_bits(b), s_bits(d), F32, rm, negp, negc)
        c.fflags |= fl
        return BOX | bits
    return fma


# --- shared by both widths -----------------------------------------------------
def make_ops(width: str) -> dict:
    """The width-generic helpers for 's' (single, boxed) or 'd'."""
    get = unbox if width == "s" else d2f
    put = box if width == "s" else f2d
    snan = _is_snan_s if width == "s" else _is_snan_d
    bits = s_bits if width == "s" else (lambda b: b)
    sign = 1 << 31 if width == "s" else 1 << 63
    fmt = F32 if width == "s" else F64

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
        e, m = b & fmt.inf, b & fmt.fmask
        if e == fmt.inf:
            if m == 0:
                return 1 << 0 if neg else 1 << 7
            return 1 << 9 if m & fmt.qbit else 1 << 8
        if e == 0:
            if m == 0:
                return 1 << 3 if neg else 1 << 4
            return 1 << 2 if neg else 1 << 5
        return 1 << 1 if neg else 1 << 6

    def to_int(signed, nbits):
        lo = -(1 << (nbits - 1)) if signed else 0
        hi = (1 << (nbits - 1)) - 1 if signed else (1 << nbits) - 1

        def f(c, a, rm):
            x = get(a)
            if -4.6e18 < x < 4.6e18:  # finite, integral part fits exactly
                v = round_int(x, rm)
                if lo <= v <= hi:
                    if v != x:
                        c.fflags |= NX
                else:
                    c.fflags |= NV
                    v = lo if x < 0 else hi
            else:
                v, fl = sf.to_int(bits(a), fmt, rm, signed, nbits)
                c.fflags |= fl
            if nbits == 32:
                v &= 0xFFFFFFFF
                v = v - ((v & 0x80000000) << 1)
            return v & M64
        return f

    def from_int(signed, nbits):
        exact = 1 << (24 if width == "s" else 53)

        def f(c, v, rm):
            v &= (1 << nbits) - 1
            if signed:
                v -= (v & (1 << (nbits - 1))) << 1
            if -exact <= v <= exact:
                return put(float(v))
            r, fl = sf.from_int(v, fmt, rm)
            c.fflags |= fl
            return BOX | r if width == "s" else r
        return f

    W = width.upper()
    ops = {
        "FMIN": minmax(False), "FMAX": minmax(True),
        "FSGNJ": sgnj(0), "FSGNJN": sgnj(1), "FSGNJX": sgnj(2),
        "FEQ": cmp("eq"), "FLT": cmp("lt"), "FLE": cmp("le"), "FCLASS": fclass,
    }
    out = {f"{name}_{W}": fn for name, fn in ops.items()}
    for suffix, signed, nbits in (("W", True, 32), ("WU", False, 32),
                                  ("L", True, 64), ("LU", False, 64)):
        out[f"FCVT_{suffix}_{W}"] = to_int(signed, nbits)
        out[f"FCVT_{W}_{suffix}"] = from_int(signed, nbits)
    return out


def round_int(x: float, rm: int) -> int:
    """Round a finite double to an integer with a RISC-V rounding mode (exact)."""
    if rm == 1:
        return math.trunc(x)
    if rm == 2:
        return math.floor(x)
    if rm == 3:
        return math.ceil(x)
    if rm == 4:
        t = math.trunc(x)
        d = x - t  # exact for |x| < 2**62
        return t + 1 if d >= 0.5 else t - 1 if d <= -0.5 else t
    return round(x)  # Python rounds half to even


def _cvt_s_d(c, a, rm=0):
    if rm == 0:
        x = _ud(_pQ(a))[0]
        if abs(x) < INF:
            try:
                s = _uf(_pf(x))[0]
            except OverflowError:
                s = INF
            if s == x:
                return BOX | _uI(_pf(s))[0]
            if MIN_S < abs(s) <= MAX_S:
                c.fflags |= NX
                return BOX | _uI(_pf(s))[0]
    bits, fl = sf.convert(a, F64, F32, rm)
    c.fflags |= fl
    return BOX | bits


def _cvt_d_s(c, a, rm=0):
    x = unbox(a)
    if x == x:
        return _uQ(_pd(x))[0]
    if _is_snan_s(a):
        c.fflags |= NV
    return CNAN_D


GLOBALS: dict = {
    "FCVT_S_D": _cvt_s_d, "FCVT_D_S": _cvt_d_s, "BOX": BOX,
    "FADD_D": FADD_D, "FSUB_D": FSUB_D, "FMUL_D": FMUL_D, "FDIV_D": FDIV_D,
    "FSQRT_D": FSQRT_D, "FADD_S": FADD_S, "FSUB_S": FSUB_S, "FMUL_S": FMUL_S,
    "FDIV_S": FDIV_S, "FSQRT_S": FSQRT_S,
}
for _w, _mk in (("S", _s_fma), ("D", _d_fma)):
    GLOBALS[f"FMADD_{_w}"] = _mk(False, False)
    GLOBALS[f"FMSUB_{_w}"] = _mk(False, True)
    GLOBALS[f"FNMSUB_{_w}"] = _mk(True, False)
    GLOBALS[f"FNMADD_{_w}"] = _mk(True, True)
for _w in ("s", "d"):
    GLOBALS.update(make_ops(_w))
