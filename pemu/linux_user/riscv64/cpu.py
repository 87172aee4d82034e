"""A RISC-V hart in U-mode whose memory is a guest process's address space.

`UserCpu` reuses the system CPU (`RiscvCpu`: registers, CSRs, the block
translator's conventions) and replaces what differs in user mode: address
translation is the process's VMA table instead of page tables (guest
virtual address == index into the address-space buffer), the TLBs and
jump cache are shared by the process's threads, atomics are serialised by
the address space's lock with QEMU's compare-and-swap semantics for SC,
and traps go to the process (`ecall` -> system call, faults -> signals)
instead of a trap vector.
"""
from __future__ import annotations

import time
from typing import Any

from pemu.linux_user.memory import PROT_EXEC, PROT_READ, PROT_WRITE, Fault, GuestMemory
from pemu.target.riscv.amo import amo_apply
from pemu.target.riscv.cpu import RiscvCpu
from pemu.target.riscv.csr import FS
from pemu.target.riscv.trap import (
    INSN_PAGE_FAULT,
    LOAD_MISALIGNED,
    LOAD_PAGE_FAULT,
    STORE_MISALIGNED,
    STORE_PAGE_FAULT,
    DebugStop,
    Trap,
)

M64 = (1 << 64) - 1


class _Ram:
    """What the translator needs of a RAM block: base, size and buffer."""

    def __init__(self, mem: GuestMemory) -> None:
        self.base = 0
        self.size = len(mem.buf)
        self.buf = mem.buf


class UserCpu(RiscvCpu):
    """One guest thread's hart."""

    def __init__(self, mem: GuestMemory, thread: Any = None) -> None:
        self.mem = mem
        self.thread = thread  # the GuestThread that runs this hart
        super().__init__(mem, 0, _Ram(mem))  # type: ignore[arg-type]
        mem.envs.append(self.env)
        self.priv = 0
        self.mstatus |= FS  # FP usable from the start, as Linux sets it up
        self.mcounteren = self.scounteren = 7  # rdcycle/rdtime/rdinstret allowed
        self._select_context()
        self.resv_val = 0
        self.time_fn = _time_10mhz

    # --- contexts: one shared TLB and jump cache per process ---------------------------
    def _select_context(self) -> None:
        m = self.__dict__.get("mem")
        if m is None:
            self.tlb_r, self.tlb_w, self.tlb_x, self.jc = {}, {}, {}, {}
            self.fs_on = True
            return
        self.tlb_r, self.tlb_w, self.tlb_x, self.jc = m.tlb_r, m.tlb_w, m.tlb_x, m.jc
        self.fs_on = True

    def flush_tlb(self) -> None:
        self.mem.flush_translations()

    def flush_write_tlb(self) -> None:
        pass  # CodePages.add drops the one entry that matters

    def flush_jump_cache(self) -> None:
        self.mem.flush_jump_caches()

    def read_mstatus(self) -> int:
        return self.mstatus | FS

    # --- memory --------------------------------------------------------------------------
    def _check(self, va: int, size: int, prot: int, cause: int) -> None:
        try:
            self.mem.check(va, size, prot)
        except Fault as f:
            t = Trap(cause, f.addr)
            t.mapped = f.mapped  # type: ignore[attr-defined]
            raise t from None

    def translate(self, va: int, access: int) -> int:
        prot, cause = ((PROT_READ, LOAD_PAGE_FAULT), (PROT_WRITE, STORE_PAGE_FAULT),
                       (PROT_EXEC, INSN_PAGE_FAULT))[access]
        self._check(va & M64, 1, prot, cause)
        return va

    def load_slow(self, va: int, size: int, signed: int) -> int:
        self._check(va, size, PROT_READ, LOAD_PAGE_FAULT)
        self.mem.refill_native_tlb(self.env, va, False)
        v = int.from_bytes(self.mem.buf[va:va + size], "little")
        if signed and v >> (8 * size - 1):
            v -= 1 << (8 * size)
        return v & M64

    def store_slow(self, va: int, size: int, value: int) -> None:
        self._check(va, size, PROT_WRITE, STORE_PAGE_FAULT)
        mem = self.mem
        mem.refill_native_tlb(self.env, va, True)
        mem.buf[va:va + size] = (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little")
        for p in {va >> 12, (va + size - 1) >> 12}:
            if p in mem.code_pages:
                mem.code_write_hook(p, va)

    def fetch16(self, pa: int, va: int) -> int:
        self._check(va, 2, PROT_EXEC, INSN_PAGE_FAULT)
        return int.from_bytes(self.mem.buf[va:va + 2], "little")

    def tb_key(self, pc: int) -> tuple[int, int, bool]:
        if (pc >> 12) not in self.tlb_x:
            self._check(pc, 2, PROT_EXEC, INSN_PAGE_FAULT)
        return (pc, pc, True)

    # --- atomics: serialised by the process lock ------------------------------------------
    def lr(self, va: int, size: int) -> int:
        if va & (size - 1):
            raise Trap(LOAD_MISALIGNED, va)
        v = self.load_slow(va, size, 1)
        self.resv = va
        self.resv_val = v
        return v

    def sc(self, va: int, value: int, size: int) -> int:
        if va & (size - 1):
            raise Trap(STORE_MISALIGNED, va)
        self._check(va, size, PROT_WRITE, STORE_PAGE_FAULT)
        with self.mem.lock:
            if self.resv != va:
                self.resv = None
                return 1
            self.resv = None
            if self.load_slow(va, size, 1) != self.resv_val:
                return 1
            self.store_slow(va, size, value)
            return 0

    def amo(self, op: str, va: int, src: int, size: int) -> int:
        if va & (size - 1):
            raise Trap(STORE_MISALIGNED, va)
        self._check(va, size, PROT_WRITE, STORE_PAGE_FAULT)
        with self.mem.lock:
            return self._amo(op, va, src, size)

    def _amo(self, op: str, va: int, src: int, size: int) -> int:
        buf = self.mem.buf
        new, result = amo_apply(op, int.from_bytes(buf[va:va + size], "little"), src, size)
        self.store_slow(va, size, new)
        return result

    # --- the debugger's view of memory: the process's mappings ---------------------------
    def read_memory(self, va: int, length: int) -> bytes | None:
        try:
            self.mem.check(va, length, PROT_READ)
        except Fault:
            return None
        return bytes(self.mem.buf[va:va + length])

    def write_memory(self, va: int, data: bytes) -> bool:
        try:
            self.mem.check_writable(va, len(data))  # drops translated code there
        except Fault:
            return False
        self.mem.buf[va:va + len(data)] = data
        return True

    # --- traps and signals go to the process --------------------------------------------
    def raise_trap(self, t: Trap) -> None:
        if isinstance(t, DebugStop):
            if self.debugger is not None:
                self.debugger.hart_stopped(self, t)  # gdb, in this thread
            return
        self.thread.on_trap(self, t)

    def kick(self) -> None:
        """Make the CPU loop look at pending signals before the next block."""
        self.irq_check = self.event = True
        self.env.request_exit()  # and native code, which does not read those flags

    def check_irq(self) -> bool:
        self.irq_check = False
        return self.thread.deliver_signals(self)

    def pending_interrupt(self) -> int | None:
        return None



def _time_10mhz() -> int:
    return time.monotonic_ns() // 100  # the rdtime timebase: 10 MHz, as QEMU's virt
