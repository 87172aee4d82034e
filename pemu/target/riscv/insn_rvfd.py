"""F and D: single and double precision floating point (ISA manual vol. I,
"F" and "D" chapters). Semantics live in fpu.py; handlers here only wire
registers. Every instruction is illegal while mstatus.FS is Off (the
translation context knows, blocks are keyed by it)."""
from __future__ import annotations

from pemu.target.riscv.translate import M64

_T = """
flw       I   ------------ ----- 010 ----- 0000111
fsw       S   ------- ----- ----- 010 ----- 0100111
fld       I   ------------ ----- 011 ----- 0000111
fsd       S   ------- ----- ----- 011 ----- 0100111
"""
_OPS = """
fmadd.{w}   R4  ----- {f} ----- ----- --- ----- 1000011
fmsub.{w}   R4  ----- {f} ----- ----- --- ----- 1000111
fnmsub.{w}  R4  ----- {f} ----- ----- --- ----- 1001011
fnmadd.{w}  R4  ----- {f} ----- ----- --- ----- 1001111
fadd.{w}    R   00000 {f} ----- ----- --- ----- 1010011
fsub.{w}    R   00001 {f} ----- ----- --- ----- 1010011
fmul.{w}    R   00010 {f} ----- ----- --- ----- 1010011
fdiv.{w}    R   00011 {f} ----- ----- --- ----- 1010011
fsqrt.{w}   R   01011 {f} 00000 ----- --- ----- 1010011
fsgnj.{w}   R   00100 {f} ----- ----- 000 ----- 1010011
fsgnjn.{w}  R   00100 {f} ----- ----- 001 ----- 1010011
fsgnjx.{w}  R   00100 {f} ----- ----- 010 ----- 1010011
fmin.{w}    R   00101 {f} ----- ----- 000 ----- 1010011
fmax.{w}    R   00101 {f} ----- ----- 001 ----- 1010011
fcvt.w.{w}  R   11000 {f} 00000 ----- --- ----- 1010011
fcvt.wu.{w} R   11000 {f} 00001 ----- --- ----- 1010011
fcvt.l.{w}  R   11000 {f} 00010 ----- --- ----- 1010011
fcvt.lu.{w} R   11000 {f} 00011 ----- --- ----- 1010011
feq.{w}     R   10100 {f} ----- ----- 010 ----- 1010011
flt.{w}     R   10100 {f} ----- ----- 001 ----- 1010011
fle.{w}     R   10100 {f} ----- ----- 000 ----- 1010011
fclass.{w}  R   11100 {f} 00000 ----- 001 ----- 1010011
fcvt.{w}.w  R   11010 {f} 00000 ----- --- ----- 1010011
fcvt.{w}.wu R   11010 {f} 00001 ----- --- ----- 1010011
fcvt.{w}.l  R   11010 {f} 00010 ----- --- ----- 1010011
fcvt.{w}.lu R   11010 {f} 00011 ----- --- ----- 1010011
"""
TABLE = _T + _OPS.format(w="s", f="00") + _OPS.format(w="d", f="01") + """
fmv.x.w     R   11100 00 00000 ----- 000 ----- 1010011
fmv.w.x     R   11110 00 00000 ----- 000 ----- 1010011
fmv.x.d     R   11100 01 00000 ----- 000 ----- 1010011
fmv.d.x     R   11110 01 00000 ----- 000 ----- 1010011
fcvt.s.d    R   01000 00 00001 ----- --- ----- 1010011
fcvt.d.s    R   01000 01 00000 ----- --- ----- 1010011
"""


def _fp(fn):
    """Wrap a handler: illegal while FS is Off, or with a reserved rounding mode."""
    def trans(c, a):
        if not c.fs_on or a.rm in (5, 6):
            return c.illegal(c.word)
        fn(c, a)
    return trans


def _rm(c, a) -> str:
    """The rounding mode operand; a dynamic one traps when frm holds a reserved value."""
    if a.rm != 7:
        return str(a.rm)
    c.mark_fault_point()
    c.emit(f"if c.frm > 4: raise Trap(2, {c.word})")
    return "c.frm"


def _addr(c, a) -> str:
    return f"({c.r(a.rs1)} + {a.imm & M64}) & M" if a.imm else c.r(a.rs1)


