"""Exact IEEE 754-2008 binary32/binary64 arithmetic on bit patterns.

Everything here works on Python integers: a finite value is an exact
triple (sign, mant, exp) meaning (-1)**sign * mant * 2**exp, and `round_pack`
rounds such a value (plus a sticky bit for "something nonzero below") once,
in any of the five RISC-V rounding modes (ISA manual vol. I, "F", table
"Rounding mode encoding"). Flags follow IEEE 754 with the RISC-V choices:
tininess is detected after rounding, the underflow flag needs the result to
be both tiny and inexact, every NaN result is the canonical NaN.

Functions return (bits, flags); callers (fpu.py) accrue the flags. This is
the slow, always-correct path; fpu.py uses host doubles when they are known
to give the same answer.
"""
from __future__ import annotations

NV, DZ, OF, UF, NX = 16, 8, 4, 2, 1
RNE, RTZ, RDN, RUP, RMM = 0, 1, 2, 3, 4


class Fmt:
    """An IEEE binary interchange format: `ebits` exponent, `fbits` fraction bits."""

    def __init__(self, ebits: int, fbits: int) -> None:
        self.ebits, self.fbits = ebits, fbits
        self.p = fbits + 1
        self.bias = (1 << (ebits - 1)) - 1
        self.emin = 1 - self.bias
        self.emax = self.bias
        self.emask = (1 << ebits) - 1
        self.fmask = (1 << fbits) - 1
        self.sign = 1 << (ebits + fbits)
        self.inf = self.emask << fbits
        self.qbit = 1 << (fbits - 1)
        self.cnan = self.inf | self.qbit
        self.maxf = self.inf - 1


F32 = Fmt(8, 23)
F64 = Fmt(11, 52)

# operand classes
ZERO, FINITE, INF, QNAN, SNAN = 0, 1, 2, 3, 4


def unpack(b: int, f: Fmt) -> tuple[int, int, int, int]:
    """(class, sign, mant, exp) of pattern b; finite values are exact."""
    s = 1 if b & f.sign else 0
    e = (b >> f.fbits) & f.emask
    m = b & f.fmask
    if e == f.emask:
        if m == 0:
            return INF, s, 0, 0
        return (QNAN if m & f.qbit else SNAN), s, m, 0
    if e == 0:
        if m == 0:
            return ZERO, s, 0, 0
        return FINITE, s, m, f.emin - f.fbits
    return FINITE, s, m | (1 << f.fbits), e - f.bias - f.fbits


def _round_bits(mant: int, shift: int, sticky: bool, sign: int, rm: int) -> tuple[int, bool]:
    """mant / 2**shift rounded to an integer (shift >= 1); (result, inexact)."""
    q = mant >> shift
    rem = mant & ((1 << shift) - 1)
    if not rem and not sticky:
        return q, False
    half = 1 << (shift - 1)
    if rm == RNE:
        inc = rem > half or (rem == half and (sticky or q & 1))
    elif rm == RTZ:
        inc = False
    elif rm == RDN:
        inc = bool(sign)
    elif rm == RUP:
        inc = not sign
    else:  # RMM
        inc = rem >= half
    return q + inc, True


