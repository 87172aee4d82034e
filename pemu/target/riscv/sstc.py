"""The Sstc supervisor timer of one hart (Privileged ISA, "Sstc" chapter):
STIP is asserted while time >= stimecmp.

The hart calls `write(stimecmp)` on every stimecmp write (QEMU 7.2 does this
whatever menvcfg.STCE says); if time is already there STIP goes up at once,
otherwise it goes down and a timer on the machine clock fires at the
instant time reaches stimecmp. Time is the board's mtime (`time_fn`, at
`freq` Hz on `clock`), so stimecmp and the CLINT's mtimecmp agree.
"""
from __future__ import annotations

from collections.abc import Callable

from pemu.core.clock import NS_PER_SEC, Timer, VirtualClock


class SstcTimer:
    def __init__(self, clock: VirtualClock, time_fn: Callable[[], int], freq: int,
                 set_stip: Callable[[int], None]) -> None:
        self.clock = clock
        self.time_fn = time_fn
        self.freq = freq
        self.set_stip = set_stip
        self.cmp = 0
        self._timer = Timer(clock, self._check)

    def write(self, cmp: int) -> None:
        self.cmp = cmp
        self._check()

    def _check(self) -> None:
        now = self.time_fn()
        if now >= self.cmp:
            self._timer.delete()
            self.set_stip(1)
            return
        self.set_stip(0)
        wait_ns = -(-(self.cmp - now) * NS_PER_SEC // self.freq)
        deadline = self.clock.now() + wait_ns
        if deadline >= 1 << 63:
            self._timer.delete()  # beyond any reachable time
        else:
            self._timer.mod(deadline)  # re-checked on expiry (rounding)
