"""A64 data processing (register): logical and add/sub with shifted or
extended register, add/sub with carry, conditional compare and select,
one-, two- and three-source operations (Arm ARM C4.1.88)."""
from __future__ import annotations

from pemu.target.arm.translate import M64, pure
from pemu.tcg.ir import Const

TABLE = """
and_reg   s 00 01010 hh 0 mmmmm iiiiii nnnnn ddddd
bic_reg   s 00 01010 hh 1 mmmmm iiiiii nnnnn ddddd
orr_reg   s 01 01010 hh 0 mmmmm iiiiii nnnnn ddddd
orn_reg   s 01 01010 hh 1 mmmmm iiiiii nnnnn ddddd
eor_reg   s 10 01010 hh 0 mmmmm iiiiii nnnnn ddddd
eon_reg   s 10 01010 hh 1 mmmmm iiiiii nnnnn ddddd
ands_reg  s 11 01010 hh 0 mmmmm iiiiii nnnnn ddddd
bics_reg  s 11 01010 hh 1 mmmmm iiiiii nnnnn ddddd
add_reg   s 0 0 01011 hh 0 mmmmm iiiiii nnnnn ddddd
adds_reg  s 0 1 01011 hh 0 mmmmm iiiiii nnnnn ddddd
sub_reg   s 1 0 01011 hh 0 mmmmm iiiiii nnnnn ddddd
subs_reg  s 1 1 01011 hh 0 mmmmm iiiiii nnnnn ddddd
add_ext   s 0 0 01011 00 1 mmmmm ooo iii nnnnn ddddd
adds_ext  s 0 1 01011 00 1 mmmmm ooo iii nnnnn ddddd
sub_ext   s 1 0 01011 00 1 mmmmm ooo iii nnnnn ddddd
subs_ext  s 1 1 01011 00 1 mmmmm ooo iii nnnnn ddddd
adc       s 0 0 11010000 mmmmm 000000 nnnnn ddddd
adcs      s 0 1 11010000 mmmmm 000000 nnnnn ddddd
sbc       s 1 0 11010000 mmmmm 000000 nnnnn ddddd
sbcs      s 1 1 11010000 mmmmm 000000 nnnnn ddddd
ccmn_reg  s 0 1 11010010 mmmmm cccc 0 0 nnnnn 0 ffff
ccmp_reg  s 1 1 11010010 mmmmm cccc 0 0 nnnnn 0 ffff
ccmn_imm  s 0 1 11010010 iiiii cccc 1 0 nnnnn 0 ffff
ccmp_imm  s 1 1 11010010 iiiii cccc 1 0 nnnnn 0 ffff
csel      s 0 0 11010100 mmmmm cccc 00 nnnnn ddddd
csinc     s 0 0 11010100 mmmmm cccc 01 nnnnn ddddd
csinv     s 1 0 11010100 mmmmm cccc 00 nnnnn ddddd
csneg     s 1 0 11010100 mmmmm cccc 01 nnnnn ddddd
rbit      s 1 0 11010110 00000 000000 nnnnn ddddd
rev16     s 1 0 11010110 00000 000001 nnnnn ddddd
rev32     1 1 0 11010110 00000 000010 nnnnn ddddd
rev_w     0 1 0 11010110 00000 000010 nnnnn ddddd
rev_x     1 1 0 11010110 00000 000011 nnnnn ddddd
clz       s 1 0 11010110 00000 000100 nnnnn ddddd
cls       s 1 0 11010110 00000 000101 nnnnn ddddd
udiv      s 0 0 11010110 mmmmm 000010 nnnnn ddddd
sdiv      s 0 0 11010110 mmmmm 000011 nnnnn ddddd
lslv      s 0 0 11010110 mmmmm 001000 nnnnn ddddd
lsrv      s 0 0 11010110 mmmmm 001001 nnnnn ddddd
asrv      s 0 0 11010110 mmmmm 001010 nnnnn ddddd
rorv      s 0 0 11010110 mmmmm 001011 nnnnn ddddd
crc32     s 0 0 11010110 mmmmm 010 P zz nnnnn ddddd
madd      s 00 11011 000 mmmmm 0 aaaaa nnnnn ddddd
msub      s 00 11011 000 mmmmm 1 aaaaa nnnnn ddddd
smaddl    1 00 11011 001 mmmmm 0 aaaaa nnnnn ddddd
smsubl    1 00 11011 001 mmmmm 1 aaaaa nnnnn ddddd
smulh     1 00 11011 010 mmmmm 0 11111 nnnnn ddddd
umaddl    1 00 11011 101 mmmmm 0 aaaaa nnnnn ddddd
umsubl    1 00 11011 101 mmmmm 1 aaaaa nnnnn ddddd
umulh     1 00 11011 110 mmmmm 0 11111 nnnnn ddddd
"""

