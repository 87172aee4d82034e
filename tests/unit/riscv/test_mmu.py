"""Sv39 and Sv48 page-table walks (Privileged ISA, "Virtual Address Translation
Process"), checked on tables built by hand in guest RAM."""
from __future__ import annotations

import pytest

from pemu.core.memory import AddressSpace, RamRegion
from pemu.target.riscv import mmu
from pemu.target.riscv.trap import Trap

RAM = 0x80000000
V, R, W, X, U, G, A, D = 1, 2, 4, 8, 16, 32, 64, 128


class Tables:
    """Page tables in a small RAM, allocated page by page from RAM + 1 MiB."""

    def __init__(self, levels: int) -> None:
        self.mem = AddressSpace()
        self.mem.map(RAM, RamRegion("ram", 4 << 20))
        self.levels = levels
        self.next = RAM + (1 << 20)
        self.root = self.alloc()

    def alloc(self) -> int:
        page = self.next
        self.next += 4096
        return page

    def map(self, va: int, pa: int, flags: int, level: int = 0) -> int:
        """Install a leaf at `level` (0: 4 KiB, 1: 2 MiB, 2: 1 GiB); returns the PTE address."""
        table = self.root
        for lvl in range(self.levels - 1, level, -1):
            idx = (va >> (12 + 9 * lvl)) & 511
            pte_addr = table + 8 * idx
            pte = self.mem.read(pte_addr, 8)
            if not pte & V:
                nxt = self.alloc()
                self.mem.write(pte_addr, 8, ((nxt >> 12) << 10) | V)
                table = nxt
            else:
                table = ((pte >> 10) << 12)
        pte_addr = table + 8 * ((va >> (12 + 9 * level)) & 511)
        self.mem.write(pte_addr, 8, ((pa >> 12) << 10) | flags)
        return pte_addr

    @property
    def satp(self) -> int:
        mode = mmu.SATP_MODE_SV39 if self.levels == 3 else mmu.SATP_MODE_SV48
        return (mode << 60) | (self.root >> 12)

    def walk(self, va: int, access: int = mmu.LOAD, priv: int = 1, sum_: bool = False,
             mxr: bool = False) -> tuple[int, int]:
        return mmu.walk(self.mem, self.satp, va, access, priv, sum_, mxr)


@pytest.fixture(params=[3, 4], ids=["sv39", "sv48"])
def pt(request):
    return Tables(request.param)


def fault(pt, va, **kw) -> int:
    with pytest.raises(Trap) as e:
        pt.walk(va, **kw)
    assert e.value.tval == va
    return e.value.cause


def test_4k_page_translates_and_sets_accessed(pt):
    pte = pt.map(0x400000, RAM + 0x5000, V | R | W)
    assert pt.walk(0x400123) == (RAM + 0x5123, 0)
    assert pt.mem.read(pte, 8) & (A | D) == A


def test_store_sets_dirty(pt):
    pte = pt.map(0x400000, RAM + 0x5000, V | R | W)
    pt.walk(0x400008, mmu.STORE)
    assert pt.mem.read(pte, 8) & (A | D) == A | D


def test_megapage_and_misaligned_megapage(pt):
    pt.map(0x40000000, RAM + 0x200000, V | R | X, level=1)
    assert pt.walk(0x40012345) == (RAM + 0x212345, 1)
    pt.map(0x40200000, RAM + 0x201000, V | R, level=1)  # ppn[0] != 0
    assert fault(pt, 0x40200000) == 13


def test_gigapage(pt):
    pt.map(0xC0000000, 0x80000000, V | R | W | X, level=2)
    assert pt.walk(0xC1234568, mmu.FETCH) == (0x81234568, 2)


def test_permissions(pt):
    pt.map(0x1000, RAM + 0x1000, V | R)
    pt.map(0x2000, RAM + 0x2000, V | X)
    pt.map(0x3000, RAM + 0x3000, V | W)  # W without R is reserved
    assert fault(pt, 0x1000, access=mmu.STORE) == 15
    assert fault(pt, 0x1000, access=mmu.FETCH) == 12
    assert fault(pt, 0x2000) == 13
    assert pt.walk(0x2000, mxr=True)[0] == RAM + 0x2000  # MXR: X pages readable
    assert fault(pt, 0x3000) == 13
    assert fault(pt, 0x9000) == 13  # not mapped


def test_user_pages_and_sum(pt):
    pt.map(0x1000, RAM + 0x1000, V | R | X | U)
    pt.map(0x2000, RAM + 0x2000, V | R)
    assert pt.walk(0x1000, priv=0)[0] == RAM + 0x1000
    assert fault(pt, 0x2000, priv=0) == 13  # U-mode on a supervisor page
    assert fault(pt, 0x1000, priv=1) == 13  # S-mode on a user page without SUM
    assert pt.walk(0x1000, priv=1, sum_=True)[0] == RAM + 0x1000
    assert fault(pt, 0x1000, access=mmu.FETCH, priv=1, sum_=True) == 12  # never executable


def test_non_canonical_address_faults(pt):
    bits = 39 if pt.levels == 3 else 48
    assert fault(pt, 1 << (bits - 1)) == 13
    # the top half works when sign-extended
    va = ((1 << 64) - (1 << (bits - 1))) | 0x1000
    pt.map(va, RAM + 0x7000, V | R)
    assert pt.walk(va)[0] == RAM + 0x7000


def test_page_table_outside_memory_is_an_access_fault(pt):
    pt.mem.write(pt.root, 8, ((0x10000000 >> 12) << 10) | V)  # points to nothing
    assert fault(pt, 0x0) == 5