def round_pack(sign: int, mant: int, exp: int, f: Fmt, rm: int,
               sticky: bool = False) -> tuple[int, int]:
    """Round (-1)**sign * (mant + sticky*eps) * 2**exp into format f."""
    sbit = f.sign if sign else 0
    if mant == 0:
        return sbit, 0
    n = mant.bit_length()
    if n - f.p < 2:  # keep two spare bits so the round shift is >= 1
        k = f.p + 2 - n
        mant <<= k
        exp -= k
        n += k
    e = exp + n - 1  # exponent of the leading bit
    flags = 0
    # tininess after rounding: round to p bits with unbounded exponent
    tiny = False
    if e < f.emin:
        q, _ = _round_bits(mant, n - f.p, sticky, sign, rm)
        tiny = not (e + 1 == f.emin and q >> f.p)  # carried up to 2**emin?
        shift = f.emin - f.fbits - exp  # quantum of subnormals
    else:
        shift = n - f.p
    q, inexact = _round_bits(mant, shift, sticky, sign, rm)
    qexp = exp + shift  # q * 2**qexp
    if q >> f.p:  # carry out of the significand
        q >>= 1
        qexp += 1
    if inexact:
        flags |= NX
        if tiny:
            flags |= UF
    if q == 0:
        return sbit, flags
    if q >> f.fbits:  # normal
        be = qexp + f.fbits + f.bias
        if be >= f.emask:
            flags |= OF | NX
            if rm == RTZ or (rm == RDN and not sign) or (rm == RUP and sign):
                return sbit | f.maxf, flags
            return sbit | f.inf, flags
        return sbit | (be << f.fbits) | (q & f.fmask), flags
    return sbit | q, flags  # subnormal (qexp == emin - fbits)


def _nan_flags(ca: int, cb: int, cc: int = ZERO) -> int:
    return NV if SNAN in (ca, cb, cc) else 0


def _zero_sum_sign(sa: int, sb: int, rm: int) -> int:
    if sa == sb:
        return sa
    return 1 if rm == RDN else 0


def _add_exact(sa: int, ma: int, ea: int, sb: int, mb: int, eb: int,
               f: Fmt, rm: int) -> tuple[int, int]:
    e = min(ea, eb)
    va = (ma << (ea - e)) * (-1 if sa else 1)
    vb = (mb << (eb - e)) * (-1 if sb else 1)
    v = va + vb
    if v == 0:
        return (f.sign if _zero_sum_sign(sa, sb, rm) else 0), 0
    return round_pack(1 if v < 0 else 0, abs(v), e, f, rm)


def add(a: int, b: int, f: Fmt, rm: int, negb: bool = False) -> tuple[int, int]:
    ca, sa, ma, ea = unpack(a, f)
    cb, sb, mb, eb = unpack(b, f)
    if negb:
        sb ^= 1
    if ca >= QNAN or cb >= QNAN:
        return f.cnan, _nan_flags(ca, cb)
    if ca == INF or cb == INF:
        if ca == INF and cb == INF and sa != sb:
            return f.cnan, NV
        s = sa if ca == INF else sb
        return (f.sign if s else 0) | f.inf, 0
    if ca == ZERO and cb == ZERO:
        return (f.sign if _zero_sum_sign(sa, sb, rm) else 0), 0
    return _add_exact(sa, ma, ea, sb, mb, eb, f, rm)


def mul(a: int, b: int, f: Fmt, rm: int) -> tuple[int, int]:
    ca, sa, ma, ea = unpack(a, f)
    cb, sb, mb, eb = unpack(b, f)
    s = sa ^ sb
    if ca >= QNAN or cb >= QNAN:
        return f.cnan, _nan_flags(ca, cb)
    if ca == INF or cb == INF:
        if ca == ZERO or cb == ZERO:
            return f.cnan, NV
        return (f.sign if s else 0) | f.inf, 0
    if ca == ZERO or cb == ZERO:
        return (f.sign if s else 0), 0
    return round_pack(s, ma * mb, ea + eb, f, rm)


def div(a: int, b: int, f: Fmt, rm: int) -> tuple[int, int]:
    ca, sa, ma, ea = unpack(a, f)
    cb, sb, mb, eb = unpack(b, f)
    s = sa ^ sb
    sbit = f.sign if s else 0
    if ca >= QNAN or cb >= QNAN:
        return f.cnan, _nan_flags(ca, cb)
    if ca == INF:
        return (f.cnan, NV) if cb == INF else (sbit | f.inf, 0)
    if cb == INF:
        return sbit, 0
    if cb == ZERO:
        return (f.cnan, NV) if ca == ZERO else (sbit | f.inf, DZ)
    if ca == ZERO:
        return sbit, 0
    k = f.p + 3 + max(0, mb.bit_length() - ma.bit_length())
    q, r = divmod(ma << k, mb)
    return round_pack(s, q, ea - eb - k, f, rm, r != 0)


