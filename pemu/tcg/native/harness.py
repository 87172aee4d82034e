"""Run one IR block natively and through the reference interpreter on the same state.

A `Harness` owns an env, a small guest RAM (anonymous memory whose pages the
native TLB maps) and a backend; `compare(block)` runs the block both ways from
the same starting state and returns both outcomes, so tests (and differential
harnesses) can check the native backend against `pemu.tcg.interp`.
"""
from __future__ import annotations

import ctypes
import mmap
from dataclasses import dataclass

from pemu.tcg import interp
from pemu.tcg.env import TLB_EMPTY, TLB_MASK, Env, EnvLayout
from pemu.tcg.ir import Block
from pemu.tcg.native.backend import NativeBackend, NativeBlock
from pemu.tcg.native.codebuf import CodeBuffer

_BUFFER: CodeBuffer | None = None


def shared_buffer() -> CodeBuffer:
    """One code buffer per process for tests (each mapping costs an mmap)."""
    global _BUFFER
    if _BUFFER is None:
        _BUFFER = CodeBuffer(4 << 20)
    return _BUFFER


class TlbMemory:
    """Guest memory as the native fast path sees it: through the env's TLB arrays."""

    def __init__(self, env: Env) -> None:
        self.env = env

    def _host(self, table: int, addr: int, size: int) -> int | None:
        vpn = addr >> 12
        tag, addend = self.env._pair.unpack_from(self.env.mem, table + 16 * (vpn & TLB_MASK))
        if tag != vpn or (addr & 0xFFF) > 4096 - size:
            return None
        return (addr + addend) & TLB_EMPTY

    def load(self, addr: int, size: int) -> bytes | None:
        host = self._host(self.env.layout.TLB_R, addr, size)
        return None if host is None else ctypes.string_at(host, size)

    def store(self, addr: int, data: bytes) -> bytes | None:
        host = self._host(self.env.layout.TLB_W, addr, len(data))
        if host is None:
            return None
        old = ctypes.string_at(host, len(data))
        ctypes.memmove(host, data, len(data))
        return old


@dataclass(frozen=True)
class Outcome:
    status: int
    pc: int
    icount: int
    spaces: dict[str, list[int]]
    ram: bytes


class Harness:
    def __init__(self, spaces: dict[str, int] | None = None, pages: int = 4,
                 vbase: int = 0x8000_0000, **backend_options) -> None:
        self.layout = EnvLayout(spaces or {"X": 32, "F": 32})
        self.env = Env(self.layout)
        self.backend = NativeBackend(self.layout, shared_buffer(), **backend_options)
        self.backend.buffer.install(self.env)
        self.ram = mmap.mmap(-1, pages * 4096)
        self.ram_addr = ctypes.addressof(ctypes.c_char.from_buffer(self.ram))
        self.vbase = vbase
        self.pages = pages

    def map(self, page: int, read: bool = True, write: bool = True) -> None:
        """Map guest page vbase + page*4096 to RAM page `page` in the native TLB."""
        vaddr = self.vbase + page * 4096
        addend = self.ram_addr + page * 4096 - vaddr
        if read:
            self.env.tlb_set(False, vaddr >> 12, addend)
        if write:
            self.env.tlb_set(True, vaddr >> 12, addend)

    def map_all(self) -> None:
        for p in range(self.pages):
            self.map(p)

    def outcome(self, status: int, pc: int) -> Outcome:
        return Outcome(status, pc, self.env.icount,
                       {s: list(self.env.space(s)) for s in self.layout.spaces},
                       bytes(self.ram))

    def state(self) -> tuple:
        return ({s: list(self.env.space(s)) for s in self.layout.spaces}, bytes(self.ram),
                self.env.icount)

    def restore(self, st: tuple) -> None:
        spaces, ram, icount = st
        for s, vals in spaces.items():
            view = self.env.space(s)
            for i, v in enumerate(vals):
                view[i] = v
        self.ram[:] = ram
        self.env.icount = icount

    def run_native(self, nb: NativeBlock) -> Outcome:
        pc = self.backend.buffer.run(self.env.addr, nb.addr)
        return self.outcome(self.env.status, pc)

    def run_interp(self, block: Block) -> Outcome:
        r = interp.run(block, {s: self.env.space(s) for s in self.layout.spaces},
                       TlbMemory(self.env))
        self.env.icount += r.retired
        return self.outcome(r.status, r.pc)

    def compare(self, block: Block) -> tuple[Outcome | None, Outcome]:
        """(native outcome or None when the block does not compile, interpreter outcome),
        both from the current state; the env is left as the interpreter left it.
        LIMIT is 0, so native exits never chain."""
        self.env.limit = 0
        st = self.state()
        nb = self.backend.compile(block)
        native = self.run_native(nb) if nb is not None else None
        self.restore(st)
        return native, self.run_interp(block)
