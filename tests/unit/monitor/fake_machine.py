"""A small machine for monitor tests: RAM, a ROM, one MMIO region and fake CPUs."""
from __future__ import annotations

from pemu.core.machine import Machine
from pemu.core.memory import MmioRegion, RamRegion, RomRegion
from pemu.qom import Device, Property


class FakeCpu:
    arch = "riscv64"

    def __init__(self, index: int) -> None:
        self.index = index
        self.pc = 0x1000
        self.halted = False
        self.regs = [0] * 32

    def dump_state(self) -> str:
        return f" pc       {self.pc:016x}\n x0/zero  {self.regs[0]:016x}\n"

    def get_register(self, name: str) -> int:
        if name == "pc":
            return self.pc
        if name.startswith("x"):
            return self.regs[int(name[1:])]
        raise KeyError(name)


class FakeUart(Device):
    type_name = "fake-uart"
    reg_shift = Property(int, 0, "register shift")
    enabled = Property(bool, True, "on or off")


class FakeMachine(Machine):
    type_name = "fake"

    def __init__(self, ncpus: int = 1, **props) -> None:
        super().__init__(**props)
        self.memory.map(0x1000, RomRegion("fake.mrom", 0x1000))
        self.memory.map(0x10000000, MmioRegion("serial", 8, lambda o, s: 0, lambda o, s, v: None))
        self.memory.map(0x80000000, RamRegion("fake.ram", 1 << 20))
        self.memory.write_bytes(0x1000, bytes.fromhex("97020000138682027325401483b50202"),
                                force=True)
        self.cpus = [FakeCpu(i) for i in range(ncpus)]
        self.add_device(FakeUart(), "uart0")
