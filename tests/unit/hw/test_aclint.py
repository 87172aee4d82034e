"""ACLINT (CLINT layout) poked through an AddressSpace with a stepped clock."""
from __future__ import annotations

import pytest

from pemu.core.clock import VirtualClock
from pemu.core.memory import AddressSpace
from pemu.hw.intc.aclint import MTIME, MTIMECMP_BASE, Aclint

BASE = 0x2000000


class Rig:
    def __init__(self, harts: int = 2) -> None:
        self.ns = 0
        self.clock = VirtualClock(icount_shift=0)  # deterministic: now() == self.ns
        self.clock.icount_fn = lambda: self.ns
        self.mem = AddressSpace()
        self.dev = Aclint(self.clock, harts)
        self.mem.map(BASE, self.dev.region)

    def step(self, ns: int) -> None:
        self.ns += ns
        self.clock.run_timers()


@pytest.fixture
def rig() -> Rig:
    return Rig()


def test_mtime_counts_at_timebase(rig: Rig) -> None:
    assert rig.mem.read(BASE + MTIME, 8) == 0
    rig.step(1_000_000)  # 1 ms at 10 MHz
    assert rig.mem.read(BASE + MTIME, 8) == 10_000
    assert rig.dev.mtime() == 10_000
    assert rig.mem.read(BASE + MTIME, 4) == 10_000
    assert rig.mem.read(BASE + MTIME + 4, 4) == 0


def test_mtimecmp_raises_mtip(rig: Rig) -> None:
    mem, mtip = rig.mem, rig.dev.mtip
    assert mtip[0].level == 0
    mem.write(BASE + MTIMECMP_BASE + 8, 8, 500)  # hart 1: 50 us from now
    assert mem.read(BASE + MTIMECMP_BASE + 8, 8) == 500
    assert mtip[1].level == 0
    assert rig.clock.next_deadline() == 50_000
    rig.step(49_999)
    assert mtip[1].level == 0
    rig.step(1)
    assert mtip[1].level == 1 and mtip[0].level == 0
    # Writing a later compare value lowers it again.
    mem.write(BASE + MTIMECMP_BASE + 8, 8, 10**6)
    assert mtip[1].level == 0


def test_32bit_halves(rig: Rig) -> None:
    mem = rig.mem
    cmp = BASE + MTIMECMP_BASE
    mem.write(cmp, 4, 0xFFFFFFFF)  # low half; high half still all ones
    assert mem.read(cmp, 8) == 0xFFFFFFFF_FFFFFFFF
    mem.write(cmp + 4, 4, 0)
    assert mem.read(cmp, 8) == 0xFFFFFFFF
    assert mem.read(cmp + 4, 4) == 0
    assert rig.dev.mtip[0].level == 0
    mem.write(cmp, 4, 10)
    rig.step(1000)
    assert rig.dev.mtip[0].level == 1


def test_past_compare_fires_at_once(rig: Rig) -> None:
    rig.step(10_000)
    rig.mem.write(BASE + MTIMECMP_BASE, 8, 1)
    assert rig.dev.mtip[0].level == 1


def test_mtime_write_adjusts_offset(rig: Rig) -> None:
    mem = rig.mem
    mem.write(BASE + MTIME, 8, 1 << 40)
    assert rig.dev.mtime() == 1 << 40
    rig.step(100)
    assert rig.dev.mtime() == (1 << 40) + 1
    mem.write(BASE + MTIMECMP_BASE, 8, (1 << 40) + 100)
    assert rig.dev.mtip[0].level == 0
    mem.write(BASE + MTIME + 4, 4, 0x200)  # high half: jumps past compare
    assert rig.dev.mtip[0].level == 1
    mem.write(BASE + MTIME, 8, 0)  # back in time: MTIP drops
    assert rig.dev.mtip[0].level == 0


def test_msip(rig: Rig) -> None:
    mem, msip = rig.mem, rig.dev.msip
    mem.write(BASE + 4, 4, 1)
    assert msip[1].level == 1 and msip[0].level == 0
    assert mem.read(BASE + 4, 4) == 1
    mem.write(BASE + 4, 4, 0xFFFFFFFE)  # only bit 0 counts
    assert msip[1].level == 0
    assert mem.read(BASE + 4, 4) == 0
    mem.write(BASE + 8, 4, 1)  # no hart 2: ignored
    assert mem.read(BASE + 8, 4) == 0


def test_reset(rig: Rig) -> None:
    rig.step(5000)
    rig.mem.write(BASE, 4, 1)
    rig.mem.write(BASE + MTIMECMP_BASE, 8, 0)
    assert rig.dev.mtip[0].level == 1
    rig.dev.reset()
    assert rig.dev.mtime() == 0
    assert rig.dev.msip[0].level == 0 and rig.dev.mtip[0].level == 0


def test_real_clock_fires() -> None:
    clock = VirtualClock()
    dev = Aclint(clock, 1, timebase_freq=1_000_000_000)
    dev.write(MTIMECMP_BASE, 8, dev.mtime() + 1_000_000)  # 1 ms
    while not clock.run_timers():
        pass
    assert dev.mtip[0].level == 1
