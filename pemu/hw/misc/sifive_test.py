"""SiFive test finisher ("sifive,test0"): lets a guest power off, reset or fail.

One 32-bit register at offset 0 (QEMU hw/misc/sifive_test.c semantics, the
interface OpenSBI's and Linux's syscon-poweroff/-reboot drivers use):

    0x5555                  FINISHER_PASS  -> shutdown request (guest-shutdown)
    0x7777                  FINISHER_RESET -> reset request (guest-reset)
    0x3333 | (code << 16)   FINISHER_FAIL  -> the emulator exits with status `code`

Other values are ignored; reads return 0.
"""
from __future__ import annotations

from pemu.core.main_loop import MainLoop
from pemu.core.memory import MmioRegion
from pemu.qom import Device

FINISHER_FAIL = 0x3333
FINISHER_PASS = 0x5555
FINISHER_RESET = 0x7777
SIFIVE_TEST_SIZE = 0x1000


class SifiveTest(Device):
    """The finisher; `region` is its MMIO window."""

    type_name = "riscv.sifive.test"
    description = "SiFive test finisher"

    def __init__(self, loop: MainLoop, name: str = "sifive_test", **props: object) -> None:
        super().__init__(**props)
        self.loop = loop
        self.region = MmioRegion(name, SIFIVE_TEST_SIZE, self.read, self.write, sizes=(2, 4))

    def read(self, offset: int, size: int) -> int:
        return 0

    def write(self, offset: int, size: int, value: int) -> None:
        if offset != 0:
            return
        status, code = value & 0xFFFF, (value >> 16) & 0xFFFF
        if status == FINISHER_PASS:
            self.loop.request("shutdown", "guest-shutdown")
        elif status == FINISHER_RESET:
            self.loop.request("reset", "guest-reset")
        elif status == FINISHER_FAIL:
            self.loop.quit(code)
