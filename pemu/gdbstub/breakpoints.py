"""The debugger's breakpoints and watchpoints, shared by every hart of a machine.

This is the `Debugger` the CPU protocol asks for (target/riscv/debug_access.py):
translated code stops before an instruction at a breakpoint pc, and the
softmmu slow path stops before an access that overlaps a watchpoint. A stop
unwinds the block as a fault does, so the hart's pc is the instruction's;
`hart_stopped` hands it to the stub (system mode: the machine stops and the
main loop reports it; user mode: the thread talks to gdb until it resumes).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pemu.target.riscv import csr_debug

#: Z packet type -> the accesses a watchpoint of that type stops on
WATCH_KINDS = {2: csr_debug.STORE, 3: csr_debug.LOAD, 4: csr_debug.LOAD | csr_debug.STORE}
#: the prefix a stop reply gives each type ("watch", "rwatch", "awatch")
WATCH_REPLY = {2: "watch", 3: "rwatch", 4: "awatch"}
MAX_WATCH_LEN = 4096


@dataclass(frozen=True)
class Watchpoint:
    addr: int
    length: int
    ztype: int  # 2 write, 3 read, 4 access


@dataclass
class Stop:
    """Why a hart stopped: "break" (pc) or "watch" (the watchpoint hit)."""

    cpu: Any
    kind: str
    addr: int
    watch: Watchpoint | None = None


class Breakpoints:
    """Software (Z0) and hardware (Z1) breakpoints, watchpoints (Z2-Z4)."""

    def __init__(self, cpus: list[Any], on_stop: Callable[[Stop], None]) -> None:
        self.cpus = cpus
        self.on_stop = on_stop
        self.sw: set[int] = set()
        self.hw: set[int] = set()
        self.watchpoints: list[Watchpoint] = []
        self.breakpoints: frozenset[int] = frozenset()
        self.stepping = False
        for cpu in cpus:
            cpu.debugger = self

    # --- the set ------------------------------------------------------------------------
    def insert(self, ztype: int, addr: int, length: int) -> bool:
        """Add a Z0-Z4 point; False if the type or length cannot be honoured."""
        if ztype in (0, 1):
            (self.sw if ztype == 0 else self.hw).add(addr)
        elif ztype in WATCH_KINDS:
            if not 0 < length <= MAX_WATCH_LEN:
                return False
            wp = Watchpoint(addr, length, ztype)
            if wp not in self.watchpoints:
                self.watchpoints.append(wp)
        else:
            return False
        self._changed()
        return True

    def remove(self, ztype: int, addr: int, length: int) -> bool:
        if ztype in (0, 1):
            points = self.sw if ztype == 0 else self.hw
            if addr not in points:
                return False
            points.discard(addr)
        elif ztype in WATCH_KINDS:
            wp = Watchpoint(addr, length, ztype)
            if wp not in self.watchpoints:
                return False
            self.watchpoints.remove(wp)
        else:
            return False
        self._changed()
        return True

    def clear(self) -> None:
        if self.sw or self.hw or self.watchpoints:
            self.sw.clear()
            self.hw.clear()
            self.watchpoints.clear()
            self._changed()

    def detach(self) -> None:
        """Forget every point and let go of the harts."""
        self.clear()
        for cpu in self.cpus:
            if cpu.debugger is self:
                cpu.debugger = None
        self.cpus[0].debugger_changed()

    def attach(self, cpu: Any) -> None:
        """A new hart (a user-mode thread) comes under the debugger."""
        cpu.debugger = self
        if cpu not in self.cpus:
            self.cpus.append(cpu)

    def _changed(self) -> None:
        self.breakpoints = frozenset(self.sw | self.hw)
        self.cpus[0].debugger_changed()
        for cpu in self.cpus:
            cpu.flush_jump_cache()  # no jump may skip a new breakpoint check

    # --- what the harts ask (the Debugger protocol) ------------------------------------
    def watch_hit(self, va: int, size: int, kind: int) -> int | None:
        wp = self._watch_at(va, size, kind)
        return None if wp is None else wp.addr

    def _watch_at(self, va: int, size: int, kind: int) -> Watchpoint | None:
        end = va + size
        for wp in self.watchpoints:
            if WATCH_KINDS[wp.ztype] & kind and va < wp.addr + wp.length and wp.addr < end:
                return wp
        return None

    def watch_pages(self) -> set[int]:
        pages: set[int] = set()
        for wp in self.watchpoints:
            pages.update(range(wp.addr >> 12, ((wp.addr + wp.length - 1) >> 12) + 1))
        return pages

    def hart_stopped(self, cpu: Any, stop: Any) -> None:
        wp = None
        if stop.kind == "watch":
            wp = self._watch_at(stop.addr, 1, stop.access)
        self.on_stop(Stop(cpu, stop.kind, stop.addr, wp))

    def stop_reason(self, stop: Stop) -> str:
        """The reason part of a T stop reply (GDB manual, "Stop Reply Packets")."""
        if stop.kind == "watch" and stop.watch is not None:
            return f"{WATCH_REPLY[stop.watch.ztype]}:{stop.watch.addr:x};"
        if stop.kind == "break":
            return "swbreak:;" if stop.addr in self.sw else "hwbreak:;"
        return ""


__all__ = ["Breakpoints", "Stop", "Watchpoint"]
