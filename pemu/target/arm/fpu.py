"""A64 floating point on bit patterns, with FPCR's rounding mode and default-
NaN bit and FPSR's cumulative exception flags (Arm ARM A1.5 and the shared
pseudocode FPAdd, FPMul, FPRound, FPProcessNaNs, FPCompare, FPToFixed...).

The exact IEEE arithmetic is the ISA-neutral softfloat of pemu (it lives in
target/riscv/softfloat.py today); Arm's own choices are made here: NaN
operands propagate (the first signalling NaN quietened, else the first quiet
NaN; FPCR.DN gives the default NaN instead), an invalid operation gives the
default NaN, conversions of NaN to integers give 0, and the flags map onto
FPSR's IOC/DZC/OFC/UFC/IXC bits.

Not modelled: FPCR.FZ (flush-to-zero) and FPSR.IDC, alternative half
precision, and Arm's detection of tininess before rounding (softfloat
detects it after rounding, which differs only in UFC for results that round
up to the smallest normal number).

Each helper takes the CPU first: it reads FPCR from, and accumulates flags
into, the CPU's "SYS" space (the translator declares both to the backend).
"""
from __future__ import annotations

from pemu.target.arm.state import FPCR, FPSR
from pemu.target.riscv import softfloat as sf

M64 = (1 << 64) - 1
DEFAULT_NAN = {True: 0x7FF8000000000000, False: 0x7FC00000}
QUIET_BIT = {True: 1 << 51, False: 1 << 22}
FMT = {True: sf.F64, False: sf.F32}
#: FPCR.RMode (bits 23:22) -> softfloat rounding: RN, RP, RM, RZ
RMODE = (sf.RNE, sf.RUP, sf.RDN, sf.RTZ)
#: FPRounding of the FCVT*/FRINT* variants, by index: N nearest-even, P toward +inf,
#: M toward -inf, Z toward zero, A to nearest with ties away; FPCR_MODE: FPCR's mode
MODES = "NPMZA"
FPCR_MODE = 5
FIXED_RM = (sf.RNE, sf.RUP, sf.RDN, sf.RTZ, sf.RMM)
#: softfloat flag -> FPSR bit (IOC 0, DZC 1, OFC 2, UFC 3, IXC 4)
FLAG_BITS = ((sf.NV, 1 << 0), (sf.DZ, 1 << 1), (sf.OF, 1 << 2), (sf.UF, 1 << 3),
             (sf.NX, 1 << 4))
IOC = 1
DN_BIT = 1 << 25


def _rm(c) -> int:
    return RMODE[(c.sys[FPCR] >> 22) & 3]


def _accrue(c, flags: int) -> None:
    if flags:
        bits = 0
        for f, b in FLAG_BITS:
            if flags & f:
                bits |= b
        c.sys[FPSR] |= bits


def is_nan(bits: int, dbl: bool) -> bool:
    if dbl:
        return (bits >> 52) & 0x7FF == 0x7FF and bits & ((1 << 52) - 1) != 0
    return (bits >> 23) & 0xFF == 0xFF and bits & ((1 << 23) - 1) != 0


def _is_snan(bits: int, dbl: bool) -> bool:
    return is_nan(bits, dbl) and not bits & QUIET_BIT[dbl]


def process_nans(c, dbl: bool, *ops: int) -> int | None:
    """FPProcessNaNs: the result an operation with NaN operands gives (None: no
    NaN operand); a signalling NaN raises Invalid Operation."""
    q = QUIET_BIT[dbl]
    result = None
    for b in ops:
        if _is_snan(b, dbl):
            result = b | q
            _accrue(c, sf.NV)
            break
    if result is None:
        for b in ops:
            if is_nan(b, dbl):
                result = b
                break
    if result is not None and c.sys[FPCR] & DN_BIT:
        return DEFAULT_NAN[dbl]
    return result


def _minmax(c, op: int, a: int, b: int, dbl: bool) -> int:
    """FMAX, FMIN, FMAXNM, FMINNM (op 4..7)."""
    if op >= 6:  # the NM forms: one quiet NaN loses against a number
        na, nb = is_nan(a, dbl), is_nan(b, dbl)
        if na != nb and not _is_snan(a if na else b, dbl):
            return b if na else a
    nan = process_nans(c, dbl, a, b)
    if nan is not None:
        return nan
    f = FMT[dbl]
    sign = f.sign
    if (a | b) & ~sign == 0:  # both zeros: max prefers +0, min -0
        return (a & b) if op in (4, 6) else (a | b)
    lt = compare_bits(a, b, dbl) == 0b1000
    want_max = op in (4, 6)
    return (b if lt else a) if want_max else (a if lt else b)


def binary(c, op: int, a: int, b: int, dbl: int) -> int:
    """FP data-processing (2 source): FMUL 0, FDIV 1, FADD 2, FSUB 3, FMAX 4,
    FMIN 5, FMAXNM 6, FMINNM 7, FNMUL 8."""
    dbl = bool(dbl)
    if 4 <= op <= 7:
        return _minmax(c, op, a, b, dbl)
    nan = process_nans(c, dbl, a, b)
    if nan is not None:
        return nan
    f, rm = FMT[dbl], _rm(c)
    if op == 0 or op == 8:
        r, flags = sf.mul(a, b, f, rm)
    elif op == 1:
        r, flags = sf.div(a, b, f, rm)
    else:
        r, flags = sf.add(a, b, f, rm, negb=op == 3)
    _accrue(c, flags)
    if op == 8 and not is_nan(r, dbl):
        r ^= f.sign
    return r


