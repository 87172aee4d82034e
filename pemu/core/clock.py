"""The virtual clock (QEMU_CLOCK_VIRTUAL) and timers on it.

Two policies:

- host time (KVM): guest time follows the host clock while the machine runs
  and stands still while it is stopped.
- instruction count (TCG, -icount shift=N): while vCPUs run, time is a
  function of executed instructions (2**N ns each); while they idle it jumps
  to the next timer deadline, after sleeping that long in real time when
  `sleep` is on (QEMU's -icount sleep=on), at once when off. Runs without
  outside input are then deterministic. A software CPU is far slower than
  hardware; counting time in instructions keeps a guest's timer interrupts
  from swamping it (at 1-10 guest MIPS a 100 Hz tick on host time would eat
  most of the CPU), which is why TCG boards use it by default.
"""
from __future__ import annotations

import heapq
import itertools
import time
from collections.abc import Callable

NS_PER_SEC = 1_000_000_000


class VirtualClock:
    def __init__(self, icount_shift: int | None = None, sleep: bool = True) -> None:
        self.icount_shift = icount_shift
        self.sleep = sleep
        self.icount_fn: Callable[[], int] = lambda: 0
        self._offset = time.monotonic_ns()
        self._stopped_at: int | None = None
        self._warp = 0
        self._timers: list[tuple[int, int, Timer]] = []
        #: End of the CPU slice now running; a timer armed earlier than this
        #: calls `kick` so the vCPUs return and the slice is recomputed
        #: (in icount mode, at the same instruction on every run).
        self.slice_deadline: int | None = None
        self.kick: Callable[[], None] = lambda: None
        self._seq = itertools.count()

    @property
    def deterministic(self) -> bool:
        """Time counts instructions (QEMU -icount)."""
        return self.icount_shift is not None

    def now(self) -> int:
        if self.icount_shift is not None:
            return (self.icount_fn() << self.icount_shift) + self._warp
        if self._stopped_at is not None:
            return self._stopped_at
        return time.monotonic_ns() - self._offset

    def stop(self) -> None:
        if self._stopped_at is None and self.icount_shift is None:
            self._stopped_at = time.monotonic_ns() - self._offset

    def resume(self) -> None:
        if self._stopped_at is not None:
            self._offset = time.monotonic_ns() - self._stopped_at
            self._stopped_at = None

    def warp_to(self, ns: int) -> None:
        """icount mode: jump time forward (an idle CPU skipping to the next event)."""
        if self.icount_shift is not None and ns > self.now():
            self._warp += ns - self.now()

    def ns_to_insns(self, ns: int) -> int:
        """How many instructions (icount) make `ns` of virtual time."""
        assert self.icount_shift is not None
        return max(1, ns >> self.icount_shift)

    # --- timers -----------------------------------------------------------
    def _arm(self, timer: Timer) -> None:
        heapq.heappush(self._timers, (timer.expire, next(self._seq), timer))
        if self.slice_deadline is not None and timer.expire < self.slice_deadline:
            self.slice_deadline = timer.expire
            self.kick()

    def next_deadline(self) -> int | None:
        while self._timers:
            expire, _, t = self._timers[0]
            if t.expire == expire and t.armed:
                return expire
            heapq.heappop(self._timers)
        return None

    def run_timers(self) -> bool:
        """Fire every expired timer; True if any fired."""
        fired = False
        now = self.now()
        while self._timers:
            expire, _, t = self._timers[0]
            if not t.armed or t.expire != expire:
                heapq.heappop(self._timers)
                continue
            if expire > now:
                break
            heapq.heappop(self._timers)
            t.armed = False
            t.callback()
            fired = True
        return fired


class Timer:
    """A one-shot timer on a clock; re-arm with mod()."""

    __slots__ = ("clock", "callback", "expire", "armed")

    def __init__(self, clock: VirtualClock, callback: Callable[[], None]) -> None:
        self.clock = clock
        self.callback = callback
        self.expire = 0
        self.armed = False

    def mod(self, expire_ns: int) -> None:
        if self.armed and self.expire == expire_ns:
            return
        self.expire = expire_ns
        self.armed = True
        self.clock._arm(self)

    def delete(self) -> None:
        self.armed = False
