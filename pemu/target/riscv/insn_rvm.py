"""RV64M: multiply and divide (ISA manual vol. I, "M" chapter).
Division by zero and signed overflow give the results the manual's table
lists (no trap)."""
from __future__ import annotations

from pemu.target.riscv.translate import M64

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




def _mul(op: str):
    return lambda c, a: getattr(c.ir, op)(c.xd(a.rd), c.x(a.rs1), c.x(a.rs2))


trans_mul, trans_mulh = _mul("mul"), _mul("mulsh")
trans_mulhsu, trans_mulhu = _mul("mulsuh"), _mul("muluh")


def _divide(c, d, x, y, op: str) -> None:
    """d = x op y with the manual's results for a zero divisor (all ones for a
    quotient, the dividend for a remainder) and for signed overflow (the
    dividend, remainder 0: dividing by 1 instead gives both)."""
    ir = c.ir
    safe = c.temp()
    ir.movcond("eq", safe, y, 0, 1, y)
    if op in ("divs", "rems"):
        ovf, min_, neg1 = c.temp(), c.temp(), c.temp()
        ir.setcond("eq", min_, x, 1 << 63)
        ir.setcond("eq", neg1, y, M64)
        ir.and_(ovf, min_, neg1)
        safe2 = c.temp()
        ir.movcond("ne", safe2, ovf, 0, 1, safe)
        safe = safe2
    q = c.temp()
    getattr(ir, op)(q, x, safe)
    ir.movcond("eq", d, y, 0, M64 if op in ("divs", "divu") else x, q)


def _div(op: str):
    return lambda c, a: _divide(c, c.xd(a.rd), c.x(a.rs1), c.x(a.rs2), op)


def _divw(op: str):
    """W forms: 32-bit operands (sign- or zero-extended), the 32-bit result
    sign-extended; in 64 bits the signed 32-bit overflow case cannot overflow."""
    ext = "ext32u" if op in ("divu", "remu") else "ext32s"

    def trans(c, a):
        x, y, r = c.temp(), c.temp(), c.temp()
        getattr(c.ir, ext)(x, c.x(a.rs1))
        getattr(c.ir, ext)(y, c.x(a.rs2))
        _divide(c, r, x, y, op)
        c.ir.ext32s(c.xd(a.rd), r)
    return trans


trans_div, trans_divu, trans_rem, trans_remu = _div("divs"), _div("divu"), _div("rems"), \
    _div("remu")
trans_divw, trans_divuw = _divw("divs"), _divw("divu")
trans_remw, trans_remuw = _divw("rems"), _divw("remu")


def trans_mulw(c, a):
    t = c.temp()
    c.ir.mul(t, c.x(a.rs1), c.x(a.rs2))
    c.ir.ext32s(c.xd(a.rd), t)
