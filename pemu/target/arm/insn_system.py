"""A64 branches, exception generation and system instructions (Arm ARM
C4.1.87): B, BL, B.cond, CBZ/CBNZ, TBZ/TBNZ, BR/BLR/RET, SVC/BRK, hints,
barriers, MRS/MSR of the EL0 system registers, DC ZVA."""
from __future__ import annotations

from pemu.target.arm.decode import sext
from pemu.target.arm.translate import (
    CF,
    FPCR,
    FPSR,
    NF,
    TPIDR_EL0,
    VF,
    ZF,
    method,
)

TABLE = """
b        0 00101 iiiiiiiiiiiiiiiiiiiiiiiiii
bl       1 00101 iiiiiiiiiiiiiiiiiiiiiiiiii
b_cond   0101010 0 iiiiiiiiiiiiiiiiiii 0 cccc
cbz      s 011010 0 iiiiiiiiiiiiiiiiiii ttttt
cbnz     s 011010 1 iiiiiiiiiiiiiiiiiii ttttt
tbz      b 011011 0 BBBBB iiiiiiiiiiiiii ttttt
tbnz     b 011011 1 BBBBB iiiiiiiiiiiiii ttttt
br       1101011 0000 11111 000000 nnnnn 00000
blr      1101011 0001 11111 000000 nnnnn 00000
ret      1101011 0010 11111 000000 nnnnn 00000
svc      11010100 000 iiiiiiiiiiiiiiii 000 01
brk      11010100 001 iiiiiiiiiiiiiiii 000 00
hint     1101010100 0 00 011 0010 gggg vvv 11111
barrier  1101010100 0 00 011 0011 gggg vvv 11111
sys      1101010100 0 01 yyyyyyyyyyyyyy ttttt
msr      1101010100 0 1 yyyyyyyyyyyyyyy ttttt
mrs      1101010100 1 1 yyyyyyyyyyyyyyy ttttt
"""


def _sysreg(op0: int, op1: int, crn: int, crm: int, op2: int) -> int:
    """The 15-bit o0:op1:CRn:CRm:op2 field of MRS/MSR for op0 = 2 or 3."""
    return ((op0 - 2) << 14) | (op1 << 11) | (crn << 7) | (crm << 3) | op2


NZCV = _sysreg(3, 3, 4, 2, 0)
#: system registers EL0 reads or writes in IR (kept as globals)
GLOBAL_SYSREGS = {
    _sysreg(3, 3, 13, 0, 2): TPIDR_EL0,
    _sysreg(3, 3, 4, 4, 0): FPCR,
    _sysreg(3, 3, 4, 4, 1): FPSR,
}
#: system registers read through the CPU (values computed there)
CPU_SYSREGS = {
    _sysreg(3, 3, 0, 0, 1): "ctr_el0",
    _sysreg(3, 3, 0, 0, 7): "dczid_el0",
    _sysreg(3, 3, 13, 0, 3): "tpidrro_el0",
    _sysreg(3, 3, 14, 0, 0): "cntfrq_el0",
    _sysreg(3, 3, 14, 0, 1): "cntpct_el0",
    _sysreg(3, 3, 14, 0, 2): "cntvct_el0",
}
H_READ_SYSREG = method("read_sysreg")
H_DC_ZVA = method("dc_zva")
H_CLREX = method("clear_exclusive", raises=False)
DC_ZVA = (3, 7, 4, 1)  # op1, CRn, CRm, op2


# --- branches ---------------------------------------------------------------------------
def trans_b(c, a):
    c.jump(c.pc + 4 * sext(a.imm, 26))


def trans_bl(c, a):
    c.set_reg(30, 1, c.next_pc)
    c.jump(c.pc + 4 * sext(a.imm, 26))


def trans_b_cond(c, a):
    target = c.pc + 4 * sext(a.imm, 19)
    if a.cond >= 14:
        return c.jump(target)
    cond, x, y = c.cond(a.cond)
    c.branch(cond, x, y, target)


def trans_cbz(c, a):
    c.branch("eq", c.src(a.rt, a.sf), 0, c.pc + 4 * sext(a.imm, 19))


def trans_cbnz(c, a):
    c.branch("ne", c.src(a.rt, a.sf), 0, c.pc + 4 * sext(a.imm, 19))


def _tb(cond: str):
    def trans(c, a):
        bit = (a.b5 << 5) | a.b40
        c.branch(cond, c.op("and", c.x(a.rt), 1 << bit), 0, c.pc + 4 * sext(a.imm, 14))
    return trans


trans_tbz, trans_tbnz = _tb("eq"), _tb("ne")


def trans_br(c, a):
    c.end(c.x(a.rn))


def trans_blr(c, a):
    target = c.op("mov", c.x(a.rn))
    c.set_reg(30, 1, c.next_pc)
    c.end(target)


trans_ret = trans_br


# --- exceptions ----------------------------------------------------------------------------
def trans_svc(c, a):
    c.svc(a.imm)


def trans_brk(c, a):
    c.brk(a.imm)


# --- hints, barriers, system ------------------------------------------------------------------
def trans_hint(c, a):
    """NOP, YIELD, WFE, WFI, SEV, the pointer-authentication and BTI hints
    (pemu offers neither PAuth nor BTI, so they are NOPs, as architected)."""


def trans_barrier(c, a):
    if a.op2 == 2:  # CLREX
        c.call(H_CLREX, None)
    elif a.op2 not in (4, 5, 6, 7):  # DSB, DMB, ISB, SB: one thread at a time
        c.undef()


def trans_sys(c, a):
    """DC/IC cache maintenance: only DC ZVA has an effect EL0 can see."""
    key = (a.sysreg >> 11, (a.sysreg >> 7) & 15, (a.sysreg >> 3) & 15, a.sysreg & 7)
    if key == DC_ZVA:
        c.call(H_DC_ZVA, None, c.x(a.rt))
    elif key[0] != 3 or key[1] != 7:
        c.undef()


def trans_mrs(c, a):
    if a.sysreg == NZCV:
        n = c.op("shl", c.op("shr", NF, 63), 31)
        z = c.op("shl", c.op("setcond_eq", ZF, 0), 30)
        cv = c.op("or", c.op("shl", CF, 29), c.op("shl", c.op("shr", VF, 63), 28))
        return c.set_reg(a.rt, 1, c.op("or", c.op("or", n, z), cv))
    g = GLOBAL_SYSREGS.get(a.sysreg)
    if g is not None:
        return c.set_reg(a.rt, 1, g)
    if a.sysreg not in CPU_SYSREGS:
        return c.undef()
    t = c.temp()
    c.call(H_READ_SYSREG, t, a.sysreg)
    c.set_reg(a.rt, 1, t)


def trans_msr(c, a):
    v = c.x(a.rt)
    if a.sysreg == NZCV:
        return c.set_nzcv(v)
    g = GLOBAL_SYSREGS.get(a.sysreg)
    if g is None:
        return c.undef()
    c.ir.mov(g, v)

