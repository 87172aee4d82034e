"""F and D: single and double precision floating point (ISA manual vol. I,
"F" and "D" chapters). Semantics live in fpu.py; handlers here only wire
registers. Every instruction is illegal while mstatus.FS is Off (the
translation context knows, blocks are keyed by it)."""
from __future__ import annotations

from pemu.target.riscv.translate import BOX, FPU

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
            return c.illegal()
        fn(c, a)
    return trans


def _flw(c, a):
    t = c.temp()
    c.load(t, c.addr(a.rs1, a.imm), 4, False)
    c.ir.or_(c.fd(a.rd), t, BOX)  # NaN-boxed


trans_flw = _fp(_flw)
trans_fld = _fp(lambda c, a: c.load(c.fd(a.rd), c.addr(a.rs1, a.imm), 8, False))
trans_fsw = _fp(lambda c, a: c.store(c.f(a.rs2), c.addr(a.rs1, a.imm), 4))
trans_fsd = _fp(lambda c, a: c.store(c.f(a.rs2), c.addr(a.rs1, a.imm), 8))


def _bin(name):
    return _fp(lambda c, a: c.call(FPU[name], c.fd(a.rd), c.f(a.rs1), c.f(a.rs2)))


def _bin_rm(name):
    return _fp(lambda c, a: c.call(FPU[name], c.fd(a.rd), c.f(a.rs1), c.f(a.rs2),
                                   c.dynamic_rm(a.rm)))


def _fma(name):
    return _fp(lambda c, a: c.call(FPU[name], c.fd(a.rd), c.f(a.rs1), c.f(a.rs2), c.f(a.rs3),
                                   c.dynamic_rm(a.rm)))


def _to_x(name, rounding: bool):
    """A result in x[rd]; the operation runs even for x0, for its fflags."""
    def fn(c, a):
        args = [c.f(a.rs1)] + ([c.f(a.rs2)] if not rounding else [c.dynamic_rm(a.rm)])
        c.mark_fs_dirty()  # flags may change
        c.call(FPU[name], c.xd(a.rd), *args)
    return _fp(fn)


def _from_int(name):
    return _fp(lambda c, a: c.call(FPU[name], c.fd(a.rd), c.x(a.rs1), c.dynamic_rm(a.rm)))


def _unary_rm(name):
    return _fp(lambda c, a: c.call(FPU[name], c.fd(a.rd), c.f(a.rs1), c.dynamic_rm(a.rm)))


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
        g[f"trans_f{_op}_{_w}"] = _to_x(f"F{_op.upper()}_{_W}", False)
    for _i in ("w", "wu", "l", "lu"):
        g[f"trans_fcvt_{_i}_{_w}"] = _to_x(f"FCVT_{_i.upper()}_{_W}", True)
        g[f"trans_fcvt_{_w}_{_i}"] = _from_int(f"FCVT_{_W}_{_i.upper()}")
    g[f"trans_fsqrt_{_w}"] = _unary_rm(f"FSQRT_{_W}")
    g[f"trans_fclass_{_w}"] = _fp(
        lambda c, a, n=f"FCLASS_{_W}": c.call(FPU[n], c.xd(a.rd), c.f(a.rs1)))


def _fmv_w_x(c, a):
    t = c.temp()
    c.ir.ext32u(t, c.x(a.rs1))
    c.ir.or_(c.fd(a.rd), t, BOX)


trans_fmv_x_w = _fp(lambda c, a: c.ir.ext32s(c.xd(a.rd), c.f(a.rs1)))
trans_fmv_w_x = _fp(_fmv_w_x)
trans_fmv_x_d = _fp(lambda c, a: c.ir.mov(c.xd(a.rd), c.f(a.rs1)))
trans_fmv_d_x = _fp(lambda c, a: c.ir.mov(c.fd(a.rd), c.x(a.rs1)))
trans_fcvt_s_d = _unary_rm("FCVT_S_D")
trans_fcvt_d_s = _unary_rm("FCVT_D_S")