trans_flw = _fp(lambda c, a: c.load(a.rd, _addr(c, a), 4, False, fp=True))
trans_fld = _fp(lambda c, a: c.load(a.rd, _addr(c, a), 8, False, fp=True))
trans_fsw = _fp(lambda c, a: c.store(_addr(c, a), 4, f"F[{a.rs2}]"))
trans_fsd = _fp(lambda c, a: c.store(_addr(c, a), 8, f"F[{a.rs2}]"))


def _bin(name):
    return _fp(lambda c, a: c.wf(a.rd, f"{name}(c, F[{a.rs1}], F[{a.rs2}])"))


def _bin_rm(name):
    return _fp(lambda c, a: c.wf(a.rd, f"{name}(c, F[{a.rs1}], F[{a.rs2}], {_rm(c, a)})"))


def _fma(name):
    return _fp(lambda c, a: c.wf(
        a.rd, f"{name}(c, F[{a.rs1}], F[{a.rs2}], F[{a.rs3}], {_rm(c, a)})"))


def _wx(c, rd: int, expr: str) -> None:
    """x[rd] = expr, still evaluated for its fflags when rd is x0."""
    if rd:
        c.w(rd, expr)
    else:
        c.emit(f"_ = {expr}")


def _cmp(name):
    def fn(c, a):
        c.fp_dirty = True  # flags may change
        _wx(c, a.rd, f"{name}(c, F[{a.rs1}], F[{a.rs2}])")
    return _fp(fn)


def _to_int(name):
    def fn(c, a):
        c.fp_dirty = True
        _wx(c, a.rd, f"{name}(c, F[{a.rs1}], {_rm(c, a)})")
    return _fp(fn)


def _from_int(name):
    return _fp(lambda c, a: c.wf(a.rd, f"{name}(c, {c.r(a.rs1)}, {_rm(c, a)})"))


for _w in ("s", "d"):
    _W = _w.upper()
    g = globals()
    for _op in ("add", "sub", "mul", "div"):
        g[f"trans_f{_op}_{_w}"] = _bin_rm(f"F{_op.upper()}_{_W}")
    for _op in ("sgnj", "sgnjn", "sgnjx", "min", "max"):
        g[f"trans_f{_op}_{_w}"] = _bin(f"F{_op.upper()}_{_W}")
    for _op in ("madd", "msub", "nmsub", "nmadd"):
        g[f"trans_f{_op}_{_w}"] = _fma(f"F{_op.upper()}_{_W}")
    for _op in ("eq", "lt", "le"):
        g[f"trans_f{_op}_{_w}"] = _cmp(f"F{_op.upper()}_{_W}")
    for _i in ("w", "wu", "l", "lu"):
        g[f"trans_fcvt_{_i}_{_w}"] = _to_int(f"FCVT_{_i.upper()}_{_W}")
        g[f"trans_fcvt_{_w}_{_i}"] = _from_int(f"FCVT_{_W}_{_i.upper()}")
    g[f"trans_fsqrt_{_w}"] = _fp(
        lambda c, a, n=f"FSQRT_{_W}": c.wf(a.rd, f"{n}(c, F[{a.rs1}], {_rm(c, a)})"))
    g[f"trans_fclass_{_w}"] = _fp(
        lambda c, a, n=f"FCLASS_{_W}": c.w(a.rd, f"{n}(c, F[{a.rs1}])"))

trans_fmv_x_w = _fp(lambda c, a: c.w(
    a.rd, f"(((F[{a.rs1}] & 0xFFFFFFFF) ^ 0x80000000) - 0x80000000) & M"))
trans_fmv_w_x = _fp(lambda c, a: c.wf(a.rd, f"BOX | ({c.r(a.rs1)} & 0xFFFFFFFF)"))
trans_fmv_x_d = _fp(lambda c, a: c.w(a.rd, f"F[{a.rs1}]"))
trans_fmv_d_x = _fp(lambda c, a: c.wf(a.rd, c.r(a.rs1)))
trans_fcvt_s_d = _fp(lambda c, a: c.wf(a.rd, f"FCVT_S_D(c, F[{a.rs1}], {_rm(c, a)})"))
trans_fcvt_d_s = _fp(lambda c, a: c.wf(a.rd, f"FCVT_D_S(c, F[{a.rs1}], {_rm(c, a)})"))
