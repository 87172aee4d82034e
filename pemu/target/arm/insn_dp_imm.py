"""A64 data processing (immediate): PC-relative addressing, add/sub,
logical, move wide, bitfield, extract (Arm ARM C4.1.86 and C6)."""
from __future__ import annotations

from pemu.target.arm.decode import sext
from pemu.target.arm.translate import M32, M64

TABLE = """
adr      0 ll 10000 iiiiiiiiiiiiiiiiiii ddddd
adrp     1 ll 10000 iiiiiiiiiiiiiiiiiii ddddd
add_imm  s 0 0 100010 h iiiiiiiiiiii nnnnn ddddd
adds_imm s 0 1 100010 h iiiiiiiiiiii nnnnn ddddd
sub_imm  s 1 0 100010 h iiiiiiiiiiii nnnnn ddddd
subs_imm s 1 1 100010 h iiiiiiiiiiii nnnnn ddddd
and_imm  s 00 100100 N rrrrrr xxxxxx nnnnn ddddd
orr_imm  s 01 100100 N rrrrrr xxxxxx nnnnn ddddd
eor_imm  s 10 100100 N rrrrrr xxxxxx nnnnn ddddd
ands_imm s 11 100100 N rrrrrr xxxxxx nnnnn ddddd
movn     s 00 100101 ww iiiiiiiiiiiiiiii ddddd
movz     s 10 100101 ww iiiiiiiiiiiiiiii ddddd
movk     s 11 100101 ww iiiiiiiiiiiiiiii ddddd
sbfm     s 00 100110 N rrrrrr xxxxxx nnnnn ddddd
bfm      s 01 100110 N rrrrrr xxxxxx nnnnn ddddd
ubfm     s 10 100110 N rrrrrr xxxxxx nnnnn ddddd
extr     s 00 100111 N 0 mmmmm xxxxxx nnnnn ddddd
"""


def ones(n: int) -> int:
    return (1 << n) - 1


def decode_bit_masks(n: int, imms: int, immr: int, datasize: int) -> int | None:
    """DecodeBitMasks(immediate=TRUE) of the Arm ARM: the logical immediate's
    value (wmask), or None for a reserved encoding."""
    length = ((n << 6) | (~imms & 0x3F)).bit_length() - 1
    if length < 1:
        return None
    levels = ones(length)
    if imms & levels == levels:
        return None
    s, r = imms & levels, immr & levels
    esize = 1 << length
    if esize > datasize:
        return None
    welem = ones(s + 1)
    elem = ((welem >> r) | (welem << (esize - r))) & ones(esize) if r else welem
    value = 0
    for i in range(0, datasize, esize):
        value |= elem << i
    return value


# --- PC-relative -------------------------------------------------------------------------
def trans_adr(c, a):
    c.set_reg(a.rd, 1, (c.pc + sext((a.imm << 2) | a.immlo, 21)) & M64)


def trans_adrp(c, a):
    c.set_reg(a.rd, 1, ((c.pc & ~0xFFF) + (sext((a.imm << 2) | a.immlo, 21) << 12)) & M64)


# --- add/sub immediate -----------------------------------------------------------------
def _addsub_imm(sub: bool, flags: bool):
    def trans(c, a):
        imm = a.imm << (12 * a.shift)
        rn = c.xsp(a.rn)
        if flags:
            r, f = c.add_with_carry(a.sf, rn, c.op("mov", imm), sub)
            c.set_flags(f)
            c.set_reg(a.rd, a.sf, r)
        else:
            t = c.op("sub" if sub else "add", rn, imm)
            c.set_reg(a.rd, a.sf, t, sp=True)
    return trans


trans_add_imm, trans_adds_imm = _addsub_imm(False, False), _addsub_imm(False, True)
trans_sub_imm, trans_subs_imm = _addsub_imm(True, False), _addsub_imm(True, True)


