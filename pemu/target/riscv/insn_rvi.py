"""RV64I base integer instructions, Zifencei and the privileged instructions.

Encodings: ISA manual vol. I, "RV32/64G Instruction Set Listings";
privileged ones: vol. II, "Privileged Instruction Set Listings".
"""
from __future__ import annotations

from pemu.target.riscv.translate import H_ECALL, M64, method

TABLE = """
lui        U   -------------------- ----- 0110111
auipc      U   -------------------- ----- 0010111
jal        J   -------------------- ----- 1101111
jalr       I   ------------ ----- 000 ----- 1100111
beq        B   ------- ----- ----- 000 ----- 1100011
bne        B   ------- ----- ----- 001 ----- 1100011
blt        B   ------- ----- ----- 100 ----- 1100011
bge        B   ------- ----- ----- 101 ----- 1100011
bltu       B   ------- ----- ----- 110 ----- 1100011
bgeu       B   ------- ----- ----- 111 ----- 1100011
lb         I   ------------ ----- 000 ----- 0000011
lh         I   ------------ ----- 001 ----- 0000011
lw         I   ------------ ----- 010 ----- 0000011
ld         I   ------------ ----- 011 ----- 0000011
lbu        I   ------------ ----- 100 ----- 0000011
lhu        I   ------------ ----- 101 ----- 0000011
lwu        I   ------------ ----- 110 ----- 0000011
sb         S   ------- ----- ----- 000 ----- 0100011
sh         S   ------- ----- ----- 001 ----- 0100011
sw         S   ------- ----- ----- 010 ----- 0100011
sd         S   ------- ----- ----- 011 ----- 0100011
addi       I   ------------ ----- 000 ----- 0010011
slti       I   ------------ ----- 010 ----- 0010011
sltiu      I   ------------ ----- 011 ----- 0010011
xori       I   ------------ ----- 100 ----- 0010011
ori        I   ------------ ----- 110 ----- 0010011
andi       I   ------------ ----- 111 ----- 0010011
slli       SH  000000 ------ ----- 001 ----- 0010011
srli       SH  000000 ------ ----- 101 ----- 0010011
srai       SH  010000 ------ ----- 101 ----- 0010011
add        R   0000000 ----- ----- 000 ----- 0110011
sub        R   0100000 ----- ----- 000 ----- 0110011
sll        R   0000000 ----- ----- 001 ----- 0110011
slt        R   0000000 ----- ----- 010 ----- 0110011
sltu       R   0000000 ----- ----- 011 ----- 0110011
xor        R   0000000 ----- ----- 100 ----- 0110011
srl        R   0000000 ----- ----- 101 ----- 0110011
sra        R   0100000 ----- ----- 101 ----- 0110011
or         R   0000000 ----- ----- 110 ----- 0110011
and        R   0000000 ----- ----- 111 ----- 0110011
addiw      I   ------------ ----- 000 ----- 0011011
slliw      SH  0000000 ----- ----- 001 ----- 0011011
srliw      SH  0000000 ----- ----- 101 ----- 0011011
sraiw      SH  0100000 ----- ----- 101 ----- 0011011
addw       R   0000000 ----- ----- 000 ----- 0111011
subw       R   0100000 ----- ----- 000 ----- 0111011
sllw       R   0000000 ----- ----- 001 ----- 0111011
srlw       R   0000000 ----- ----- 101 ----- 0111011
sraw       R   0100000 ----- ----- 101 ----- 0111011
fence      FENCE ---- ---- ---- ----- 000 ----- 0001111
fence.i    N   ------------ ----- 001 ----- 0001111
ecall      N   000000000000 00000 000 00000 1110011
ebreak     N   000000000001 00000 000 00000 1110011
sret       N   0001000 00010 00000 000 00000 1110011
mret       N   0011000 00010 00000 000 00000 1110011
wfi        N   0001000 00101 00000 000 00000 1110011
sfence.vma R   0001001 ----- ----- 000 00000 1110011
"""


_SRET, _MRET, _WFI, _SFENCE = method("sret"), method("mret"), method("wfi"), method("sfence_vma")


def trans_lui(c, a):
    c.ir.mov(c.xd(a.rd), a.imm)


def trans_auipc(c, a):
    c.ir.mov(c.xd(a.rd), c.pc + a.imm)


def trans_jal(c, a):
    c.ir.mov(c.xd(a.rd), c.next_pc)
    c.jump(c.pc + a.imm)


def trans_jalr(c, a):
    t = c.temp()
    c.ir.add(t, c.x(a.rs1), a.imm)
    target = c.temp()
    c.ir.and_(target, t, M64 - 1)
    c.ir.mov(c.xd(a.rd), c.next_pc)
    c.end(target)


def _br(cond: str):
    return lambda c, a: c.branch(cond, c.x(a.rs1), c.x(a.rs2), c.pc + a.imm)


