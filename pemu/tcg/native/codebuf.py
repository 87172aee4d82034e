"""Executable memory for native blocks, and the runtime stubs that enter and leave them.

Memory: one anonymous mapping for blocks (bump allocation, 16-byte aligned;
`reset()` starts over when it is full, after which every address handed out
before is invalid: the caller flushes the jump cache and forgets its blocks),
and one page for the stubs, which `reset()` never touches. The mapping is
read-write-execute when the host allows it; on a host that refuses RWX
mappings (W^X policies) the memory is a memfd mapped twice, writable at one
address and executable at another, so no page is ever both and nothing
changes protection under a thread that runs code (blocks may be compiled on
another thread). `add` and `reset` take a lock for the same reason.

Stubs (SysV ABI):

    enter(env, code) -> u64      push the callee-saved registers, rbx = env,
                                 reserve the block frame (FRAME_SIZE bytes of
                                 temp slots at [rsp]), jump to code
    leave                        free the frame, pop, ret; blocks reach it with
                                 `jmp qword [rbx + LEAVE]`, rax holding the
                                 result (a guest pc)

Blocks chained by jumps share the one frame, so a block may use
[rsp, rsp + FRAME_SIZE) freely and must not push. The stack is 16-byte aligned
inside blocks (no block calls anything today; a future call site needs it).
"""
from __future__ import annotations

import ctypes
import mmap
import os
import threading

from pemu.tcg.env import Env
from pemu.tcg.native.x86_64_asm import Asm, Reg

#: bytes of temp slots every block may use at [rsp]
FRAME_SIZE = 8 * 512
#: callee-saved registers of the SysV ABI, in push order
SAVED = (Reg.RBX, Reg.RBP, Reg.R12, Reg.R13, Reg.R14, Reg.R15)
#: the register that holds the env pointer in every block
ENV_REG = Reg.RBX

_PAGE = mmap.PAGESIZE
_RWX = mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC
_libc_mmap = ctypes.CDLL(None, use_errno=True).mmap
_libc_mmap.restype = ctypes.c_void_p
_libc_mmap.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                       ctypes.c_int, ctypes.c_long)
_MAP_FAILED = ctypes.c_void_p(-1).value


class _Region:
    """One executable mapping: RWX, or on a W^X host two views of one memfd, a writable
    one (`mem`) and an executable one at `addr`, so no page is ever both and nothing
    changes protection while another thread may be running code in the region."""

    def __init__(self, size: int, wx: bool = False) -> None:
        self.size = (size + _PAGE - 1) & ~(_PAGE - 1)
        self.wx = wx
        if not wx:
            try:
                # private: a forked guest process (user mode) compiles into its
                # own copy instead of overwriting its parent's code
                self.mem = mmap.mmap(-1, self.size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS,
                                     prot=_RWX)
                self.addr = ctypes.addressof(ctypes.c_char.from_buffer(self.mem))
                return
            except OSError:  # a W^X host
                self.wx = True
        fd = os.memfd_create("pemu-native-code", os.MFD_CLOEXEC)
        try:
            os.ftruncate(fd, self.size)
            self.mem = mmap.mmap(fd, self.size)
            addr = _libc_mmap(None, self.size, mmap.PROT_READ | mmap.PROT_EXEC,
                              mmap.MAP_SHARED, fd, 0)
        finally:
            os.close(fd)  # the mappings keep the memory
        if addr in (None, _MAP_FAILED):
            raise OSError(ctypes.get_errno(), "cannot map native code executable")
        self.addr = addr

    def write(self, offset: int, data: bytes) -> None:
        self.mem[offset:offset + len(data)] = data


def _stubs() -> tuple[bytes, int]:
    """The enter and leave stubs; returns (code, offset of leave)."""
    a = Asm()
    for r in SAVED:
        a.push(r)
    # entry rsp = 8 mod 16 (return address); 6 pushes keep it 8 mod 16, so the
    # frame must be 8 mod 16 for blocks to run with an aligned stack
    frame = FRAME_SIZE + 8
    a.alu("sub", Reg.RSP, frame)
    a.mov(ENV_REG, Reg.RDI)
    a.jmp_rm(Reg.RSI)
    while len(a.code) % 16:
        a.code += b"\xcc"
    leave = len(a.code)
    a.alu("add", Reg.RSP, frame)
    for r in reversed(SAVED):
        a.pop(r)
    a.ret()
    return a.finish(), leave


_ENTER_TYPE = ctypes.CFUNCTYPE(ctypes.c_uint64, ctypes.c_void_p, ctypes.c_void_p)


class CodeBuffer:
    """Native code memory: allocation of block code, the stubs, and `run`."""

    def __init__(self, size: int = 16 << 20, wx: bool = False) -> None:
        """`size` bytes for blocks; `wx` forces the W^X way (used where RWX works too,
        so that path is tested)."""
        self.stubs = _Region(_PAGE, wx)
        code, leave = _stubs()
        self.stubs.write(0, code)
        self.enter_addr = self.stubs.addr
        self.leave_addr = self.stubs.addr + leave
        #: the enter stub as a ctypes function: `enter(env_addr, code_addr) -> pc`. Hot
        #: loops call it directly (the `run` method adds a Python call). A CFUNCTYPE
        #: call releases the GIL: another thread may set EXIT_REQ meanwhile.
        self.enter = _ENTER_TYPE(self.enter_addr)
        self.region = _Region(size, wx)
        self.lock = threading.Lock()
        self.used = 0
        self.resets = 0

    @property
    def wx(self) -> bool:
        """Whether the host refused RWX memory (code is written through mprotect)."""
        return self.region.wx

    def fresh_region(self) -> None:
        """Replace the block memory by a new mapping (the old code stays where it
        is, for whoever else maps it); every block address becomes invalid."""
        with self.lock:
            self.region = _Region(self.region.size, self.region.wx)
            self.used = 0
            self.resets += 1

    def install(self, env: Env) -> None:
        """Point env.LEAVE at this buffer's epilogue (once per env)."""
        env.leave = self.leave_addr

    def add(self, code: bytes) -> int | None:
        """Copy position-independent code into the buffer; its host address, or None
        when the buffer is full (the caller then calls `reset()` and tries again)."""
        with self.lock:
            start = (self.used + 15) & ~15
            if start + len(code) > self.region.size:
                return None
            self.used = start + len(code)
        self.region.write(start, code)
        return self.region.addr + start

    def reset(self) -> None:
        """Forget every block: their addresses become invalid (flush the JC first)."""
        with self.lock:
            self.used = 0
            self.resets += 1

    def run(self, env_addr: int, code_addr: int) -> int:
        """Run native code at code_addr on the env at env_addr; the guest pc it returns."""
        return self.enter(env_addr, code_addr)


__all__ = ["ENV_REG", "FRAME_SIZE", "CodeBuffer"]
