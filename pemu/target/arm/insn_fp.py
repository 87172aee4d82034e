"""A64 scalar floating-point instructions (Arm ARM C4.1.91, "Data processing
-- Scalar Floating-Point and Advanced SIMD"): moves between register files,
conversions, compare, select, arithmetic of single and double precision.
Arithmetic runs in fpu.py helpers over bit patterns; a scalar write clears
the rest of the vector register."""
from __future__ import annotations

from pemu.target.arm import fpu
from pemu.target.arm.translate import FPCR, FPSR, V_HI, V_LO
from pemu.tcg.ir import Helper

TABLE = """
fp_int     s 0 0 11110 zz 1 PPPPP 000000 nnnnn ddddd
fp_dp1     0 0 0 11110 zz 1 PPPPPP 10000 nnnnn ddddd
fp_cmp     0 0 0 11110 zz 1 mmmmm 00 1000 nnnnn PPPPP
fp_dp2     0 0 0 11110 zz 1 mmmmm PPPP 10 nnnnn ddddd
fp_imm     0 0 0 11110 zz 1 iiiiiiii 100 00000 ddddd
fp_csel    0 0 0 11110 zz 1 mmmmm cccc 11 nnnnn ddddd
fp_ccmp    0 0 0 11110 zz 1 mmmmm cccc 01 nnnnn R ffff
fp_fused   0 0 0 11111 zz L mmmmm R aaaaa nnnnn ddddd
"""



def fp_helper(name: str, fn) -> Helper:
    """An FP operation: reads FPCR (rounding, default NaN), accumulates into FPSR."""
    return Helper(name, fn, raises=False, reads=(FPCR, FPSR), writes=(FPSR,))


H_BINARY = fp_helper("FP_BINARY", fpu.binary)
H_FUSED = fp_helper("FP_FUSED", fpu.fused)
H_UNARY = fp_helper("FP_UNARY", fpu.unary)
H_CONVERT = fp_helper("FP_CONVERT", fpu.convert)
H_TO_INT = fp_helper("FP_TO_INT", fpu.to_int)
H_FROM_INT = fp_helper("FP_FROM_INT", fpu.from_int)
H_COMPARE = fp_helper("FP_COMPARE", fpu.compare)
H_ROUND = fp_helper("FP_ROUND", fpu.round_to_integral)
#: rmode:opcode of the FP<->integer conversions -> rounding (FCVT[NPMZA][SU])
TO_INT = {0b00000: "N", 0b01000: "P", 0b10000: "M", 0b11000: "Z", 0b00100: "A"}
#: FRINT[NPMZAXI]: opcode -> (rounding index into fpu.MODES or FPCR_MODE; exact)
FRINT = {0b001000: (0, 0), 0b001001: (1, 0), 0b001010: (2, 0), 0b001011: (3, 0),
         0b001100: (4, 0), 0b001110: (fpu.FPCR_MODE, 1), 0b001111: (fpu.FPCR_MODE, 0)}


def set_scalar(c, d: int, value, dbl: bool) -> None:
    """Write a single or double to V[d], clearing the bits above it."""
    if dbl:
        c.ir.mov(V_LO[d], value)
    else:
        c.ir.ext32u(V_LO[d], value)
    c.ir.mov(V_HI[d], 0)


def scalar(c, n: int, dbl: bool):
    return V_LO[n] if dbl else c.op("ext32u", V_LO[n])


def set_nzcv(c, v) -> None:
    """PSTATE.NZCV from a value holding the flags in bits 31:28."""
    c.set_nzcv(v)


def _ftype(a) -> bool | None:
    """True for double, False for single, None for half/reserved (not implemented)."""
    return {0: False, 1: True}.get(a.size)


def trans_fp_int(c, a):
    """FMOV (general), SCVTF/UCVTF, FCVT[NPMZA][SU] (scalar, integer)."""
    op = a.op
    if op in (0b00110, 0b00111, 0b01110, 0b01111):  # FMOV
        if op & 8:  # the top half of a 128-bit register
            if not (a.sf and a.size == 2):
                return c.undef()
            if op & 1:
                c.ir.mov(V_HI[a.rd], c.x(a.rn))
            else:
                c.set_reg(a.rd, 1, V_HI[a.rn])
            return
        if a.sf != a.size or a.size > 1:
            return c.undef()  # half precision and mismatched sizes
        if op & 1:
            set_scalar(c, a.rd, c.x(a.rn), bool(a.sf))
        else:
            c.set_reg(a.rd, a.sf, V_LO[a.rn])
        return
    dbl = _ftype(a)
    if dbl is None:
        return c.undef()
    bits = 64 if a.sf else 32
    if op in (0b00010, 0b00011):  # SCVTF, UCVTF
        t = c.temp()
        c.call(H_FROM_INT, t, c.x(a.rn), bits, op & 1, int(dbl))
        return set_scalar(c, a.rd, t, dbl)
    mode = TO_INT.get(op & 0b11110)
    if mode is None:
        return c.undef()
    t = c.temp()
    c.call(H_TO_INT, t, V_LO[a.rn], int(dbl), bits, op & 1, fpu.MODES.index(mode))
    c.set_reg(a.rd, a.sf, t)


