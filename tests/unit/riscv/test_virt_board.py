"""The virt board without a guest OS: memory map, reset, time."""
from __future__ import annotations

import subprocess

from rvasm import needs_as

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


HELLO = """
    li t0, 0x10000000       # UART
    la t1, msg
1:  lbu t2, 0(t1)
    beqz t2, 2f
    sb t2, 0(t0)
    addi t1, t1, 1
    j 1b
2:  li t0, 0x100000         # sifive_test: pass = power off
    li t1, 0x5555
    sw t1, 0(t0)
3:  j 3b
msg: .asciz "hello from the guest\\n"
"""


@needs_as
def test_python_api_builds_runs_and_inspects_a_machine(tmp_path):
    from pemu.chardev.base import Chardev

    elf = tmp_path / "hello.elf"
    elf.write_bytes(b"")
    code_obj = tmp_path / "hello.o"
    src = tmp_path / "hello.S"
    src.write_text(".globl _start\n_start:\n" + HELLO)
    subprocess.run(["riscv64-linux-gnu-as", "-o", str(code_obj), str(src)], check=True)
    subprocess.run(["riscv64-linux-gnu-ld", "-Ttext=0x80000000", "-o", str(elf),
                    str(code_obj)], check=True)

    out = bytearray()

    class Capture(Chardev):
        def write(self, data: bytes) -> None:
            out.extend(data)

    m = VirtMachine(ram_size=64 << 20, bios="none", kernel=str(elf))
    m.load()
    m.attach_serial(Capture("capture"))
    m.loop.set_runstate("running")
    assert m.run() == 0
    assert out == b"hello from the guest\n"
    assert m.cpus[0].x[6] == 0x5555  # t1 as the guest left it
