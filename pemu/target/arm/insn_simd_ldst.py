"""A64 loads and stores of SIMD&FP registers (Arm ARM C4.1.90): B/H/S/D/Q
with unsigned offset, unscaled, pre/post-index, register offset, literal,
pairs, and LD1/ST1 of one to four whole registers. Little-endian, so a
register's bytes are memory's bytes in order whatever the element size."""
from __future__ import annotations

from pemu.target.arm import vector as V
from pemu.target.arm.decode import sext
from pemu.target.arm.insn_dp_reg import extended
from pemu.target.arm.translate import M64, V_HI, V_LO
from pemu.tcg.ir import Helper

TABLE = """
fp_uimm   zz 111 1 01 pp iiiiiiiiiiii nnnnn ttttt
fp_imm9   zz 111 1 00 pp 0 iiiiiiiii kk nnnnn ttttt
fp_reg    zz 111 1 00 pp 1 mmmmm ooo S 10 nnnnn ttttt
fp_lit    pp 011 1 00 iiiiiiiiiiiiiiiiiii ttttt
fp_pair   pp 101 1 0 kk L iiiiiii TTTTT nnnnn ttttt
ld1st1    0 q 0011000 L 000000 PPPP zz nnnnn ttttt
ld1st1_post 0 q 0011001 L 0 mmmmm PPPP zz nnnnn ttttt
ld1_lane    0 q 0011010 L 0 00000 PPP S zz nnnnn ttttt
ld1_lane_post 0 q 0011011 L 0 mmmmm PPP S zz nnnnn ttttt
"""

POST, PRE = 1, 3
LD1_REGS = {0b0111: 1, 0b1010: 2, 0b0110: 3, 0b0010: 4}
#: LD2/ST2, LD3/ST3, LD4/ST4 (multiple structures): opcode -> registers interleaved
LDN_REGS = {0b1000: 2, 0b0100: 3, 0b0000: 4}


def load_vreg(c, n: int, addr, size: int) -> None:
    """V[n] = the `size` bytes at addr, zero-extended to 128 bits."""
    if size == 16:
        lo, hi = c.temp(), c.temp()
        c.load(lo, addr, 8)
        c.load(hi, c.op("add", addr, 8), 8)
        c.ir.mov(V_LO[n], lo)
        c.ir.mov(V_HI[n], hi)
    else:
        t = c.temp()
        c.load(t, addr, size)
        c.ir.mov(V_LO[n], t)
        c.ir.mov(V_HI[n], 0)


def store_vreg(c, n: int, addr, size: int) -> None:
    c.store(V_LO[n], addr, min(size, 8))
    if size == 16:
        c.store(V_HI[n], c.op("add", addr, 8), 8)


def _size(a) -> int | None:
    """Bytes accessed by a size:opc pair (Q when opc<1> is set with size 0)."""
    if a.opc & 2:
        return 16 if a.size == 0 else None
    return 1 << a.size


def _access(c, a, addr, size: int) -> None:
    if a.opc & 1:
        load_vreg(c, a.rt, addr, size)
    else:
        store_vreg(c, a.rt, addr, size)


def trans_fp_uimm(c, a):
    size = _size(a)
    if size is None:
        return c.undef()
    base = c.xsp(a.rn)
    _access(c, a, c.op("add", base, a.imm * size) if a.imm else base, size)


def trans_fp_imm9(c, a):
    size = _size(a)
    if size is None or a.idx == 2:
        return c.undef()
    off = sext(a.imm, 9)
    base = c.op("mov", c.xsp(a.rn))
    addr = base if a.idx == POST else c.op("add", base, off)
    _access(c, a, addr, size)
    if a.idx in (POST, PRE):
        c.set_reg(a.rn, 1, c.op("add", base, off) if a.idx == POST else addr, sp=True)


def trans_fp_reg(c, a):
    size = _size(a)
    if size is None or not a.option & 2:
        return c.undef()
    shift = (size.bit_length() - 1) if a.S else 0
    _access(c, a, c.op("add", c.xsp(a.rn), extended(c, a.rm, a.option, shift)), size)


def trans_fp_lit(c, a):
    if a.opc == 3:
        return c.undef()
    size = 4 << a.opc
    load_vreg(c, a.rt, c.op("mov", (c.pc + 4 * sext(a.imm, 19)) & M64), size)


