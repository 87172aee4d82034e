"""An AArch64 PE at EL0 whose memory is a guest process's address space.

Guest virtual address == index into the address-space buffer; the TLB
dicts and jump cache are the process's (shared by its threads); faults
become ArmTraps that the thread turns into signals. Exclusive accesses
and CAS are serialised by the address space's lock, with QEMU's
compare-and-swap semantics for a store-exclusive: it succeeds if memory
still holds what the load-exclusive read.
"""
from __future__ import annotations

import os
import time
from typing import Any

from pemu.accel.tcg.cpu_exec import Tb
from pemu.linux_user.memory import PROT_EXEC, PROT_READ, PROT_WRITE, Fault, GuestMemory
from pemu.target.arm.state import TPIDRRO_EL0, ArmState
from pemu.target.arm.trap import ALIGNMENT, DATA_ABORT, INSN_ABORT, ArmTrap

M64 = (1 << 64) - 1
#: CNTFRQ_EL0: the generic timer's frequency QEMU gives its Arm CPUs (62.5 MHz)
CNTFRQ = 62_500_000
#: CTR_EL0 (Arm ARM D17.2.34): 64-byte lines (IminLine = DminLine = 4), PIPT I-cache
CTR_EL0 = 0x8444C004
#: DCZID_EL0: DC ZVA permitted, block of 2**4 words (64 bytes)
DCZID_EL0 = 4
ZVA_BYTES = 64


def _signed(v: int, bits: int) -> int:
    return v - (1 << bits) if v >> (bits - 1) else v


#: new memory value of each LSE atomic from (old, operand, bits)
ATOMIC_RESULT = (
    lambda o, x, b: o + x,  # LDADD
    lambda o, x, b: o & ~x,  # LDCLR
    lambda o, x, b: o ^ x,  # LDEOR
    lambda o, x, b: o | x,  # LDSET
    lambda o, x, b: o if _signed(o, b) >= _signed(x, b) else x,  # LDSMAX
    lambda o, x, b: o if _signed(o, b) <= _signed(x, b) else x,  # LDSMIN
    lambda o, x, b: max(o, x),  # LDUMAX
    lambda o, x, b: min(o, x),  # LDUMIN
    lambda o, x, b: x,  # SWP
)


