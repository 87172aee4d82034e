"""The CPU protocol the gdbstub and monitor use (target/riscv/debug_access.py):
registers by name, memory through the hart's current translation, one step."""
from __future__ import annotations

import pytest

from pemu.hw.riscv.virt import VirtMachine
from pemu.target.riscv import mmu

RAM = 0x80000000
ROOT, L1, L0, PAGE = 0x80010000, 0x80011000, 0x80012000, 0x80020000
VA = 0x40000000
SATP_SV39 = (8 << 60) | (ROOT >> 12)


@pytest.fixture
def machine() -> VirtMachine:
    return VirtMachine(ram_size=16 << 20, bios="none")


def pte(pa: int, flags: int) -> bytes:
    return (((pa >> 12) << 10) | flags).to_bytes(8, "little")


def map_page(m: VirtMachine) -> None:
    """Sv39: VA 0x40000000 -> PAGE, an S-mode read/write page with A and D clear."""
    m.memory.write_bytes(ROOT + 8 * 1, pte(L1, mmu.PTE_V))
    m.memory.write_bytes(L1, pte(L0, mmu.PTE_V))
    m.memory.write_bytes(L0, pte(PAGE, mmu.PTE_V | mmu.PTE_R | mmu.PTE_W))
    m.memory.write_bytes(PAGE, bytes(range(16)))


def test_registers_by_name(machine) -> None:
    cpu = machine.cpus[0]
    cpu.set_register("sp", 0x1234)
    assert cpu.x[2] == 0x1234 and cpu.get_register("x2") == 0x1234
    cpu.set_register("fp", 7)
    assert cpu.get_register("s0") == 7
    cpu.set_register("fa0", 0x3FF0000000000000)
    assert cpu.f[10] == 0x3FF0000000000000 and cpu.get_register("f10") == cpu.f[10]
    cpu.set_register("zero", 5)
    assert cpu.get_register("zero") == 0
    cpu.set_register("pc", RAM)
    assert cpu.pc == RAM
    cpu.set_register("mscratch", -1)
    assert cpu.get_register("mscratch") == (1 << 64) - 1
    assert cpu.get_register("mhartid") == 0 and cpu.get_register("priv") == 3
    with pytest.raises(ValueError):
        cpu.set_register("mhartid", 1)
    with pytest.raises(ValueError):
        cpu.set_register("priv", 2)
    with pytest.raises(KeyError):
        cpu.get_register("x32")
    names = cpu.register_names()
    assert names[:3] == ["zero", "ra", "sp"] and "pc" in names and names[-1] == "priv"


def test_absent_extension_csrs_are_not_registers() -> None:
    m = VirtMachine(ram_size=16 << 20, bios="none", cpu_disabled="sstc")
    with pytest.raises(KeyError):
        m.cpus[0].get_register("stimecmp")


def test_memory_through_the_page_tables(machine) -> None:
    cpu = machine.cpus[0]
    map_page(machine)
    cpu.set_register("satp", SATP_SV39)
    cpu.set_register("priv", 1)
    assert cpu.debug_translate(VA + 8) == PAGE + 8
    assert cpu.read_memory(VA + 8, 4) == bytes((8, 9, 10, 11))
    assert cpu.write_memory(VA + 2, b"\xaa\xbb")
    assert machine.memory.read_bytes(PAGE, 4) == bytes((0, 1, 0xAA, 0xBB))
    # a debugger's walk leaves the PTE's accessed/dirty bits alone
    assert not int.from_bytes(machine.memory.read_bytes(L0, 8), "little") & mmu.PTE_A
    assert cpu.read_memory(VA + 0x1000, 4) is None            # not mapped
    assert cpu.read_memory(VA + 0xFFE, 4) is None             # runs into an unmapped page
    assert not cpu.write_memory(VA + 0xFFE, b"1234")
    assert machine.memory.read_bytes(PAGE + 0xFFE, 2) == b"\0\0"  # nothing half-written


def test_m_mode_with_mprv_uses_the_translation(machine) -> None:
    cpu = machine.cpus[0]
    map_page(machine)
    cpu.set_register("satp", SATP_SV39)
    assert cpu.debug_translate(VA) == VA  # M-mode: physical
    cpu.set_register("mstatus", cpu.get_register("mstatus") | (1 << 17) | (1 << 11))  # MPRV, S
    assert cpu.debug_translate(VA) == PAGE


def test_devices_are_never_touched(machine) -> None:
    cpu = machine.cpus[0]
    assert cpu.read_memory(0x10000000, 1) is None  # the UART
    assert not cpu.write_memory(0x10000000, b"x")
    assert cpu.read_memory(0x1000, 4) is not None   # the reset ROM is memory


def test_step_runs_one_instruction_or_takes_its_trap(machine) -> None:
    cpu = machine.cpus[0]
    # addi a0,a0,1 ; j . ; (illegal 0)
    machine.memory.write_bytes(RAM, (0x00150513).to_bytes(4, "little")
                               + (0x0000006F).to_bytes(4, "little") + bytes(4))
    cpu.pc = RAM
    before = cpu.icount
    cpu.step_instruction()
    assert (cpu.pc, cpu.x[10], cpu.icount - before) == (RAM + 4, 1, 1)
    cpu.step_instruction()
    assert cpu.pc == RAM + 4  # j . goes nowhere, once
    cpu.set_register("mtvec", RAM + 0x100)
    cpu.pc = RAM + 8
    cpu.step_instruction()
    assert cpu.pc == RAM + 0x100 and cpu.get_register("mcause") == 2
    assert cpu.get_register("mepc") == RAM + 8
