"""Sdtrig, the debug trigger module, as QEMU 7.2's rv64 implements it (RISC-V
Debug Specification 1.0, chapter "Sdtrig", registers tselect, tdata1-3,
tinfo; trigger types mcontrol (2) and mcontrol6 (6)).

Two triggers. A trigger matches an instruction address (execute) or a data
access (load/store) in the privilege modes its U/S/M bits select, and then
raises a breakpoint exception (mtval 0) before the instruction runs: the
only action without a debugger (Debug Spec, "action" 0).

What QEMU 7.2 does and this copies (found by running it):
- tinfo reads 0x44 (types 2 and 6) whatever tselect says; tselect ignores
  values >= 2; tdata3 reads 0 and ignores writes.
- A tdata1 write whose type is neither 2 nor 6 is ignored (QEMU 7.2 even
  aborts on types 1 and 8-14; pemu just ignores them). So writing 0 does
  not switch a trigger off: clearing its execute/load/store bits does.
- Of a type 2/6 value only the mode bits, the execute/load/store bits and
  a size QEMU supports (any, 1, 2, 4, 8 bytes) are kept; match, chain,
  action, timing, select, hit, dmode read as zero. mcontrol6 keeps VU/VS.
- A data trigger of size "any" watches 8 bytes from tdata2, one of size
  1, 2, 4, 8 watches 1, 2, 3, 5 bytes (see WIDTH); an access matches when
  its bytes overlap the watched ones. AMOs match load and
  store triggers, LR load triggers, SC store triggers.
"""
from __future__ import annotations

NUM_TRIGGERS = 2
TYPE_SHIFT = 60
TYPE_MCONTROL, TYPE_MCONTROL6 = 2, 6
TINFO = (1 << TYPE_MCONTROL) | (1 << TYPE_MCONTROL6)
LOAD, STORE, EXEC = 1, 2, 4
MODE_BITS = (1 << 3) | (1 << 4) | (1 << 6)  # U, S, M: bit 3 + privilege
KEEP = MODE_BITS | LOAD | STORE | EXEC
MC_SIZE = (3 << 16) | (3 << 21)             # sizelo, sizehi
MC6_SIZE = 15 << 16
MC6_VIRT = (1 << 23) | (1 << 24)            # vu, vs
# The size encodings QEMU 7.2 accepts (any, 1, 2, 4, 8 bytes) and how many
# bytes from tdata2 it then watches: "any" watches 8, the others as many
# bytes as the encoding's value (7.2 passes the encoding, not the width, to
# its watchpoint: 4-byte triggers watch 3 bytes, 8-byte ones 5; measured).
WIDTH = {0: 8, 1: 1, 2: 2, 3: 3, 5: 5}
RESET_TDATA1 = TYPE_MCONTROL << TYPE_SHIFT


def _size(tdata1: int) -> int:
    if tdata1 >> TYPE_SHIFT == TYPE_MCONTROL:
        return ((tdata1 >> 16) & 3) | (((tdata1 >> 21) & 3) << 2)
    return (tdata1 >> 16) & 15


class Triggers:
    """The trigger registers of one hart and the matching they imply."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.tselect = 0
        self.tdata1 = [RESET_TDATA1] * NUM_TRIGGERS
        self.tdata2 = [0] * NUM_TRIGGERS
        self._update()

    # --- registers ---------------------------------------------------------------
    def write_tselect(self, v: int) -> None:
        if v < NUM_TRIGGERS:
            self.tselect = v

    def write_tdata1(self, v: int) -> None:
        kind = v >> TYPE_SHIFT
        if kind == TYPE_MCONTROL:
            size_bits = MC_SIZE
        elif kind == TYPE_MCONTROL6:
            size_bits = MC6_SIZE
        else:
            return
        new = (kind << TYPE_SHIFT) | (v & KEEP)
        if kind == TYPE_MCONTROL6:
            new |= v & MC6_VIRT
        if _size(v) in WIDTH:
            new |= v & size_bits
        self.tdata1[self.tselect] = new
        self._update()

    def write_tdata2(self, v: int) -> None:
        self.tdata2[self.tselect] = v
        self._update()

    # --- matching ------------------------------------------------------------------
    def _update(self) -> None:
        exec_pcs: dict[int, int] = {}
        data: list[tuple[int, int, int, int]] = []
        for ctl, addr in zip(self.tdata1, self.tdata2, strict=True):
            modes = (ctl & MODE_BITS) >> 3
            if not modes:
                continue
            if ctl & EXEC:
                exec_pcs[addr] = exec_pcs.get(addr, 0) | modes
            if ctl & (LOAD | STORE):
                data.append((addr, addr + WIDTH.get(_size(ctl), 8), ctl & (LOAD | STORE), modes))
        #: pc -> privilege mask (bit p set: fires in privilege p) of execute triggers
        self.exec_pcs = exec_pcs
        #: (start, end, LOAD|STORE, privilege mask) of each data trigger
        self.data = data

    def exec_hit(self, pc: int, priv: int) -> bool:
        return bool(self.exec_pcs.get(pc, 0) >> priv & 1)

    def data_hit(self, va: int, size: int, kind: int, priv: int) -> bool:
        """kind: LOAD, STORE or both (an AMO)."""
        end = va + size
        for lo, hi, kinds, modes in self.data:
            if kinds & kind and modes >> priv & 1 and va < hi and lo < end:
                return True
        return False

    def watched_pages(self) -> set[int]:
        """Virtual page numbers a data trigger covers (kept out of the fast TLB)."""
        pages = set()
        for lo, hi, _, _ in self.data:
            pages.update(range(lo >> 12, ((hi - 1) >> 12) + 1))
        return pages


def csr_entries(t: dict) -> None:
    """Add tselect, tdata1-3, tinfo (0x7a0-0x7a4, M-mode) to a CSR table."""
    t[0x7A0] = ("tselect", lambda c: c.triggers.tselect,
                lambda c, v: c.triggers.write_tselect(v))
    t[0x7A1] = ("tdata1", lambda c: c.triggers.tdata1[c.triggers.tselect],
                lambda c, v: c.set_triggers(c.triggers.write_tdata1, v))
    t[0x7A2] = ("tdata2", lambda c: c.triggers.tdata2[c.triggers.tselect],
                lambda c, v: c.set_triggers(c.triggers.write_tdata2, v))
    t[0x7A3] = ("tdata3", lambda c: 0, lambda c, v: None)
    t[0x7A4] = ("tinfo", lambda c: TINFO, lambda c, v: None)
