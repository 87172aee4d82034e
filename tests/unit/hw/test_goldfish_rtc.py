"""Goldfish RTC poked through an AddressSpace."""
from __future__ import annotations

import time

from pemu.core.clock import VirtualClock
from pemu.core.memory import AddressSpace
from pemu.hw.rtc import goldfish_rtc as g

BASE = 0x101000


def read_time(mem) -> int:
    low = mem.read(BASE + g.TIME_LOW, 4)
    return (mem.read(BASE + g.TIME_HIGH, 4) << 32) | low


def test_time_near_host_time() -> None:
    mem = AddressSpace()
    mem.map(BASE, g.GoldfishRtc(VirtualClock()).region)
    before = time.time_ns()
    t = read_time(mem)
    assert before <= t <= time.time_ns()


def test_set_time_and_latch() -> None:
    wall = [10 << 32]
    mem = AddressSpace()
    rtc = g.GoldfishRtc(VirtualClock(), wall_ns=lambda: wall[0])
    mem.map(BASE, rtc.region)
    mem.write(BASE + g.TIME_HIGH, 4, 3)
    mem.write(BASE + g.TIME_LOW, 4, 0x1000)
    assert read_time(mem) == (3 << 32) | 0x1000
    # TIME_HIGH returns the value latched by the last TIME_LOW read.
    mem.read(BASE + g.TIME_LOW, 4)
    wall[0] += 1 << 32
    assert mem.read(BASE + g.TIME_HIGH, 4) == 3
    assert read_time(mem) == (4 << 32) | 0x1000


def test_alarm_fires_and_clears() -> None:
    wall = [5_000_000_000]
    ns = [0]
    clock = VirtualClock(icount_shift=0)
    clock.icount_fn = lambda: ns[0]
    mem = AddressSpace()
    rtc = g.GoldfishRtc(clock, wall_ns=lambda: wall[0])
    mem.map(BASE, rtc.region)
    mem.write(BASE + g.IRQ_ENABLED, 4, 1)
    alarm = wall[0] + 1_000_000
    mem.write(BASE + g.ALARM_HIGH, 4, alarm >> 32)
    mem.write(BASE + g.ALARM_LOW, 4, alarm & 0xFFFFFFFF)
    assert mem.read(BASE + g.ALARM_STATUS, 4) == 1
    assert (mem.read(BASE + g.ALARM_HIGH, 4) << 32 | mem.read(BASE + g.ALARM_LOW, 4)) == alarm
    assert clock.next_deadline() == 1_000_000
    ns[0] = wall_step = 1_000_000
    wall[0] += wall_step
    clock.run_timers()
    assert rtc.irq.level == 1
    assert mem.read(BASE + g.ALARM_STATUS, 4) == 0
    mem.write(BASE + g.CLEAR_INTERRUPT, 4, 1)
    assert rtc.irq.level == 0


def test_past_alarm_and_disabled_irq() -> None:
    mem = AddressSpace()
    rtc = g.GoldfishRtc(VirtualClock())
    mem.map(BASE, rtc.region)
    mem.write(BASE + g.ALARM_HIGH, 4, 0)
    mem.write(BASE + g.ALARM_LOW, 4, 1)  # long past
    assert rtc.irq.level == 0  # pending but not enabled
    mem.write(BASE + g.IRQ_ENABLED, 4, 1)
    assert rtc.irq.level == 1
    mem.write(BASE + g.CLEAR_INTERRUPT, 4, 1)
    assert rtc.irq.level == 0


def test_clear_alarm_disarms() -> None:
    clock = VirtualClock()
    mem = AddressSpace()
    rtc = g.GoldfishRtc(clock)
    mem.map(BASE, rtc.region)
    alarm = rtc.now() + 10**12
    mem.write(BASE + g.ALARM_HIGH, 4, alarm >> 32)
    mem.write(BASE + g.ALARM_LOW, 4, alarm & 0xFFFFFFFF)
    assert clock.next_deadline() is not None
    mem.write(BASE + g.CLEAR_ALARM, 4, 1)
    assert mem.read(BASE + g.ALARM_STATUS, 4) == 0
    assert clock.next_deadline() is None


def test_real_clocks_alarm() -> None:
    clock = VirtualClock()
    rtc = g.GoldfishRtc(clock)
    rtc.write(g.IRQ_ENABLED, 4, 1)
    alarm = rtc.now() + 2_000_000  # 2 ms
    rtc.write(g.ALARM_HIGH, 4, alarm >> 32)
    rtc.write(g.ALARM_LOW, 4, alarm & 0xFFFFFFFF)
    deadline = time.monotonic() + 5
    while rtc.irq.level == 0 and time.monotonic() < deadline:
        clock.run_timers()
    assert rtc.irq.level == 1
    assert rtc.now() >= alarm
