"""A64 loads and stores of general-purpose registers (Arm ARM C4.1.90):
unsigned offset, unscaled, pre/post-index, register offset, literal,
pairs, exclusives, load-acquire/store-release, compare-and-swap."""
from __future__ import annotations

from pemu.target.arm.decode import sext
from pemu.target.arm.insn_dp_reg import extended
from pemu.target.arm.translate import M64, method

TABLE = """
ldst_uimm   zz 111 0 01 pp iiiiiiiiiiii nnnnn ttttt
ldst_imm9   zz 111 0 00 pp 0 iiiiiiiii kk nnnnn ttttt
ldst_reg    zz 111 0 00 pp 1 mmmmm ooo S 10 nnnnn ttttt
ldr_lit     pp 011 0 00 iiiiiiiiiiiiiiiiiii ttttt
ldst_pair   pp 101 0 0 kk L iiiiiii TTTTT nnnnn ttttt
stxr        zz 001000 0 0 0 eeeee R 11111 nnnnn ttttt
ldxr        zz 001000 0 1 0 11111 R 11111 nnnnn ttttt
stxp        1 z 001000 0 0 1 eeeee R TTTTT nnnnn ttttt
ldxp        1 z 001000 0 1 1 11111 R TTTTT nnnnn ttttt
stlr        zz 001000 1 0 0 11111 R 11111 nnnnn ttttt
ldar        zz 001000 1 1 0 11111 R 11111 nnnnn ttttt
cas         zz 001000 1 L 1 eeeee R 11111 nnnnn ttttt
atomic      zz 111 0 00 L R 1 eeeee O PPP 00 nnnnn ttttt
"""

H_LDXR = method("load_exclusive")
H_STXR = method("store_exclusive")
H_CAS = method("compare_and_swap")
H_ATOMIC = method("atomic_op")
#: LSE atomic memory operations (o3:opc) pemu implements, in CPU.atomic_op's numbering
ATOMIC_OPS = {0b0000: 0, 0b0001: 1, 0b0010: 2, 0b0011: 3, 0b0100: 4, 0b0101: 5,
              0b0110: 6, 0b0111: 7, 0b1000: 8}
H_LDXP_HIGH = method("exclusive_pair_high", raises=False)
H_STXP = method("store_exclusive_pair")
POST, UNPRIV, PRE = 1, 2, 3  # the idx field of the imm9 forms (0: unscaled)


def _access(c, a, addr) -> None:
    """The GPR load or store selected by size and opc (the LDR/STR family
    table): store, zero-extending load, sign-extending load to 64 or 32
    bits, or PRFM (no effect)."""
    size, opc = 1 << a.size, a.opc
    if opc == 0:
        c.store(c.x(a.rt), addr, size)
    elif opc == 1:
        t = c.temp()
        c.load(t, addr, size)
        c.set_reg(a.rt, 1, t)
    elif size == 8:
        pass  # PRFM (opc 2); opc 3 was refused by the caller
    else:
        t = c.temp()
        c.load(t, addr, size, signed=True)
        c.set_reg(a.rt, opc == 2, t)


def _reserved(a) -> bool:
    return a.opc == 3 and a.size >= 2


def trans_ldst_uimm(c, a):
    if _reserved(a):
        return c.undef()
    base = c.xsp(a.rn)
    addr = c.op("add", base, a.imm << a.size) if a.imm else base
    _access(c, a, addr)


def trans_ldst_imm9(c, a):
    if _reserved(a) or (a.idx != 0 and a.size == 3 and a.opc == 2):
        return c.undef()  # PRFM has no writeback forms (and PRFUM is idx 0)
    off = sext(a.imm, 9)
    base = c.xsp(a.rn)
    if a.idx == POST:
        b = c.op("mov", base)  # the address before the base changes
        _access(c, a, b)
        c.set_reg(a.rn, 1, c.op("add", b, off), sp=True)
        return
    addr = c.op("add", base, off)
    _access(c, a, addr)  # before the writeback: a faulting access changes nothing
    if a.idx == PRE:
        c.set_reg(a.rn, 1, addr, sp=True)


def trans_ldst_reg(c, a):
    if _reserved(a) or not a.option & 2:
        return c.undef()
    off = extended(c, a.rm, a.option, a.size if a.S else 0)
    _access(c, a, c.op("add", c.xsp(a.rn), off))


