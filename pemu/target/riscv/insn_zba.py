"""Zba: address generation (RISC-V Bit-Manipulation ISA-extensions, "Zba").

shNadd adds rs1 shifted left by N to rs2; the .uw forms first zero-extend
the low word of rs1.
"""
from __future__ import annotations

TABLE = """
sh1add     R   0010000 ----- ----- 010 ----- 0110011
sh2add     R   0010000 ----- ----- 100 ----- 0110011
sh3add     R   0010000 ----- ----- 110 ----- 0110011
add.uw     R   0000100 ----- ----- 000 ----- 0111011
sh1add.uw  R   0010000 ----- ----- 010 ----- 0111011
sh2add.uw  R   0010000 ----- ----- 100 ----- 0111011
sh3add.uw  R   0010000 ----- ----- 110 ----- 0111011
slli.uw    SH  000010 ------ ----- 001 ----- 0011011
"""


def _shadd(n: int, uw: bool):
    def trans(c, a):
        x = c.x(a.rs1)
        if uw:
            t = c.temp()
            c.ir.ext32u(t, x)
            x = t
        if n:
            t = c.temp()
            c.ir.shl(t, x, n)
            x = t
        c.ir.add(c.xd(a.rd), x, c.x(a.rs2))
    return trans


trans_sh1add, trans_sh2add, trans_sh3add = _shadd(1, False), _shadd(2, False), _shadd(3, False)
trans_add_uw = _shadd(0, True)
trans_sh1add_uw, trans_sh2add_uw, trans_sh3add_uw = _shadd(1, True), _shadd(2, True), \
    _shadd(3, True)


def trans_slli_uw(c, a):
    t = c.temp()
    c.ir.ext32u(t, c.x(a.rs1))
    c.ir.shl(c.xd(a.rd), t, a.imm)