def trans_fp_pair(c, a):
    if a.opc == 3:
        return c.undef()
    size = 4 << a.opc
    off = sext(a.imm, 7) * size
    base = c.op("mov", c.xsp(a.rn))
    addr = base if a.idx == POST else (c.op("add", base, off) if off else base)
    addr2 = c.op("add", addr, size)
    if a.L:
        if a.rt == a.rt2:
            return c.undef()
        # load both before writing either, so a fault leaves the registers alone
        parts = []
        for ad in (addr, addr2):
            for k in range(size // 8 or 1):
                t = c.temp()
                c.load(t, c.op("add", ad, 8 * k) if k else ad, min(size, 8))
                parts.append(t)
        half = len(parts) // 2
        for reg, vals in ((a.rt, parts[:half]), (a.rt2, parts[half:])):
            c.ir.mov(V_LO[reg], vals[0])
            c.ir.mov(V_HI[reg], vals[1] if len(vals) > 1 else 0)
    else:
        store_vreg(c, a.rt, addr, size)
        store_vreg(c, a.rt2, addr2, size)
    if a.idx in (POST, PRE):
        c.set_reg(a.rn, 1, c.op("add", base, off) if a.idx == POST else addr, sp=True)


def _ldn(cpu, t: int, addr: int, nregs: int, esize: int, q: int, load: int) -> None:
    """LDn/STn: element e of register t+r is at addr + (e*nregs + r) * esize/8."""
    count = (128 if q else 64) // esize
    step = esize // 8
    regs = [(t + r) % 32 for r in range(nregs)]
    if load:
        lanes = [[0] * count for _ in regs]
        for e in range(count):
            for r in range(nregs):
                lanes[r][e] = cpu.load_slow(addr + (e * nregs + r) * step, step, 0)
        for r, reg in enumerate(regs):
            V.put(cpu, reg, V.pack(lanes[r], esize), q)
        return
    values = [V.lanes(V.get(cpu, reg), esize, count) for reg in regs]
    for e in range(count):
        for r in range(nregs):
            cpu.store_slow(addr + (e * nregs + r) * step, step, values[r][e])


def _ldn_call(c, a, nregs: int, base) -> None:
    regs = [(a.rt + r) % 32 for r in range(nregs)]
    halves = tuple(g for reg in regs for g in (V_LO[reg], V_HI[reg]))
    h = Helper("V_ldn", _ldn, reads=() if a.L else halves, writes=halves if a.L else ())
    c.call(h, None, a.rt, base, nregs, 8 << a.size, a.Q, a.L)


def _ld1st1(c, a, post: bool) -> None:
    nregs = LD1_REGS.get(a.op)
    size = 16 if a.Q else 8
    base = c.op("mov", c.xsp(a.rn))
    if nregs is None:
        nregs = LDN_REGS.get(a.op)
        if nregs is None or (a.size == 3 and not a.Q):
            return c.undef()
        _ldn_call(c, a, nregs, base)
        if post:
            step = nregs * size if a.rm == 31 else c.x(a.rm)
            c.set_reg(a.rn, 1, c.op("add", base, step), sp=True)
        return
    for i in range(nregs):
        addr = c.op("add", base, i * size) if i else base
        reg = (a.rt + i) % 32
        if a.L:
            load_vreg(c, reg, addr, size)
        else:
            store_vreg(c, reg, addr, size)
    if post:
        step = nregs * size if a.rm == 31 else c.x(a.rm)
        c.set_reg(a.rn, 1, c.op("add", base, step), sp=True)


def trans_ld1st1(c, a):
    _ld1st1(c, a, False)


def trans_ld1st1_post(c, a):
    _ld1st1(c, a, True)


# --- single structures: LD1/ST1 (one lane), LD1R (replicate) ---------------------------------
REPLICATE = 255  # the lane index that means LD1R


def _lane_access(cpu, t: int, addr: int, esize: int, index: int, load: int, q: int) -> None:
    step = esize // 8
    if index == REPLICATE:  # LD1R: one element to every lane
        V.put(cpu, t, V.replicate(cpu.load_slow(addr, step, 0), esize), q)
        return
    shift = index * esize
    mask = ((1 << esize) - 1) << shift
    if load:
        v = cpu.load_slow(addr, step, 0)
        V.put(cpu, t, (V.get(cpu, t) & ~mask) | (v << shift))
    else:
        cpu.store_slow(addr, step, (V.get(cpu, t) & mask) >> shift)


def _ld1_lane(c, a, post: bool) -> None:
    """LD1/ST1 (single structure) and LD1R; LD2..LD4 of lanes are not implemented."""
    kind = a.op >> 1
    if a.op & 1:
        return c.undef()
    if kind == 3:  # LD1R
        if not a.L or a.S:
            return c.undef()
        esize, index = 8 << a.size, REPLICATE
    elif kind == 0:
        esize, index = 8, (a.Q << 3) | (a.S << 2) | a.size
    elif kind == 1:
        if a.size & 1:
            return c.undef()
        esize, index = 16, (a.Q << 2) | (a.S << 1) | (a.size >> 1)
    elif a.size == 0:
        esize, index = 32, (a.Q << 1) | a.S
    elif a.size == 1 and not a.S:
        esize, index = 64, a.Q
    else:
        return c.undef()
    base = c.op("mov", c.xsp(a.rn))
    halves = (V_LO[a.rt], V_HI[a.rt])
    h = Helper("V_lane", _lane_access, reads=halves,
               writes=halves if a.L else ())
    c.call(h, None, a.rt, base, esize, index, a.L, a.Q)
    if post:
        step = esize // 8 if a.rm == 31 else c.x(a.rm)
        c.set_reg(a.rn, 1, c.op("add", base, step), sp=True)


def trans_ld1_lane(c, a):
    _ld1_lane(c, a, False)


def trans_ld1_lane_post(c, a):
    _ld1_lane(c, a, True)
