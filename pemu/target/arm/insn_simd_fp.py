"""A64 Advanced SIMD floating point (vector forms) and the scalar pairwise
reductions: what gcc's vectoriser emits for float/double loops. Lanes go
through the scalar IEEE code of fpu.py, so each lane rounds exactly as the
scalar instruction does."""
from __future__ import annotations

from pemu.target.arm import fpu
from pemu.target.arm import vector as V
from pemu.target.arm.insn_simd import vcall

TABLE = """
fp_three    0 q u 01110 zz 1 mmmmm 11 PPP 1 nnnnn ddddd
fp_three_s  01 u 11110 zz 1 mmmmm 11 PPP 1 nnnnn ddddd
pair_scalar 01 u 11110 zz 11000 PPPPP 10 nnnnn ddddd
"""
#: the q argument of a lane helper that means "scalar": one lane, the rest zero
SCALAR = 2

#: (U, a, opcode<2:0>) of FP three-same -> operation
FP_THREE = {
    (0, 0, 0b000): "maxnm", (0, 0, 0b001): "mla", (0, 0, 0b010): "add",
    (0, 0, 0b100): "cmeq", (0, 0, 0b110): "max",
    (0, 1, 0b000): "minnm", (0, 1, 0b001): "mls", (0, 1, 0b010): "sub", (0, 1, 0b110): "min",
    (1, 0, 0b010): "addp", (1, 0, 0b011): "mul", (1, 0, 0b100): "cmge", (1, 0, 0b101): "acge",
    (1, 0, 0b110): "maxp", (1, 0, 0b111): "div", (1, 0, 0b000): "maxnmp",
    (1, 1, 0b010): "abd", (1, 1, 0b100): "cmgt", (1, 1, 0b101): "acgt", (1, 1, 0b110): "minp",
    (1, 1, 0b000): "minnmp",
}
FP_THREE_OPS = sorted(set(FP_THREE.values()))
#: fpu.binary opcodes of the arithmetic
BINARY = {"mul": 0b0000, "div": 0b0001, "add": 0b0010, "sub": 0b0011, "max": 0b0100,
          "min": 0b0101, "maxnm": 0b0110, "minnm": 0b0111}
PAIR_BASE = {"addp": "add", "maxp": "max", "minp": "min", "maxnmp": "maxnm",
             "minnmp": "minnm"}


def _fp_lane(c, name: str, x: int, y: int, acc: int, dbl: bool) -> int:
    esize = 64 if dbl else 32
    ones = (1 << esize) - 1
    if name in BINARY:
        return fpu.binary(c, BINARY[name], x, y, dbl)
    if name == "mla":
        return fpu.fused(c, acc, x, y, 0, 0, dbl)
    if name == "mls":
        return fpu.fused(c, acc, x, y, 0, 1, dbl)
    if name == "abd":
        return fpu.unary(c, 1, fpu.binary(c, 0b0011, x, y, dbl), dbl)
    if name in ("acge", "acgt"):
        x, y = fpu.unary(c, 1, x, dbl), fpu.unary(c, 1, y, dbl)
    # FCMEQ is a quiet comparison, the ordered ones signal on any NaN
    nzcv = fpu.compare(c, x, y, dbl, int(name != "cmeq")) >> 28
    if nzcv == 0b0011:  # unordered: every comparison is false
        return 0
    holds = {"cmeq": nzcv == 0b0110, "cmge": nzcv in (0b0110, 0b0010),
             "acge": nzcv in (0b0110, 0b0010), "cmgt": nzcv == 0b0010,
             "acgt": nzcv == 0b0010}[name]
    return ones if holds else 0


