"""Guest virtual-to-physical translation by walking the x86 page tables.

4-level paging (SDM vol. 3, 4.5), 32-bit PAE is not needed for an x86-64
guest's kernel; with paging off, virtual = physical. Used to fetch the bytes
of a failing instruction for error reports and by debug tooling.
"""
from __future__ import annotations

from pemu.core.memory import AddressSpace, BusError
from pemu.target.i386.cpu import CR0_PG, X86State

_ADDR_MASK = 0x000FFFFFFFFFF000


def translate(memory: AddressSpace, st: X86State, vaddr: int) -> int | None:
    """The physical address of `vaddr`, or None when it is not mapped."""
    if not st.cr0 & CR0_PG:
        return vaddr & 0xFFFFFFFF
    table = st.cr3 & _ADDR_MASK
    try:
        for level, shift in enumerate((39, 30, 21, 12)):
            entry = memory.read(table + ((vaddr >> shift) & 0x1FF) * 8, 8)
            if not entry & 1:
                return None
            if level in (1, 2) and entry & 0x80:  # 1 GiB / 2 MiB page
                mask = (1 << shift) - 1
                return (entry & _ADDR_MASK & ~mask) | (vaddr & mask)
            table = entry & _ADDR_MASK
    except BusError:
        return None
    return table | (vaddr & 0xFFF)


def read_virt(memory: AddressSpace, st: X86State, vaddr: int, length: int) -> bytes | None:
    """Up to `length` bytes at a guest virtual address (stops at an unmapped page)."""
    out = bytearray()
    while len(out) < length:
        pa = translate(memory, st, vaddr + len(out))
        if pa is None:
            break
        chunk = min(length - len(out), 0x1000 - (pa & 0xFFF))
        try:
            out += memory.read_bytes(pa, chunk)
        except BusError:
            break
    return bytes(out) if out else None
