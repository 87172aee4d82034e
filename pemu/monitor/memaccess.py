"""Guest memory as the monitor reads it (x, xp, memsave, pmemsave).

Physical reads take RAM/ROM only: device registers are never read on the
monitor's behalf (a read can have side effects). Virtual addresses go through
the CPU's `translate(vaddr) -> paddr` when it has one (else they are taken as
physical, i.e. bare mode).
"""
from __future__ import annotations

from typing import Any

from pemu.core.memory import AddressSpace


def read_phys(memory: AddressSpace, addr: int, length: int) -> bytes | None:
    """The bytes of [addr, addr+length) if all of it is RAM/ROM, else None."""
    out = bytearray()
    while length > 0:
        got = memory.ram_at(addr)
        if got is None:
            return None
        region, off = got
        n = min(length, region.size - off)
        out += region.buf[off:off + n]
        addr += n
        length -= n
    return bytes(out)


def read_phys_zero_filled(memory: AddressSpace, addr: int, length: int) -> bytes:
    """Like read_phys, but holes read as zeros (pmemsave, as QEMU's unassigned memory)."""
    out = bytearray()
    while length > 0:
        got = memory.ram_at(addr)
        if got is None:
            nxt = min((r.base for r in memory.regions() if r.base > addr), default=None)
            n = length if nxt is None else min(length, nxt - addr)
            out += bytes(n)
        else:
            region, off = got
            n = min(length, region.size - off)
            out += region.buf[off:off + n]
        addr += n
        length -= n
    return bytes(out)


def translate(cpu: Any, vaddr: int) -> int | None:
    fn = getattr(cpu, "translate", None)
    if fn is None:
        return vaddr
    try:
        return fn(vaddr)
    except Exception:  # noqa: BLE001 (a page fault, whatever the MMU raises)
        return None


def read_virt(cpu: Any, memory: AddressSpace, vaddr: int, length: int) -> bytes | None:
    """Read through the CPU's MMU page by page; None if any page does not translate."""
    out = bytearray()
    while length > 0:
        n = min(length, 4096 - (vaddr & 4095))
        paddr = translate(cpu, vaddr)
        if paddr is None:
            return None
        chunk = read_phys(memory, paddr, n)
        if chunk is None:
            return None
        out += chunk
        vaddr += n
        length -= n
    return bytes(out)