def _fp_three(cpu, d, n, m, op, dbl, q):
    name = FP_THREE_OPS[op]
    esize = 64 if dbl else 32
    count = 1 if q == SCALAR else (128 if q else 64) // esize
    x, y = V.lanes(V.get(cpu, n), esize, count), V.lanes(V.get(cpu, m), esize, count)
    if name in PAIR_BASE:
        both = x + y
        base = PAIR_BASE[name]
        out = [_fp_lane(cpu, base, both[2 * i], both[2 * i + 1], 0, dbl) for i in range(count)]
    else:
        acc = V.lanes(V.get(cpu, d), esize, count)
        out = [_fp_lane(cpu, name, x[i], y[i], acc[i], dbl) for i in range(count)]
    V.put(cpu, d, V.pack(out, esize), 0 if q == SCALAR else q)


def trans_fp_three(c, a):
    name = FP_THREE.get((a.U, a.size >> 1, a.op))
    dbl = a.size & 1
    if name is None or (dbl and not a.Q):
        return c.undef()
    vcall(c, "fp_three", _fp_three, a.rd, (a.rd, a.rn, a.rm), a.rn, a.rm,
          FP_THREE_OPS.index(name), dbl, a.Q, fp=True)


#: (U, a, opcode) of the FP two-register misc group -> operation
FP_MISC = {
    (0, 1, 0b01111): "abs", (1, 1, 0b01111): "neg", (1, 1, 0b11111): "sqrt",
    (0, 0, 0b11101): "scvtf", (1, 0, 0b11101): "ucvtf",
    (0, 1, 0b11011): "fcvtzs", (1, 1, 0b11011): "fcvtzu",
    (0, 0, 0b11010): "fcvtns", (1, 0, 0b11010): "fcvtnu",
    (0, 0, 0b11011): "fcvtms", (0, 1, 0b11010): "fcvtps", (0, 0, 0b11100): "fcvtas",
    (0, 0, 0b11000): "frintn", (0, 0, 0b11001): "frintm", (0, 1, 0b11000): "frintp",
    (0, 1, 0b11001): "frintz", (1, 0, 0b11000): "frinta", (1, 0, 0b11001): "frintx",
    (1, 1, 0b11001): "frinti",
    (0, 1, 0b01100): "cmgt0", (1, 1, 0b01100): "cmge0", (0, 1, 0b01101): "cmeq0",
    (1, 1, 0b01101): "cmle0", (0, 1, 0b01110): "cmlt0",
    (0, 0, 0b10110): "fcvtn", (0, 0, 0b10111): "fcvtl",
}
FP_MISC_OPS = sorted(set(FP_MISC.values()))
#: FCVT?/FRINT? letter -> rounding index (fpu.MODES, or FPCR's mode)
ROUNDING = {"n": 0, "p": 1, "m": 2, "z": 3, "a": 4, "x": fpu.FPCR_MODE, "i": fpu.FPCR_MODE}


def trans_fp_three_s(c, a):
    """The scalar forms: FABD, FCMEQ, FCMGE, FCMGT, FACGE, FACGT (Sd or Dd)."""
    name = FP_THREE.get((a.U, a.size >> 1, a.op))
    if name not in ("abd", "cmeq", "cmge", "cmgt", "acge", "acgt"):
        return c.undef()
    vcall(c, "fp_three", _fp_three, a.rd, (a.rd, a.rn, a.rm), a.rn, a.rm,
          FP_THREE_OPS.index(name), a.size & 1, SCALAR, fp=True)


def _misc_lane(c, name: str, x: int, dbl: bool) -> int:
    esize = 64 if dbl else 32
    if name in ("abs", "neg", "sqrt"):
        return fpu.unary(c, {"abs": 1, "neg": 2, "sqrt": 3}[name], x, dbl)
    if name in ("scvtf", "ucvtf"):
        return fpu.from_int(c, x, esize, int(name == "ucvtf"), dbl)
    if name.startswith("fcvt"):
        return fpu.to_int(c, x, dbl, esize, int(name[-1] == "u"), ROUNDING[name[4]])
    if name.startswith("frint"):
        return fpu.round_to_integral(c, x, dbl, ROUNDING[name[5]], int(name == "frintx"))
    nzcv = fpu.compare(c, x, 0, dbl, int(name != "cmeq0")) >> 28
    if nzcv == 0b0011:
        return 0
    holds = {"cmgt0": nzcv == 0b0010, "cmge0": nzcv in (0b0010, 0b0110),
             "cmeq0": nzcv == 0b0110, "cmle0": nzcv in (0b0110, 0b1000),
             "cmlt0": nzcv == 0b1000}[name]
    return (1 << esize) - 1 if holds else 0


