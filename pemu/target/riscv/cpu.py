"""A RISC-V RV64GC hart: architectural state, traps, interrupts, softmmu.

State: x/f register lists (unsigned 64-bit ints; f as raw bit patterns),
pc, privilege (0 U, 1 S, 3 M) and CSRs. Memory accesses from translated
code hit per-privilege TLB dicts (virtual page -> RAM offset delta) inline;
misses, MMIO and page-crossing accesses come here (`load_slow`,
`store_slow`). Pages holding translated code never get a fast write entry,
so every store to them reaches the address space, which invalidates the
blocks (self-modifying code).
"""
from __future__ import annotations

import ctypes
from array import array
from collections.abc import Callable

from pemu.core.memory import PAGE_BITS, AddressSpace, BusError, RamRegion
from pemu.target.riscv import csr_debug, mmu
from pemu.target.riscv.amo import amo_apply
from pemu.target.riscv.csr import (
    FS,
    MEIP,
    MIE,
    MPIE,
    MPP,
    MPP_SHIFT,
    MPRV,
    MSIP,
    MTIP,
    MXR,
    S_INTS,
    SD,
    SEIP,
    SIE,
    SPIE,
    SPP,
    SSIP,
    STCE,
    STIP,
    SUM,
    TSR,
    TVM,
    TW,
    XLEN64,
    CsrMixin,
)
from pemu.target.riscv.debug_access import DebugAccessMixin, Debugger
from pemu.target.riscv.translate import LAYOUT
from pemu.target.riscv.trap import (
    BREAKPOINT,
    ILLEGAL_INSN,
    INSN_ACCESS,
    INSN_PAGE_FAULT,
    LOAD_ACCESS,
    LOAD_MISALIGNED,
    STORE_ACCESS,
    STORE_MISALIGNED,
    DebugStop,
    Trap,
)
from pemu.tcg.env import Env

M64 = (1 << 64) - 1
PRIV_NAMES = {0: "U", 1: "S", 3: "M"}
# Interrupt priority order (Privileged ISA, "Machine Interrupt Registers").
IRQ_ORDER = (11, 3, 7, 9, 1, 5)
MISA_RV64GC = (2 << 62) | sum(1 << (ord(x) - 65) for x in "IMAFDCSU")


