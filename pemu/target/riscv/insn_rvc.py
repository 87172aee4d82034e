"""RV64C: each 16-bit form expands to the 32-bit instruction it abbreviates
(ISA manual vol. I, "C" chapter, "RVC Instruction Set Listings"), which is
then decoded and translated as usual. Reserved encodings expand to 0, which
decodes as illegal.

EXPAND maps (quadrant, funct3) to the expansion of that row of the listing.
"""
from __future__ import annotations

from collections.abc import Callable


def _b(h: int, hi: int, lo: int) -> int:
    return (h >> lo) & ((1 << (hi - lo + 1)) - 1)


def _sx(v: int, bits: int) -> int:
    return v - ((v & (1 << (bits - 1))) << 1)


def _i(op: int, rd: int, f3: int, rs1: int, imm: int) -> int:
    return ((imm & 0xFFF) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op


def _s(op: int, f3: int, rs1: int, rs2: int, imm: int) -> int:
    imm &= 0xFFF
    return ((imm >> 5) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | ((imm & 31) << 7) | op


def _r(op: int, rd: int, f3: int, rs1: int, rs2: int, f7: int) -> int:
    return (f7 << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op


def _bra(f3: int, rs1: int, imm: int) -> int:
    imm &= 0x1FFF
    return ((imm >> 12) << 31) | (((imm >> 5) & 63) << 25) | (rs1 << 15) | (f3 << 12) \
        | (((imm >> 1) & 15) << 8) | (((imm >> 11) & 1) << 7) | 0x63


def _jal(rd: int, imm: int) -> int:
    imm &= 0x1FFFFF
    return ((imm >> 20) << 31) | (((imm >> 1) & 1023) << 21) | (((imm >> 11) & 1) << 20) \
        | (((imm >> 12) & 255) << 12) | (rd << 7) | 0x6F


def _rp(v: int) -> int:  # the 3-bit register fields name x8..x15
    return 8 + (v & 7)


def _imm6(h: int) -> int:
    return _sx((_b(h, 12, 12) << 5) | _b(h, 6, 2), 6)


# Quadrant 0 ------------------------------------------------------------------
def _addi4spn(h):
    imm = (_b(h, 10, 7) << 6) | (_b(h, 12, 11) << 4) | (_b(h, 5, 5) << 3) | (_b(h, 6, 6) << 2)
    return _i(0x13, _rp(h >> 2), 0, 2, imm) if imm else 0


def _uimm_d(h):  # c.fld/c.ld/c.fsd/c.sd offsets
    return (_b(h, 6, 5) << 6) | (_b(h, 12, 10) << 3)


def _uimm_w(h):
    return (_b(h, 5, 5) << 6) | (_b(h, 12, 10) << 3) | (_b(h, 6, 6) << 2)


def _q0_load(op, f3, uimm):
    return lambda h: _i(op, _rp(h >> 2), f3, _rp(h >> 7), uimm(h))


def _q0_store(op, f3, uimm):
    return lambda h: _s(op, f3, _rp(h >> 7), _rp(h >> 2), uimm(h))


# Quadrant 1 ------------------------------------------------------------------
def _addi(h):
    rd = _b(h, 11, 7)
    return _i(0x13, rd, 0, rd, _imm6(h))


def _addiw(h):
    rd = _b(h, 11, 7)
    return _i(0x1B, rd, 0, rd, _imm6(h)) if rd else 0


def _li(h):
    return _i(0x13, _b(h, 11, 7), 0, 0, _imm6(h))


def _lui_addi16sp(h):
    rd = _b(h, 11, 7)
    if rd == 2:
        imm = (_b(h, 12, 12) << 9) | (_b(h, 4, 3) << 7) | (_b(h, 5, 5) << 6) \
            | (_b(h, 2, 2) << 5) | (_b(h, 6, 6) << 4)
        imm = _sx(imm, 10)
        return _i(0x13, 2, 0, 2, imm) if imm else 0
    imm = _imm6(h)
    if imm == 0:
        return 0
    return ((imm << 12) & 0xFFFFF000) | (rd << 7) | 0x37


def _misc_alu(h):
    rd = _rp(h >> 7)
    f2 = _b(h, 11, 10)
    shamt = (_b(h, 12, 12) << 5) | _b(h, 6, 2)
    if f2 == 0:
        return _i(0x13, rd, 5, rd, shamt)
    if f2 == 1:
        return _i(0x13, rd, 5, rd, shamt | 0x400)
    if f2 == 2:
        return _i(0x13, rd, 7, rd, _imm6(h))
    rs2 = _rp(h >> 2)
    sel = (_b(h, 12, 12) << 2) | _b(h, 6, 5)
    ops = {0: (0x33, 0, 0x20), 1: (0x33, 4, 0), 2: (0x33, 6, 0), 3: (0x33, 7, 0),
           4: (0x3B, 0, 0x20), 5: (0x3B, 0, 0)}
    if sel not in ops:
        return 0
    op, f3, f7 = ops[sel]
    return _r(op, rd, f3, rd, rs2, f7)


def _j_imm(h):
    imm = (_b(h, 12, 12) << 11) | (_b(h, 8, 8) << 10) | (_b(h, 10, 9) << 8) \
        | (_b(h, 6, 6) << 7) | (_b(h, 7, 7) << 6) | (_b(h, 2, 2) << 5) \
        | (_b(h, 11, 11) << 4) | (_b(h, 5, 3) << 1)
    return _sx(imm, 12)


def _br_imm(h):
    imm = (_b(h, 12, 12) << 8) | (_b(h, 6, 5) << 6) | (_b(h, 2, 2) << 5) \
        | (_b(h, 11, 10) << 3) | (_b(h, 4, 3) << 1)
    return _sx(imm, 9)


# Quadrant 2 ------------------------------------------------------------------
def _slli(h):
    rd = _b(h, 11, 7)
    return _i(0x13, rd, 1, rd, (_b(h, 12, 12) << 5) | _b(h, 6, 2))


def _sp_load(op, f3, wide, need_rd):
    def f(h):
        rd = _b(h, 11, 7)
        if need_rd and rd == 0:
            return 0
        if wide:
            imm = (_b(h, 4, 2) << 6) | (_b(h, 12, 12) << 5) | (_b(h, 6, 5) << 3)
        else:
            imm = (_b(h, 3, 2) << 6) | (_b(h, 12, 12) << 5) | (_b(h, 6, 4) << 2)
        return _i(op, rd, f3, 2, imm)
    return f


def _sp_store(op, f3, wide):
    def f(h):
        if wide:
            imm = (_b(h, 9, 7) << 6) | (_b(h, 12, 10) << 3)
        else:
            imm = (_b(h, 8, 7) << 6) | (_b(h, 12, 9) << 2)
        return _s(op, f3, 2, _b(h, 6, 2), imm)
    return f


def _jr_mv_add(h):
    rd, rs2 = _b(h, 11, 7), _b(h, 6, 2)
    if not _b(h, 12, 12):
        if rs2 == 0:
            return _i(0x67, 0, 0, rd, 0) if rd else 0  # c.jr
        return _r(0x33, rd, 0, 0, rs2, 0)  # c.mv
    if rs2 == 0:
        if rd == 0:
            return 0x00100073  # c.ebreak
        return _i(0x67, 1, 0, rd, 0)  # c.jalr
    return _r(0x33, rd, 0, rd, rs2, 0)  # c.add


EXPAND: dict[tuple[int, int], Callable[[int], int]] = {
    (0, 0): _addi4spn,
    (0, 1): _q0_load(0x07, 3, _uimm_d),   # c.fld
    (0, 2): _q0_load(0x03, 2, _uimm_w),   # c.lw
    (0, 3): _q0_load(0x03, 3, _uimm_d),   # c.ld
    (0, 5): _q0_store(0x27, 3, _uimm_d),  # c.fsd
    (0, 6): _q0_store(0x23, 2, _uimm_w),  # c.sw
    (0, 7): _q0_store(0x23, 3, _uimm_d),  # c.sd
    (1, 0): _addi,
    (1, 1): _addiw,
    (1, 2): _li,
    (1, 3): _lui_addi16sp,
    (1, 4): _misc_alu,
    (1, 5): lambda h: _jal(0, _j_imm(h)),
    (1, 6): lambda h: _bra(0, _rp(h >> 7), _br_imm(h)),
    (1, 7): lambda h: _bra(1, _rp(h >> 7), _br_imm(h)),
    (2, 0): _slli,
    (2, 1): _sp_load(0x07, 3, True, False),   # c.fldsp
    (2, 2): _sp_load(0x03, 2, False, True),   # c.lwsp
    (2, 3): _sp_load(0x03, 3, True, True),    # c.ldsp
    (2, 4): _jr_mv_add,
    (2, 5): _sp_store(0x27, 3, True),   # c.fsdsp
    (2, 6): _sp_store(0x23, 2, False),  # c.swsp
    (2, 7): _sp_store(0x23, 3, True),   # c.sdsp
}


def expand(h: int) -> int:
    """The 32-bit equivalent of compressed instruction h, or 0 if reserved."""
    if h == 0:
        return 0
    fn = EXPAND.get((h & 3, (h >> 13) & 7))
    return fn(h) if fn else 0