LSL, LSR, ASR, ROR = range(4)


def shifted(c, n: int, sf: int, kind: int, amount: int):
    """Register n shifted by a constant (the shifted-register operand form)."""
    v = c.x(n)
    if amount == 0:
        return v
    if kind == LSL:
        return c.op("shl", v, amount)
    if kind == LSR:
        return c.op("shr", c.src(n, sf), amount)
    if kind == ASR:
        return c.op("sar", v if sf else c.op("ext32s", v), amount)
    if sf:
        return c.op("rotr", v, amount)
    w = c.src(n, 0)
    return c.op("or", c.op("shr", w, amount), c.op("shl", w, 32 - amount))


EXTEND = {0: "ext8u", 1: "ext16u", 2: "ext32u", 3: None,
          4: "ext8s", 5: "ext16s", 6: "ext32s", 7: None}


def extended(c, n: int, option: int, shift: int):
    """ExtendReg: register n extended by `option`, then shifted left."""
    v = c.x(n)
    op = EXTEND[option]
    if op is not None:
        v = c.op(op, v)
    return c.op("shl", v, shift) if shift else v


# --- logical (shifted register) ---------------------------------------------------------
def _logic(op: str, invert: bool = False, flags: bool = False):
    def trans(c, a):
        if not a.sf and a.imm & 32:
            return c.undef()
        b = shifted(c, a.rm, a.sf, a.shift, a.imm)
        if invert:
            b = c.op("not", b)
        r = c.op(op, c.x(a.rn), b)
        if flags:
            c.set_flags(c.logic_flags(a.sf, r))
        c.set_reg(a.rd, a.sf, r)
    return trans


trans_and_reg, trans_bic_reg = _logic("and"), _logic("and", True)
trans_orr_reg, trans_orn_reg = _logic("or"), _logic("or", True)
trans_eor_reg, trans_eon_reg = _logic("xor"), _logic("xor", True)
trans_ands_reg, trans_bics_reg = _logic("and", False, True), _logic("and", True, True)


# --- add/sub -------------------------------------------------------------------------------
def _addsub(c, a, b, sub: bool, flags: bool, sp: bool) -> None:
    rn = c.xsp(a.rn) if sp else c.x(a.rn)
    if flags:
        r, f = c.add_with_carry(a.sf, rn, b, sub)
        c.set_flags(f)
        c.set_reg(a.rd, a.sf, r)
    else:
        c.set_reg(a.rd, a.sf, c.op("sub" if sub else "add", rn, b), sp=sp)


def _addsub_reg(sub: bool, flags: bool):
    def trans(c, a):
        if a.shift == ROR or (not a.sf and a.imm & 32):
            return c.undef()
        _addsub(c, a, shifted(c, a.rm, a.sf, a.shift, a.imm), sub, flags, False)
    return trans


def _addsub_ext(sub: bool, flags: bool):
    def trans(c, a):
        if a.imm > 4:
            return c.undef()
        _addsub(c, a, extended(c, a.rm, a.option, a.imm), sub, flags, True)
    return trans


trans_add_reg, trans_adds_reg = _addsub_reg(False, False), _addsub_reg(False, True)
trans_sub_reg, trans_subs_reg = _addsub_reg(True, False), _addsub_reg(True, True)
trans_add_ext, trans_adds_ext = _addsub_ext(False, False), _addsub_ext(False, True)
trans_sub_ext, trans_subs_ext = _addsub_ext(True, False), _addsub_ext(True, True)


