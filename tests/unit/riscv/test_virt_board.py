"""The virt board without a guest OS: memory map, reset, time."""
from __future__ import annotations

from pemu.hw.riscv.virt import VIRT_MEMMAP, VirtMachine


def test_memory_map_is_qemus():
    m = VirtMachine(ram_size=64 << 20, bios="none")
    names = {r.base: r.name for r in m.memory.regions()}
    assert names[0x1000] == "riscv_virt_board.mrom"
    assert names[0x80000000] == "riscv_virt_board.ram"
    for key in ("test", "rtc", "clint", "plic", "uart0", "virtio"):
        assert VIRT_MEMMAP[key][0] in names, key
    assert sum(1 for b in names if 0x10001000 <= b < 0x10009000) == 8


def test_reset_keeps_time_monotonic_and_restarts_counters():
    m = VirtMachine(ram_size=64 << 20, bios="none")
    m.load()
    cpu = m.cpus[0]
    cpu.icount += 1_000_000  # as if the guest had run
    before = m.clock.now()
    m.reset()
    assert m.clock.now() >= before
    assert cpu.read_counter(2) == 0  # minstret restarts
    assert cpu.pc == 0x1000 and cpu.priv == 3
