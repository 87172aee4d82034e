"""The ISA-independent CPU loop over translation blocks.

A CPU object provides: `x`, `f` (state lists handed to blocks), `pc`,
`icount`, `jc` (jump cache: virtual pc -> block entry for the current
context), `irq_check`/`check_irq()`, `halted`, `exit_req`, `raise_trap()`,
`tb_key(pc)` (raises the fetch fault) and `translate_tb(pc, key)`. A block
entry is (function, instruction count, pcs of its instructions); the
function takes (x, f, cpu) and returns the next pc, and on a guest fault
raises a GuestTrap carrying `k`, the index of the faulting instruction.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pemu.core.memory import AddressSpace


class GuestTrap(Exception):
    """Base of every ISA's synchronous guest exception."""

    k = 0


TbEntry = tuple[Callable, int, tuple[int, ...]]


class TbStore:
    """Translated blocks by (virtual pc, physical pc, flags), indexed by the
    physical pages they were translated from, so a write there drops them."""

    def __init__(self, memory: AddressSpace) -> None:
        self.memory = memory
        self.blocks: dict[tuple, TbEntry] = {}
        self.by_page: dict[int, list[tuple]] = {}
        self.cpus: list[Any] = []
        self.translated = 0
        self.invalidations = 0
        memory.code_write_hook = self.invalidate_page

    def find(self, cpu: Any, pc: int) -> TbEntry:
        key = cpu.tb_key(pc)
        e = self.blocks.get(key)
        if e is None:
            e, pages = cpu.translate_tb(pc, key)
            self.blocks[key] = e
            self.translated += 1
            for page in pages:
                self.by_page.setdefault(page, []).append(key)
                if page not in self.memory.code_pages:
                    self.memory.code_pages.add(page)
                    for c in self.cpus:
                        c.flush_write_tlb()
        cpu.jc[pc] = e
        return e

    def invalidate_page(self, page: int, addr: int = 0) -> None:
        self.invalidations += 1
        for key in self.by_page.pop(page, ()):
            self.blocks.pop(key, None)
        self.memory.code_pages.discard(page)
        for c in self.cpus:
            c.flush_jump_cache()

    def flush(self) -> None:
        for page in list(self.by_page):
            self.invalidate_page(page)


def cpu_exec(cpu: Any, budget: int) -> None:
    """Run blocks on one CPU until about `budget` instructions, a halt or an exit request.

    The inner loop keeps pc, the jump cache and the TLB dicts in locals; any
    change to them (privilege switch, interrupt pending, halt, kick) sets
    `cpu.event`, which sends the loop through the slow path.
    """
    X = cpu.x
    end = cpu.icount + budget
    store = cpu.tbs
    while True:
        cpu.event = False
        if cpu.irq_check:
            cpu.check_irq()
        if cpu.halted or cpu.exit_req or cpu.icount >= end:
            return
        get = cpu.jc.get
        R, W = cpu.tlb_r, cpu.tlb_w
        pc = cpu.pc
        e = None
        try:
            while cpu.icount < end:
                e = get(pc)
                if e is None:
                    cpu.pc = pc
                    e = store.find(cpu, pc)
                pc = e[0](X, cpu, R, W)
                if cpu.event:
                    break
            cpu.pc = pc
        except GuestTrap as t:
            if e is not None:
                cpu.pc = e[2][t.k]
                cpu.icount += t.k
            else:
                # a fetch fault: count it, so a guest whose trap vector itself
                # faults still uses up its budget and lets the main loop run
                cpu.pc = pc
                cpu.icount += 1
            cpu.raise_trap(t)


def cpu_exec_logged(cpu: Any, budget: int, log: Callable[[str], None], flags: set[str]) -> None:
    """cpu_exec with -d exec/int/in_asm/cpu tracing (slow; only when asked for).

    -d cpu logs the CPU state before each block, as QEMU's log_cpu_exec does.
    """
    X = cpu.x
    end = cpu.icount + budget
    store = cpu.tbs
    while cpu.icount < end:
        cpu.event = False
        if cpu.irq_check:
            before = cpu.pc
            if cpu.check_irq() and "int" in flags:
                log(f"cpu {cpu.index}: {cpu.describe_last_trap()} at pc {before:#x}"
                    f" -> {cpu.pc:#x}\n")
        if cpu.halted or cpu.exit_req:
            return
        pc = cpu.pc
        e = cpu.jc.get(pc)
        try:
            if e is None:
                fresh = store.translated
                e = store.find(cpu, pc)
                if "in_asm" in flags and store.translated != fresh:
                    log(cpu.disassemble_tb(pc, e) + "\n")
            if "exec" in flags:
                log(f"Trace {cpu.index}: {pc:016x} [{e[1]} insns]\n")
            if "cpu" in flags:
                log(cpu.dump_state() + "\n")
            cpu.pc = e[0](X, cpu, cpu.tlb_r, cpu.tlb_w)
        except GuestTrap as t:
            if e is not None:
                cpu.pc = e[2][t.k]
                cpu.icount += t.k
            if "int" in flags:
                log(f"cpu {cpu.index}: exception {t} at pc {cpu.pc:#x}\n")
            cpu.raise_trap(t)


__all__ = ["GuestTrap", "TbStore", "cpu_exec", "cpu_exec_logged"]