def _carry(sub: bool, flags: bool):
    from pemu.target.arm.translate import CF

    def trans(c, a):
        r, f = c.add_with_carry(a.sf, c.x(a.rn), c.x(a.rm), sub, CF)
        if flags:
            c.set_flags(f)
        c.set_reg(a.rd, a.sf, r)
    return trans


trans_adc, trans_adcs = _carry(False, False), _carry(False, True)
trans_sbc, trans_sbcs = _carry(True, False), _carry(True, True)


# --- conditional compare and select ----------------------------------------------------------
def _ccmp(sub: bool, imm: bool):
    def trans(c, a):
        holds = c.cond_value(a.cond)
        b = Const(a.imm) if imm else c.x(a.rm)
        _, f = c.add_with_carry(a.sf, c.x(a.rn), b, sub)
        nzcv = a.nzcv
        alt = ((nzcv >> 3) << 63, (nzcv >> 2 & 1) ^ 1, nzcv >> 1 & 1, (nzcv & 1) << 63)
        chosen = []
        for v, other in zip(f, alt, strict=True):
            t = c.temp()
            c.ir.movcond("ne", t, holds, 0, v, other)
            chosen.append(t)
        c.set_flags(tuple(chosen))
    return trans


trans_ccmn_reg, trans_ccmp_reg = _ccmp(False, False), _ccmp(True, False)
trans_ccmn_imm, trans_ccmp_imm = _ccmp(False, True), _ccmp(True, True)


def _csel(op: str | None):
    def trans(c, a):
        cond, x, y = c.cond(a.cond)
        other = c.x(a.rm)
        if op == "inc":
            other = c.op("add", other, 1)
        elif op == "inv":
            other = c.op("not", other)
        elif op == "neg":
            other = c.op("neg", other)
        t = c.temp()
        c.ir.movcond(cond, t, x, y, c.x(a.rn), other)
        c.set_reg(a.rd, a.sf, t)
    return trans


trans_csel, trans_csinc, trans_csinv, trans_csneg = (_csel(None), _csel("inc"), _csel("inv"),
                                                     _csel("neg"))


# --- one source ------------------------------------------------------------------------------
def _rbit64(v: int) -> int:
    return int(f"{v:064b}"[::-1], 2)


H_RBIT = pure("RBIT64", _rbit64)
BYTES_EVEN = 0x00FF00FF00FF00FF


def trans_rbit(c, a):
    t = c.temp()
    c.call(H_RBIT, t, c.x(a.rn))
    c.set_reg(a.rd, a.sf, t if a.sf else c.op("shr", t, 32))


def trans_rev16(c, a):
    v = c.x(a.rn)
    hi = c.op("and", c.op("shr", v, 8), BYTES_EVEN)
    lo = c.op("shl", c.op("and", v, BYTES_EVEN), 8)
    c.set_reg(a.rd, a.sf, c.op("or", hi, lo))


def trans_rev32(c, a):
    c.set_reg(a.rd, 1, c.op("rotr", c.op("bswap64", c.x(a.rn)), 32))


def trans_rev_w(c, a):
    c.set_reg(a.rd, 0, c.op("shr", c.op("bswap64", c.x(a.rn)), 32))


def trans_rev_x(c, a):
    c.set_reg(a.rd, 1, c.op("bswap64", c.x(a.rn)))


def trans_clz(c, a):
    if a.sf:
        c.set_reg(a.rd, 1, c.op("clz", c.x(a.rn)))
    else:
        c.set_reg(a.rd, 0, c.op("sub", c.op("clz", c.src(a.rn, 0)), 32))


def trans_cls(c, a):
    v = c.x(a.rn) if a.sf else c.op("ext32s", c.x(a.rn))
    n = c.op("clz", c.op("xor", v, c.op("sar", v, 1)))
    c.set_reg(a.rd, a.sf, c.op("sub", n, 1 if a.sf else 33))


