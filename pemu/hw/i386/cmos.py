"""MC146818 RTC and CMOS RAM behind the PC's index/data ports 0x70/0x71.

Time registers are read from the host clock (UTC) in BCD, 24-hour mode, as
register B says (MC146818A datasheet, "Register B"); the update-in-progress
bit is never set, so a guest's read loop ends at once. No alarm or periodic
interrupt: Linux on KVM keeps time with kvmclock/TSC.
"""
from __future__ import annotations

import time

from pemu.core.memory import MmioRegion
from pemu.qom import Device

REG_SECONDS, REG_MINUTES, REG_HOURS = 0x00, 0x02, 0x04
REG_WEEKDAY, REG_DAY, REG_MONTH, REG_YEAR = 0x06, 0x07, 0x08, 0x09
REG_A, REG_B, REG_C, REG_D = 0x0A, 0x0B, 0x0C, 0x0D
REG_CENTURY = 0x32
REG_B_24H = 0x02
REG_B_BINARY = 0x04
REG_D_VRT = 0x80  # valid RAM and time


def _bcd(v: int) -> int:
    return ((v // 10) << 4) | (v % 10)


class CmosRtc(Device):
    type_name = "mc146818rtc"
    description = "ISA RTC and CMOS RAM (ports 0x70-0x71)"
    vmstate_fields = ("index", "ram")

    def __init__(self, **props: object) -> None:
        super().__init__(**props)
        self.region = MmioRegion("rtc", 2, self.read, self.write, sizes=(1,))
        self.ram = bytearray(128)
        self.reset()

    def reset(self) -> None:
        self.index = 0
        self.ram[REG_A] = 0x26  # 32.768 kHz time base, 1024 Hz rate
        self.ram[REG_B] = REG_B_24H
        self.ram[REG_C] = 0
        self.ram[REG_D] = REG_D_VRT

    def _time_reg(self, reg: int) -> int | None:
        t = time.gmtime()
        values = {REG_SECONDS: t.tm_sec, REG_MINUTES: t.tm_min, REG_HOURS: t.tm_hour,
                  REG_WEEKDAY: (t.tm_wday + 1) % 7 + 1, REG_DAY: t.tm_mday,
                  REG_MONTH: t.tm_mon, REG_YEAR: t.tm_year % 100,
                  REG_CENTURY: t.tm_year // 100}
        v = values.get(reg)
        if v is None:
            return None
        return v if self.ram[REG_B] & REG_B_BINARY else _bcd(v)

    def read(self, offset: int, size: int) -> int:
        if offset == 0:
            return 0xFF
        reg = self.index
        v = self._time_reg(reg)
        if v is not None:
            return v
        if reg == REG_C:
            v, self.ram[REG_C] = self.ram[REG_C], 0  # read clears the flags
            return v
        return self.ram[reg]

    def write(self, offset: int, size: int, value: int) -> None:
        if offset == 0:
            self.index = value & 0x7F  # bit 7 is the NMI mask
            return
        if self.index in (REG_C, REG_D):
            return  # read-only status registers
        if self.index == REG_A:
            value &= 0x7F  # UIP is read-only
        self.ram[self.index] = value & 0xFF
