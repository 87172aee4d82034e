"""The guest process's address space for user-mode emulation.

One big host mapping (reserved with MAP_NORESERVE, so untouched pages cost
nothing) covers guest virtual addresses [0, SIZE): guest address == index
into `buf`. What the guest may touch is the list of VMAs (start, end,
protection, name) kept here, the way the kernel's mm does. Translated code
reaches memory through the TLB dicts `tlb_r/tlb_w/tlb_x` (virtual page ->
delta, always 0 here); an entry exists only for a page the VMA allows, so
every other access takes the slow path, which consults the VMAs and turns
a forbidden access into a fault (SIGSEGV). The TLB and the jump cache are
shared by every guest thread of the process.
"""
from __future__ import annotations

import bisect
import ctypes
import mmap
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

PAGE = 4096
PAGE_MASK = ~(PAGE - 1)
SIZE = 1 << 38  # Sv39 user half: 256 GiB
TASK_SIZE = SIZE
MAP_NORESERVE = 0x4000

PROT_READ, PROT_WRITE, PROT_EXEC = 1, 2, 4


def page_up(n: int) -> int:
    return (n + PAGE - 1) & PAGE_MASK


class Fault(Exception):
    """A guest address that the process may not access (EFAULT in a syscall)."""

    def __init__(self, addr: int, mapped: bool = False) -> None:
        super().__init__(f"bad guest address {addr:#x}")
        self.addr = addr
        self.mapped = mapped


@dataclass
class Vma:
    start: int
    end: int
    prot: int
    name: str = ""
    offset: int = 0
    dev_ino: tuple[int, int] = (0, 0)
    shared: bool = False


def _vma_start(v: Vma) -> int:
    return v.start


class CodePages(set):
    """Pages holding translated code: adding one removes its write-TLB entry
    so stores to it reach `store_slow`, which invalidates the blocks."""

    def __init__(self, tlb_w: dict, envs: list) -> None:
        super().__init__()
        self.tlb_w = tlb_w
        self.envs = envs

    def add(self, page: int) -> None:
        super().add(page)
        self.tlb_w.pop(page, None)
        for env in tuple(self.envs):  # a snapshot: an exiting thread removes its env
            env.tlb_drop(page)