# --- two sources ----------------------------------------------------------------------------
def _div(signed: bool):
    def trans(c, a):
        """Division by zero gives 0; the most negative value divided by -1
        gives itself (Arm ARM: SDIV rounds toward zero, no trap)."""
        ext = "ext32s" if signed else "ext32u"
        x = c.x(a.rn) if a.sf else c.op(ext, c.x(a.rn))
        y = c.x(a.rm) if a.sf else c.op(ext, c.x(a.rm))
        safe = c.temp()
        c.ir.movcond("eq", safe, y, 0, 1, y)
        if signed and a.sf:  # INT64_MIN / -1: divide by 1 and negate (wraps to itself)
            ovf = c.op("and", c.op("setcond_eq", x, 1 << 63), c.op("setcond_eq", y, M64))
            safe2 = c.temp()
            c.ir.movcond("ne", safe2, ovf, 0, 1, safe)
            safe = safe2
        q = c.op("divs" if signed else "divu", x, safe)
        r = c.temp()
        c.ir.movcond("eq", r, y, 0, 0, q)
        c.set_reg(a.rd, a.sf, r)
    return trans


trans_udiv, trans_sdiv = _div(False), _div(True)


def _shiftv(kind: int):
    def trans(c, a):
        n = c.op("and", c.x(a.rm), 63 if a.sf else 31)
        if kind == LSL:
            r = c.op("shl", c.x(a.rn), n)
        elif kind == LSR:
            r = c.op("shr", c.src(a.rn, a.sf), n)
        elif kind == ASR:
            r = c.op("sar", c.x(a.rn) if a.sf else c.op("ext32s", c.x(a.rn)), n)
        elif a.sf:
            r = c.op("rotr", c.x(a.rn), n)
        else:  # rotate a 32-bit value: shift the value doubled
            w = c.src(a.rn, 0)
            r = c.op("shr", c.op("or", w, c.op("shl", w, 32)), n)
        c.set_reg(a.rd, a.sf, r)
    return trans


trans_lslv, trans_lsrv, trans_asrv, trans_rorv = (_shiftv(LSL), _shiftv(LSR), _shiftv(ASR),
                                                  _shiftv(ROR))


# --- CRC32 ------------------------------------------------------------------------------------
#: bit-reflected polynomials of CRC32 (ISO-HDLC, P=0) and CRC32C (Castagnoli, P=1)
CRC_POLY = (0xEDB88320, 0x82F63B78)


def _crc32(acc: int, data: int, nbytes: int, castagnoli: int) -> int:
    """CRC32* of the Arm ARM: the accumulator updated with `nbytes` bytes of
    data, least significant first, with no inversion before or after."""
    poly = CRC_POLY[castagnoli]
    crc = acc & 0xFFFFFFFF
    for i in range(nbytes):
        crc ^= (data >> (8 * i)) & 0xFF
        for _ in range(8):
            crc = (crc >> 1) ^ (poly if crc & 1 else 0)
    return crc


H_CRC32 = pure("CRC32", _crc32)


def trans_crc32(c, a):
    """CRC32B/H/W/X and CRC32CB/H/W/X (X needs sf=1, the others sf=0)."""
    if (a.size == 3) != bool(a.sf):
        return c.undef()
    t = c.temp()
    c.call(H_CRC32, t, c.x(a.rn), c.x(a.rm), 1 << a.size, a.op)
    c.set_reg(a.rd, 0, t)


# --- three sources --------------------------------------------------------------------------
def _madd(sub: bool, ext: str | None = None):
    def trans(c, a):
        x, y = c.x(a.rn), c.x(a.rm)
        if ext:
            x, y = c.op(ext, x), c.op(ext, y)
        p = c.op("mul", x, y)
        c.set_reg(a.rd, a.sf if ext is None else 1, c.op("sub" if sub else "add", c.x(a.ra), p))
    return trans


trans_madd, trans_msub = _madd(False), _madd(True)
trans_smaddl, trans_smsubl = _madd(False, "ext32s"), _madd(True, "ext32s")
trans_umaddl, trans_umsubl = _madd(False, "ext32u"), _madd(True, "ext32u")


def trans_smulh(c, a):
    c.set_reg(a.rd, 1, c.op("mulsh", c.x(a.rn), c.x(a.rm)))


def trans_umulh(c, a):
    c.set_reg(a.rd, 1, c.op("muluh", c.x(a.rn), c.x(a.rm)))