def trans_fp_dp1(c, a):
    dbl = _ftype(a)
    if dbl is None:
        return c.undef()
    op = a.op
    src = scalar(c, a.rn, dbl)
    t = c.temp()
    if op == 0:  # FMOV (register)
        return set_scalar(c, a.rd, src, dbl)
    if op in (1, 2):  # FABS, FNEG: sign bit only, no exception
        c.ir.xor(t, src, 1 << (63 if dbl else 31)) if op == 2 else \
            c.ir.andc(t, src, 1 << (63 if dbl else 31))
        return set_scalar(c, a.rd, t, dbl)
    if op == 3:
        c.call(H_UNARY, t, op, src, int(dbl))
        return set_scalar(c, a.rd, t, dbl)
    if op in (0b000100, 0b000101):  # FCVT to single / double
        if (op == 0b000101) == dbl:
            return c.undef()
        c.call(H_CONVERT, t, src, int(dbl))
        return set_scalar(c, a.rd, t, not dbl)
    frint = FRINT.get(op)
    if frint is None:
        return c.undef()
    c.call(H_ROUND, t, src, int(dbl), *frint)
    set_scalar(c, a.rd, t, dbl)


def trans_fp_cmp(c, a):
    """FCMP, FCMPE (Invalid Operation for any NaN), with a register or zero."""
    dbl = _ftype(a)
    if dbl is None or a.op & 7:
        return c.undef()
    other = 0 if a.op & 8 else scalar(c, a.rm, dbl)
    t = c.temp()
    c.call(H_COMPARE, t, scalar(c, a.rn, dbl), other, int(dbl), (a.op >> 4) & 1)
    set_nzcv(c, t)


def trans_fp_ccmp(c, a):
    """FCCMP, FCCMPE: NZCV = the immediate, or the comparison (and its
    exceptions) if the condition holds."""
    dbl = _ftype(a)
    if dbl is None:
        return c.undef()
    holds = c.cond_value(a.cond)
    set_nzcv(c, a.nzcv << 28)
    skip = c.ir.label()
    c.ir.brcond("eq", holds, 0, skip)
    t = c.temp()
    c.call(H_COMPARE, t, scalar(c, a.rn, dbl), scalar(c, a.rm, dbl), int(dbl), a.o0)
    set_nzcv(c, t)
    c.ir.set_label(skip)


def trans_fp_dp2(c, a):
    dbl = _ftype(a)
    if dbl is None or a.op > 8:
        return c.undef()
    t = c.temp()
    c.call(H_BINARY, t, a.op, scalar(c, a.rn, dbl), scalar(c, a.rm, dbl), int(dbl))
    set_scalar(c, a.rd, t, dbl)


def trans_fp_imm(c, a):
    dbl = _ftype(a)
    if dbl is None:
        return c.undef()
    set_scalar(c, a.rd, fpu.expand_imm(a.imm, int(dbl)), dbl)


def trans_fp_csel(c, a):
    dbl = _ftype(a)
    if dbl is None:
        return c.undef()
    cond, x, y = c.cond(a.cond)
    t = c.temp()
    c.ir.movcond(cond, t, x, y, scalar(c, a.rn, dbl), scalar(c, a.rm, dbl))
    set_scalar(c, a.rd, t, dbl)


def trans_fp_fused(c, a):
    """FMADD (L=0, o0=0), FMSUB (0, 1), FNMADD (1, 0), FNMSUB (1, 1)."""
    dbl = _ftype(a)
    if dbl is None:
        return c.undef()
    t = c.temp()
    c.call(H_FUSED, t, scalar(c, a.ra, dbl), scalar(c, a.rn, dbl), scalar(c, a.rm, dbl),
           a.L, a.L ^ a.o0, int(dbl))
    set_scalar(c, a.rd, t, dbl)