class ArmUserCpu(ArmState):
    """One guest thread's PE."""

    def __init__(self, mem: GuestMemory, thread: Any = None) -> None:
        super().__init__()
        self.mem = mem
        self.thread = thread
        self.tlb_r, self.tlb_w, self.tlb_x, self.jc = mem.tlb_r, mem.tlb_w, mem.tlb_x, mem.jc
        self.translator: Any = None
        self.tbs: Any = None
        self.irq_check = self.event = False
        self.halted = self.exit_req = False
        self.resv = None  # (address, size, value) of the last load-exclusive
        self.unimplemented: set[int] = set()
        # native code reaches guest memory at host address vaddr + ram_host
        self.ram_host = self.env.ram_host = mem.host_addr()
        mem.envs.append(self.env)

    # --- what cpu_exec needs ---------------------------------------------------------------
    def flush_tlb(self) -> None:
        self.mem.flush_translations()

    def flush_write_tlb(self) -> None:
        pass  # CodePages.add drops the one entry that matters

    def flush_jump_cache(self) -> None:
        self.mem.flush_jump_caches()

    def tb_key(self, pc: int) -> int:
        if (pc >> 12) not in self.tlb_x:
            self._check(pc, 4, PROT_EXEC, INSN_ABORT)
        return pc

    def translate_tb(self, pc: int, key: int, single: bool = False):
        (fn, n, pcs), pages = self.translator.translate(self, pc, single)
        return Tb(fn, n, pcs, key), pages

    def tb_ir(self, key: int):
        """The optimised IR of the block at key (its pc), for the native tier."""
        return self.translator.build_ir(self, key)[0]

    def fetch32(self, pc: int) -> int:
        self._check(pc, 4, PROT_EXEC, INSN_ABORT)
        return int.from_bytes(self.mem.buf[pc:pc + 4], "little")

    def raise_trap(self, t: ArmTrap) -> None:
        self.thread.on_trap(self, t)

    def kick(self) -> None:
        """Make the CPU loop look at pending signals before the next block."""
        self.irq_check = self.event = True
        self.env.request_exit()  # and native code, which does not read those flags

    def check_irq(self) -> bool:
        self.irq_check = False
        return self.thread.deliver_signals(self)

    # --- memory ----------------------------------------------------------------------------
    def _check(self, va: int, size: int, prot: int, ec: int) -> None:
        try:
            self.mem.check(va & M64, size, prot)
        except Fault as f:
            raise ArmTrap(ec, f.addr, f.mapped) from None

    def load_slow(self, va: int, size: int, signed: int) -> int:
        self._check(va, size, PROT_READ, DATA_ABORT)
        self.mem.refill_native_tlb(self.env, va, False)
        v = int.from_bytes(self.mem.buf[va:va + size], "little")
        if signed and v >> (8 * size - 1):
            v -= 1 << (8 * size)
        return v & M64

    def store_slow(self, va: int, size: int, value: int) -> None:
        self._check(va, size, PROT_WRITE, DATA_ABORT)
        mem = self.mem
        mem.refill_native_tlb(self.env, va, True)
        mem.buf[va:va + size] = (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little")
        for p in {va >> 12, (va + size - 1) >> 12}:
            if p in mem.code_pages:
                mem.code_write_hook(p, va)

    def dc_zva(self, va: int) -> None:
        """DC ZVA: zero the aligned 64-byte block holding va (DCZID_EL0)."""
        base = va & ~(ZVA_BYTES - 1) & M64
        self._check(base, ZVA_BYTES, PROT_WRITE, DATA_ABORT)
        self.mem.buf[base:base + ZVA_BYTES] = bytes(ZVA_BYTES)
        if base >> 12 in self.mem.code_pages:
            self.mem.code_write_hook(base >> 12, base)

    # --- exclusives and atomics ---------------------------------------------------------------
    def load_exclusive(self, va: int, size: int) -> int:
        """LDXR (and LDXP: size 16 returns the low half; exclusive_pair_high the other)."""
        v = self._read(va, size)
        self.resv = (va, size, v)
        return v & M64

    def exclusive_pair_high(self) -> int:
        return (self.resv[2] >> 64) & M64 if self.resv else 0

    @staticmethod
    def _aligned(va: int, size: int) -> None:
        """Exclusives and atomics fault on an unaligned address (SIGBUS)."""
        if va & (size - 1):
            raise ArmTrap(ALIGNMENT, va)

    def _read(self, va: int, size: int) -> int:
        self._aligned(va, size)
        self._check(va, size, PROT_READ, DATA_ABORT)
        return int.from_bytes(self.mem.buf[va:va + size], "little")

    def store_exclusive(self, va: int, value: int, size: int) -> int:
        """0 if the store happened, 1 if not (the STXR status)."""
        self._aligned(va, size)
        self._check(va, size, PROT_WRITE, DATA_ABORT)
        with self.mem.lock:
            resv, self.resv = self.resv, None
            if resv is None or resv[:2] != (va, size) or self._read(va, size) != resv[2]:
                return 1
            self.store_slow(va, size, value)
            return 0

    def store_exclusive_pair(self, va: int, lo: int, hi: int) -> int:
        """STXP of two 64-bit registers: 0 if stored, 1 if not."""
        self._aligned(va, 16)
        self._check(va, 16, PROT_WRITE, DATA_ABORT)
        with self.mem.lock:
            resv, self.resv = self.resv, None
            if resv is None or resv[:2] != (va, 16) or self._read(va, 16) != resv[2]:
                return 1
            self.store_slow(va, 8, lo)
            self.store_slow(va + 8, 8, hi)
            return 0

    def clear_exclusive(self) -> None:
        self.resv = None

    def compare_and_swap(self, va: int, expected: int, new: int, size: int) -> int:
        self._aligned(va, size)
        self._check(va, size, PROT_WRITE, DATA_ABORT)
        mask = (1 << (8 * size)) - 1
        with self.mem.lock:
            old = self.load_slow(va, size, 0)
            if old == expected & mask:
                self.store_slow(va, size, new)
            return old

    def atomic_op(self, op: int, va: int, operand: int, size: int) -> int:
        """An LSE atomic read-modify-write (insn_ldst.ATOMIC_OPS): the old value."""
        self._aligned(va, size)
        self._check(va, size, PROT_WRITE, DATA_ABORT)
        bits = 8 * size
        mask = (1 << bits) - 1
        with self.mem.lock:
            old = self._read(va, size)
            x = operand & mask
            new = ATOMIC_RESULT[op](old, x, bits) & mask
            self.store_slow(va, size, new)
        return old

    # --- system registers -----------------------------------------------------------------------
    def read_sysreg(self, key: int) -> int:
        from pemu.target.arm.insn_system import CPU_SYSREGS
        name = CPU_SYSREGS[key]
        if name == "ctr_el0":
            return CTR_EL0
        if name == "dczid_el0":
            return DCZID_EL0
        if name == "tpidrro_el0":
            return self.sys[TPIDRRO_EL0]
        if name == "cntfrq_el0":
            return CNTFRQ
        return time.monotonic_ns() * CNTFRQ // 1_000_000_000  # CNTVCT/CNTPCT

    def report_unimplemented(self, word: int, pc: int) -> None:
        """Say once per encoding that pemu lacks an instruction (the guest gets SIGILL)."""
        if word not in self.unimplemented:
            self.unimplemented.add(word)
            os.write(2, f"pemu-aarch64: unimplemented instruction {word:#010x} at pc "
                        f"{pc:#x} (SIGILL)\n".encode())
