"""A64 Advanced SIMD (vector) instructions: the subset C library string and
memory functions use (three-same integer and logical, two-register misc,
across lanes, shifts by immediate, modified immediate, DUP/INS/UMOV/SMOV,
EXT, permutes, TBL). Each runs as a helper over whole registers (vector.py)."""
from __future__ import annotations

from collections.abc import Callable

from pemu.target.arm import fpu
from pemu.target.arm import vector as V
from pemu.target.arm.translate import FPCR, FPSR, V_HI, V_LO
from pemu.tcg.ir import Helper

TABLE = """
three_same  0 q u 01110 zz 1 mmmmm PPPPP 1 nnnnn ddddd
three_diff  0 q u 01110 zz 1 mmmmm PPPP 00 nnnnn ddddd
two_misc    0 q u 01110 zz 10000 PPPPP 10 nnnnn ddddd
three_s     01 u 11110 zz 1 mmmmm PPPPP 1 nnnnn ddddd
two_misc_s  01 u 11110 zz 10000 PPPPP 10 nnnnn ddddd
shift_s     01 u 111110 EEEE FFF PPPPP 1 nnnnn ddddd
across      0 q u 01110 zz 11000 PPPPP 10 nnnnn ddddd
shift_imm   0 q u 011110 EEEE FFF PPPPP 1 nnnnn ddddd
mod_imm     0 q u 0111100000 AAA CCCC R 1 DDDDD ddddd
dup_elt     0 q 0 01110000 iiiii 0 0000 1 nnnnn ddddd
dup_gen     0 q 0 01110000 iiiii 0 0001 1 nnnnn ddddd
dup_scalar  01 0 11110000 iiiii 0 0000 1 nnnnn ddddd
smov        0 q 0 01110000 iiiii 0 0101 1 nnnnn ddddd
umov        0 q 0 01110000 iiiii 0 0111 1 nnnnn ddddd
ins_gen     0 1 0 01110000 iiiii 0 0011 1 nnnnn ddddd
ins_elt     0 1 1 01110000 iiiii 0 jjjj 1 nnnnn ddddd
ext         0 q 101110 000 mmmmm 0 jjjj 0 nnnnn ddddd
permute     0 q 001110 zz 0 mmmmm 0 PPP 10 nnnnn ddddd
tbl         0 q 001110 000 mmmmm 0 jj P 00 nnnnn ddddd
by_elem     0 q u 01111 zz L M mmmm PPPP H 0 nnnnn ddddd
"""

THREE_SAME = {
    (0, 0b10000): "add", (1, 0b10000): "sub", (0, 0b10011): "mul",
    (1, 0b10001): "cmeq", (0, 0b10001): "cmtst", (1, 0b00111): "cmhs", (1, 0b00110): "cmhi",
    (0, 0b00111): "cmge", (0, 0b00110): "cmgt", (1, 0b01100): "umax", (1, 0b01101): "umin",
    (0, 0b01100): "smax", (0, 0b01101): "smin", (1, 0b01110): "uabd",
    (0, 0b10010): "mla", (1, 0b10010): "mls", (0, 0b01000): "sshl", (1, 0b01000): "ushl",
    (0, 0b10111): "addp", (1, 0b10100): "umaxp", (1, 0b10101): "uminp",
    (0, 0b10100): "smaxp", (0, 0b10101): "sminp",
}
LOGICAL = {(0, 0): "and", (0, 1): "bic", (0, 2): "orr", (0, 3): "orn",
           (1, 0): "eor", (1, 1): "bsl", (1, 2): "bit", (1, 3): "bif"}
#: two-register misc comparisons with zero: (U, opcode) -> three-same op, swapped
COMPARE_ZERO = {(0, 0b01001): ("cmeq", False), (1, 0b01001): ("cmge", True),
                (0, 0b01000): ("cmgt", False), (1, 0b01000): ("cmge", False),
                (0, 0b01010): ("cmgt", True)}
ACROSS = {(0, 0b11011): "add", (1, 0b01010): "umax", (1, 0b11010): "umin",
          (0, 0b01010): "smax", (0, 0b11010): "smin", (0, 0b00011): "saddl",
          (1, 0b00011): "uaddl"}
