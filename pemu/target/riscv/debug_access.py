"""The debugger's view of a RISC-V hart (monitor and gdbstub): registers by
name, guest memory through the hart's current translation, one-instruction
steps, and the hooks that stop a hart at a debugger breakpoint or watchpoint.

Register names: x0-x31 and their ABI names (zero, ra, sp, ..., fp = s0), pc,
f0-f31 and their ABI names (ft0, fa0, ...), every CSR by its name in
csr.CSRS, and "priv" (the privilege level, gdb's virtual register). A
debugger read or write of a CSR bypasses the privilege checks of csrr/csrw,
as a debug module's abstract commands do, but keeps the CSR's own WARL rules.

Memory: a virtual address goes through the hart's page tables as a load at
its current privilege (MPRV honoured), without filling the TLB or setting
PTE A/D bits (QEMU's cpu_get_phys_page_debug does the same walk). Only RAM
and ROM are read or written: a device register is never touched on the
debugger's behalf, since reading one can change the device.
"""
from __future__ import annotations

from typing import Any, Protocol

from pemu.core.memory import PAGE_BITS
from pemu.target.riscv import csr, mmu
from pemu.target.riscv.trap import DebugStop, Trap

M64 = (1 << 64) - 1
XNAMES = ("zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2",
          "a3", "a4", "a5", "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9",
          "s10", "s11", "t3", "t4", "t5", "t6")
FNAMES = ("ft0", "ft1", "ft2", "ft3", "ft4", "ft5", "ft6", "ft7", "fs0", "fs1", "fa0", "fa1",
          "fa2", "fa3", "fa4", "fa5", "fa6", "fa7", "fs2", "fs3", "fs4", "fs5", "fs6", "fs7",
          "fs8", "fs9", "fs10", "fs11", "ft8", "ft9", "ft10", "ft11")
#: name -> ("x" | "f", index) for the integer and floating-point files
REG_FILES: dict[str, tuple[str, int]] = {
    **{f"x{i}": ("x", i) for i in range(32)}, **{n: ("x", i) for i, n in enumerate(XNAMES)},
    "fp": ("x", 8),
    **{f"f{i}": ("f", i) for i in range(32)}, **{n: ("f", i) for i, n in enumerate(FNAMES)},
}
PRIV_LEVELS = (0, 1, 3)


class Debugger(Protocol):
    """What a hart asks of the debugger attached to it (the gdbstub)."""

    #: virtual pcs where execution stops before the instruction runs
    breakpoints: frozenset[int]
    #: True while the debugger itself steps a hart: its breakpoints and
    #: watchpoints do not fire for that instruction
    stepping: bool

    def watch_hit(self, va: int, size: int, kind: int) -> int | None:
        """The watched address an access of `kind` (csr_debug.LOAD/STORE bits) hits, or None."""

    def watch_pages(self) -> set[int]:
        """Virtual page numbers holding watched bytes."""

    def hart_stopped(self, cpu: Any, stop: DebugStop) -> None:
        """A hart reached a breakpoint or watchpoint (its pc is the instruction's)."""


