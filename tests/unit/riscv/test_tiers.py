"""Translation blocks (tier 1) against the one-instruction reference (tier 0)
on seeded random instruction sequences: same registers, same memory."""
from __future__ import annotations

import random

import pytest
from rvasm import BareMachine, assemble, needs_as

ALU_RR = ["add", "sub", "sll", "slt", "sltu", "xor", "srl", "sra", "or", "and",
          "addw", "subw", "sllw", "srlw", "sraw", "mul", "mulh", "mulhsu", "mulhu",
          "div", "divu", "rem", "remu", "mulw", "divw", "divuw", "remw", "remuw"]
ALU_RI = ["addi", "slti", "sltiu", "xori", "ori", "andi", "addiw"]
SHIFT_I = [("slli", 63), ("srli", 63), ("srai", 63), ("slliw", 31), ("srliw", 31),
           ("sraiw", 31)]
LOADS = ["lb", "lh", "lw", "ld", "lbu", "lhu", "lwu"]
STORES = ["sb", "sh", "sw", "sd"]
REGS = [f"x{i}" for i in range(5, 16)]  # x4 (tp) holds the data-area base
INTERESTING = [0, 1, -1, 0x7FFFFFFF, -0x80000000, 0x7FFFFFFFFFFFFFFF, -0x8000000000000000,
               0xFFFFFFFF, 0x80000000, 3, -7]


def random_program(rng: random.Random, n: int) -> str:
    lines = ["li x4, 0x80080000"]
    for r in REGS:
        value = rng.choice(INTERESTING) if rng.random() < 0.5 else rng.getrandbits(64) - (1 << 63)
        lines.append(f"li {r}, {value}")
    label = 0
    for _ in range(n):
        kind = rng.random()
        rd, rs1, rs2 = rng.choice(REGS), rng.choice(REGS), rng.choice(REGS)
        if kind < 0.4:
            lines.append(f"{rng.choice(ALU_RR)} {rd}, {rs1}, {rs2}")
        elif kind < 0.6:
            lines.append(f"{rng.choice(ALU_RI)} {rd}, {rs1}, {rng.randint(-2048, 2047)}")
        elif kind < 0.7:
            op, top = rng.choice(SHIFT_I)
            lines.append(f"{op} {rd}, {rs1}, {rng.randint(0, top)}")
        elif kind < 0.8:
            lines.append(f"{rng.choice(STORES)} {rs2}, {rng.randrange(0, 2040)}(x4)")
        elif kind < 0.9:
            lines.append(f"{rng.choice(LOADS)} {rd}, {rng.randrange(0, 2040)}(x4)")
        elif kind < 0.95:
            # a forward branch over one instruction, so both paths are exercised
            op = rng.choice(["beq", "bne", "blt", "bge", "bltu", "bgeu"])
            lines.append(f"{op} {rs1}, {rs2}, L{label}")
            lines.append(f"addi {rd}, {rd}, 1")
            lines.append(f"L{label}:")
            label += 1
        else:
            lines.append(f"c.addi {rd}, {rng.randint(1, 31)}")
    lines.append("wfi")
    return "\n".join(lines)


def run_tier(code: bytes, tier: int | str):
    m = BareMachine(code, tier)
    cpu = m.run(1_000_000)
    assert cpu.halted, f"tier {tier} did not reach the final wfi (pc={cpu.pc:#x})"
    if tier == "native":
        assert m.store.native.compiled > 0  # the blocks really ran as host code
    data = m.memory.read_bytes(0x80080000, 4096)
    return list(cpu.x), cpu.pc, cpu.icount, data


@needs_as
@pytest.mark.parametrize("seed", range(12))
def test_blocks_agree_with_reference_interpreter(seed):
    rng = random.Random(seed)
    code = assemble(random_program(rng, 300))
    x0, pc0, n0, mem0 = run_tier(code, 0)
    for tier in (1, "native"):
        x1, pc1, n1, mem1 = run_tier(code, tier)
        for i in range(32):
            assert x0[i] == x1[i], f"seed {seed}: x{i} tier0={x0[i]:#x} {tier}={x1[i]:#x}"
        assert (pc0, n0) == (pc1, n1), tier
        assert mem0 == mem1, tier


LOOP = """
    li a0, 0
    li a1, 1000
    li t0, 0x80080000
1:  add a0, a0, a1
    sd a0, 0(t0)
    addi a1, a1, -1
    bnez a1, 1b
    ld a2, 0(t0)
    wfi
"""


@needs_as
@pytest.mark.parametrize("tier", [0, 1, "native"])
def test_loop_result_and_instruction_count(tier):
    cpu = BareMachine(assemble(LOOP, "rv64g"), tier).run()
    assert cpu.x[10] == sum(range(1, 1001))
    assert cpu.x[12] == cpu.x[10]
    setup = len(assemble(LOOP.split("1:")[0], "rv64g")) // 4
    # setup + 4 instructions x 1000 iterations + ld + the final wfi
    assert cpu.icount == setup + 4000 + 1 + 1