PERMUTE = {0b001: "uzp1", 0b010: "trn1", 0b011: "zip1", 0b101: "uzp2", 0b110: "trn2",
           0b111: "zip2"}

_HELPERS: dict[str, Helper] = {}


def vcall(c, name: str, fn: Callable, d: int, srcs: tuple[int, ...], *args: int,
          fp: bool = False) -> None:
    """Call fn(cpu, d, *args) as a helper that reads V[srcs] and writes V[d]
    (and, for floating point, reads FPCR and accumulates into FPSR)."""
    proto = _HELPERS.get(name)
    if proto is None:
        proto = _HELPERS[name] = Helper("V_" + name, fn, raises=False)
    if proto.fn is not fn:  # blocks find helpers by name: one name, one function
        raise ValueError(f"vector helper name {name!r} used for two functions")
    reads = tuple(g for s in srcs for g in (V_LO[s], V_HI[s]))
    writes: tuple = (V_LO[d], V_HI[d])
    if fp:
        reads, writes = reads + (FPCR, FPSR), writes + (FPSR,)
    h = Helper(proto.name, fn, raises=False, reads=reads, writes=writes)
    c.call(h, None, d, *args)


# --- three same -----------------------------------------------------------------------------
def _three(cpu, d: int, n: int, m: int, op: int, esize: int, q: int) -> None:
    name = OP_NAMES[op]
    x, y = V.get(cpu, n), V.get(cpu, m)
    if name in ("mla", "mls"):
        count = (128 if q else 64) // esize
        prod = V.lanes(V.three_same("mul", x, y, esize, q), esize, count)
        acc = V.lanes(V.get(cpu, d), esize, count)
        sign = 1 if name == "mla" else -1
        r = V.pack([u + sign * p for u, p in zip(acc, prod, strict=True)], esize)
    elif name in V.PAIRWISE:
        r = V.pairwise(name, x, y, esize, q)
    elif name in V.THREE_SAME:
        r = V.three_same(name, x, y, esize, q)
    else:
        r = V.logical(name, V.get(cpu, d), x, y)
    V.put(cpu, d, r, q)


OP_NAMES = sorted(set(THREE_SAME.values()) | set(LOGICAL.values()))
MUL_OPS = ("mul", "mla", "mls")
OP_INDEX = {name: i for i, name in enumerate(OP_NAMES)}


def trans_three_same(c, a):
    if a.op == 0b00011:
        name = LOGICAL[(a.U, a.size)]
        esize = 8
    else:
        name = THREE_SAME.get((a.U, a.op))
        esize = 8 << a.size
        if name is None or (esize == 64 and not a.Q) or (name in MUL_OPS and esize == 64):
            return c.undef()
    vcall(c, "three", _three, a.rd, (a.rd, a.rn, a.rm), a.rn, a.rm, OP_INDEX[name], esize, a.Q)


# --- scalar forms (Dd: one 64-bit lane; the FP ones go to insn_simd_fp) -------------------------
SCALAR_THREE = {"add", "sub", "cmeq", "cmtst", "cmhs", "cmhi", "cmge", "cmgt", "sshl", "ushl"}


def trans_three_s(c, a):
    """ADD, SUB, CMEQ, CMTST, CMHS, CMHI, CMGE, CMGT, SSHL, USHL (scalar, D)."""
    name = THREE_SAME.get((a.U, a.op))
    if name not in SCALAR_THREE or a.size != 3:
        return c.undef()
    vcall(c, "three", _three, a.rd, (a.rd, a.rn, a.rm), a.rn, a.rm, OP_INDEX[name], 64, 0)


def trans_two_misc_s(c, a):
    """CMEQ/CMGE/CMGT/CMLE/CMLT #0, ABS, NEG (D), and the FP scalar conversions
    and comparisons with zero (SCVTF, FCVTZS, FCMEQ #0...)."""
    from pemu.target.arm.insn_simd_fp import trans_fp_misc
    if trans_fp_misc(c, a, scalar=True):
        return None
    if a.size != 3:
        return c.undef()
    cz = COMPARE_ZERO.get((a.U, a.op))
    if cz is not None:
        return vcall(c, "cmpz", _cmp_zero, a.rd, (a.rn,), a.rn, OP_INDEX[cz[0]],
                     int(cz[1]), 64, 0)
    kind = MISC.get((a.U, a.op))
    if kind not in (2, 3):
        return c.undef()
    vcall(c, "misc", _misc, a.rd, (a.rd, a.rn), a.rn, kind, 64, 0)


