"""Helpers for RISC-V unit tests: assemble with binutils, run on a bare CPU."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

import pytest

from pemu.accel.tcg.cpu_exec import TbStore, cpu_exec
from pemu.accel.tcg.native_tier import NativeTier
from pemu.core.memory import AddressSpace, RamRegion
from pemu.target.riscv.cpu import RiscvCpu
from pemu.target.riscv.translate import LAYOUT
from pemu.target.riscv.translator import Translator
from pemu.tcg.native.backend import NativeBackend, available

AS = "riscv64-linux-gnu-as"
OBJCOPY = "riscv64-linux-gnu-objcopy"
LD = "riscv64-linux-gnu-ld"
RAM_BASE = 0x80000000

needs_as = pytest.mark.skipif(shutil.which(AS) is None,
                              reason=f"{AS} missing (Debian package binutils-riscv64-linux-gnu)")


def assemble(source: str, march: str = "rv64gc", base: int = 0x80000000) -> bytes:
    """Assemble and link `source` at `base`; return the raw .text bytes."""
    with tempfile.TemporaryDirectory() as d:
        src, obj, elf, out = (os.path.join(d, n) for n in ("a.S", "a.o", "a.elf", "a.bin"))
        with open(src, "w") as f:
            f.write(".option norelax\n.text\n.globl _start\n_start:\n" + source + "\n")
        subprocess.run([AS, f"-march={march}", "-o", obj, src], check=True,
                       capture_output=True)
        subprocess.run([LD, f"-Ttext={base:#x}", "-o", elf, obj], check=True,
                       capture_output=True)
        subprocess.run([OBJCOPY, "-O", "binary", "-j", ".text", elf, out], check=True,
                       capture_output=True)
        with open(out, "rb") as f:
            return f.read()


class BareMachine:
    """One hart, RAM at 0x80000000, no devices: enough to run test code.

    tier 0: one instruction per block; 1: Python blocks; "native": blocks as
    x86-64 code, every block compiled before its first run."""

    def __init__(self, code: bytes, tier: int | str = 1, ram_size: int = 1 << 20) -> None:
        self.memory = AddressSpace()
        self.ram = self.memory.map(RAM_BASE, RamRegion("ram", ram_size))
        self.memory.write_bytes(RAM_BASE, code)
        self.cpu = RiscvCpu(self.memory, 0, self.ram)
        self.cpu.reset_pc = RAM_BASE
        self.cpu.reset()
        self.store = TbStore(self.memory)
        self.store.cpus.append(self.cpu)
        self.cpu.tbs = self.store
        self.cpu.translator = Translator(self.ram.buf, 0 if tier == 0 else 1)
        if tier == "native":
            if not available():
                pytest.skip("the native tier needs an x86-64 Linux host")
            self.store.native = NativeTier(NativeBackend(LAYOUT), self.store, hot=0)
            self.store.native.attach(self.cpu)

    def run(self, max_insns: int = 100_000) -> RiscvCpu:
        cpu_exec(self.cpu, max_insns)
        return self.cpu