trans_beq, trans_bne, trans_blt = _br("eq"), _br("ne"), _br("lt")
trans_bge, trans_bltu, trans_bgeu = _br("ge"), _br("ltu"), _br("geu")


def _ld(size: int, signed: bool):
    return lambda c, a: c.load(c.xd(a.rd), c.addr(a.rs1, a.imm), size, signed)


def _st(size: int):
    return lambda c, a: c.store(c.x(a.rs2), c.addr(a.rs1, a.imm), size)


trans_lb, trans_lh, trans_lw, trans_ld = _ld(1, True), _ld(2, True), _ld(4, True), _ld(8, False)
trans_lbu, trans_lhu, trans_lwu = _ld(1, False), _ld(2, False), _ld(4, False)
trans_sb, trans_sh, trans_sw, trans_sd = _st(1), _st(2), _st(4), _st(8)


def _ri(op: str):
    """Register-immediate form: rd = rs1 <op> imm."""
    return lambda c, a: getattr(c.ir, op)(c.xd(a.rd), c.x(a.rs1), a.imm)


def _setcond_i(cond: str):
    return lambda c, a: c.ir.setcond(cond, c.xd(a.rd), c.x(a.rs1), a.imm)


trans_addi, trans_xori, trans_ori, trans_andi = _ri("add"), _ri("xor"), _ri("or_"), _ri("and_")
trans_slli, trans_srli, trans_srai = _ri("shl"), _ri("shr"), _ri("sar")
trans_slti, trans_sltiu = _setcond_i("lt"), _setcond_i("ltu")


def _rr(op: str):
    return lambda c, a: getattr(c.ir, op)(c.xd(a.rd), c.x(a.rs1), c.x(a.rs2))


def _shift(op: str, width: int = 64):
    """Register shifts use the low 6 (5 for the W forms) bits of rs2."""
    def trans(c, a):
        n = c.temp()
        c.ir.and_(n, c.x(a.rs2), width - 1)
        if width == 64:
            getattr(c.ir, op)(c.xd(a.rd), c.x(a.rs1), n)
        else:
            _w(c, a.rd, op, c.x(a.rs1), n)
    return trans


def _setcond_r(cond: str):
    return lambda c, a: c.ir.setcond(cond, c.xd(a.rd), c.x(a.rs1), c.x(a.rs2))


trans_add, trans_sub, trans_xor = _rr("add"), _rr("sub"), _rr("xor")
trans_or, trans_and = _rr("or_"), _rr("and_")
trans_sll, trans_srl, trans_sra = _shift("shl"), _shift("shr"), _shift("sar")
trans_slt, trans_sltu = _setcond_r("lt"), _setcond_r("ltu")


def _w(c, rd: int, op: str, x, y) -> None:
    """A W-form operation: the 32-bit result, sign-extended into rd. Right
    shifts first narrow the source to its low word (zero- or sign-extended)."""
    if op in ("shr", "sar"):
        src = c.temp()
        (c.ir.ext32u if op == "shr" else c.ir.ext32s)(src, x)
        x = src
    t = c.temp()
    getattr(c.ir, op)(t, x, y)
    c.ir.ext32s(c.xd(rd), t)


def _rrw(op: str):
    return lambda c, a: _w(c, a.rd, op, c.x(a.rs1), c.x(a.rs2))


def _riw(op: str, shift: bool = False):
    def trans(c, a):
        if shift and a.imm & 32:
            return c.illegal()
        _w(c, a.rd, op, c.x(a.rs1), a.imm)
    return trans


trans_addw, trans_subw = _rrw("add"), _rrw("sub")
trans_sllw, trans_srlw, trans_sraw = _shift("shl", 32), _shift("shr", 32), _shift("sar", 32)
trans_addiw = _riw("add")
trans_slliw, trans_srliw, trans_sraiw = _riw("shl", True), _riw("shr", True), _riw("sar", True)


def trans_fence(c, a):
    pass


def trans_fence_i(c, a):
    # Stores into translated pages already invalidate them (softmmu write
    # tracking), so fence.i only has to end the block.
    c.end(c.next_pc)


def trans_ecall(c, a):
    c.call(H_ECALL, None)
    c.end(c.pc)


def trans_ebreak(c, a):
    c.trap(3, 0)  # QEMU 7.2 leaves mtval 0 for breakpoints


def _xret(helper):
    def trans(c, a):
        npc = c.temp()
        c.call(helper, npc, c.word)
        c.end(npc)
    return trans


trans_sret, trans_mret = _xret(_SRET), _xret(_MRET)


def trans_wfi(c, a):
    c.call(_WFI, None, c.word)
    c.end(c.next_pc)


def trans_sfence_vma(c, a):
    c.call(_SFENCE, None, c.x(a.rs1), c.x(a.rs2), a.rs1, c.word)
    c.end(c.next_pc)