class GuestMemory:
    """Address space, VMAs, TLBs and brk of one guest process."""

    def __init__(self) -> None:
        self.buf = mmap.mmap(-1, SIZE, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS
                             | MAP_NORESERVE)
        self.vmas: list[Vma] = []
        self.tlb_r: dict[int, int] = {}
        self.tlb_w: dict[int, int] = {}
        self.tlb_x: dict[int, int] = {}
        self.jc: dict[int, tuple] = {}
        #: every hart's env (pemu/tcg/env.py): their native TLBs hold a subset
        #: of tlb_r/tlb_w, so whatever leaves those dicts leaves them too
        self.envs: list = []
        self.code_pages = CodePages(self.tlb_w, self.envs)
        self.code_write_hook: Callable[[int, int], None] = lambda page, addr=0: None
        self.lock = threading.RLock()  # atomics (AMO, SC) and futexes
        self.brk_start = self.brk_cur = 0
        self.mmap_base = 0
        self.tbs = None  # the TbStore, for invalidation on unmap

    # --- the harts' native TLBs and jump caches (every user CPU flushes through here) --
    def flush_translations(self) -> None:
        """Forget every TLB entry and jump-cache entry of every hart."""
        for d in (self.tlb_r, self.tlb_w, self.tlb_x, self.jc):
            d.clear()
        for env in tuple(self.envs):  # a snapshot: threads come and go
            env.tlb_flush()
            env.jc_flush()

    def flush_jump_caches(self) -> None:
        self.jc.clear()
        for env in tuple(self.envs):
            env.jc_flush()

    def refill_native_tlb(self, env: Any, va: int, write: bool) -> None:
        """After a slow-path access: copy the page's entry to the hart's native TLB
        when the process's TLB (the authority) has it."""
        if va >> 12 in (self.tlb_w if write else self.tlb_r):
            env.tlb_set(write, va >> 12, env.ram_host)

    def host_addr(self) -> int:
        """Host address of guest address 0 (native code's TLB addend)."""
        return ctypes.addressof(ctypes.c_char.from_buffer(self.buf))

    # --- VMA table --------------------------------------------------------------
    def find(self, addr: int) -> Vma | None:
        vmas = self.vmas  # one snapshot: writers replace the list, never edit it
        i = bisect.bisect_right(vmas, addr, key=_vma_start) - 1
        if i >= 0 and addr < vmas[i].end:
            return vmas[i]
        return None

    def _without(self, start: int, end: int) -> tuple[list[Vma], list[Vma]]:
        """(the table without [start, end), the removed pieces). Callers
        publish the new table with one assignment, so a thread reading
        `vmas` without the lock never sees a half-updated table."""
        keep: list[Vma] = []
        removed: list[Vma] = []
        for v in self.vmas:
            if v.end <= start or v.start >= end:
                keep.append(v)
                continue
            if v.start < start:
                keep.append(Vma(v.start, start, v.prot, v.name, v.offset, v.dev_ino, v.shared))
            if v.end > end:
                keep.append(Vma(end, v.end, v.prot, v.name, v.offset + (end - v.start),
                                v.dev_ino, v.shared))
            lo, hi = max(v.start, start), min(v.end, end)
            removed.append(Vma(lo, hi, v.prot, v.name, v.offset + (lo - v.start),
                               v.dev_ino, v.shared))
        keep.sort(key=_vma_start)
        return keep, removed

    def _flush_range(self, start: int, end: int) -> None:
        """Drop TLB entries and translated code for pages in [start, end)."""
        first, last = start >> 12, (end - 1) >> 12
        # Other guest threads fill the TLBs and translate blocks without the
        # lock, so iterate over a snapshot: dict.copy() runs in C under the
        # GIL, where iterating the live dict could see it change size.
        for tlb in (self.tlb_r, self.tlb_w, self.tlb_x):
            if last - first > len(tlb):
                for p in [p for p in tlb.copy() if first <= p <= last]:
                    tlb.pop(p, None)
            else:
                for p in range(first, last + 1):
                    tlb.pop(p, None)
        for env in tuple(self.envs):  # a snapshot: an exiting thread removes its env
            if last - first > 64:
                env.tlb_flush()
            else:
                for p in range(first, last + 1):
                    env.tlb_drop(p)
        if self.tbs is not None:
            for p in [p for p in self.tbs.by_page.copy() if first <= p <= last]:
                self.tbs.invalidate_page(p)

    def map(self, start: int, length: int, prot: int, name: str = "", offset: int = 0,
            dev_ino: tuple[int, int] = (0, 0), shared: bool = False) -> None:
        """Map [start, start+length) zero-filled (replacing what was there)."""
        end = page_up(start + length)
        with self.lock:
            vmas, _ = self._without(start, end)
            bisect.insort(vmas, Vma(start, end, prot, name, offset, dev_ino, shared),
                          key=_vma_start)
            self.vmas = vmas
            self._flush_range(start, end)
            self.buf.madvise(mmap.MADV_DONTNEED, start, end - start)

    def unmap(self, start: int, length: int) -> None:
        end = page_up(start + length)
        with self.lock:
            self.vmas, removed = self._without(start, end)
            self._flush_range(start, end)
            if end > start:
                self.buf.madvise(mmap.MADV_DONTNEED, start, end - start)

    def protect(self, start: int, length: int, prot: int) -> bool:
        """Change protection; False if part of the range is unmapped (ENOMEM)."""
        end = page_up(start + length)
        with self.lock:
            if not self.is_mapped(start, end):
                return False
            vmas, pieces = self._without(start, end)
            for v in pieces:
                v.prot = prot
                bisect.insort(vmas, v, key=_vma_start)
            self.vmas = vmas
            self._flush_range(start, end)
        return True

    def is_mapped(self, start: int, end: int) -> bool:
        addr = start
        while addr < end:
            v = self.find(addr)
            if v is None:
                return False
            addr = v.end
        return True

    def find_free(self, length: int, hint: int = 0) -> int | None:
        """A free page-aligned range of `length` bytes: at `hint` if free,
        else the highest gap below mmap_base (top-down, as Linux)."""
        length = page_up(length)
        if hint and hint + length <= TASK_SIZE and self._free(hint, hint + length):
            return hint
        top = self.mmap_base
        for v in reversed(self.vmas):
            if v.start >= top:
                continue
            if v.end <= top - length:
                return top - length
            top = v.start
        if top - length >= 0x10000:
            return top - length
        return None

    def _free(self, start: int, end: int) -> bool:
        return all(v.end <= start or v.start >= end for v in self.vmas)

    # --- access checks (TLB fill) ---------------------------------------------------
    def check(self, addr: int, size: int, prot: int) -> None:
        """Raise Fault unless [addr, addr+size) allows `prot`; fills the TLB."""
        if size <= 0:
            return
        tlb = self.tlb_w if prot == PROT_WRITE else self.tlb_x if prot == PROT_EXEC \
            else self.tlb_r
        page = addr >> 12
        last = (addr + size - 1) >> 12
        while page <= last:
            if page not in tlb:
                self._fill(tlb, page, last, addr, prot)
            page += 1

    def _fill(self, tlb: dict[int, int], page: int, last: int, addr: int, prot: int) -> None:
        # Under the lock: an unmap in another thread must not slip between
        # the VMA lookup and the TLB store (it would leave a stale entry).
        with self.lock:
            v = self.find(page << 12)
            if v is None:
                raise Fault(max(addr, page << 12), False)
            if not v.prot & prot:
                raise Fault(max(addr, page << 12), True)
            if prot != PROT_WRITE or page not in self.code_pages:
                tlb[page] = 0
            hi = min(v.end >> 12, last + 1)
            if prot != PROT_WRITE:
                for p in range(page + 1, min(hi, page + 64)):
                    tlb[p] = 0

    def read(self, addr: int, size: int) -> bytes:
        """Guest bytes for a syscall argument (EFAULT-checked)."""
        if size == 0:
            return b""
        self.check(addr, size, PROT_READ)
        return self.buf[addr:addr + size]

    def write(self, addr: int, data: bytes) -> None:
        """Store bytes for a syscall result (EFAULT-checked, invalidates code)."""
        n = len(data)
        if n == 0:
            return
        self.check_writable(addr, n)
        self.buf[addr:addr + n] = data

    def check_writable(self, addr: int, n: int) -> None:
        try:
            self.check(addr, n, PROT_WRITE)
        except Fault:
            raise
        first, last = addr >> 12, (addr + n - 1) >> 12
        for p in range(first, last + 1):
            if p in self.code_pages:
                self.code_write_hook(p, p << 12)

    def read_cstr(self, addr: int, limit: int = 4096 * 16) -> bytes:
        """A NUL-terminated string (without the NUL)."""
        out = bytearray()
        while len(out) < limit:
            chunk_end = (addr + PAGE) & PAGE_MASK
            self.check(addr, 1, PROT_READ)
            chunk = self.buf[addr:chunk_end]
            i = chunk.find(b"\0")
            if i >= 0:
                out += chunk[:i]
                return bytes(out)
            out += chunk
            addr = chunk_end
        raise Fault(addr)

    def read_u64(self, addr: int) -> int:
        return int.from_bytes(self.read(addr, 8), "little")

    def write_u64(self, addr: int, v: int) -> None:
        self.write(addr, (v & (2**64 - 1)).to_bytes(8, "little"))

    def read_u32(self, addr: int) -> int:
        return int.from_bytes(self.read(addr, 4), "little")

    def write_u32(self, addr: int, v: int) -> None:
        self.write(addr, (v & 0xFFFFFFFF).to_bytes(4, "little"))
