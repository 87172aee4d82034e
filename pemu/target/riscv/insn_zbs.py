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
GLOBALS: dict = {}

_OPS = {  # name -> expression of x (rs1) and b (the bit, 1 << index)
    "bclr": "{x} & ({b} ^ M)", "binv": "{x} ^ {b}", "bset": "{x} | {b}",
}


def _reg(op: str):
    def trans(c, a):
        b = f"(1 << ({c.r(a.rs2)} & 63))"
        c.w(a.rd, _OPS[op].format(x=c.r(a.rs1), b=b))
    return trans


def _imm(op: str):
    return lambda c, a: c.w(a.rd, _OPS[op].format(x=c.r(a.rs1), b=str(1 << a.imm)))


trans_bclr, trans_binv, trans_bset = _reg("bclr"), _reg("binv"), _reg("bset")
trans_bclri, trans_binvi, trans_bseti = _imm("bclr"), _imm("binv"), _imm("bset")


def trans_bext(c, a):
    c.w(a.rd, f"({c.r(a.rs1)} >> ({c.r(a.rs2)} & 63)) & 1")


def trans_bexti(c, a):
    c.w(a.rd, f"({c.r(a.rs1)} >> {a.imm}) & 1")
