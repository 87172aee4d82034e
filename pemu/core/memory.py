"""Guest physical memory: address spaces made of RAM, ROM and MMIO regions.

RAM is one anonymous mmap per RAM block, so the TCG softmmu (struct
unpack_from on the buffer) and KVM (a memory slot over the same pages) share
it. MMIO regions are small descriptors with read(offset, size) and
write(offset, size, value) and the access sizes they accept; the address
space enforces those rules. Lookups use bisect over sorted bases.
"""
from __future__ import annotations

import bisect
import mmap
from collections.abc import Callable

PAGE_BITS = 12
PAGE_SIZE = 1 << PAGE_BITS


class BusError(Exception):
    """An access that no region accepts (unmapped, or a size the region refuses)."""

    def __init__(self, addr: int, size: int, write: bool) -> None:
        super().__init__(f"bus error {'writing' if write else 'reading'} {size} bytes at {addr:#x}")
        self.addr = addr
        self.size = size
        self.write = write


class MemoryRegion:
    """A region of the guest physical address space, offsets relative to its base."""

    is_ram = False

    def __init__(self, name: str, size: int) -> None:
        self.name = name
        self.size = size
        self.base = 0  # set when mapped

    def read(self, offset: int, size: int) -> int:
        raise NotImplementedError

    def write(self, offset: int, size: int, value: int) -> None:
        raise NotImplementedError


class RamRegion(MemoryRegion):
    """Guest RAM backed by one anonymous mmap (zero-filled, page-aligned)."""

    is_ram = True
    readonly = False

    def __init__(self, name: str, size: int) -> None:
        super().__init__(name, size)
        self.buf = mmap.mmap(-1, max(size, PAGE_SIZE))

    def read(self, offset: int, size: int) -> int:
        return int.from_bytes(self.buf[offset:offset + size], "little")

    def write(self, offset: int, size: int, value: int) -> None:
        self.buf[offset:offset + size] = (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little")


class RomRegion(RamRegion):
    """RAM that the guest can read and execute but not write (writes are ignored)."""

    readonly = True

    def write(self, offset: int, size: int, value: int) -> None:
        pass


class MmioRegion(MemoryRegion):
    """Device registers: callbacks plus access-size rules (QEMU MemoryRegionOps.valid)."""

    def __init__(self, name: str, size: int,
                 read: Callable[[int, int], int],
                 write: Callable[[int, int, int], None],
                 sizes: tuple[int, ...] = (1, 2, 4, 8)) -> None:
        super().__init__(name, size)
        self._read = read
        self._write = write
        self.sizes = sizes

    def read(self, offset: int, size: int) -> int:
        return self._read(offset, size)

    def write(self, offset: int, size: int, value: int) -> None:
        self._write(offset, size, value)


class AddressSpace:
    """A flat physical address space; regions must not overlap."""

    def __init__(self, name: str = "memory") -> None:
        self.name = name
        self._bases: list[int] = []
        self._regions: list[MemoryRegion] = []
        #: Physical page numbers holding translated code; writes there call code_write_hook.
        self.code_pages: set[int] = set()
        self.code_write_hook: Callable[[int, int], None] | None = None

    # --- construction -------------------------------------------------
    def map(self, base: int, region: MemoryRegion) -> MemoryRegion:
        i = bisect.bisect_right(self._bases, base)
        end = base + region.size
        if i > 0:
            prev = self._regions[i - 1]
            if prev.base + prev.size > base:
                raise ValueError(f"region {region.name} at {base:#x} overlaps {prev.name}")
        if i < len(self._bases) and self._bases[i] < end:
            raise ValueError(f"region {region.name} at {base:#x} overlaps {self._regions[i].name}")
        region.base = base
        self._bases.insert(i, base)
        self._regions.insert(i, region)
        return region

    def regions(self) -> list[MemoryRegion]:
        return list(self._regions)

    def ram_regions(self) -> list[RamRegion]:
        return [r for r in self._regions if isinstance(r, RamRegion)]

    # --- lookup ---------------------------------------------------------
    def find(self, addr: int) -> MemoryRegion | None:
        i = bisect.bisect_right(self._bases, addr) - 1
        if i >= 0:
            r = self._regions[i]
            if addr - r.base < r.size:
                return r
        return None

    def ram_at(self, addr: int, length: int = 1) -> tuple[RamRegion, int] | None:
        """(RAM region, offset) when [addr, addr+length) lies inside one RAM/ROM region."""
        r = self.find(addr)
        if isinstance(r, RamRegion) and addr + length <= r.base + r.size:
            return r, addr - r.base
        return None

    # --- CPU-sized accesses (the softmmu slow path) ------------------------
    def read(self, addr: int, size: int) -> int:
        r = self.find(addr)
        if r is None or addr + size > r.base + r.size:
            raise BusError(addr, size, False)
        if not r.is_ram and size not in r.sizes:  # type: ignore[attr-defined]
            raise BusError(addr, size, False)
        return r.read(addr - r.base, size)

    def write(self, addr: int, size: int, value: int) -> None:
        r = self.find(addr)
        if r is None or addr + size > r.base + r.size:
            raise BusError(addr, size, True)
        if r.is_ram:
            if self.code_pages and (addr >> PAGE_BITS) in self.code_pages:
                self._code_written(addr, size)
        elif size not in r.sizes:  # type: ignore[attr-defined]
            raise BusError(addr, size, True)
        r.write(addr - r.base, size, value)

    # --- bulk accesses (loaders and DMA) -----------------------------------
    def read_bytes(self, addr: int, length: int) -> bytes:
        got = self.ram_at(addr, length)
        if got is None:
            raise BusError(addr, length, False)
        r, off = got
        return bytes(r.buf[off:off + length])

    def write_bytes(self, addr: int, data: bytes, *, force: bool = False) -> None:
        """DMA/loader write into RAM; `force` also writes ROM (firmware loading)."""
        got = self.ram_at(addr, len(data))
        if got is None:
            raise BusError(addr, len(data), True)
        r, off = got
        if r.readonly and not force:
            return
        r.buf[off:off + len(data)] = data
        if self.code_pages:
            self._code_written(addr, len(data))

    def _code_written(self, addr: int, length: int) -> None:
        hook = self.code_write_hook
        first, last = addr >> PAGE_BITS, (addr + length - 1) >> PAGE_BITS
        for page in range(first, last + 1):
            if page in self.code_pages and hook is not None:
                hook(page, addr)

    def describe(self) -> list[str]:
        """Lines for 'info mtree'."""
        out = [f"address-space: {self.name}"]
        for r in self._regions:
            kind = "rom" if isinstance(r, RomRegion) else "ram" if r.is_ram else "i/o"
            out.append(f"  {r.base:016x}-{r.base + r.size - 1:016x} (prio 0, {kind}): {r.name}")
        return out