FAULT_MID_BLOCK = """
    la t1, handler
    csrw mtvec, t1
    la s3, fault
    li a0, 5
    li t0, 0x10
    addi a0, a0, 1
fault:
    ld a1, 0(t0)        # no memory at 0x10: load access fault mid-block
    addi a0, a0, 100    # must not run before the fault is handled
    wfi
handler:
    csrr s0, mcause
    csrr s1, mepc
    csrr s2, mtval
    wfi
"""


@needs_as
@pytest.mark.parametrize("tier", [0, 1, "native"])
def test_fault_in_the_middle_of_a_block(tier):
    code = assemble(FAULT_MID_BLOCK)
    cpu = BareMachine(code, tier).run()
    assert cpu.x[10] == 6  # registers written before the fault are kept
    assert cpu.x[8] == 5  # load access fault
    assert cpu.x[18] == 0x10
    assert cpu.x[9] == cpu.x[19]  # mepc is the faulting ld


SMC = """
    la t0, patch
    li t1, 0x02a00513      # addi a0, zero, 42
    jal ra, patch          # first call: a0 = 7
    mv s0, a0
    sw t1, 0(t0)           # rewrite the routine
    fence.i
    jal ra, patch          # second call must see the new code
    mv s1, a0
    wfi
patch:
    addi a0, zero, 7
    ret
"""


@needs_as
@pytest.mark.parametrize("tier", [0, 1, "native"])
def test_self_modifying_code_is_retranslated(tier):
    m = BareMachine(assemble(SMC, "rv64g"), tier)
    cpu = m.run()
    if tier == "native":
        assert m.store.native.compiled > 0
    assert (cpu.x[8], cpu.x[9]) == (7, 42)


PAGE_CROSSING = """
    li a0, 0
    j 1f
    .balign 4096
    .skip 4094
1:  .4byte 0x00150513      # addi a0, a0, 1, straddling the page boundary
    addi a0, a0, 2         # first instruction of the next page
    addi a0, a0, 4
    wfi
"""


@needs_as
@pytest.mark.parametrize("tier", [0, 1, "native"])
def test_instruction_straddling_a_page_boundary(tier):
    cpu = BareMachine(assemble(PAGE_CROSSING, "rv64g"), tier, ram_size=1 << 20).run()
    assert cpu.halted
    assert cpu.x[10] == 7


# A self-loop (translated as a Python loop) that walks `ld` off the end of RAM
# and faults on a later pass: the trap must name the faulting ld, and every
# completed pass counts (the handler records mepc, mtval and the loop count).
LOOP_FAULTS_LATER = """
    la t1, handler
    csrw mtvec, t1
    li t0, 0x800FFFC0      # 64 bytes below the end of 1 MiB of RAM
    li a0, 0
    li a2, 1000
1:  ld a1, 0(t0)
    addi t0, t0, 8
    addi a0, a0, 1
    blt a0, a2, 1b
    wfi
handler:
    csrr s0, mcause
    csrr s1, mepc
    csrr s2, mtval
    wfi
"""


@needs_as
@pytest.mark.parametrize("tier", [0, 1, "native"])
def test_loop_faulting_on_a_later_pass(tier):
    code = assemble(LOOP_FAULTS_LATER, "rv64g")
    cpu = BareMachine(code, tier).run()
    assert cpu.halted
    assert cpu.x[8] == 5  # load access fault
    assert cpu.x[18] == 0x80100000  # the first address past RAM
    assert cpu.x[10] == 8  # eight passes completed before the faulting one
    setup = len(assemble(LOOP_FAULTS_LATER.split("1:")[0] + "handler:", "rv64g")) // 4
    # setup, 8 passes of 4, 3 csrr + wfi in the handler (the faulting ld does not retire)
    assert cpu.icount == setup + 8 * 4 + 4


@needs_as
def test_a_native_generator_failure_keeps_the_python_tier(capsys, monkeypatch):
    """A failure of the native code generator (a pemu bug) is reported once, with
    its traceback, and the block stays in the Python tier, which runs it right."""
    from pemu.tcg.native.backend import NativeBackend

    def broken(self, block):
        raise RuntimeError("generator bug")
    monkeypatch.setattr(NativeBackend, "compile", broken)
    m = BareMachine(assemble(LOOP, "rv64g"), "native")
    cpu = m.run()
    assert cpu.halted and cpu.x[10] == sum(range(1, 1001))
    err = capsys.readouterr().err
    assert err.count("the native code generator failed") == 1 and "generator bug" in err
    assert m.store.native.compiled == 0 and m.store.native.refused > 0