def trans_shift_s(c, a):
    """SSHR, USHR, SHL (scalar, D)."""
    kind = SHIFTS.get((a.U, a.op))
    if not a.immh & 8 or kind not in (0, 1, 2):
        return c.undef()
    immhb = (a.immh << 3) | a.immb
    shift = immhb - 64 if kind == 2 else 128 - immhb
    vcall(c, "shift", _shift, a.rd, (a.rd, a.rn), a.rn, kind, 64, shift, 0)


# --- three different (widening) ---------------------------------------------------------------
#: opcode -> (operation, the first operand is already wide (the W forms))
THREE_DIFF = {0b0000: ("add", False), 0b0001: ("add", True), 0b0010: ("sub", False),
              0b0011: ("sub", True), 0b0101: ("aba", False), 0b0111: ("abd", False),
              0b1000: ("mla", False), 0b1010: ("mls", False), 0b1100: ("mul", False)}
THREE_DIFF_OPS = sorted({op for op, _ in THREE_DIFF.values()})


def _three_diff(cpu, d, n, m, op, wide_n, unsigned, esize, q):
    """SADDL/UADDL, SADDW, SSUBL, SSUBW, SABAL, SABDL, SMLAL, SMLSL, SMULL and
    the U forms; Q=1 (the "2" forms) takes the upper halves of the sources."""
    count = 64 // esize
    wide = 2 * esize

    def half(v: int) -> list[int]:
        els = V.lanes(v >> 64 if q else v, esize, count)
        return els if unsigned else [V.signed(e, esize) for e in els]
    nv, mv = V.get(cpu, n), V.get(cpu, m)
    a = V.lanes(nv, wide, count) if wide_n else half(nv)
    if wide_n and not unsigned:
        a = [V.signed(e, wide) for e in a]
    b = half(mv)
    acc = V.lanes(V.get(cpu, d), wide, count)
    name = THREE_DIFF_OPS[op]
    out = []
    for i in range(count):
        x, y = a[i], b[i]
        out.append({"add": lambda: x + y, "sub": lambda: x - y, "abd": lambda: abs(x - y),
                    "aba": lambda: acc[i] + abs(x - y), "mla": lambda: acc[i] + x * y,
                    "mls": lambda: acc[i] - x * y, "mul": lambda: x * y}[name]())
    V.put(cpu, d, V.pack(out, wide))


def trans_three_diff(c, a):
    got = THREE_DIFF.get(a.op)
    if got is None or a.size == 3:
        return c.undef()  # ADDHN/SUBHN/RADDHN/RSUBHN, PMULL, SQDMULL...: not implemented
    name, wide_n = got
    vcall(c, "three_diff", _three_diff, a.rd, (a.rd, a.rn, a.rm), a.rn, a.rm,
          THREE_DIFF_OPS.index(name), int(wide_n), a.U, 8 << a.size, a.Q)


# --- two-register misc -----------------------------------------------------------------------
def _cmp_zero(cpu, d, n, op, swap, esize, q):
    x = V.get(cpu, n)
    name = OP_NAMES[op]
    r = V.three_same(name, 0, x, esize, q) if swap else V.three_same(name, x, 0, esize, q)
    V.put(cpu, d, r, q)


