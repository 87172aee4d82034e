"""Privileged-architecture corners (Privileged ISA): tval on page faults,
SUM, MXR, MPRV, sfence.vma with an address, WFI with interrupts globally
off, FS=Off. Expected values come from the specification's rules.

The M-mode prologue runs S-mode test code under Sv39 page tables that the
test writes into RAM; every trap goes to M-mode, whose handler records
(mcause, mtval) in a log and resumes after the faulting instruction.
"""
from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "unit", "riscv"))
from rvasm import BareMachine, assemble, needs_as  # noqa: E402

RAM = 0x80000000
ROOT = RAM + 0x10000            # Sv39 root table
L1 = RAM + 0x11000              # table for VA 0..1 GiB
L0 = RAM + 0x12000              # table for VA 0..2 MiB
DATA_A, DATA_B, DATA_X = RAM + 0x20000, RAM + 0x21000, RAM + 0x22000
LOG = RAM + 0x30000             # trap log: (mcause, mtval) pairs
V, R, W, X, U, A, D = 1, 2, 4, 8, 16, 64, 128
USER_VA, EXEC_ONLY_VA, REMAP_VA = 0x1000, 0x2000, 0x3000
SATP = (8 << 60) | (ROOT >> 12)

PROLOGUE = f"""
    la t0, handler
    csrw mtvec, t0
    li s11, {LOG:#x}        # trap log pointer
    li t0, {SATP:#x}
    csrw satp, t0
    li t0, 0x1800
    csrc mstatus, t0
    li t0, 0x0800           # MPP = S
    csrs mstatus, t0
    la t0, s_code
    csrw mepc, t0
    mret
handler:
    csrr t5, mcause
    sd t5, 0(s11)
    csrr t5, mtval
    sd t5, 8(s11)
    addi s11, s11, 16
    li t5, 11               # ecall from M: the test is over
    csrr t6, mcause
    beq t6, t5, done
    li t5, 9                # ecall from S: switch to M-mode code at a0
    beq t6, t5, to_m
    csrr t5, mepc
    addi t5, t5, 4
    csrw mepc, t5
    mret
to_m:
    li t5, 0x1800
    csrs mstatus, t5        # MPP = M
    csrw mepc, a0
    mret
done:
    wfi
s_code:
"""


def pte(pa: int, flags: int) -> int:
    return ((pa >> 12) << 10) | flags | V


def machine(s_code: str, tier: int) -> BareMachine:
    m = BareMachine(assemble(PROLOGUE + s_code, "rv64g"), tier)
    mem = m.memory
    mem.write(ROOT + 8 * 0, 8, pte(L1, 0))            # VA 0..1G -> L1
    mem.write(ROOT + 8 * 2, 8, pte(RAM, R | W | X | A | D))  # VA 2G..3G = RAM, identity
    mem.write(L1 + 8 * 0, 8, pte(L0, 0))
    mem.write(L0 + 8 * (USER_VA >> 12), 8, pte(DATA_A, R | W | U | A | D))
    mem.write(L0 + 8 * (EXEC_ONLY_VA >> 12), 8, pte(DATA_X, X | A))
    mem.write(L0 + 8 * (REMAP_VA >> 12), 8, pte(DATA_A, R | W | A | D))
    mem.write(DATA_A, 8, 0x1111)
    mem.write(DATA_B, 8, 0x2222)
    mem.write(DATA_X, 8, 0x3333)
    return m


def traps(m: BareMachine) -> list[tuple[int, int]]:
    out = []
    for i in range(0, 64 * 16, 16):
        cause = m.memory.read(LOG + i, 8)
        if cause == 0 and m.memory.read(LOG + i + 8, 8) == 0:
            break
        out.append((cause, m.memory.read(LOG + i + 8, 8)))
    return out


END = "    ecall\n"


@needs_as
@pytest.mark.parametrize("tier", [0, 1])
def test_page_faults_report_the_address_in_mtval(tier):
    m = machine(f"""
    li a1, 0x12345678
    ld a2, 0(a1)            # load page fault, tval = address
    sd a2, 8(a1)            # store page fault, tval = address + 8
    li a1, {EXEC_ONLY_VA:#x}
    sd a2, 0(a1)            # store to an X-only page: store page fault
""" + END, tier)
    m.run()
    assert traps(m)[:3] == [(13, 0x12345678), (15, 0x12345680), (15, EXEC_ONLY_VA)]