def sqrt(a: int, f: Fmt, rm: int) -> tuple[int, int]:
    from math import isqrt
    ca, sa, ma, ea = unpack(a, f)
    if ca >= QNAN:
        return f.cnan, _nan_flags(ca, ZERO)
    if ca == ZERO:
        return a, 0
    if sa:
        return f.cnan, NV
    if ca == INF:
        return a, 0
    k = 2 * f.p + 4
    if (ea - k) & 1:
        k += 1
    m = ma << k
    r = isqrt(m)
    return round_pack(0, r, (ea - k) // 2, f, rm, r * r != m)


def fma(a: int, b: int, c: int, f: Fmt, rm: int, negp: bool, negc: bool) -> tuple[int, int]:
    """(-1)**negp * a*b + (-1)**negc * c with one rounding."""
    ca, sa, ma, ea = unpack(a, f)
    cb, sb, mb, eb = unpack(b, f)
    cc, sc, mc, ec = unpack(c, f)
    sp = sa ^ sb ^ (1 if negp else 0)
    sc ^= 1 if negc else 0
    inf_zero = (ca == INF and cb == ZERO) or (ca == ZERO and cb == INF)
    if ca >= QNAN or cb >= QNAN or cc >= QNAN:
        return f.cnan, _nan_flags(ca, cb, cc) | (NV if inf_zero else 0)
    if inf_zero:
        return f.cnan, NV
    if ca == INF or cb == INF:
        if cc == INF and sc != sp:
            return f.cnan, NV
        return (f.sign if sp else 0) | f.inf, 0
    if cc == INF:
        return (f.sign if sc else 0) | f.inf, 0
    if ca == ZERO or cb == ZERO:
        if cc == ZERO:
            return (f.sign if _zero_sum_sign(sp, sc, rm) else 0), 0
        return round_pack(sc, mc, ec, f, rm)
    if cc == ZERO:
        return round_pack(sp, ma * mb, ea + eb, f, rm)
    return _add_exact(sp, ma * mb, ea + eb, sc, mc, ec, f, rm)


def convert(a: int, src: Fmt, dst: Fmt, rm: int) -> tuple[int, int]:
    """Between formats (fcvt.s.d, fcvt.d.s); NaNs become canonical."""
    ca, sa, ma, ea = unpack(a, src)
    if ca >= QNAN:
        return dst.cnan, NV if ca == SNAN else 0
    sbit = dst.sign if sa else 0
    if ca == INF:
        return sbit | dst.inf, 0
    if ca == ZERO:
        return sbit, 0
    return round_pack(sa, ma, ea, dst, rm)


def to_int(a: int, f: Fmt, rm: int, signed: bool, nbits: int) -> tuple[int, int]:
    """Float to integer, saturating with NV (ISA manual, fcvt table); value as a Python int."""
    lo = -(1 << (nbits - 1)) if signed else 0
    hi = (1 << (nbits - 1)) - 1 if signed else (1 << nbits) - 1
    ca, sa, ma, ea = unpack(a, f)
    if ca >= QNAN:
        return hi, NV
    if ca == INF:
        return (lo if sa else hi), NV
    if ca == ZERO:
        return 0, 0
    if ea >= 0:
        v, inexact = ma << ea, False
    else:
        v, inexact = _round_bits(ma, -ea, False, sa, rm)
    if sa:
        v = -v
    if v < lo or v > hi:
        return (lo if sa else hi), NV
    return v, NX if inexact else 0


def from_int(v: int, f: Fmt, rm: int) -> tuple[int, int]:
    """Integer (Python int, any sign) to float."""
    if v == 0:
        return 0, 0
    return round_pack(1 if v < 0 else 0, abs(v), 0, f, rm)
