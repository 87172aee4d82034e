"""Zbb: basic bit manipulation (RISC-V Bit-Manipulation ISA-extensions,
"Zbb"): logic with negate, counts, min/max, sign/zero extension, rotates,
orc.b and rev8 (RV64 encodings)."""
from __future__ import annotations

from pemu.tcg.ir import Helper

TABLE = """
andn    R   0100000 ----- ----- 111 ----- 0110011
orn     R   0100000 ----- ----- 110 ----- 0110011
xnor    R   0100000 ----- ----- 100 ----- 0110011
clz     R   0110000 00000 ----- 001 ----- 0010011
ctz     R   0110000 00001 ----- 001 ----- 0010011
cpop    R   0110000 00010 ----- 001 ----- 0010011
sext.b  R   0110000 00100 ----- 001 ----- 0010011
sext.h  R   0110000 00101 ----- 001 ----- 0010011
clzw    R   0110000 00000 ----- 001 ----- 0011011
ctzw    R   0110000 00001 ----- 001 ----- 0011011
cpopw   R   0110000 00010 ----- 001 ----- 0011011
max     R   0000101 ----- ----- 110 ----- 0110011
maxu    R   0000101 ----- ----- 111 ----- 0110011
min     R   0000101 ----- ----- 100 ----- 0110011
minu    R   0000101 ----- ----- 101 ----- 0110011
zext.h  R   0000100 00000 ----- 100 ----- 0111011
rol     R   0110000 ----- ----- 001 ----- 0110011
ror     R   0110000 ----- ----- 101 ----- 0110011
rolw    R   0110000 ----- ----- 001 ----- 0111011
rorw    R   0110000 ----- ----- 101 ----- 0111011
rori    SH  011000 ------ ----- 101 ----- 0010011
roriw   SH  0110000 ----- ----- 101 ----- 0011011
orc.b   R   0010100 00111 ----- 101 ----- 0010011
rev8    R   0110101 11000 ----- 101 ----- 0010011
"""


def _orc_b(v: int) -> int:
    out = 0
    for i in range(0, 64, 8):
        if (v >> i) & 0xFF:
            out |= 0xFF << i
    return out


_ORCB = Helper("ORCB", _orc_b, cpu_arg=False, pure=True, raises=False)


def _rr(op: str):
    return lambda c, a: getattr(c.ir, op)(c.xd(a.rd), c.x(a.rs1), c.x(a.rs2))


def _r1(op: str):
    return lambda c, a: getattr(c.ir, op)(c.xd(a.rd), c.x(a.rs1))


def _word(c, a, op: str) -> None:
    """rd = op(low word of rs1) for the W counts."""
    t = c.temp()
    c.ir.ext32u(t, c.x(a.rs1))
    getattr(c.ir, op)(c.xd(a.rd), t)


def trans_clzw(c, a):
    t, n = c.temp(), c.temp()
    c.ir.ext32u(t, c.x(a.rs1))
    c.ir.clz(n, t)
    c.ir.sub(c.xd(a.rd), n, 32)


def trans_ctzw(c, a):
    # a guard bit at 32: a zero low word gives 32 (QEMU 7.2 counts on; see the note)
    t = c.temp()
    c.ir.or_(t, c.x(a.rs1), 1 << 32)
    c.ir.ctz(c.xd(a.rd), t)


def _minmax(cond: str):
    def trans(c, a):
        x, y = c.x(a.rs1), c.x(a.rs2)
        c.ir.movcond(cond, c.xd(a.rd), x, y, x, y)
    return trans


def _rotate(op: str, width: int, imm: bool):
    """Rotates by rs2 (or the immediate) modulo the width; W forms rotate the
    low word and sign-extend the result."""
    def trans(c, a):
        if imm:
            n = a.imm
        else:
            n = c.temp()
            c.ir.and_(n, c.x(a.rs2), width - 1)
        if width == 64:
            getattr(c.ir, op)(c.xd(a.rd), c.x(a.rs1), n)
            return
        x, back, hi, lo, r = c.temp(), c.temp(), c.temp(), c.temp(), c.temp()
        c.ir.ext32u(x, c.x(a.rs1))
        c.ir.sub(back, 32, n)
        first, second = ("shl", "shr") if op == "rotl" else ("shr", "shl")
        getattr(c.ir, first)(hi, x, n)
        getattr(c.ir, second)(lo, x, back)
        c.ir.or_(r, hi, lo)
        c.ir.ext32s(c.xd(a.rd), r)
    return trans


trans_andn, trans_orn, trans_xnor = _rr("andc"), _rr("orc"), _rr("eqv")
trans_clz, trans_ctz, trans_cpop = _r1("clz"), _r1("ctz"), _r1("ctpop")
trans_cpopw = lambda c, a: _word(c, a, "ctpop")  # noqa: E731
trans_sext_b, trans_sext_h, trans_zext_h = _r1("ext8s"), _r1("ext16s"), _r1("ext16u")
trans_max, trans_min = _minmax("gt"), _minmax("lt")
trans_maxu, trans_minu = _minmax("gtu"), _minmax("ltu")
trans_rol, trans_ror = _rotate("rotl", 64, False), _rotate("rotr", 64, False)
trans_rolw, trans_rorw = _rotate("rotl", 32, False), _rotate("rotr", 32, False)
trans_rori, trans_roriw = _rotate("rotr", 64, True), _rotate("rotr", 32, True)
trans_rev8 = _r1("bswap64")


def trans_orc_b(c, a):
    c.call(_ORCB, c.xd(a.rd), c.x(a.rs1))
