"""Round-robin scheduling of TCG vCPUs inside the main loop's CPU slices.

All vCPUs run in the main thread, one quantum each in turn (as QEMU's
single-threaded TCG). LR/SC reservations are dropped when a hart yields,
which is the simplest rule that keeps SC correct across harts. With
-icount the slice length is computed from the next timer deadline so runs
are deterministic.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from pemu.accel.tcg.cpu_exec import TbStore, cpu_exec, cpu_exec_logged
from pemu.core.clock import VirtualClock

#: -d items that need the traced CPU loop
TRACED = frozenset(("exec", "int", "in_asm", "cpu", "op", "out_asm"))
QUANTUM = 20_000  # instructions per hart turn
#: Longest a slice may take in host time before the main loop polls its file
#: descriptors again (monitors, serial input); returning early changes nothing
#: in the guest's timeline, which only the instruction count drives.
SLICE_HOST_NS = 20_000_000


class TcgRunner:
    def __init__(self, cpus: list[Any], clock: VirtualClock, store: TbStore) -> None:
        self.cpus = cpus
        self.clock = clock
        self.store = store
        self._kicked = False
        self.log: Callable[[str], None] | None = None
        self.log_flags: set[str] = set()
        store.cpus = cpus
        for cpu in cpus:
            cpu.tbs = store
        if clock.deterministic:
            clock.icount_fn = self.total_icount

    def total_icount(self) -> int:
        return sum(c.icount for c in self.cpus)

    def idle(self) -> bool:
        return all(c.halted for c in self.cpus)

    def kick(self) -> None:
        """Make the running vCPU return to the main loop soon."""
        self._kicked = True
        for c in self.cpus:
            c.exit_req = c.event = True
            c.env.request_exit()  # native code reads this, not the Python flags

    def run_slice(self, deadline_ns: int) -> bool:
        clock = self.clock
        multi = len(self.cpus) > 1
        traced = self.log is not None and bool(self.log_flags & TRACED)
        self._kicked = False
        host_deadline = time.monotonic_ns() + SLICE_HOST_NS
        while True:
            ran = False
            for cpu in self.cpus:
                if cpu.halted:
                    continue
                cpu.exit_req = False
                budget = QUANTUM
                if clock.deterministic:
                    budget = min(budget, clock.ns_to_insns(max(0, deadline_ns - clock.now())))
                if traced:
                    cpu_exec_logged(cpu, budget, self.log, self.log_flags)
                else:
                    cpu_exec(cpu, budget)
                if multi:
                    cpu.resv = None
                ran = True
                if self._kicked:
                    return False
            if not ran:
                return True
            if clock.now() >= deadline_ns or time.monotonic_ns() > host_deadline:
                return False