def _misc(cpu, d, n, kind, esize, q):
    x = V.get(cpu, n)
    count = (128 if q else 64) // esize
    if kind == 0:  # CNT
        r = V.pack([b.bit_count() for b in V.lanes(x, 8, count)], 8)
    elif kind == 1:  # NOT
        r = ~x & V.M128
    elif kind == 2:  # NEG
        r = V.pack([-e for e in V.lanes(x, esize, count)], esize)
    elif kind == 3:  # ABS
        r = V.pack([abs(V.signed(e, esize)) for e in V.lanes(x, esize, count)], esize)
    elif kind == 4:  # REV64: reverse the elements of each doubleword
        per = 64 // esize
        els = V.lanes(x, esize, count)
        r = V.pack([els[(i // per) * per + per - 1 - i % per] for i in range(count)], esize)
    elif kind >= 6:  # [SU]ADDLP, [SU]ADALP: adjacent pairs added into 2*esize lanes
        els = V.lanes(x, esize, count)
        if kind in (6, 8):
            els = [V.signed(e, esize) for e in els]
        sums = [els[2 * i] + els[2 * i + 1] for i in range(count // 2)]
        if kind >= 8:
            acc = V.lanes(V.get(cpu, d), 2 * esize, count // 2)
            sums = [a + b for a, b in zip(acc, sums, strict=True)]
        r = V.pack(sums, 2 * esize)
    else:  # XTN/XTN2: narrow 2*esize lanes to esize, into the lower or upper half
        els = V.lanes(x, 2 * esize, 64 // esize)
        half = V.pack(els, esize) & V.M64
        if q:
            V.put(cpu, d, (V.get(cpu, d) & V.M64) | (half << 64))
            return
        r = half
    V.put(cpu, d, r, q)


MISC = {(0, 0b00101): 0, (1, 0b00101): 1, (1, 0b01011): 2, (0, 0b01011): 3,
        (0, 0b00000): 4, (0, 0b10010): 5, (0, 0b00010): 6, (1, 0b00010): 7,
        (0, 0b00110): 8, (1, 0b00110): 9}


def trans_two_misc(c, a):
    from pemu.target.arm.insn_simd_fp import trans_fp_misc
    if trans_fp_misc(c, a):
        return None
    esize = 8 << a.size
    cz = COMPARE_ZERO.get((a.U, a.op))
    if cz is not None:
        if esize == 64 and not a.Q:
            return c.undef()
        return vcall(c, "cmpz", _cmp_zero, a.rd, (a.rn,), a.rn, OP_INDEX[cz[0]],
                     int(cz[1]), esize, a.Q)
    kind = MISC.get((a.U, a.op))
    if kind is None or (kind in (0, 1) and a.size) or (kind in (4, 5) and a.size == 3) \
            or (kind in (2, 3) and esize == 64 and not a.Q) or (kind >= 6 and a.size == 3):
        return c.undef()
    vcall(c, "misc", _misc, a.rd, (a.rd, a.rn), a.rn, kind, esize, a.Q)


# --- across lanes ---------------------------------------------------------------------------
def _across(cpu, d, n, op, esize, q):
    count = (128 if q else 64) // esize
    els = V.lanes(V.get(cpu, n), esize, count)
    name = ACROSS_NAMES[op]
    if name in ("saddl", "uaddl"):  # [SU]ADDLV: the sum in a 2*esize scalar
        r = sum(V.signed(e, esize) for e in els) if name == "saddl" else sum(els)
        V.put(cpu, d, r & ((1 << (2 * esize)) - 1))
        return
    if name == "add":
        r = sum(els)
    elif name in ("umax", "umin"):
        r = max(els) if name == "umax" else min(els)
    else:
        s = [V.signed(e, esize) for e in els]
        r = max(s) if name == "smax" else min(s)
    V.put(cpu, d, r & ((1 << esize) - 1))


ACROSS_NAMES = sorted(set(ACROSS.values()))


def trans_across(c, a):
    name = ACROSS.get((a.U, a.op))
    esize = 8 << a.size
    if name is None or esize == 64 or (esize == 32 and not a.Q):
        return c.undef()
    vcall(c, "across", _across, a.rd, (a.rn,), a.rn, ACROSS_NAMES.index(name), esize, a.Q)


# --- shifts by immediate --------------------------------------------------------------------
def _shift(cpu, d, n, kind, esize, shift, q):
    x = V.get(cpu, n)
    count = (128 if q else 64) // esize
    if kind in (0, 1, 2):  # SSHR, USHR, SHL
        els = V.lanes(x, esize, count)
        if kind == 0:
            r = V.pack([V.signed(e, esize) >> shift for e in els], esize)
        elif kind == 1:
            r = V.pack([e >> shift for e in els], esize)
        else:
            r = V.pack([e << shift for e in els], esize)
        V.put(cpu, d, r, q)
    elif kind == 3:  # SHRN/SHRN2: esize is the narrow size
        els = V.lanes(x, 2 * esize, 64 // esize)
        half = V.pack([e >> shift for e in els], esize) & V.M64
        if q:
            V.put(cpu, d, (V.get(cpu, d) & V.M64) | (half << 64))
        else:
            V.put(cpu, d, half, 0)
    else:  # SSHLL/USHLL(2): esize is the narrow size
        src = (x >> 64) if q else x
        els = V.lanes(src, esize, 64 // esize)
        if kind == 4:
            els = [V.signed(e, esize) for e in els]
        V.put(cpu, d, V.pack([e << shift for e in els], 2 * esize))


SHIFTS = {(0, 0b00000): 0, (1, 0b00000): 1, (0, 0b01010): 2, (0, 0b10000): 3,
          (0, 0b10100): 4, (1, 0b10100): 5}


def trans_shift_imm(c, a):
    if a.immh == 0:
        return c.undef()  # the modified-immediate class, matched by its own line
    kind = SHIFTS.get((a.U, a.op))
    esize = 8 << (a.immh.bit_length() - 1)
    immhb = (a.immh << 3) | a.immb
    if kind is None or (esize == 64 and (not a.Q or kind >= 3)):
        return c.undef()
    shift = immhb - esize if kind in (2, 4, 5) else 2 * esize - immhb
    vcall(c, "shift", _shift, a.rd, (a.rd, a.rn), a.rn, kind, esize, shift, a.Q)


# --- modified immediate --------------------------------------------------------------------
def _mod_imm(cpu, d, kind, imm64, q):
    v = imm64 | (imm64 << 64) if q else imm64
    old = V.get(cpu, d)
    if kind == 1:
        v = ~v & (V.M128 if q else V.M64)
    elif kind == 2:
        v = old | v
    elif kind == 3:
        v = old & ~v
    V.put(cpu, d, v, q)


def trans_mod_imm(c, a):
    """MOVI, MVNI, ORR, BIC (vector, immediate)."""
    imm8 = (a.abc << 5) | a.defgh
    cmode, op = a.cmode, a.U
    if a.o0:
        return c.undef()  # FMOV (vector, immediate) of half precision: not implemented
    if cmode == 0b1111:  # FMOV (vector, immediate): single or double lanes
        if op and not a.Q:
            return c.undef()
        imm = V.replicate(fpu.expand_imm(imm8, op), 64 if op else 32) & V.M64
        return vcall(c, "movi", _mod_imm, a.rd, (a.rd,), 0, imm, a.Q)
    imm = V.expand_imm(op, cmode, imm8)
    if imm is None:
        return c.undef()
    if cmode < 0b1100 and cmode & 1:  # ORR / BIC
        kind = 3 if op else 2
    elif cmode >= 0b1110:
        kind = 0  # MOVI 8-bit / 64-bit
    else:
        kind = 1 if op else 0
    vcall(c, "movi", _mod_imm, a.rd, (a.rd,), kind, imm, a.Q)


# --- copies ---------------------------------------------------------------------------------
def _elt(imm5: int) -> tuple[int, int]:
    """(esize, index) of an imm5 element selector; esize 0 for a reserved one."""
    low = (imm5 & -imm5).bit_length() - 1 if imm5 else 5
    if low > 3:
        return 0, 0
    return 8 << low, imm5 >> (low + 1)


def _dup(cpu, d, value, esize, q):
    V.put(cpu, d, V.replicate(value & ((1 << esize) - 1), esize), q)


def trans_dup_gen(c, a):
    esize, _ = _elt(a.imm)
    if not esize or (esize == 64 and not a.Q):
        return c.undef()
    vcall(c, "dup", _dup, a.rd, (), c.x(a.rn), esize, a.Q)


def _dup_elt(cpu, d, n, esize, index, q):
    _dup(cpu, d, V.get(cpu, n) >> (index * esize), esize, q)


def trans_dup_elt(c, a):
    esize, index = _elt(a.imm)
    if not esize or (esize == 64 and not a.Q):
        return c.undef()
    vcall(c, "dup_elt", _dup_elt, a.rd, (a.rn,), a.rn, esize, index, a.Q)


def _dup_scalar(cpu, d, n, esize, index):
    V.put(cpu, d, (V.get(cpu, n) >> (index * esize)) & ((1 << esize) - 1))


def trans_dup_scalar(c, a):
    """DUP (element, scalar), alias MOV Sd, Vn.S[i]: one element, the rest zero."""
    esize, index = _elt(a.imm)
    if not esize:
        return c.undef()
    vcall(c, "dup_scalar", _dup_scalar, a.rd, (a.rn,), a.rn, esize, index)


def _read_elt(cpu, n, esize, index, sign):
    v = (V.get(cpu, n) >> (index * esize)) & ((1 << esize) - 1)
    return V.signed(v, esize) & V.M64 if sign else v


def _move_out(signed: bool):
    def trans(c, a):
        esize, index = _elt(a.imm)
        if not esize or (signed and esize >= (64 if a.Q else 32)) or \
                (not signed and (esize == 64) != bool(a.Q)):
            return c.undef()
        h = Helper("V_read_elt", _read_elt, raises=False, pure=False,
                   reads=(V_LO[a.rn], V_HI[a.rn]))
        t = c.temp()
        c.call(h, t, a.rn, esize, index, int(signed))
        c.set_reg(a.rd, a.Q if signed else 1, t)
    return trans


trans_umov, trans_smov = _move_out(False), _move_out(True)


def _insert(cpu, d, value, esize, index):
    m = ((1 << esize) - 1) << (index * esize)
    V.put(cpu, d, (V.get(cpu, d) & ~m) | ((value << (index * esize)) & m))


def trans_ins_gen(c, a):
    esize, index = _elt(a.imm)
    if not esize:
        return c.undef()
    vcall(c, "ins", _insert, a.rd, (a.rd,), c.x(a.rn), esize, index)


def _ins_elt(cpu, d, n, esize, di, si):
    _insert(cpu, d, (V.get(cpu, n) >> (si * esize)) & ((1 << esize) - 1), esize, di)


def trans_ins_elt(c, a):
    esize, index = _elt(a.imm)
    if not esize:
        return c.undef()
    si = a.imm2 >> (esize.bit_length() - 4)
    vcall(c, "ins_elt", _ins_elt, a.rd, (a.rd, a.rn), a.rn, esize, index, si)


def _ext(cpu, d, n, m, pos, q):
    width = 128 if q else 64
    both = V.get(cpu, n) & ((1 << width) - 1) | ((V.get(cpu, m) & ((1 << width) - 1)) << width)
    V.put(cpu, d, both >> (8 * pos), q)


def trans_ext(c, a):
    if not a.Q and a.imm2 & 8:
        return c.undef()
    vcall(c, "ext", _ext, a.rd, (a.rn, a.rm), a.rn, a.rm, a.imm2, a.Q)


def _permute(cpu, d, n, m, op, esize, q):
    count = (128 if q else 64) // esize
    x, y = V.lanes(V.get(cpu, n), esize, count), V.lanes(V.get(cpu, m), esize, count)
    name, part = PERMUTE[op][:3], int(PERMUTE[op][3]) - 1
    half = count // 2
    if name == "zip":
        base = part * half
        out = [e for i in range(half) for e in (x[base + i], y[base + i])]
    elif name == "uzp":
        both = x + y
        out = [both[2 * i + part] for i in range(count)]
    else:  # trn
        out = [e for i in range(half) for e in (x[2 * i + part], y[2 * i + part])]
    V.put(cpu, d, V.pack(out, esize), q)


def trans_permute(c, a):
    if a.op not in PERMUTE or (a.size == 3 and not a.Q):
        return c.undef()
    vcall(c, "permute", _permute, a.rd, (a.rn, a.rm), a.rn, a.rm, a.op, 8 << a.size, a.Q)


def _tbl(cpu, d, n, m, length, tbx, q):
    table = b"".join(V.get(cpu, (n + i) % 32).to_bytes(16, "little") for i in range(length))
    idx = V.get(cpu, m).to_bytes(16, "little")
    old = V.get(cpu, d).to_bytes(16, "little")
    out = bytes(table[i] if i < len(table) else (old[k] if tbx else 0)
                for k, i in enumerate(idx))
    V.put(cpu, d, int.from_bytes(out, "little"), q)


def trans_tbl(c, a):
    length = a.imm2 + 1
    srcs = tuple((a.rn + i) % 32 for i in range(length)) + (a.rm, a.rd)
    vcall(c, "tbl", _tbl, a.rd, srcs, a.rn, a.rm, length, a.op, a.Q)


# --- vector x indexed element ------------------------------------------------------------------
#: (U, opcode) -> operation of the integer by-element group
BY_ELEM = {(0, 0b1000): "mul", (1, 0b0000): "mla", (1, 0b0100): "mls",
           (0, 0b1010): "smull", (1, 0b1010): "umull", (0, 0b0010): "smlal",
           (1, 0b0010): "umlal", (0, 0b0110): "smlsl", (1, 0b0110): "umlsl"}
#: opcode (U=0, size 1x) -> operation of the FP by-element group
FP_BY_ELEM = {0b1001: "fmul", 0b0001: "fmla", 0b0101: "fmls"}
BY_ELEM_OPS = sorted(set(BY_ELEM.values()) | set(FP_BY_ELEM.values()))


def _by_elem(cpu, d, n, m, op, esize, index, q):
    name = BY_ELEM_OPS[op]
    e = (V.get(cpu, m) >> (index * esize)) & ((1 << esize) - 1)
    x = V.get(cpu, n)
    acc = V.get(cpu, d)
    if name.startswith("f"):
        from pemu.target.arm.insn_simd_fp import _fp_lane
        count = (128 if q else 64) // esize
        dbl = esize == 64
        xs, accs = V.lanes(x, esize, count), V.lanes(acc, esize, count)
        lane_op = {"fmul": "mul", "fmla": "mla", "fmls": "mls"}[name]
        out = [_fp_lane(cpu, lane_op, xs[i], e, accs[i], dbl) for i in range(count)]
        V.put(cpu, d, V.pack(out, esize), q)
    elif name in ("mul", "mla", "mls"):
        count = (128 if q else 64) // esize
        prods = [v * e for v in V.lanes(x, esize, count)]
        if name != "mul":
            sign = 1 if name == "mla" else -1
            prods = [a + sign * p for a, p in zip(V.lanes(acc, esize, count), prods,
                                                   strict=True)]
        V.put(cpu, d, V.pack(prods, esize), q)
    else:  # the long forms: the lower (Q=0) or upper half, widened
        count = 64 // esize
        signed = name[0] == "s"
        half = V.lanes(x >> 64 if q else x, esize, count)
        if signed:
            half, e = [V.signed(v, esize) for v in half], V.signed(e, esize)
        prods = [v * e for v in half]
        if name[1:4] in ("mla", "mls"):
            sign = 1 if name[1:4] == "mla" else -1
            prods = [a + sign * p for a, p in zip(V.lanes(acc, 2 * esize, count), prods,
                                                   strict=True)]
        V.put(cpu, d, V.pack(prods, 2 * esize))


def trans_by_elem(c, a):
    """MUL, MLA, MLS, [SU]MULL(2), [SU]MLAL(2), [SU]MLSL(2), FMUL, FMLA, FMLS
    (by element)."""
    fp = a.U == 0 and a.op in FP_BY_ELEM and a.size >> 1
    if fp:
        name = FP_BY_ELEM[a.op]
        dbl = a.size & 1
        if dbl and (a.L or not a.Q):
            return c.undef()
        esize = 64 if dbl else 32
        index = a.H if dbl else (a.H << 1) | a.L
        rm = (a.M << 4) | a.rm
    else:
        name = BY_ELEM.get((a.U, a.op))
        if name is None or a.size not in (1, 2):
            return c.undef()  # SQDMULH and friends, or byte/doubleword lanes
        esize = 8 << a.size
        if a.size == 1:
            index, rm = (a.H << 2) | (a.L << 1) | a.M, a.rm
        else:
            index, rm = (a.H << 1) | a.L, (a.M << 4) | a.rm
    vcall(c, "by_elem", _by_elem, a.rd, (a.rd, a.rn, rm), a.rn, rm, BY_ELEM_OPS.index(name),
          esize, index, a.Q, fp=bool(fp))