# --- logical immediate -------------------------------------------------------------------
def _logic_imm(op: str, flags: bool = False):
    def trans(c, a):
        if not a.sf and a.N:
            return c.undef()
        imm = decode_bit_masks(a.N, a.imms, a.immr, 64 if a.sf else 32)
        if imm is None:
            return c.undef()
        r = c.op(op, c.x(a.rn), imm)
        if flags:
            c.set_flags(c.logic_flags(a.sf, r))
            c.set_reg(a.rd, a.sf, r)
        else:
            c.set_reg(a.rd, a.sf, r, sp=True)
    return trans


trans_and_imm, trans_orr_imm = _logic_imm("and"), _logic_imm("or")
trans_eor_imm, trans_ands_imm = _logic_imm("xor"), _logic_imm("and", True)


# --- move wide ---------------------------------------------------------------------------
def trans_movn(c, a):
    if not a.sf and a.hw > 1:
        return c.undef()
    c.set_reg(a.rd, a.sf, ~(a.imm << (16 * a.hw)) & (M64 if a.sf else M32))


def trans_movz(c, a):
    if not a.sf and a.hw > 1:
        return c.undef()
    c.set_reg(a.rd, a.sf, a.imm << (16 * a.hw))


def trans_movk(c, a):
    if not a.sf and a.hw > 1:
        return c.undef()
    sh = 16 * a.hw
    kept = c.op("and", c.x(a.rd), ~(0xFFFF << sh) & M64)
    c.set_reg(a.rd, a.sf, c.op("or", kept, a.imm << sh))


# --- bitfield ----------------------------------------------------------------------------
def _bitfield_ok(c, a) -> int | None:
    """The datasize, or None (after raising UNDEF) for a reserved encoding."""
    if a.sf != a.N or (not a.sf and (a.immr | a.imms) & 32):
        c.undef()
        return None
    return 64 if a.sf else 32


def trans_ubfm(c, a):
    size = _bitfield_ok(c, a)
    if size is None:
        return
    r, s = a.immr, a.imms
    src = c.x(a.rn)
    if s >= r:  # UBFX (LSR when s is the top bit)
        v = c.op("and", c.op("shr", src, r), ones(s - r + 1))
    else:  # UBFIZ / LSL
        v = c.op("shl", c.op("and", src, ones(s + 1)), size - r)
    c.set_reg(a.rd, a.sf, v)


def trans_sbfm(c, a):
    size = _bitfield_ok(c, a)
    if size is None:
        return
    r, s = a.immr, a.imms
    src = c.x(a.rn)
    if s >= r:  # SBFX / ASR / SXTB...: bits s..r, sign-extended
        v = c.op("sar", c.op("shl", src, 63 - s), 63 - s + r)
    else:  # SBFIZ: bits s..0 sign-extended, shifted left by size - r
        v = c.op("shl", c.op("sar", c.op("shl", src, 63 - s), 63 - s), size - r)
    c.set_reg(a.rd, a.sf, v)


def trans_bfm(c, a):
    size = _bitfield_ok(c, a)
    if size is None:
        return
    r, s = a.immr, a.imms
    if s >= r:  # BFXIL: bits s..r of Rn into the bottom of Rd
        width, lsb = s - r + 1, 0
        field = c.op("and", c.op("shr", c.x(a.rn), r), ones(width))
    else:  # BFI: bits s..0 of Rn at bit size - r of Rd
        width, lsb = s + 1, size - r
        field = c.op("shl", c.op("and", c.x(a.rn), ones(width)), lsb)
    kept = c.op("and", c.x(a.rd), ~(ones(width) << lsb) & M64)
    c.set_reg(a.rd, a.sf, c.op("or", kept, field))


def trans_extr(c, a):
    if a.sf != a.N or (not a.sf and a.imms & 32):
        return c.undef()
    lsb = a.imms
    if a.sf:
        if lsb == 0:
            v = c.x(a.rm)
        else:
            v = c.op("or", c.op("shr", c.x(a.rm), lsb), c.op("shl", c.x(a.rn), 64 - lsb))
    else:
        v = c.op("or", c.op("shr", c.src(a.rm, 0), lsb), c.op("shl", c.x(a.rn), 32 - lsb))
    c.set_reg(a.rd, a.sf, v)
