"""RISC-V ACLINT in the SiFive CLINT-compatible layout QEMU's virt maps at 0x2000000.

RISC-V ACLINT specification v1.0, sections 2 (MTIMER) and 3 (MSWI), placed
as the legacy SiFive CLINT does (one 0x10000 region):

    0x0000 + 4*hart   MSIP      bit 0 drives the hart's machine software interrupt
    0x4000 + 8*hart   MTIMECMP  64-bit compare value (MTIMER MTIMECMP registers)
    0xbff8            MTIME     64-bit counter at `timebase_freq` Hz

MTIP of a hart is asserted while mtime >= mtimecmp (ACLINT 2.1). 64-bit
registers take 8-byte accesses or 4-byte accesses to either half, as in
QEMU. mtime is derived from the machine's virtual clock (ns) scaled to the
timebase plus an offset that guest writes to MTIME adjust; a `Timer` fires
at the instant mtime reaches a hart's mtimecmp. On reset mtime restarts at 0
(ACLINT 2.1) and mtimecmp is set to all ones so no timer interrupt is
pending until the guest programs one.
"""
from __future__ import annotations

from pemu.core.clock import NS_PER_SEC, Timer, VirtualClock
from pemu.core.irq import IrqLine
from pemu.core.memory import MmioRegion
from pemu.qom import Device, Property

MSIP_BASE = 0x0
MTIMECMP_BASE = 0x4000
MTIME = 0xBFF8
CLINT_SIZE = 0x10000
U64 = (1 << 64) - 1


class Aclint(Device):
    """MSWI + MTIMER for `num_harts` harts; `mtip[h]`, `msip[h]` are the hart lines."""

    type_name = "riscv.aclint"
    description = "RISC-V ACLINT (CLINT layout)"
    timebase_freq = Property(int, 10_000_000, "mtime frequency in Hz")
    vmstate_fields = ("mtimecmp", "msip_bits", "offset")

    def __init__(self, clock: VirtualClock, num_harts: int = 1, name: str = "clint",
                 **props: object) -> None:
        super().__init__(**props)
        if not 0 < num_harts <= 4095:
            raise ValueError("the CLINT layout serves 1..4095 harts")
        self.clock = clock
        self.num_harts = num_harts
        self.region = MmioRegion(name, CLINT_SIZE, self.read, self.write, sizes=(4, 8))
        self.mtip: list[IrqLine] = [IrqLine(name=f"{name}.mtip{h}") for h in range(num_harts)]
        self.msip: list[IrqLine] = [IrqLine(name=f"{name}.msip{h}") for h in range(num_harts)]
        self._timers = [Timer(clock, lambda h=h: self._check(h)) for h in range(num_harts)]
        self.offset = 0
        self.reset()

    # --- time ---------------------------------------------------------------
    def _ticks(self) -> int:
        return self.clock.now() * self.timebase_freq // NS_PER_SEC

    def mtime(self) -> int:
        """The current mtime value (the board hands this to the CPU's `time` CSR)."""
        return (self._ticks() + self.offset) & U64

    def _set_mtime(self, value: int) -> None:
        self.offset = value - self._ticks()
        for h in range(self.num_harts):
            self._check(h)

    def _check(self, h: int) -> None:
        """Set MTIP from mtime vs mtimecmp; arm the timer for the crossing if still ahead."""
        cmp = self.mtimecmp[h]
        if self.mtime() >= cmp:
            self._timers[h].delete()
            self.mtip[h].raise_()
            return
        self.mtip[h].lower()
        # First ns at which ns*freq//1e9 + offset >= cmp.
        deadline = -(-(cmp - self.offset) * NS_PER_SEC // self.timebase_freq)
        if deadline >= 1 << 63:
            self._timers[h].delete()  # beyond any reachable time (QEMU caps at INT64_MAX)
        else:
            self._timers[h].mod(deadline)

    def reset(self) -> None:
        self.mtimecmp = [U64] * self.num_harts
        self.msip_bits = [0] * self.num_harts
        for line in self.msip:
            line.lower()
        self._set_mtime(0)

    # --- registers ------------------------------------------------------------
    @staticmethod
    def _part(value64: int, offset: int, size: int) -> int:
        """The bytes [offset & 7, +size) of a 64-bit register."""
        shift = 8 * (offset & 4)
        return (value64 >> shift) & ((1 << (8 * size)) - 1)

    @staticmethod
    def _merge(old: int, offset: int, size: int, value: int) -> int:
        if size == 8:
            return value & U64
        shift = 8 * (offset & 4)
        return (old & ~(0xFFFFFFFF << shift)) | ((value & 0xFFFFFFFF) << shift)

    def read(self, offset: int, size: int) -> int:
        if offset < MTIMECMP_BASE:
            h = offset >> 2
            if size == 4 and h < self.num_harts:
                return self.msip_bits[h]
            return 0
        if size == 8 and offset & 7:
            return 0
        if offset < MTIME:
            h = (offset - MTIMECMP_BASE) >> 3
            if h < self.num_harts:
                return self._part(self.mtimecmp[h], offset, size)
            return 0
        if offset in (MTIME, MTIME + 4):
            return self._part(self.mtime(), offset, size)
        return 0

    def write(self, offset: int, size: int, value: int) -> None:
        if offset < MTIMECMP_BASE:
            h = offset >> 2
            if size == 4 and h < self.num_harts:
                self.msip_bits[h] = value & 1
                self.msip[h].set(value & 1)
            return
        if size == 8 and offset & 7:
            return
        if offset < MTIME:
            h = (offset - MTIMECMP_BASE) >> 3
            if h < self.num_harts:
                self.mtimecmp[h] = self._merge(self.mtimecmp[h], offset, size, value)
                self._check(h)
            return
        if offset in (MTIME, MTIME + 4):
            self._set_mtime(self._merge(self.mtime(), offset, size, value))