def trans_ldr_lit(c, a):
    addr = c.op("mov", (c.pc + 4 * sext(a.imm, 19)) & M64)
    if a.opc == 3:
        return  # PRFM (literal)
    t = c.temp()
    c.load(t, addr, 8 if a.opc == 1 else 4, signed=a.opc == 2)
    c.set_reg(a.rt, a.opc != 0, t)


def trans_ldst_pair(c, a):
    """STP, LDP, LDPSW (and the non-temporal STNP/LDNP: idx 0)."""
    if a.opc == 3 or (a.opc == 1 and not a.L):
        return c.undef()
    size = 8 if a.opc == 2 else 4
    off = sext(a.imm, 7) * size
    base = c.op("mov", c.xsp(a.rn))
    addr = base if a.idx == POST else (c.op("add", base, off) if off else base)
    addr2 = c.op("add", addr, size)
    if a.L:
        t1, t2 = c.temp(), c.temp()
        c.load(t1, addr, size, signed=a.opc == 1)
        c.load(t2, addr2, size, signed=a.opc == 1)
    else:
        c.store(c.x(a.rt), addr, size)
        c.store(c.x(a.rt2), addr2, size)
    if a.idx in (POST, PRE):
        c.set_reg(a.rn, 1, c.op("add", base, off) if a.idx == POST else addr, sp=True)
    if a.L:
        sf = a.opc != 0
        c.set_reg(a.rt, sf, t1)
        c.set_reg(a.rt2, sf, t2)


# --- exclusives and ordered accesses --------------------------------------------------------
def trans_ldxr(c, a):
    t = c.temp()
    c.call(H_LDXR, t, c.xsp(a.rn), 1 << a.size)
    c.set_reg(a.rt, 1, t)


def trans_stxr(c, a):
    t = c.temp()
    c.call(H_STXR, t, c.xsp(a.rn), c.x(a.rt), 1 << a.size)
    c.set_reg(a.rs, 0, t)


def trans_ldxp(c, a):
    """LDXP/LDAXP: two 32- or 64-bit registers, one exclusive 8- or 16-byte access."""
    if a.rt == a.rt2:
        return c.undef()  # CONSTRAINED UNPREDICTABLE: pemu takes the UNDEFINED choice
    esize = 8 if a.size else 4
    lo = c.temp()
    c.call(H_LDXR, lo, c.xsp(a.rn), 2 * esize)
    if esize == 4:
        c.set_reg(a.rt2, 0, c.op("shr", lo, 32))
        c.set_reg(a.rt, 0, lo)
        return
    hi = c.temp()
    c.call(H_LDXP_HIGH, hi)
    c.set_reg(a.rt, 1, lo)
    c.set_reg(a.rt2, 1, hi)


def trans_stxp(c, a):
    t = c.temp()
    if a.size:
        c.call(H_STXP, t, c.xsp(a.rn), c.x(a.rt), c.x(a.rt2))
    else:
        both = c.op("or", c.op("ext32u", c.x(a.rt)), c.op("shl", c.x(a.rt2), 32))
        c.call(H_STXR, t, c.xsp(a.rn), both, 8)
    c.set_reg(a.rs, 0, t)


def trans_ldar(c, a):
    """LDAR/LDLAR: an ordinary load (guest threads share memory through one
    interpreter, which orders every access)."""
    t = c.temp()
    c.load(t, c.xsp(a.rn), 1 << a.size)
    c.set_reg(a.rt, 1, t)


def trans_stlr(c, a):
    c.store(c.x(a.rt), c.xsp(a.rn), 1 << a.size)


def trans_cas(c, a):
    """CAS, CASA, CASL, CASAL (LSE): Rs gets the old value; memory gets Rt if
    the old value equalled Rs."""
    t = c.temp()
    c.call(H_CAS, t, c.xsp(a.rn), c.x(a.rs), c.x(a.rt), 1 << a.size)
    c.set_reg(a.rs, 1, t)


def trans_atomic(c, a):
    """LDADD, LDCLR, LDEOR, LDSET, LDSMAX, LDSMIN, LDUMAX, LDUMIN, SWP (and their
    acquire/release forms and ST* aliases): Rt gets the old value."""
    op = ATOMIC_OPS.get((a.o3 << 3) | a.op)
    if op is None:
        return c.undef()  # LDAPR (o3:opc 1100) and reserved encodings
    t = c.temp()
    c.call(H_ATOMIC, t, op, c.xsp(a.rn), c.x(a.rs), 1 << a.size)
    c.set_reg(a.rt, 1, t)