def fused(c, a: int, n: int, m: int, negate_a: int, negate_p: int, dbl: int) -> int:
    """FMADD/FMSUB/FNMADD/FNMSUB: (-)a + (-)(n*m) with one rounding. Arm
    processes the NaNs of a, n, m (a first) and treats inf*0 as invalid
    even when a is a quiet NaN."""
    dbl = bool(dbl)
    f = FMT[dbl]
    nan = process_nans(c, dbl, a, n, m)
    inf_zero = ({n & ~f.sign, m & ~f.sign} == {f.inf, 0})
    if nan is not None:
        if inf_zero and is_nan(a, dbl) and not _is_snan(a, dbl):
            _accrue(c, sf.NV)
            return DEFAULT_NAN[dbl]
        return nan
    r, flags = sf.fma(n, m, a, f, _rm(c), bool(negate_p), bool(negate_a))
    _accrue(c, flags)
    return r


def unary(c, op: int, a: int, dbl: int) -> int:
    """FABS 1, FNEG 2 (no exceptions, NaNs kept), FSQRT 3."""
    dbl = bool(dbl)
    sign = FMT[dbl].sign
    if op == 1:
        return a & ~sign
    if op == 2:
        return a ^ sign
    nan = process_nans(c, dbl, a)
    if nan is not None:
        return nan
    r, flags = sf.sqrt(a, FMT[dbl], _rm(c))
    _accrue(c, flags)
    return r


def convert(c, a: int, from_dbl: int) -> int:
    """FCVT between single and double."""
    src = bool(from_dbl)
    nan = process_nans(c, src, a)
    if nan is not None:
        if nan == DEFAULT_NAN[src]:
            return DEFAULT_NAN[not src]
        if src:  # keep the payload's top bits
            return ((nan >> 63) << 31) | 0x7FC00000 | ((nan >> 29) & 0x3FFFFF)
        return ((nan >> 31) << 63) | 0x7FF8000000000000 | ((nan & 0x3FFFFF) << 29)
    r, flags = sf.convert(a, FMT[src], FMT[not src], _rm(c))
    _accrue(c, flags)
    return r


def to_int(c, a: int, dbl: int, bits: int, unsigned: int, rounding: int) -> int:
    """FCVT[NPMZA][SU]: saturating conversion to a `bits`-bit integer; NaN gives
    0 (Invalid Operation), out of range saturates (Invalid Operation)."""
    dbl = bool(dbl)
    if is_nan(a, dbl):
        _accrue(c, sf.NV)
        return 0
    rm = _rm(c) if rounding == FPCR_MODE else FIXED_RM[rounding]
    v, flags = sf.to_int(a, FMT[dbl], rm, not unsigned, bits)
    _accrue(c, flags)
    return v & ((1 << bits) - 1)


def from_int(c, v: int, bits: int, unsigned: int, dbl: int) -> int:
    """SCVTF/UCVTF: a `bits`-bit integer to FP in FPCR's rounding mode."""
    v &= (1 << bits) - 1
    if not unsigned and v >> (bits - 1):
        v -= 1 << bits
    r, flags = sf.from_int(v, FMT[bool(dbl)], _rm(c))
    _accrue(c, flags)
    return r


def compare_bits(a: int, b: int, dbl: bool) -> int:
    """NZCV (4 bits) of comparing two non-NaN patterns: 0110 equal, 1000 less,
    0010 greater; 0011 if either is a NaN."""
    if is_nan(a, dbl) or is_nan(b, dbl):
        return 0b0011
    f = FMT[dbl]

    def key(x: int) -> int:  # an integer order of IEEE values (both zeros equal)
        mag = x & ~f.sign
        return -mag if x & f.sign else mag
    ka, kb = key(a), key(b)
    if ka == kb:
        return 0b0110
    return 0b1000 if ka < kb else 0b0010


def compare(c, a: int, b: int, dbl: int, signalling: int) -> int:
    """FCMP (quiet: Invalid only for a signalling NaN) and FCMPE (signalling:
    Invalid for any NaN): the NZCV bits in 31:28."""
    dbl = bool(dbl)
    if is_nan(a, dbl) or is_nan(b, dbl):
        if signalling or _is_snan(a, dbl) or _is_snan(b, dbl):
            _accrue(c, sf.NV)
    return compare_bits(a, b, dbl) << 28


def expand_imm(imm8: int, dbl: int) -> int:
    """VFPExpandImm: the 8-bit FMOV immediate as a single or double pattern."""
    sign, b6, rest = imm8 >> 7, (imm8 >> 6) & 1, imm8 & 0x3F
    if dbl:
        exp = ((b6 ^ 1) << 10) | ((0xFF if b6 else 0) << 2) | ((rest >> 4) & 3)
        return (sign << 63) | (exp << 52) | ((rest & 15) << 48)
    exp = ((b6 ^ 1) << 7) | ((0x1F if b6 else 0) << 2) | ((rest >> 4) & 3)
    return (sign << 31) | (exp << 23) | ((rest & 15) << 19)


def round_to_integral(c, a: int, dbl: int, rounding: int, exact: int) -> int:
    """FRINT[NPMZA] (fixed rounding) and FRINTX/FRINTI (FPCR's; X raises
    Inexact when the value changes)."""
    dbl = bool(dbl)
    nan = process_nans(c, dbl, a)
    if nan is not None:
        return nan
    f = FMT[dbl]
    cls, sign, mant, exp = sf.unpack(a, f)
    if cls != sf.FINITE or exp >= 0:
        return a  # zero, infinity or already integral
    rm = _rm(c) if rounding == FPCR_MODE else FIXED_RM[rounding]
    v, inexact = sf._round_bits(mant, -exp, False, sign, rm)
    if inexact and exact:
        _accrue(c, sf.NX)
    if v == 0:
        return f.sign if sign else 0
    r, _ = sf.from_int(-v if sign else v, f, sf.RNE)  # exact: |v| <= |a|, or a power of 2
    return r