def _fp_misc(cpu, d, n, op, dbl, q):
    name = FP_MISC_OPS[op]
    x = V.get(cpu, n)
    if name == "fcvtn":  # double lanes -> single, into the lower or upper half
        half = V.pack([fpu.convert(cpu, e, 1) for e in V.lanes(x, 64, 2)], 32)
        V.put(cpu, d, (V.get(cpu, d) & V.M64) | (half << 64) if q else half)
        return
    if name == "fcvtl":  # single lanes of the lower or upper half -> double
        src = x >> 64 if q else x
        V.put(cpu, d, V.pack([fpu.convert(cpu, e, 0) for e in V.lanes(src, 32, 2)], 64))
        return
    esize = 64 if dbl else 32
    count = 1 if q == SCALAR else (128 if q else 64) // esize
    V.put(cpu, d, V.pack([_misc_lane(cpu, name, e, bool(dbl))
                          for e in V.lanes(x, esize, count)], esize), 0 if q == SCALAR else q)


def trans_fp_misc(c, a, scalar: bool = False) -> bool:
    """The FP half of the two-register misc group (its line is insn_simd's
    two_misc, which hands FP encodings here); False if `a` is not one."""
    name = FP_MISC.get((a.U, a.size >> 1, a.op))
    dbl = a.size & 1
    if name is None:
        return False
    if scalar:
        if name in ("fcvtn", "fcvtl", "abs", "neg", "sqrt") or name.startswith("frint"):
            return False  # no scalar form in this group
        vcall(c, "fp_misc", _fp_misc, a.rd, (a.rd, a.rn), a.rn, FP_MISC_OPS.index(name), dbl,
              SCALAR, fp=True)
        return True
    if (not dbl if name in ("fcvtn", "fcvtl") else dbl and not a.Q):
        c.undef()  # half-precision conversions, or a 1D vector: not implemented / reserved
        return True
    vcall(c, "fp_misc", _fp_misc, a.rd, (a.rd, a.rn), a.rn, FP_MISC_OPS.index(name), dbl,
          a.Q, fp=True)
    return True


def _pair_scalar(cpu, d, n, kind, dbl):
    x = V.get(cpu, n)
    if kind == 0:  # ADDP Dd, Vn.2D
        V.put(cpu, d, (x + (x >> 64)) & V.M64)
        return
    esize = 64 if dbl else 32
    e0, e1 = V.lanes(x, esize, 2)
    name = ("add", "max", "min", "maxnm", "minnm")[kind - 1]
    V.put(cpu, d, _fp_lane(cpu, name, e0, e1, 0, bool(dbl)))


#: (U, a, opcode) of the scalar pairwise group -> kind for _pair_scalar
PAIR_SCALAR = {(0, 0b11011): 0, (1, 0b01101): 1, (1, 0b01111): 2, (1, 0b01111 | 0x20): 3,
               (1, 0b01100): 4, (1, 0b01100 | 0x20): 5}


def trans_pair_scalar(c, a):
    """ADDP (scalar), FADDP, FMAXP, FMINP, FMAXNMP, FMINNMP (scalar)."""
    if a.U == 0:
        if a.op != 0b11011 or a.size != 3:
            return c.undef()
        return vcall(c, "pair_scalar", _pair_scalar, a.rd, (a.rn,), a.rn, 0, 1)
    key = (1, a.op | (0x20 if a.size >> 1 else 0))
    kind = PAIR_SCALAR.get(key)
    if kind is None:
        return c.undef()
    vcall(c, "pair_scalar", _pair_scalar, a.rd, (a.rn,), a.rn, kind, a.size & 1, fp=True)
