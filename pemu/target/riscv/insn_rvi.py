"""RV64I base integer instructions, Zifencei and the privileged instructions.

Encodings: ISA manual vol. I, "RV32/64G Instruction Set Listings";
privileged ones: vol. II, "Privileged Instruction Set Listings".
"""
from __future__ import annotations

from pemu.target.riscv.translate import M64, SB

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


def _sx32(expr: str) -> str:
    return f"((({expr}) & 0xFFFFFFFF) ^ 0x80000000) - 0x80000000 & M"


def trans_lui(c, a):
    c.w(a.rd, str(a.imm & M64))


def trans_auipc(c, a):
    c.w(a.rd, str((c.pc + a.imm) & M64))


def trans_jal(c, a):
    c.w(a.rd, str(c.next_pc))
    c.direct = (c.pc + a.imm) & M64
    c.end(str(c.direct))


def trans_jalr(c, a):
    target = f"({c.r(a.rs1)} + {a.imm & M64})" if a.imm else c.r(a.rs1)
    c.emit(f"t = {target} & {M64 - 1}")
    c.w(a.rd, str(c.next_pc))
    c.end("t")


def _br(op: str, signed: bool):
    def trans(c, a):
        x, y = c.r(a.rs1), c.r(a.rs2)
        if signed:
            x, y = f"({x} ^ SB)", f"({y} ^ SB)"
        c.branch(f"{x} {op} {y}", c.pc + a.imm)
    return trans


trans_beq, trans_bne = _br("==", False), _br("!=", False)
trans_blt, trans_bge = _br("<", True), _br(">=", True)
trans_bltu, trans_bgeu = _br("<", False), _br(">=", False)


def _addr(c, a) -> str:
    return f"({c.r(a.rs1)} + {a.imm & M64}) & M" if a.imm else c.r(a.rs1)


def _ld(size: int, signed: bool):
    return lambda c, a: c.load(a.rd, _addr(c, a), size, signed)


def _st(size: int):
    return lambda c, a: c.store(_addr(c, a), size, c.r(a.rs2))


trans_lb, trans_lh, trans_lw, trans_ld = _ld(1, True), _ld(2, True), _ld(4, True), _ld(8, False)
trans_lbu, trans_lhu, trans_lwu = _ld(1, False), _ld(2, False), _ld(4, False)
trans_sb, trans_sh, trans_sw, trans_sd = _st(1), _st(2), _st(4), _st(8)


def trans_addi(c, a):
    if a.rs1 == 0:
        c.w(a.rd, str(a.imm & M64))
    elif a.imm == 0:
        c.w(a.rd, c.r(a.rs1))
    else:
        c.w(a.rd, f"({c.r(a.rs1)} + {a.imm & M64}) & M")


def _ri(expr: str):
    """Register-immediate form: {x} is rs1, {i} the immediate as an unsigned
    64-bit constant, {s} its signed-order key (i ^ SB), {n} the raw shift amount."""
    def trans(c, a):
        i = a.imm & M64
        c.w(a.rd, expr.format(x=c.r(a.rs1), i=i, s=i ^ SB, n=a.imm))
    return trans


trans_slti = _ri("int(({x} ^ SB) < {s})")
trans_sltiu = _ri("int({x} < {i})")
trans_xori = _ri("{x} ^ {i}")
trans_ori = _ri("{x} | {i}")
trans_andi = _ri("{x} & {i}")
trans_slli = _ri("({x} << {n}) & M")
trans_srli = _ri("{x} >> {n}")
trans_srai = _ri("((({x} ^ SB) - SB) >> {n}) & M")


def _rr(expr: str):
    return lambda c, a: c.w(a.rd, expr.format(x=c.r(a.rs1), y=c.r(a.rs2)))


def trans_add(c, a):
    if a.rs1 == 0 or a.rs2 == 0:  # c.mv and friends: a plain copy
        c.w(a.rd, c.r(a.rs1 or a.rs2))
    else:
        c.w(a.rd, f"({c.r(a.rs1)} + {c.r(a.rs2)}) & M")



trans_sub = _rr("({x} - {y}) & M")
trans_sll = _rr("({x} << ({y} & 63)) & M")
trans_slt = _rr("int(({x} ^ SB) < ({y} ^ SB))")
trans_sltu = _rr("int({x} < {y})")
trans_xor = _rr("{x} ^ {y}")
trans_srl = _rr("{x} >> ({y} & 63)")
trans_sra = _rr("((({x} ^ SB) - SB) >> ({y} & 63)) & M")
trans_or = _rr("{x} | {y}")
trans_and = _rr("{x} & {y}")
trans_addw = _rr(_sx32("{x} + {y}"))
trans_subw = _rr(_sx32("{x} - {y}"))
trans_sllw = _rr(_sx32("{x} << ({y} & 31)"))
trans_srlw = _rr(_sx32("({x} & 0xFFFFFFFF) >> ({y} & 31)"))
trans_sraw = _rr("(((({x} & 0xFFFFFFFF) ^ 0x80000000) - 0x80000000) >> ({y} & 31)) & M")


def trans_addiw(c, a):
    c.w(a.rd, _sx32(f"{c.r(a.rs1)} + {a.imm & M64}"))


def trans_slliw(c, a):
    if a.imm & 32:
        return c.illegal(c.word)
    c.w(a.rd, _sx32(f"{c.r(a.rs1)} << {a.imm}"))


def trans_srliw(c, a):
    if a.imm & 32:
        return c.illegal(c.word)
    c.w(a.rd, _sx32(f"({c.r(a.rs1)} & 0xFFFFFFFF) >> {a.imm}"))


def trans_sraiw(c, a):
    if a.imm & 32:
        return c.illegal(c.word)
    c.w(a.rd, f"(((({c.r(a.rs1)} & 0xFFFFFFFF) ^ 0x80000000) - 0x80000000) >> {a.imm}) & M")


def trans_fence(c, a):
    pass


def trans_fence_i(c, a):
    # Stores into translated pages already invalidate them (softmmu write
    # tracking), so fence.i only has to end the block.
    c.end(str(c.next_pc))


def trans_ecall(c, a):
    c.trap("8 + c.priv", 0)  # 8, 9, 11 for U, S, M


def trans_ebreak(c, a):
    c.trap(3, 0)  # QEMU 7.2 leaves mtval 0 for breakpoints


def trans_sret(c, a):
    c.helper(f"npc = c.sret({c.word})")
    c.end("npc")


def trans_mret(c, a):
    c.helper(f"npc = c.mret({c.word})")
    c.end("npc")


def trans_wfi(c, a):
    c.helper(f"c.wfi({c.word})")
    c.end(str(c.next_pc))


def trans_sfence_vma(c, a):
    c.helper(f"c.sfence_vma({c.r(a.rs1)}, {c.r(a.rs2)}, {a.rs1}, {c.word})")
    c.end(str(c.next_pc))