class DebugAccessMixin:
    """Mixed into RiscvCpu: registers by name, debug memory access, stepping."""

    # --- registers by name ----------------------------------------------------------------
    def get_register(self, name: str) -> int:
        """The value of a register by name; KeyError for an unknown name."""
        c: Any = self
        if name == "pc":
            return c.pc
        if name == "priv":
            return c.priv
        where = REG_FILES.get(name)
        if where is not None:
            return (c.x if where[0] == "x" else c.f)[where[1]] & M64
        num = csr.NAMES.get(name)
        if num is None or csr.CSR_EXT.get(num) in c.ext_off:
            raise KeyError(name)
        return csr.CSRS[num][1](c) & M64

    def set_register(self, name: str, value: int) -> None:
        """Write a register by name (KeyError: unknown; ValueError: not writable)."""
        c: Any = self
        value &= M64
        if name == "pc":
            c.pc = value
            c.event = True
            return
        if name == "priv":
            if value not in PRIV_LEVELS:
                raise ValueError(f"privilege level {value} does not exist")
            c.priv = value
            c._select_context()
            c.irq_check = True
            return
        where = REG_FILES.get(name)
        if where is not None:
            if where == ("x", 0):
                return  # x0 is hard-wired to zero
            (c.x if where[0] == "x" else c.f)[where[1]] = value
            return
        num = csr.NAMES.get(name)
        if num is None or csr.CSR_EXT.get(num) in c.ext_off:
            raise KeyError(name)
        writer = csr.CSRS[num][2]
        if writer is None:
            raise ValueError(f"{name} is read-only")
        writer(c, value)

    def register_names(self) -> list[str]:
        """Every name get_register knows, canonical spellings only."""
        c: Any = self
        csrs = [n for num, (n, _, _) in sorted(csr.CSRS.items())
                if csr.CSR_EXT.get(num) not in c.ext_off]
        return [*XNAMES, "pc", *FNAMES, *csrs, "priv"]

    # --- memory as the debugger sees it -----------------------------------------------------
    def debug_translate(self, va: int) -> int | None:
        """Physical address of a virtual one for a debugger access; None if unmapped."""
        c: Any = self
        va &= M64
        priv = c.priv
        if priv == 3 and c.mstatus & csr.MPRV:
            priv = (c.mstatus & csr.MPP) >> csr.MPP_SHIFT
        if priv == 3 or c.satp >> 60 == mmu.SATP_MODE_BARE:
            return va
        try:
            pa, _ = mmu.walk(c.memory, c.satp, va, mmu.LOAD, priv, bool(c.mstatus & csr.SUM),
                             bool(c.mstatus & csr.MXR), "svpbmt" not in c.ext_off,
                             "svnapot" not in c.ext_off, update_ad=False)
        except Trap:
            return None
        return pa

    def _debug_pages(self, va: int, length: int):
        """(physical address, length) per page of [va, va+length); None if one is unmapped."""
        out = []
        while length > 0:
            n = min(length, (1 << PAGE_BITS) - (va & ((1 << PAGE_BITS) - 1)))
            pa = self.debug_translate(va)
            if pa is None:
                return None
            out.append((pa, n))
            va = (va + n) & M64
            length -= n
        return out

    def read_memory(self, va: int, length: int) -> bytes | None:
        """Guest memory at a virtual address (RAM/ROM only); None if any byte is not there."""
        c: Any = self
        pages = self._debug_pages(va, length)
        if pages is None:
            return None
        out = bytearray()
        for pa, n in pages:
            got = c.memory.ram_at(pa, n)
            if got is None:
                return None
            region, off = got
            out += region.buf[off:off + n]
        return bytes(out)

    def write_memory(self, va: int, data: bytes) -> bool:
        """Write guest memory at a virtual address, ROM included (a debugger
        patching firmware); translated code there is dropped. False if any
        byte is not RAM/ROM (then nothing is written)."""
        c: Any = self
        pages = self._debug_pages(va, len(data))
        if pages is None or any(c.memory.ram_at(pa, n) is None for pa, n in pages):
            return False
        pos = 0
        for pa, n in pages:
            c.memory.write_bytes(pa, data[pos:pos + n], force=True)
            pos += n
        return True

    # --- execution control --------------------------------------------------------------------
    def step_instruction(self) -> None:
        """Run exactly one instruction, or take the exception it raises (stepi).

        Interrupts are not taken (as QEMU's gdbstub steps by default): the
        step lands on the next instruction of the code being debugged.
        """
        c: Any = self
        pc = c.pc
        try:
            key = c.tb_key(pc)
            tb, _ = c.translator.translate(c, pc, key[1], key[2], single=True)
            c.pc = tb.fn(c.x, c, c.tlb_r, c.tlb_w)
        except DebugStop:
            c.pc = pc  # the debugger suppresses its own stops while it steps: stay put
        except Trap as t:
            c.pc = pc
            c.raise_trap(t)

    def debugger_changed(self) -> None:
        """The debugger's breakpoints or watchpoints changed: recompute what
        translated code checks and what the TLB must keep on the slow path."""
        c: Any = self
        cpus = c.tbs.cpus if c.tbs is not None and c.tbs.cpus else [c]
        for cpu in cpus:
            cpu.refresh_watch_pages()
        cpus[0].refresh_breakpoints()


__all__ = ["DebugAccessMixin", "Debugger", "XNAMES", "FNAMES", "REG_FILES"]
