"""Control and status registers (Privileged ISA, "Control and Status
Registers" and the CSR listing tables).

`CSRS` maps each implemented CSR number to its name, a reader and a writer
(None: read-only). Accessibility follows the number's encoding: bits 9:8
give the lowest privilege, bits 11:10 == 3 mean read-only. Anything absent
is an illegal instruction, which is how OpenSBI probes for features.
"""
from __future__ import annotations

from collections.abc import Callable

from pemu.target.riscv import csr_debug
from pemu.target.riscv.trap import ILLEGAL_INSN, Trap

M64 = (1 << 64) - 1

# mstatus fields ("Machine Status Registers (mstatus and mstatush)")
SIE, MIE, SPIE, MPIE, SPP = 1 << 1, 1 << 3, 1 << 5, 1 << 7, 1 << 8
MPP_SHIFT = 11
MPP = 3 << MPP_SHIFT
FS = 3 << 13
MPRV, SUM, MXR, TVM, TW, TSR = 1 << 17, 1 << 18, 1 << 19, 1 << 20, 1 << 21, 1 << 22
XLEN64 = (2 << 32) | (2 << 34)  # UXL = SXL = 64
SD = 1 << 63
MSTATUS_WMASK = SIE | MIE | SPIE | MPIE | SPP | MPP | FS | MPRV | SUM | MXR | TVM | TW | TSR
SSTATUS_MASK = SIE | SPIE | SPP | FS | SUM | MXR | (3 << 32) | SD
SSTATUS_WMASK = SIE | SPIE | SPP | FS | SUM | MXR

# interrupt bits ("Machine Interrupt Registers (mip and mie)")
SSIP, MSIP, STIP, MTIP, SEIP, MEIP = 1 << 1, 1 << 3, 1 << 5, 1 << 7, 1 << 9, 1 << 11
S_INTS = SSIP | STIP | SEIP
ALL_INTS = S_INTS | MSIP | MTIP | MEIP
MEDELEG_MASK = sum(1 << b for b in (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 15))

NUM_PMP = 16

# envcfg fields ("Machine Environment Configuration Register (menvcfg)"): the
# bits QEMU 7.2 keeps (FIOM, CBIE, CBCFE, CBZE; in menvcfg also PBMTE, STCE)
FIOM, CBIE, CBCFE, CBZE = 1, 3 << 4, 1 << 6, 1 << 7
PBMTE, STCE = 1 << 62, 1 << 63
SENVCFG_WMASK = FIOM | CBIE | CBCFE | CBZE
MENVCFG_WMASK = SENVCFG_WMASK | PBMTE | STCE
TM = 1 << 1  # mcounteren/scounteren bit of the time counter
STIMECMP = 0x14D
#: CSRs that exist only while a -cpu switch leaves their extension on
CSR_EXT = {STIMECMP: "sstc", **{n: "debug" for n in range(0x7A0, 0x7A5)}}


