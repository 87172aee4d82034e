"""The decoder tables against the assembler: each form assembled by binutils
decodes to the same operation and operands."""
from __future__ import annotations

import struct

import pytest
from rvasm import assemble, needs_as

from pemu.target.riscv.decode import sext
from pemu.target.riscv.insn_rvc import expand
from pemu.target.riscv.translator import DECODER

# (assembly, mnemonic we must decode, expected operand fields)
CASES = [
    ("lui a0, 0x12345", "lui", dict(rd=10, imm=0x12345000)),
    ("auipc t1, 0xfffff", "auipc", dict(rd=6, imm=sext(0xFFFFF000, 32))),
    ("jal ra, .+2048", "jal", dict(rd=1, imm=2048)),
    ("jalr t0, -4(a1)", "jalr", dict(rd=5, rs1=11, imm=-4)),
    ("beq a0, a1, .-16", "beq", dict(rs1=10, rs2=11, imm=-16)),
    ("bgeu s2, s3, .+4094", "bgeu", dict(rs1=18, rs2=19, imm=4094)),
    ("lb a2, -2048(sp)", "lb", dict(rd=12, rs1=2, imm=-2048)),
    ("lwu a2, 2047(sp)", "lwu", dict(rd=12, rs1=2, imm=2047)),
    ("ld s11, 8(t6)", "ld", dict(rd=27, rs1=31, imm=8)),
    ("sd s11, -8(t6)", "sd", dict(rs1=31, rs2=27, imm=-8)),
    ("sb zero, 1(a0)", "sb", dict(rs1=10, rs2=0, imm=1)),
    ("addi a0, a1, -1", "addi", dict(rd=10, rs1=11, imm=-1)),
    ("sltiu a0, a1, 5", "sltiu", dict(rd=10, rs1=11, imm=5)),
    ("slli a0, a1, 63", "slli", dict(rd=10, rs1=11, imm=63)),
    ("srai a0, a1, 33", "srai", dict(rd=10, rs1=11, imm=33)),
    ("sraiw a0, a1, 31", "sraiw", dict(rd=10, rs1=11, imm=31)),
    ("sub t0, t1, t2", "sub", dict(rd=5, rs1=6, rs2=7)),
    ("sra t0, t1, t2", "sra", dict(rd=5, rs1=6, rs2=7)),
    ("addw t0, t1, t2", "addw", dict(rd=5, rs1=6, rs2=7)),
    ("mulhsu a0, a1, a2", "mulhsu", dict(rd=10, rs1=11, rs2=12)),
    ("remuw a0, a1, a2", "remuw", dict(rd=10, rs1=11, rs2=12)),
    ("lr.d.aq a0, (a1)", "lr.d", dict(rd=10, rs1=11, aq=1)),
    ("sc.w.rl a0, a2, (a1)", "sc.w", dict(rd=10, rs1=11, rs2=12, rl=1)),
    ("amomaxu.d a0, a2, (a1)", "amomaxu.d", dict(rd=10, rs1=11, rs2=12)),
    ("csrrw a0, mstatus, a1", "csrrw", dict(rd=10, rs1=11, csr=0x300)),
    ("csrrci zero, sstatus, 2", "csrrci", dict(rd=0, rs1=2, csr=0x100)),
    ("csrr a0, time", "csrrs", dict(rd=10, rs1=0, csr=0xC01)),
    ("ecall", "ecall", {}),
    ("ebreak", "ebreak", {}),
    ("mret", "mret", {}),
    ("sret", "sret", {}),
    ("wfi", "wfi", {}),
    ("sfence.vma a0, a1", "sfence.vma", dict(rs1=10, rs2=11)),
    ("fence.i", "fence.i", {}),
    ("fence rw, w", "fence", dict(pred=3, succ=1)),
    ("flw fa0, 12(a0)", "flw", dict(rd=10, rs1=10, imm=12)),
    ("fsd fs1, -16(sp)", "fsd", dict(rs1=2, rs2=9, imm=-16)),
    ("fadd.d fa0, fa1, fa2, rtz", "fadd.d", dict(rd=10, rs1=11, rs2=12, rm=1)),
    ("fmadd.s fa0, fa1, fa2, fa3", "fmadd.s", dict(rd=10, rs1=11, rs2=12, rs3=13)),
    ("fnmsub.d fa0, fa1, fa2, fa3", "fnmsub.d", dict(rd=10, rs1=11, rs2=12, rs3=13)),
    ("fsqrt.s ft0, ft1", "fsqrt.s", dict(rd=0, rs1=1)),
    ("fcvt.l.d a0, fa0, rtz", "fcvt.l.d", dict(rd=10, rs1=10, rm=1)),
    ("fcvt.d.wu fa0, a0", "fcvt.d.wu", dict(rd=10, rs1=10)),
    ("fcvt.s.d fa0, fa1", "fcvt.s.d", dict(rd=10, rs1=11)),
    ("fmv.x.d a0, fa0", "fmv.x.d", dict(rd=10, rs1=10)),
    ("fmv.w.x fa0, a0", "fmv.w.x", dict(rd=10, rs1=10)),
    ("fclass.d a0, fa0", "fclass.d", dict(rd=10, rs1=10)),
    ("fle.s a0, fa0, fa1", "fle.s", dict(rd=10, rs1=10, rs2=11)),
    ("fsgnjx.d fa0, fa1, fa2", "fsgnjx.d", dict(rd=10, rs1=11, rs2=12)),
]

