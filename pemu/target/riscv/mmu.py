"""Sv39/Sv48 page-table walks (Privileged ISA, "Supervisor-Level ISA",
sections "Sv39: Page-Based 39-bit Virtual-Memory System" and "Sv48").

A/D bits are updated by the walker (the hardware-update option the spec
allows, as QEMU does).

Svpbmt and Svnapot ("Svpbmt" and "Svnapot" chapters) are -cpu switches,
off by default as in QEMU 7.2, and the walk treats the high PTE bits as
7.2 does (found by running it): with either extension on, PTE bits 63:54
other than those the extensions define are ignored rather than faulting;
PBMT bits fault without Svpbmt (menvcfg.PBMTE plays no part in 7.2's walk),
N is ignored without Svnapot, and a non-leaf PTE with N or PBMT faults. A
NAPOT leaf must be a 4 KiB-level PTE of a 64 KiB range (ppn ends in 1000b).

The result is a physical address plus whether the leaf was a superpage,
so the TLB knows how widely an sfence.vma reaches.
"""
from __future__ import annotations

from pemu.core.memory import AddressSpace, BusError
from pemu.target.riscv.trap import (
    INSN_ACCESS,
    INSN_PAGE_FAULT,
    LOAD_ACCESS,
    LOAD_PAGE_FAULT,
    STORE_ACCESS,
    STORE_PAGE_FAULT,
    Trap,
)

FETCH, LOAD, STORE = 0, 1, 2
PAGE_FAULT = {FETCH: INSN_PAGE_FAULT, LOAD: LOAD_PAGE_FAULT, STORE: STORE_PAGE_FAULT}
ACCESS_FAULT = {FETCH: INSN_ACCESS, LOAD: LOAD_ACCESS, STORE: STORE_ACCESS}

PTE_V, PTE_R, PTE_W, PTE_X, PTE_U, PTE_G, PTE_A, PTE_D = 1, 2, 4, 8, 16, 32, 64, 128
PTE_PBMT = 3 << 61  # Svpbmt memory type
PTE_N = 1 << 63     # Svnapot
NAPOT_64K_BITS = 4  # the only NAPOT size the spec defines: 16 pages
SATP_MODE_BARE, SATP_MODE_SV39, SATP_MODE_SV48 = 0, 8, 9
LEVELS = {SATP_MODE_SV39: 3, SATP_MODE_SV48: 4}
PPN_MASK = (1 << 44) - 1


def walk(mem: AddressSpace, satp: int, va: int, access: int, priv: int,
         sum_: bool, mxr: bool, svpbmt: bool = False,
         svnapot: bool = False, update_ad: bool = True) -> tuple[int, int]:
    """Translate va; return (physical address, leaf level). Raises Trap.

    update_ad=False is a debugger's walk: the PTE's A/D bits stay as they are."""
    mode = satp >> 60
    levels = LEVELS[mode]
    vbits = 12 + 9 * levels
    top = va >> (vbits - 1)
    if top != 0 and top != (1 << (64 - vbits + 1)) - 1:
        raise Trap(PAGE_FAULT[access], va)
    a = (satp & PPN_MASK) << 12
    level = levels - 1
    while True:
        pte_addr = a + ((va >> (12 + 9 * level)) & 511) * 8
        try:
            pte = mem.read(pte_addr, 8)
        except BusError:
            raise Trap(ACCESS_FAULT[access], va) from None
        high_ok = svpbmt or svnapot
        if not pte & PTE_V or (not pte & PTE_R and pte & PTE_W) \
                or (pte >> 54 and not high_ok) or (pte & PTE_PBMT and not svpbmt):
            raise Trap(PAGE_FAULT[access], va)
        if pte & (PTE_R | PTE_X):
            break
        if pte & (PTE_A | PTE_D | PTE_U | PTE_N | PTE_PBMT):  # non-leaf: must be clear
            raise Trap(PAGE_FAULT[access], va)
        level -= 1
        if level < 0:
            raise Trap(PAGE_FAULT[access], va)
        a = ((pte >> 10) & PPN_MASK) << 12
    # Leaf: permission checks ("Virtual Address Translation Process", step 5).
    if pte & PTE_U:
        if priv == 1 and (access == FETCH or not sum_):
            raise Trap(PAGE_FAULT[access], va)
    elif priv == 0:
        raise Trap(PAGE_FAULT[access], va)
    if access == FETCH:
        ok = pte & PTE_X
    elif access == LOAD:
        ok = pte & PTE_R or (mxr and pte & PTE_X)
    else:
        ok = pte & PTE_W
    if not ok:
        raise Trap(PAGE_FAULT[access], va)
    ppn = (pte >> 10) & PPN_MASK
    if level and ppn & ((1 << (9 * level)) - 1):
        raise Trap(PAGE_FAULT[access], va)  # misaligned superpage
    napot_mask = 0
    if svnapot and pte & PTE_N:
        if level or (ppn & -ppn).bit_length() != NAPOT_64K_BITS:
            raise Trap(PAGE_FAULT[access], va)
        napot_mask = (1 << NAPOT_64K_BITS) - 1
    want = PTE_A | (PTE_D if access == STORE else 0)
    if update_ad and pte & want != want:
        try:
            mem.write(pte_addr, 8, pte | want)
        except BusError:
            raise Trap(ACCESS_FAULT[access], va) from None
    if napot_mask:
        # the page within the 64 KiB range comes from the virtual address
        ppn = (ppn & ~napot_mask) | ((va >> 12) & napot_mask)
    offset_mask = (1 << (12 + 9 * level)) - 1
    return ((ppn << 12) & ~offset_mask) | (va & offset_mask), level