def _csr_table() -> dict[int, tuple[str, Callable, Callable | None]]:
    t: dict[int, tuple[str, Callable, Callable | None]] = {}

    def plain(num: int, name: str, attr: str, mask: int = M64) -> None:
        def rd(c):
            return getattr(c, attr)

        def wr(c, v):
            setattr(c, attr, v & mask)
        t[num] = (name, rd, wr)

    def const(num: int, name: str, value) -> None:
        t[num] = (name, (lambda c: value(c)) if callable(value) else (lambda c: value), None)

    # floating point (need FS != Off; checked in csr_op)
    t[0x001] = ("fflags", lambda c: c.fflags, lambda c, v: setattr(c, "fflags", v & 31))
    t[0x002] = ("frm", lambda c: c.frm, lambda c, v: setattr(c, "frm", v & 7))
    t[0x003] = ("fcsr", lambda c: (c.frm << 5) | c.fflags, lambda c, v: c.set_fcsr(v))
    # counters
    t[0xC00] = ("cycle", lambda c: c.read_counter(0), None)
    t[0xC01] = ("time", lambda c: c.time_fn(), None)
    t[0xC02] = ("instret", lambda c: c.read_counter(2), None)
    for i in range(3, 32):
        const(0xC00 + i, f"hpmcounter{i}", 0)
        t[0xB00 + i] = (f"mhpmcounter{i}", lambda c: 0, lambda c, v: None)
        t[0x320 + i] = (f"mhpmevent{i}", lambda c: 0, lambda c, v: None)
    t[0xB00] = ("mcycle", lambda c: c.read_counter(0), lambda c, v: c.write_counter(0, v))
    t[0xB02] = ("minstret", lambda c: c.read_counter(2), lambda c, v: c.write_counter(2, v))
    plain(0x320, "mcountinhibit", "mcountinhibit", 0xFFFFFFFD)
    # supervisor
    t[0x100] = ("sstatus", lambda c: c.read_mstatus() & SSTATUS_MASK,
                lambda c, v: c.write_mstatus((c.mstatus & ~SSTATUS_WMASK) | (v & SSTATUS_WMASK)))
    t[0x104] = ("sie", lambda c: c.mie & c.mideleg,
                lambda c, v: c.write_mie((c.mie & ~c.mideleg) | (v & c.mideleg)))
    plain(0x105, "stvec", "stvec", ~2 & M64)
    plain(0x106, "scounteren", "scounteren", 0xFFFFFFFF)
    plain(0x10A, "senvcfg", "senvcfg", SENVCFG_WMASK)
    # Sstc ("Sstc" extension, stimecmp): M-mode always; S-mode needs
    # mcounteren.TM and menvcfg.STCE (checked in csr_op)
    t[STIMECMP] = ("stimecmp", lambda c: c.stimecmp, lambda c, v: c.write_stimecmp(v))
    plain(0x140, "sscratch", "sscratch")
    plain(0x141, "sepc", "sepc", ~1 & M64)
    plain(0x142, "scause", "scause")
    plain(0x143, "stval", "stval")
    t[0x144] = ("sip", lambda c: c.mip & c.mideleg,
                lambda c, v: c.write_mip((c.mip & ~(c.mideleg & SSIP)) | (v & c.mideleg & SSIP)))
    t[0x180] = ("satp", lambda c: c.satp, lambda c, v: c.write_satp(v))
    # machine
    const(0xF11, "mvendorid", 0)
    const(0xF12, "marchid", 0)
    const(0xF13, "mimpid", 0)
    const(0xF14, "mhartid", lambda c: c.hartid)
    const(0xF15, "mconfigptr", 0)
    t[0x300] = ("mstatus", lambda c: c.read_mstatus(),
                lambda c, v: c.write_mstatus((c.mstatus & ~MSTATUS_WMASK) | (v & MSTATUS_WMASK)))
    t[0x301] = ("misa", lambda c: c.misa, lambda c, v: None)
    plain(0x302, "medeleg", "medeleg", MEDELEG_MASK)
    t[0x303] = ("mideleg", lambda c: c.mideleg, lambda c, v: c.write_mideleg(v & S_INTS))
    t[0x304] = ("mie", lambda c: c.mie, lambda c, v: c.write_mie(v & ALL_INTS))
    plain(0x305, "mtvec", "mtvec", ~2 & M64)
    plain(0x306, "mcounteren", "mcounteren", 0xFFFFFFFF)
    t[0x30A] = ("menvcfg", lambda c: c.menvcfg, lambda c, v: c.write_menvcfg(v & MENVCFG_WMASK))
    plain(0x340, "mscratch", "mscratch")
    plain(0x341, "mepc", "mepc", ~1 & M64)
    plain(0x342, "mcause", "mcause")
    plain(0x343, "mtval", "mtval")
    t[0x344] = ("mip", lambda c: c.mip, lambda c, v: c.write_mip_csr(v))
    for i in range(0, NUM_PMP // 4, 2):
        t[0x3A0 + i] = (f"pmpcfg{i}", lambda c, i=i: c.pmpcfg[i // 2],
                        lambda c, v, i=i: c.pmpcfg.__setitem__(i // 2, v & 0x9F9F9F9F9F9F9F9F))
    for i in range(NUM_PMP):
        t[0x3B0 + i] = (f"pmpaddr{i}", lambda c, i=i: c.pmpaddr[i],
                        lambda c, v, i=i: c.pmpaddr.__setitem__(i, v & ((1 << 54) - 1)))
    for i in range(NUM_PMP, 64):
        t[0x3B0 + i] = (f"pmpaddr{i}", lambda c: 0, lambda c, v: None)
    for i in range(NUM_PMP // 4, 16, 2):
        t[0x3A0 + i] = (f"pmpcfg{i}", lambda c: 0, lambda c, v: None)
    csr_debug.csr_entries(t)
    return t


CSRS = _csr_table()
NAMES = {name: num for num, (name, _, _) in CSRS.items()}


class CsrMixin:
    """CSR access with the privilege rules; mixed into the CPU."""

    def csr_op(self, csr: int, op: int, src: int, do_read: int, do_write: int,
               word: int) -> int:
        entry = CSRS.get(csr)
        if entry is None or self.priv < (csr >> 8) & 3 or CSR_EXT.get(csr) in self.ext_off:
            raise Trap(ILLEGAL_INSN, word)
        if do_write and csr >> 10 == 3:
            raise Trap(ILLEGAL_INSN, word)
        if csr <= 3:
            if not self.mstatus & FS:
                raise Trap(ILLEGAL_INSN, word)
        elif csr == 0x180 and self.priv == 1 and self.mstatus & TVM:
            raise Trap(ILLEGAL_INSN, word)
        elif csr == STIMECMP and self.priv < 3 \
                and not (self.mcounteren & TM and self.menvcfg & STCE):
            raise Trap(ILLEGAL_INSN, word)
        elif 0xC00 <= csr < 0xC20 and self.priv < 3:
            bit = 1 << (csr & 31)
            if not self.mcounteren & bit or (self.priv == 0 and not self.scounteren & bit):
                raise Trap(ILLEGAL_INSN, word)
        _, rd, wr = entry
        old = rd(self) & M64
        if do_write:
            new = src if op == 0 else old | src if op == 1 else old & ~src
            if wr is not None:
                wr(self, new & M64)
            if csr <= 3:
                self.mark_fs_dirty()
        return old
