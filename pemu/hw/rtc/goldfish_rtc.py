"""Goldfish RTC ("google,goldfish-rtc"), the real-time clock of QEMU's RISC-V virt.

Register map from the Android emulator's GOLDFISH-VIRTUAL-HARDWARE.TXT
("Goldfish real-time clock"), as QEMU's hw/rtc/goldfish_rtc.c implements it;
32-bit registers:

    0x00 TIME_LOW         r: low 32 bits of ns since the epoch; latches TIME_HIGH
                          w: sets the low half of the time
    0x04 TIME_HIGH        r: the latched high half; w: sets the high half
    0x08 ALARM_LOW        r/w: low half of the alarm; a write arms the alarm
    0x0c ALARM_HIGH       r/w: high half of the alarm (write it first)
    0x10 IRQ_ENABLED      r/w: bit 0 enables the interrupt line
    0x14 CLEAR_ALARM      w: disarm the alarm
    0x18 ALARM_STATUS     r: 1 while an alarm is armed
    0x1c CLEAR_INTERRUPT  w: acknowledge the interrupt

Time is the host wall clock plus an offset that guest writes set. The alarm
is a `Timer` on the machine's virtual clock, set for the remaining
wall-clock interval; an alarm already past fires at once. The line is
irq_pending AND irq_enabled.
"""
from __future__ import annotations

import time
from collections.abc import Callable

from pemu.core.clock import Timer, VirtualClock
from pemu.core.irq import IrqLine
from pemu.core.memory import MmioRegion
from pemu.qom import Device

TIME_LOW = 0x00
TIME_HIGH = 0x04
ALARM_LOW = 0x08
ALARM_HIGH = 0x0C
IRQ_ENABLED = 0x10
CLEAR_ALARM = 0x14
ALARM_STATUS = 0x18
CLEAR_INTERRUPT = 0x1C
GOLDFISH_RTC_SIZE = 0x1000
_U64 = (1 << 64) - 1


class GoldfishRtc(Device):
    """The RTC; `region` is its MMIO window and `irq` its interrupt line."""

    type_name = "goldfish_rtc"
    description = "Goldfish real-time clock"
    vmstate_fields = ("tick_offset", "alarm_next", "alarm_running", "irq_pending",
                      "irq_enabled", "time_high")

    def __init__(self, clock: VirtualClock, name: str = "rtc",
                 wall_ns: Callable[[], int] = time.time_ns, **props: object) -> None:
        super().__init__(**props)
        self.clock = clock
        self.wall_ns = wall_ns
        self.region = MmioRegion(name, GOLDFISH_RTC_SIZE, self.read, self.write, sizes=(4,))
        self.irq = IrqLine(name=name)
        self._timer = Timer(clock, self._alarm_fired)
        self.tick_offset = 0  # survives reset, as a real RTC keeps its time
        self.reset()

    def reset(self) -> None:
        self._timer.delete()
        self.alarm_next = 0
        self.alarm_running = 0
        self.irq_pending = 0
        self.irq_enabled = 0
        self.time_high = 0
        self._update()

    def now(self) -> int:
        """The RTC's current time in ns since the epoch."""
        return (self.wall_ns() + self.tick_offset) & _U64

    def _update(self) -> None:
        self.irq.set(self.irq_pending and self.irq_enabled)

    def _alarm_fired(self) -> None:
        remaining = self.alarm_next - self.now()
        if remaining > 0:  # wall clock and virtual clock drifted: wait the rest
            self._timer.mod(self.clock.now() + remaining)
            return
        self.alarm_running = 0
        self.irq_pending = 1
        self._update()

    def _arm(self) -> None:
        remaining = self.alarm_next - self.now()
        if remaining <= 0:
            self._timer.delete()
            self._alarm_fired()
        else:
            self.alarm_running = 1
            self._timer.mod(self.clock.now() + remaining)

    def _set_time(self, new: int) -> None:
        self.tick_offset += new - self.now()
        if self.alarm_running:
            self._arm()

    def read(self, offset: int, size: int) -> int:
        if offset == TIME_LOW:
            t = self.now()
            self.time_high = t >> 32
            return t & 0xFFFFFFFF
        if offset == TIME_HIGH:
            return self.time_high
        if offset == ALARM_LOW:
            return self.alarm_next & 0xFFFFFFFF
        if offset == ALARM_HIGH:
            return self.alarm_next >> 32
        if offset == IRQ_ENABLED:
            return self.irq_enabled
        if offset == ALARM_STATUS:
            return self.alarm_running
        return 0

    def write(self, offset: int, size: int, value: int) -> None:
        value &= 0xFFFFFFFF
        if offset == TIME_LOW:
            self._set_time((self.now() & ~0xFFFFFFFF) | value)
        elif offset == TIME_HIGH:
            self._set_time((self.now() & 0xFFFFFFFF) | (value << 32))
        elif offset == ALARM_LOW:
            self.alarm_next = (self.alarm_next & ~0xFFFFFFFF) | value
            self._arm()
        elif offset == ALARM_HIGH:
            self.alarm_next = (self.alarm_next & 0xFFFFFFFF) | (value << 32)
        elif offset == IRQ_ENABLED:
            self.irq_enabled = value & 1
            self._update()
        elif offset == CLEAR_ALARM:
            self._timer.delete()
            self.alarm_running = 0
        elif offset == CLEAR_INTERRUPT:
            self.irq_pending = 0
            self._update()