# Compressed forms: assembly, and the 32-bit instruction it must expand to.
RVC_CASES = [
    ("c.addi4spn a0, sp, 1020", "addi a0, sp, 1020"),
    ("c.fld fa0, 248(a1)", "fld fa0, 248(a1)"),
    ("c.lw a0, 124(a1)", "lw a0, 124(a1)"),
    ("c.ld a0, 248(a1)", "ld a0, 248(a1)"),
    ("c.fsd fa0, 8(a1)", "fsd fa0, 8(a1)"),
    ("c.sw a0, 64(a1)", "sw a0, 64(a1)"),
    ("c.sd s0, 136(s1)", "sd s0, 136(s1)"),
    ("c.addi t0, -32", "addi t0, t0, -32"),
    ("c.addiw t0, 31", "addiw t0, t0, 31"),
    ("c.li t0, -1", "addi t0, zero, -1"),
    ("c.addi16sp sp, -512", "addi sp, sp, -512"),
    ("c.lui t0, 0xfffe0", "lui t0, 0xfffe0"),
    ("c.lui t0, 1", "lui t0, 1"),
    ("c.srli a0, 63", "srli a0, a0, 63"),
    ("c.srai a0, 1", "srai a0, a0, 1"),
    ("c.andi a0, -1", "andi a0, a0, -1"),
    ("c.sub a0, a1", "sub a0, a0, a1"),
    ("c.xor a0, a1", "xor a0, a0, a1"),
    ("c.or a0, a1", "or a0, a0, a1"),
    ("c.and a0, a1", "and a0, a0, a1"),
    ("c.subw a0, a1", "subw a0, a0, a1"),
    ("c.addw a0, a1", "addw a0, a0, a1"),
    ("c.j .-2048", "jal zero, .-2048"),
    ("c.beqz a0, .-256", "beq a0, zero, .-256"),
    ("c.bnez a0, .+254", "bne a0, zero, .+254"),
    ("c.slli t0, 13", "slli t0, t0, 13"),
    ("c.fldsp fa0, 504(sp)", "fld fa0, 504(sp)"),
    ("c.lwsp t0, 252(sp)", "lw t0, 252(sp)"),
    ("c.ldsp t0, 504(sp)", "ld t0, 504(sp)"),
    ("c.jr t0", "jalr zero, 0(t0)"),
    ("c.mv t0, t1", "add t0, zero, t1"),
    ("c.ebreak", "ebreak"),
    ("c.jalr t0", "jalr ra, 0(t0)"),
    ("c.add t0, t1", "add t0, t0, t1"),
    ("c.fsdsp fa0, 504(sp)", "fsd fa0, 504(sp)"),
    ("c.swsp t0, 252(sp)", "sw t0, 252(sp)"),
    ("c.sdsp t0, 504(sp)", "sd t0, 504(sp)"),
]


@needs_as
@pytest.mark.parametrize("asm,name,fields", CASES, ids=[c[0] for c in CASES])
def test_decode_matches_assembler(asm, name, fields):
    word = struct.unpack("<I", assemble(asm, "rv64g"))[0]
    insn = DECODER.decode(word)
    assert insn is not None, f"{asm} ({word:#010x}) does not decode"
    assert insn.name == name
    args = insn.extract(word)
    for key, value in fields.items():
        assert getattr(args, key) == value, f"{asm}: {key}"


@needs_as
@pytest.mark.parametrize("asm,full", RVC_CASES, ids=[c[0] for c in RVC_CASES])
def test_rvc_expands_to_its_32bit_form(asm, full):
    half = struct.unpack("<H", assemble(asm))[0]
    # Assemble the full form at the same offset so pc-relative targets agree.
    want = struct.unpack("<I", assemble(full, "rv64g"))[0]
    assert expand(half) == want, f"{asm}: {expand(half):#010x} != {want:#010x}"


@pytest.mark.parametrize("half", [
    0x0000,  # the all-zero parcel
    0x6101,  # c.addi16sp with immediate 0
    0x6081,  # c.lui x1 with immediate 0
    0x2001,  # c.addiw with rd = x0
    0x8002,  # c.jr x0
    0x4002,  # c.lwsp with rd = x0
    0x9C41,  # 100 1 11 010 ... : reserved RV64 ALU form
])
def test_reserved_rvc_forms_are_illegal(half):
    assert expand(half) == 0


def test_all_zero_and_all_one_words_are_illegal():
    assert DECODER.decode(0) is None
    assert DECODER.decode(0xFFFFFFFF) is None