@needs_as
@pytest.mark.parametrize("tier", [0, 1])
def test_sum_and_mxr(tier):
    m = machine(f"""
    li a1, {USER_VA:#x}
    ld s1, 0(a1)            # U page from S-mode without SUM: fault
    li t0, 1 << 18
    csrs sstatus, t0        # SUM
    ld s2, 0(a1)            # now allowed
    li a1, {EXEC_ONLY_VA:#x}
    ld s3, 0(a1)            # X-only page: fault without MXR
    li t0, 1 << 19
    csrs sstatus, t0        # MXR
    ld s4, 0(a1)            # readable through MXR
""" + END, tier)
    cpu = m.run()
    assert traps(m)[:2] == [(13, USER_VA), (13, EXEC_ONLY_VA)]
    assert (cpu.x[9], cpu.x[18], cpu.x[19], cpu.x[20]) == (0, 0x1111, 0, 0x3333)


@needs_as
@pytest.mark.parametrize("tier", [0, 1])
def test_mprv_translates_m_mode_data_accesses(tier):
    m = machine(f"""
    la a0, m_code
    ecall                   # continue in M-mode at m_code
m_code:
    li a1, {USER_VA:#x}
    ld s1, 0(a1)            # M-mode, MPRV=0: physical 0x1000 is mask ROM space: no memory
    li t0, (1 << 17) | (1 << 18)
    csrs mstatus, t0        # MPRV with MPP=S (set by the ecall) and SUM
    li t0, 0x1800
    csrc mstatus, t0
    li t0, 0x0800
    csrs mstatus, t0
    ld s2, 0(a1)            # translated as an S-mode access
    li t0, 1 << 17
    csrc mstatus, t0
""" + END, tier)
    cpu = m.run()
    assert traps(m)[1] == (5, USER_VA)  # load access fault (after the ecall entry)
    assert cpu.x[18] == 0x1111


@needs_as
@pytest.mark.parametrize("tier", [0, 1])
def test_sfence_vma_with_an_address_sees_the_new_mapping(tier):
    m = machine(f"""
    li a1, {REMAP_VA:#x}
    ld s1, 0(a1)            # maps to DATA_A
    li t0, {L0 + 8 * (REMAP_VA >> 12):#x}
    li t1, {pte(DATA_B, R | W | A | D):#x}
    sd t1, 0(t0)            # point the PTE at DATA_B
    sfence.vma a1, zero
    ld s2, 0(a1)
""" + END, tier)
    cpu = m.run()
    assert (cpu.x[9], cpu.x[18]) == (0x1111, 0x2222)


WFI_PROGRAM = """
    li t0, 0x80
    csrs mie, t0            # MTIE on, mstatus.MIE off
    wfi
    li a0, 42               # runs after the wake-up: no trap with MIE off
1:  j 1b
"""


@needs_as
@pytest.mark.parametrize("tier", [0, 1])
def test_wfi_sleeps_until_an_enabled_interrupt_is_pending(tier):
    m = BareMachine(assemble(WFI_PROGRAM, "rv64g"), tier)
    cpu = m.run(10_000)
    assert cpu.halted and cpu.x[10] == 0
    cpu.set_irq_bit(3, 1)   # MSIP: not enabled in mie, stays asleep
    assert cpu.halted
    cpu.set_irq_bit(7, 1)   # MTIP: enabled, wakes the hart
    assert not cpu.halted
    m.run(10_000)
    assert cpu.x[10] == 42 and cpu.mcause == 0  # no trap was taken


FS_OFF = """
    la s4, fault
    la t0, handler
    csrw mtvec, t0
    li t0, 0x6000
    csrc mstatus, t0        # FS = Off
fault:
    fadd.d fa0, fa1, fa2    # illegal while FS is Off
    wfi
    .balign 4
handler:
    csrr s1, mcause
    csrr s2, mtval
    csrr s3, mepc
    wfi
"""


@needs_as
@pytest.mark.parametrize("tier", [0, 1])
def test_fp_instruction_with_fs_off_is_illegal(tier):
    code = assemble(FS_OFF, "rv64g")
    cpu = BareMachine(code, tier).run()
    fadd = int.from_bytes(assemble("fadd.d fa0, fa1, fa2", "rv64g")[:4], "little")
    assert (cpu.x[9], cpu.x[18]) == (2, fadd)
    assert cpu.x[19] == cpu.x[20]  # mepc is the fadd
