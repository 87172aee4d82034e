"""RV64M: multiply and divide (ISA manual vol. I, "M" chapter).
Division by zero and signed overflow give the results the manual's table
lists (no trap)."""
from __future__ import annotations

TABLE = """
mul     R  0000001 ----- ----- 000 ----- 0110011
mulh    R  0000001 ----- ----- 001 ----- 0110011
mulhsu  R  0000001 ----- ----- 010 ----- 0110011
mulhu   R  0000001 ----- ----- 011 ----- 0110011
div     R  0000001 ----- ----- 100 ----- 0110011
divu    R  0000001 ----- ----- 101 ----- 0110011
rem     R  0000001 ----- ----- 110 ----- 0110011
remu    R  0000001 ----- ----- 111 ----- 0110011
mulw    R  0000001 ----- ----- 000 ----- 0111011
divw    R  0000001 ----- ----- 100 ----- 0111011
divuw   R  0000001 ----- ----- 101 ----- 0111011
remw    R  0000001 ----- ----- 110 ----- 0111011
remuw   R  0000001 ----- ----- 111 ----- 0111011
"""


def _rr(expr: str):
    return lambda c, a: c.w(a.rd, expr.format(x=c.r(a.rs1), y=c.r(a.rs2)))


_S = "(({v} ^ SB) - SB)"
trans_mul = _rr("({x} * {y}) & M")
trans_mulh = _rr(f"(({_S.format(v='{x}')} * {_S.format(v='{y}')}) >> 64) & M")
trans_mulhsu = _rr(f"(({_S.format(v='{x}')} * {{y}}) >> 64) & M")
trans_mulhu = _rr("({x} * {y}) >> 64")
trans_div = _rr("DIV({x}, {y})")
trans_divu = _rr("DIVU({x}, {y})")
trans_rem = _rr("REM({x}, {y})")
trans_remu = _rr("REMU({x}, {y})")
trans_mulw = _rr("SX32({x} * {y})")
trans_divw = _rr("DIVW({x}, {y})")
trans_divuw = _rr("DIVUW({x}, {y})")
trans_remw = _rr("REMW({x}, {y})")
trans_remuw = _rr("REMUW({x}, {y})")
