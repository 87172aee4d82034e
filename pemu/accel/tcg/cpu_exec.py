"""The ISA-independent CPU loop over translation blocks.

A CPU object provides: `x` (the register view handed to blocks), `env`
(pemu.tcg.env.Env: the buffer native code shares), `pc`, `icount`, `jc`
(jump cache: virtual pc -> `Tb` for the current context),
`irq_check`/`check_irq()`, `halted`, `exit_req`, `raise_trap()`,
`tb_key(pc)` (raises the fetch fault) and `translate_tb(pc, key, single)`.
A block's Python function takes (x, cpu, tlb_r, tlb_w) and returns the next
pc; on a guest fault it raises a GuestTrap carrying `k`, the index of the
faulting instruction. A block that became hot also has native code
(`Tb.native`, see pemu/accel/tcg/native_tier.py): native blocks chain to each
other and come back here only at the end of the slice, an exit request, or an
instruction they leave to Python (a TLB miss, MMIO, a helper), which runs here
as a one-instruction Python block.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pemu.core.memory import AddressSpace


class GuestTrap(Exception):
    """Base of every ISA's synchronous guest exception."""

    k = 0


class Tb:
    """One translated block: its Python function, instruction count and pcs,
    the key it was translated under, how often the Python tier ran it, and
    its native code's host address (0: none yet)."""

    __slots__ = ("fn", "n", "pcs", "key", "hits", "native")

    def __init__(self, fn: Callable, n: int, pcs: tuple[int, ...], key: tuple) -> None:
        self.fn, self.n, self.pcs, self.key = fn, n, pcs, key
        self.hits = 0
        self.native = 0

    def __getitem__(self, i: int):  # (fn, count, pcs), as a block entry reads
        return (self.fn, self.n, self.pcs)[i]


class TbStore:
    """Translated blocks by (virtual pc, physical pc, flags), indexed by the
    physical pages they were translated from, so a write there drops them.
    One-instruction blocks (what runs an instruction native code leaves to
    Python) are kept apart under the same rules."""

    def __init__(self, memory: AddressSpace) -> None:
        self.memory = memory
        self.blocks: dict[tuple, Tb] = {}
        self.by_page: dict[int, list[tuple]] = {}
        self.cpus: list[Any] = []
        self.translated = 0
        self.invalidations = 0
        #: the native tier (pemu/accel/tcg/native_tier.py), or None: Python only
        self.native: Any = None
        memory.code_write_hook = self.invalidate_page

    def find(self, cpu: Any, pc: int, single: bool = False) -> Tb:
        key = cpu.tb_key(pc)
        bkey = (key, single) if single else key
        e = self.blocks.get(bkey)
        if e is None:
            e, pages = cpu.translate_tb(pc, key, single)
            self.blocks[bkey] = e
            self.translated += 1
            for page in pages:
                self.by_page.setdefault(page, []).append(bkey)
                if page not in self.memory.code_pages:
                    self.memory.code_pages.add(page)
                    for c in self.cpus:
                        c.flush_write_tlb()
        if not single:
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
    native = store.native
    if native is not None:
        return native_exec(cpu, budget, native)
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
                pc = e.fn(X, cpu, R, W)
                if cpu.event:
                    break
            cpu.pc = pc
        except GuestTrap as t:
            if e is not None:
                cpu.pc = e.pcs[t.k]
                cpu.icount += t.k
            else:
                # a fetch fault: count it, so a guest whose trap vector itself
                # faults still uses up its budget and lets the main loop run
                cpu.pc = pc
                cpu.icount += 1
            cpu.raise_trap(t)


def _log_new_block(cpu: Any, pc: int, e: Tb, log: Callable[[str], None],
                   flags: set[str]) -> None:
    """-d in_asm, op, out_asm for a block just translated, in QEMU's layout."""
    if "in_asm" in flags:
        log(cpu.disassemble_tb(pc, e) + "\n")
    if "op" in flags and getattr(e.fn, "ir", None):
        log(f"OP after optimization:\n{e.fn.ir}\n\n")
    native = cpu.tbs.native
    if "out_asm" in flags and native is not None:
        # the traced loop itself runs the Python tier; this is the code the
        # native tier makes (and would run) for the block
        nb = native.backend.compile(cpu.tb_ir(e.key))
        if nb is None:
            log(f"OUT: [pc={pc:#x}] not compiled natively (its first instruction needs"
                " Python)\n\n")
        else:
            from pemu.tcg.native.disas import disassemble
            cut = f", leaves to Python at {nb.cut_pc:#x}" if nb.cut else ""
            log(f"OUT: [size={len(nb.code)}{cut}]\n"
                + "\n".join(disassemble(nb.code, nb.addr)) + "\n\n")


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
                if store.translated != fresh:
                    _log_new_block(cpu, pc, e, log, flags)
            if "exec" in flags:
                log(f"Trace {cpu.index}: {pc:016x} [{e.n} insns]\n")
            if "cpu" in flags:
                log(cpu.dump_state() + "\n")
            cpu.pc = e.fn(X, cpu, cpu.tlb_r, cpu.tlb_w)
        except GuestTrap as t:
            if e is not None:
                cpu.pc = e.pcs[t.k]
                cpu.icount += t.k
            if "int" in flags:
                log(f"cpu {cpu.index}: exception {t} at pc {cpu.pc:#x}\n")
            cpu.raise_trap(t)


def native_exec(cpu: Any, budget: int, native: Any) -> None:
    """cpu_exec with the native tier: Python blocks count their runs and
    become native when hot; native code runs until it needs Python."""
    X = cpu.x
    end = cpu.icount + budget
    store = cpu.tbs
    q = cpu.env.q
    lay = cpu.env.layout
    i_icount, i_limit, i_exit, i_status = (lay.ICOUNT // 8, lay.LIMIT // 8, lay.EXIT_REQ // 8,
                                           lay.STATUS // 8)
    enter, hot = native.enter, native.hot
    env = cpu.env
    jc_set = env.jc_set
    refill = cpu.env.tlb_refill
    i_miss = lay.MISS // 8
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
                if not e.native:
                    e.hits += 1
                    if e.hits > hot:  # (hot 0: compiled before its first run)
                        native.promote(cpu, e)
                if e.native:
                    jc_set(pc, e.native)  # so native blocks chain to it
                    q[i_icount] = cpu.icount
                    q[i_limit] = end
                    q[i_exit] = 0
                    env.in_native = True
                    pc = enter(env.addr, e.native)
                    env.in_native = False
                    if env.pending:
                        env.apply_pending()
                    cpu.icount = q[i_icount]
                    if q[i_status]:
                        # an instruction native code leaves to Python: a TLB
                        # miss the Python TLB can answer goes back to native
                        # code; else it runs alone, with empty TLBs so its
                        # accesses take the slow path and refill both
                        if refill(q[i_miss], R, W):
                            continue
                        cpu.pc = pc
                        e = store.find(cpu, pc, single=True)
                        pc = e.fn(X, cpu, {}, {})
                else:
                    pc = e.fn(X, cpu, R, W)
                if cpu.event:
                    break
            cpu.pc = pc
        except GuestTrap as t:
            if e is not None:
                cpu.pc = e.pcs[t.k]
                cpu.icount += t.k
            else:
                cpu.pc = pc
                cpu.icount += 1
            cpu.raise_trap(t)


__all__ = ["GuestTrap", "Tb", "TbStore", "cpu_exec", "cpu_exec_logged", "native_exec"]
