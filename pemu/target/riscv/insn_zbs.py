"""Zbs: single-bit instructions (RISC-V Bit-Manipulation ISA-extensions,
"Zbs"). The bit index is rs2 (or the immediate) modulo 64."""
from __future__ import annotations

TABLE = """
bclr   R   0100100 ----- ----- 001 ----- 0110011
bext   R   0100100 ----- ----- 101 ----- 0110011
binv   R   0110100 ----- ----- 001 ----- 0110011
bset   R   0010100 ----- ----- 001 ----- 0110011
bclri  SH  010010 ------ ----- 001 ----- 0010011
bexti  SH  010010 ------ ----- 101 ----- 0010011
binvi  SH  011010 ------ ----- 001 ----- 0010011
bseti  SH  001010 ------ ----- 001 ----- 0010011
"""

_OPS = {"bclr": "andc", "binv": "xor", "bset": "or_"}  # x <op> (1 << index)


def _reg(op: str):
    def trans(c, a):
        n, bit = c.temp(), c.temp()
        c.ir.and_(n, c.x(a.rs2), 63)
        c.ir.shl(bit, 1, n)
        getattr(c.ir, _OPS[op])(c.xd(a.rd), c.x(a.rs1), bit)
    return trans


def _imm(op: str):
    return lambda c, a: getattr(c.ir, _OPS[op])(c.xd(a.rd), c.x(a.rs1), 1 << a.imm)


trans_bclr, trans_binv, trans_bset = _reg("bclr"), _reg("binv"), _reg("bset")
trans_bclri, trans_binvi, trans_bseti = _imm("bclr"), _imm("binv"), _imm("bset")


def trans_bext(c, a):
    n, t = c.temp(), c.temp()
    c.ir.and_(n, c.x(a.rs2), 63)
    c.ir.shr(t, c.x(a.rs1), n)
    c.ir.and_(c.xd(a.rd), t, 1)


def trans_bexti(c, a):
    t = c.temp()
    c.ir.shr(t, c.x(a.rs1), a.imm)
    c.ir.and_(c.xd(a.rd), t, 1)