class RiscvCpu(DebugAccessMixin, CsrMixin):
    arch = "riscv64"

    def __init__(self, memory: AddressSpace, hartid: int = 0,
                 ram: RamRegion | None = None) -> None:
        self.memory = memory
        self.hartid = self.index = hartid
        self.ram = ram
        self.ram_base = ram.base if ram else 0
        self.ram_end = ram.base + ram.size if ram else 0
        #: host address of RAM offset 0, for native TLB entries (host = vaddr + addend)
        self.ram_host = ctypes.addressof(ctypes.c_char.from_buffer(ram.buf)) if ram else 0
        self.time_fn: Callable[[], int] = lambda: self.icount
        self.on_wake: Callable[[], None] = lambda: None
        #: Called with stimecmp when the guest writes it: drives STIP now and
        #: when time reaches it (the board arms a timer; without one, only now).
        self.on_stimecmp: Callable[[int], None] = \
            lambda v: self.set_irq_bit(5, int(self.time_fn() >= v))
        #: extensions a -cpu switch turned off (their CSRs and PTE bits are absent)
        self.ext_off: frozenset[str] = frozenset()
        #: Called with a message when the hart is stuck in a fault it cannot
        #: handle (its trap vector itself faults); the board reports it.
        self.on_stuck: Callable[[str], None] | None = None
        self.tbs = None  # set by the accelerator (translation block store)
        self.translator = None  # set by the accelerator
        self.reset_pc = 0x1000
        #: the debugger attached to this hart (the gdbstub), or None
        self.debugger: Debugger | None = None
        self.reset()

    # --- reset ---------------------------------------------------------------
    def reset(self) -> None:
        if not hasattr(self, "env"):
            #: guest registers live in the env buffer that native code shares;
            #: x and f are list-like views of it (assign elements, never rebind)
            self.env = Env(LAYOUT)
            self.x = self.env.space("X")
            self.f = self.env.space("F")
        self.x[:] = self.f[:] = array("Q", bytes(8 * 32))
        self.env.ram_host = self.ram_host
        self.pc = self.reset_pc
        self.priv = 3
        self.mstatus = XLEN64
        self.misa = MISA_RV64GC
        self.medeleg = self.mideleg = self.mie = self.mip = 0
        self.mtvec = self.stvec = self.mepc = self.sepc = 0
        self.mcause = self.scause = self.mtval = self.stval = 0
        self.mscratch = self.sscratch = self.satp = 0
        self.mcounteren = self.scounteren = self.menvcfg = self.senvcfg = 0
        self.mcountinhibit = 0
        self.stimecmp = 0
        self.triggers = csr_debug.Triggers()
        self.watch_pages: set[int] = \
            set(self.debugger.watch_pages()) if self.debugger is not None else set()
        self.pmpcfg = [0] * 2
        self.pmpaddr = [0] * 16
        self.fflags = self.frm = 0
        # icount keeps counting across resets: in icount mode it is the
        # machine's clock, which must never go backwards. The architectural
        # counters restart from 0.
        self.icount = getattr(self, "icount", 0)
        self.counter_offset = [-self.icount] * 3
        self.resv: int | None = None
        self.halted = False
        self.irq_check = self.event = True
        self.exit_req = False
        self._tlbs = {p: ({}, {}, {}) for p in (0, 1, 3)}
        self.env.tlb_flush()
        self._super_pages: set[tuple[int, int]] = set()
        self._jcs: dict[tuple[int, bool], dict] = {}
        self._select_context()

    # --- contexts: TLBs and jump caches for the current privilege ------------
    def _select_context(self) -> None:
        data_priv = self.priv
        if self.priv == 3 and self.mstatus & MPRV:
            data_priv = (self.mstatus & MPP) >> MPP_SHIFT
        t = self._tlbs[data_priv]
        self.tlb_r, self.tlb_w = t[0], t[1]
        self.tlb_x = self._tlbs[self.priv][2]
        self.env.switch_tlb(data_priv)
        self.fs_on = bool(self.mstatus & FS)
        key = (self.priv, self.fs_on)
        jc = self._jcs.get(key)
        if jc is None:
            jc = self._jcs[key] = {}
        if jc is not getattr(self, "jc", None):
            self.env.jc_flush()  # native chaining follows the current context only
        self.jc = jc
        self.event = True  # the CPU loop must reload its cached context

    def flush_tlb(self) -> None:
        for t in self._tlbs.values():
            for d in t:
                d.clear()
        for jc in self._jcs.values():
            jc.clear()
        self._super_pages.clear()
        self.env.tlb_flush()
        self.env.jc_flush()

    def flush_write_tlb(self) -> None:
        for t in self._tlbs.values():
            t[1].clear()
        self.env.tlb_flush(write_only=True)

    def flush_jump_cache(self) -> None:
        for jc in self._jcs.values():
            jc.clear()
        self.env.jc_flush()

    # --- CSR side effects ---------------------------------------------------------
    def read_mstatus(self) -> int:
        s = self.mstatus
        return s | SD if s & FS == FS else s

    def write_mstatus(self, v: int) -> None:
        if (v & MPP) >> MPP_SHIFT == 2:
            v &= ~MPP
        old = self.mstatus
        self.mstatus = v | XLEN64
        if (old ^ v) & (SUM | MXR):
            for p in (0, 1):  # cached permissions changed
                self._tlbs[p][0].clear()
                self._tlbs[p][1].clear()
            self.env.tlb_flush()
        self._select_context()
        self.irq_check = self.event = True

    def mark_fs_dirty(self) -> None:
        self.mstatus |= FS

    def set_fcsr(self, v: int) -> None:
        self.fflags = v & 31
        self.frm = (v >> 5) & 7

    def write_mie(self, v: int) -> None:
        self.mie = v
        self.irq_check = self.event = True

    def write_mideleg(self, v: int) -> None:
        self.mideleg = v
        self.irq_check = self.event = True

    def write_mip(self, v: int) -> None:
        self.mip = v
        self.irq_check = self.event = True
        if self.mip & self.mie:
            self._wake()

    def write_mip_csr(self, v: int) -> None:
        """csrw mip: the S-level bits, but STIP follows stimecmp while
        menvcfg.STCE is set (Sstc), as QEMU 7.2."""
        mask = S_INTS & ~STIP if self.menvcfg & STCE else S_INTS
        self.write_mip((self.mip & ~mask) | (v & mask))

    def write_menvcfg(self, v: int) -> None:
        self.menvcfg = v  # (QEMU 7.2's page walk ignores PBMTE: nothing to flush)

    def write_stimecmp(self, v: int) -> None:
        """Sstc: QEMU 7.2 re-evaluates STIP on every write, even with STCE clear."""
        self.stimecmp = v
        self.on_stimecmp(v)

    # --- debug triggers (Sdtrig) ------------------------------------------------------
    def set_triggers(self, write: Callable[[int], None], v: int) -> None:
        """A tdata write: update the trigger, the TLB and the translated code."""
        write(v)
        self.refresh_watch_pages()
        self.refresh_breakpoints()

    def refresh_watch_pages(self) -> None:
        """Pages a data trigger or a debugger watchpoint covers take the slow path."""
        pages = self.triggers.watched_pages()
        if self.debugger is not None:
            pages |= self.debugger.watch_pages()
        self.watch_pages = pages
        self.flush_tlb()

    def refresh_breakpoints(self) -> None:
        """Blocks check the pcs of every hart's execute triggers and the debugger's breakpoints."""
        tr = self.translator
        if tr is None:
            return
        cpus = self.tbs.cpus if self.tbs is not None and self.tbs.cpus else [self]
        pcs = frozenset().union(*(c.triggers.exec_pcs for c in cpus))
        if self.debugger is not None:
            pcs |= self.debugger.breakpoints
        if pcs != tr.breakpoints:
            tr.breakpoints = pcs
            if self.tbs is not None:
                self.tbs.flush()  # blocks get (or lose) their breakpoint checks

    def exec_trigger(self, pc: int) -> None:
        """Translated code calls this before an instruction a breakpoint or trigger names."""
        dbg = self.debugger
        if dbg is not None and pc in dbg.breakpoints and not dbg.stepping:
            raise DebugStop("break", pc)
        if self.triggers.exec_hit(pc, self.priv):
            raise Trap(BREAKPOINT, 0)

    def data_trigger(self, va: int, size: int, kind: int) -> None:
        dbg = self.debugger
        if dbg is not None and not dbg.stepping:
            hit = dbg.watch_hit(va, size, kind)
            if hit is not None:
                raise DebugStop("watch", hit, kind)
        if self.triggers.data and self.triggers.data_hit(va, size, kind, self.priv):
            raise Trap(BREAKPOINT, 0)

    def write_satp(self, v: int) -> None:
        mode = v >> 60
        if mode not in (mmu.SATP_MODE_BARE, mmu.SATP_MODE_SV39, mmu.SATP_MODE_SV48):
            return  # WARL: unsupported modes leave satp unchanged
        self.satp = v & ((0xF << 60) | (0xFFFF << 44) | mmu.PPN_MASK)
        self.flush_tlb()

    def read_counter(self, which: int) -> int:
        return (self.icount + self.counter_offset[which]) & M64

    def write_counter(self, which: int, v: int) -> None:
        self.counter_offset[which] = v - self.icount

    # --- interrupts ---------------------------------------------------------------
    def set_irq_bit(self, bit: int, level: int) -> None:
        """A device drives mip bit `bit` (MSIP/MTIP/MEIP/SEIP)."""
        mask = 1 << bit
        if level:
            if not self.mip & mask:
                self.mip |= mask
                self.irq_check = self.event = True
                if self.mie & mask:
                    self._wake()
        elif self.mip & mask:
            self.mip &= ~mask
            self.irq_check = self.event = True

    def _wake(self) -> None:
        if self.halted:
            self.halted = False
            self.on_wake()

    def pending_interrupt(self) -> int | None:
        pending = self.mip & self.mie
        if not pending:
            return None
        m_ints = pending & ~self.mideleg
        if m_ints and (self.priv < 3 or self.mstatus & MIE):
            pending = m_ints
        else:
            s_ints = pending & self.mideleg
            if not s_ints or self.priv == 3 or (self.priv == 1 and not self.mstatus & SIE):
                return None
            pending = s_ints
        for cause in IRQ_ORDER:
            if pending & (1 << cause):
                return cause
        return None

    def check_irq(self) -> bool:
        """At a block boundary: take a pending interrupt; True if one was taken."""
        self.irq_check = False
        cause = self.pending_interrupt()
        if cause is None:
            return False
        self.halted = False
        self.take_trap(cause, 0, True)
        return True

    # --- traps ---------------------------------------------------------------------
    def take_trap(self, cause: int, tval: int, interrupt: bool = False) -> None:
        """Enter the trap handler ("Trap delegation registers", "mstatus")."""
        self.resv = None
        deleg = self.mideleg if interrupt else self.medeleg
        code = cause | (1 << 63 if interrupt else 0)
        s = self.mstatus
        if self.priv <= 1 and deleg >> cause & 1:
            self.scause, self.sepc, self.stval = code, self.pc, tval
            s = (s & ~(SPIE | SPP | SIE)) | (SPIE if s & SIE else 0) | (SPP if self.priv else 0)
            self.priv = 1
            base, mode = self.stvec & ~3, self.stvec & 3
        else:
            self.mcause, self.mepc, self.mtval = code, self.pc, tval
            s = (s & ~(MPIE | MPP | MIE)) | (MPIE if s & MIE else 0) | (self.priv << MPP_SHIFT)
            self.priv = 3
            base, mode = self.mtvec & ~3, self.mtvec & 3
        self.mstatus = s
        self.pc = base + 4 * cause if interrupt and mode == 1 else base
        self._select_context()
        self.irq_check = self.event = True

    def raise_trap(self, t: Trap) -> None:
        if isinstance(t, DebugStop):
            if self.debugger is not None:  # not a guest exception: the debugger takes over
                self.debugger.hart_stopped(self, t)
            return
        faulting_pc = self.pc
        self.take_trap(t.cause, t.tval & M64)
        if t.cause in (INSN_ACCESS, INSN_PAGE_FAULT) and self.pc == faulting_pc \
                and self.on_stuck is not None:
            self.on_stuck(f"hart {self.hartid}: unhandled {t} at pc {faulting_pc:#x}: "
                          f"the trap vector is not executable; the hart spins there")

    def mret(self, word: int) -> int:
        if self.priv < 3:
            raise Trap(ILLEGAL_INSN, word)
        s = self.mstatus
        new_priv = (s & MPP) >> MPP_SHIFT
        s = (s & ~(MIE | MPP)) | (MIE if s & MPIE else 0) | MPIE
        if new_priv != 3:
            s &= ~MPRV
        self.mstatus = s
        self.priv = new_priv
        self._select_context()
        self.irq_check = self.event = True
        return self.mepc

    def sret(self, word: int) -> int:
        if self.priv < 1 or (self.priv == 1 and self.mstatus & TSR):
            raise Trap(ILLEGAL_INSN, word)
        s = self.mstatus
        new_priv = 1 if s & SPP else 0
        s = (s & ~(SIE | SPP | MPRV)) | (SIE if s & SPIE else 0) | SPIE
        self.mstatus = s
        self.priv = new_priv
        self._select_context()
        self.irq_check = self.event = True
        return self.sepc

    def wfi(self, word: int) -> None:
        if self.priv == 0 or (self.priv == 1 and self.mstatus & TW):
            raise Trap(ILLEGAL_INSN, word)
        if not self.mip & self.mie:
            self.halted = self.event = True

    def sfence_vma(self, vaddr: int, asid: int, rs1: int, word: int) -> None:
        if self.priv == 0 or (self.priv == 1 and self.mstatus & TVM):
            raise Trap(ILLEGAL_INSN, word)
        vpn = vaddr >> PAGE_BITS
        if rs1 == 0 or (vaddr >> 21, 1) in self._super_pages \
                or (vaddr >> 30, 2) in self._super_pages \
                or (vaddr >> 39, 3) in self._super_pages:
            self.flush_tlb()
            return
        for t in self._tlbs.values():
            for d in t:
                d.pop(vpn, None)
        for jc in self._jcs.values():
            for pc in [pc for pc in jc if pc >> PAGE_BITS == vpn]:
                del jc[pc]
        self.env.tlb_drop(vpn)
        self.env.jc_flush()

    # --- address translation -------------------------------------------------------
    def translate(self, va: int, access: int) -> int:
        """Virtual to physical for the current data/fetch privilege; fills the TLB."""
        priv = self.priv
        if access != mmu.FETCH and priv == 3 and self.mstatus & MPRV:
            priv = (self.mstatus & MPP) >> MPP_SHIFT
        if priv == 3 or self.satp >> 60 == 0:
            pa, level = va, 0
        else:
            pa, level = mmu.walk(self.memory, self.satp, va, access, priv,
                                 bool(self.mstatus & SUM), bool(self.mstatus & MXR),
                                 "svpbmt" not in self.ext_off, "svnapot" not in self.ext_off)
            if level:
                self._super_pages.add((va >> (12 + 9 * level), level))
        page = pa & ~0xFFF
        if self.ram_base <= page < self.ram_end and not (
                self.watch_pages and access != mmu.FETCH and va >> PAGE_BITS in self.watch_pages):
            delta = page - self.ram_base - (va & ~0xFFF)
            vpn = va >> PAGE_BITS
            if access == mmu.LOAD:
                self.tlb_r[vpn] = delta
                self.env.tlb_set(False, vpn, self.ram_host + delta)
            elif access == mmu.STORE:
                if (pa >> PAGE_BITS) not in self.memory.code_pages:
                    self.tlb_w[vpn] = delta
                    self.env.tlb_set(True, vpn, self.ram_host + delta)
            else:
                self.tlb_x[vpn] = delta
        return pa

    # --- slow-path memory access (TLB miss, MMIO, page crossing) -------------------
    def load_slow(self, va: int, size: int, signed: int) -> int:
        if (va & 0xFFF) + size > 0x1000:
            lo = 0x1000 - (va & 0xFFF)
            v = self._load_part(va, lo) | (self._load_part((va + lo) & M64, size - lo) << (8 * lo))
        else:
            v = self._load_part(va, size)
        if signed and v >> (8 * size - 1):
            v -= 1 << (8 * size)
        return v & M64

    def _load_part(self, va: int, size: int) -> int:
        pa = self.translate(va, mmu.LOAD)
        if self.watch_pages:
            self.data_trigger(va, size, csr_debug.LOAD)
        try:
            return self.memory.read(pa, size)
        except BusError:
            raise Trap(LOAD_ACCESS, va) from None

    def store_slow(self, va: int, size: int, value: int) -> None:
        if (va & 0xFFF) + size > 0x1000:
            lo = 0x1000 - (va & 0xFFF)
            pa1 = self.translate(va, mmu.STORE)
            pa2 = self.translate((va + lo) & M64, mmu.STORE)
            if self.watch_pages:
                self.data_trigger(va, size, csr_debug.STORE)
            self._store_part(pa1, va, lo, value)
            self._store_part(pa2, va, size - lo, value >> (8 * lo))
            return
        pa = self.translate(va, mmu.STORE)
        if self.watch_pages:
            self.data_trigger(va, size, csr_debug.STORE)
        self._store_part(pa, va, size, value)

    def _store_part(self, pa: int, va: int, size: int, value: int) -> None:
        try:
            self.memory.write(pa, size, value & ((1 << (8 * size)) - 1))
        except BusError:
            raise Trap(STORE_ACCESS, va) from None

    def fetch_phys(self, va: int) -> int:
        """Physical address of an instruction fetch (raises the fetch fault)."""
        return self.translate(va, mmu.FETCH)

    def tb_key(self, pc: int) -> tuple[int, int, bool]:
        d = self.tlb_x.get(pc >> PAGE_BITS)
        ppc = pc + d + self.ram_base if d is not None else self.translate(pc, mmu.FETCH)
        return (pc, ppc, self.fs_on)

    def translate_tb(self, pc: int, key: tuple[int, int, bool], single: bool = False):
        return self.translator.translate(self, pc, key[1], key[2], single)

    def tb_ir(self, key: tuple[int, int, bool]):
        """The optimised IR of the block translated under key (for the native tier)."""
        return self.translator.build_ir(self, key[0], key[1], key[2])[0]

    def fetch16(self, pa: int, va: int) -> int:
        try:
            return self.memory.read(pa, 2)
        except BusError:
            raise Trap(INSN_ACCESS, va) from None

    # --- atomics (A extension) --------------------------------------------------------
    def _amo_addr(self, va: int, size: int) -> int:
        if va & (size - 1):
            raise Trap(STORE_MISALIGNED, va)
        return self.translate(va, mmu.STORE)

    def lr(self, va: int, size: int) -> int:
        if va & (size - 1):
            raise Trap(LOAD_MISALIGNED, va)
        v = self.load_slow(va, size, 1)
        self.resv = va
        return v

    def _amo_ram(self, va: int, size: int) -> int | None:
        """The RAM offset of an aligned AMO/SC address whose page has a write TLB
        entry (so it is writable, readable, not watched and holds no code)."""
        d = self.tlb_w.get(va >> PAGE_BITS)
        if d is None or va & (size - 1):
            return None
        return va + d

    def sc(self, va: int, value: int, size: int) -> int:
        i = self._amo_ram(va, size)
        if i is not None:  # the fast path: no page walk (most SCs of a boot)
            if self.resv != va:
                self.resv = None
                return 1
            self.resv = None
            self.ram.buf[i:i + size] = (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little")
            return 0
        pa = self._amo_addr(va, size)
        if self.resv != va:
            self.resv = None
            return 1
        self.resv = None
        if self.watch_pages:
            self.data_trigger(va, size, csr_debug.LOAD | csr_debug.STORE)
        self._store_part(pa, va, size, value)
        return 0

    def amo(self, op: str, va: int, src: int, size: int) -> int:
        i = self._amo_ram(va, size)
        if i is not None:
            buf = self.ram.buf
            new, result = amo_apply(op, int.from_bytes(buf[i:i + size], "little"), src, size)
            buf[i:i + size] = new.to_bytes(size, "little")
            return result
        pa = self._amo_addr(va, size)
        if self.watch_pages:
            self.data_trigger(va, size, csr_debug.LOAD | csr_debug.STORE)
        try:
            old = self.memory.read(pa, size)
        except BusError:
            raise Trap(STORE_ACCESS, va) from None
        new, result = amo_apply(op, old, src, size)
        self._store_part(pa, va, size, new)
        return result

    # --- introspection ------------------------------------------------------------------
    def disassemble(self, addr: int, data: bytes) -> list[tuple[int, str]]:
        """(length, text) per instruction of `data` at guest address `addr` (monitor x/i)."""
        from pemu.target.riscv.disas import disassemble
        return disassemble(addr, data)

    def disassemble_tb(self, pc: int, entry: tuple) -> str:
        """-d in_asm: the guest instructions of a freshly translated block."""
        from pemu.target.riscv.disas import disassemble_one
        lines = [f"IN: (hart {self.hartid}, {PRIV_NAMES.get(self.priv, self.priv)}-mode)"]
        for ipc in entry.pcs:
            try:
                pa = self.translate(ipc, mmu.FETCH)
                data = bytes(self.fetch16(pa, ipc).to_bytes(2, "little"))
                if data[0] & 3 == 3:
                    pa2 = self.translate(ipc + 2, mmu.FETCH)
                    data += self.fetch16(pa2, ipc + 2).to_bytes(2, "little")
            except Trap:
                continue
            lines.append(f"0x{ipc:016x}:  {disassemble_one(data, ipc)[1]}")
        return "\n".join(lines) + "\n"

    def describe_last_trap(self) -> str:
        cause = self.mcause if self.priv == 3 else self.scause
        code = cause & ~(1 << 63)
        kind = "interrupt" if cause >> 63 else "exception"
        return f"{kind} cause {code} ({'M' if self.priv == 3 else 'S'}-mode handler)"

    def dump_state(self) -> str:
        names = ["zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1",
                 "a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7", "s2", "s3", "s4", "s5",
                 "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6"]
        lines = [f" pc       {self.pc:016x}",
                 f" mhartid  {self.hartid:016x}",
                 f" mstatus  {self.read_mstatus():016x}",
                 f" priv     {PRIV_NAMES.get(self.priv, self.priv)}",
                 f" mip      {self.mip:016x}", f" mie      {self.mie:016x}",
                 f" mideleg  {self.mideleg:016x}", f" medeleg  {self.medeleg:016x}",
                 f" mtvec    {self.mtvec:016x}", f" stvec    {self.stvec:016x}",
                 f" mepc     {self.mepc:016x}", f" sepc     {self.sepc:016x}",
                 f" mcause   {self.mcause:016x}", f" scause   {self.scause:016x}",
                 f" mtval    {self.mtval:016x}", f" stval    {self.stval:016x}",
                 f" satp     {self.satp:016x}"]
        for i in range(0, 32, 4):
            lines.append(" " + " ".join(f"x{j}/{names[j]:<4} {self.x[j]:016x}"
                                        for j in range(i, i + 4)))
        for i in range(0, 32, 4):
            lines.append(" " + " ".join(f"f{j:<2} {self.f[j]:016x}" for j in range(i, i + 4)))
        return "\n".join(lines)


__all__ = ["RiscvCpu", "MSIP", "MTIP", "SEIP", "MEIP", "SSIP", "STIP"]
