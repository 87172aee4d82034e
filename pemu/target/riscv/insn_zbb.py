"""Zbb: basic bit manipulation (RISC-V Bit-Manipulation ISA-extensions,
"Zbb"): logic with negate, counts, min/max, sign/zero extension, rotates,
orc.b and rev8 (RV64 encodings)."""
from __future__ import annotations

M64 = (1 << 64) - 1

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


def _sx32(v: int) -> int:
    v &= 0xFFFFFFFF
    return (v - ((v & 0x80000000) << 1)) & M64


def _ctz(v: int, width: int) -> int:
    v &= (1 << width) - 1
    return (v & -v).bit_length() - 1 if v else width


def _ror(v: int, s: int) -> int:
    s &= 63
    return ((v >> s) | (v << (64 - s))) & M64


def _rorw(v: int, s: int) -> int:
    s &= 31
    v &= 0xFFFFFFFF
    return _sx32((v >> s) | (v << (32 - s)))


def _orc_b(v: int) -> int:
    out = 0
    for i in range(0, 64, 8):
        if (v >> i) & 0xFF:
            out |= 0xFF << i
    return out


GLOBALS: dict = {
    "CTZ": lambda v: _ctz(v, 64), "CTZW": lambda v: _ctz(v, 32),
    "ROR": _ror, "ROL": lambda v, s: _ror(v, -s & 63),
    "RORW": _rorw, "ROLW": lambda v, s: _rorw(v, -s & 31),
    "ORCB": _orc_b,
    "REV8": lambda v: int.from_bytes(v.to_bytes(8, "little"), "big"),
}


def _rr(expr: str):
    return lambda c, a: c.w(a.rd, expr.format(x=c.r(a.rs1), y=c.r(a.rs2)))


def _r1(expr: str):
    return lambda c, a: c.w(a.rd, expr.format(x=c.r(a.rs1)))


trans_andn = _rr("{x} & ({y} ^ M)")
trans_orn = _rr("{x} | ({y} ^ M)")
trans_xnor = _rr("{x} ^ {y} ^ M")
trans_clz = _r1("64 - ({x}).bit_length()")
trans_clzw = _r1("32 - ({x} & 0xFFFFFFFF).bit_length()")
trans_ctz = _r1("CTZ({x})")
trans_ctzw = _r1("CTZW({x})")
trans_cpop = _r1("({x}).bit_count()")
trans_cpopw = _r1("({x} & 0xFFFFFFFF).bit_count()")
trans_sext_b = _r1("((({x} & 0xFF) ^ 0x80) - 0x80) & M")
trans_sext_h = _r1("((({x} & 0xFFFF) ^ 0x8000) - 0x8000) & M")
trans_zext_h = _r1("{x} & 0xFFFF")
trans_max = _rr("{x} if ({x} ^ SB) > ({y} ^ SB) else {y}")
trans_min = _rr("{x} if ({x} ^ SB) < ({y} ^ SB) else {y}")
trans_maxu = _rr("{x} if {x} > {y} else {y}")
trans_minu = _rr("{x} if {x} < {y} else {y}")
trans_rol = _rr("ROL({x}, {y})")
trans_ror = _rr("ROR({x}, {y})")
trans_rolw = _rr("ROLW({x}, {y})")
trans_rorw = _rr("RORW({x}, {y})")
trans_orc_b = _r1("ORCB({x})")
trans_rev8 = _r1("REV8({x})")


def trans_rori(c, a):
    c.w(a.rd, f"ROR({c.r(a.rs1)}, {a.imm})")


def trans_roriw(c, a):
    c.w(a.rd, f"RORW({c.r(a.rs1)}, {a.imm})")
