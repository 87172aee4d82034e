"""The CPU environment: one flat buffer of guest state that every tier shares.

Native code reaches guest state through one pointer (the env); the Python
tier reads and writes the same bytes through memoryviews, so moving between
tiers copies nothing. Layout (all fields little-endian unsigned 64-bit):

    offset                 field
    space offsets          the target's global spaces, `count` slots each
                           (RISC-V: "X" x0..x31, then "F" f0..f31)
    ICOUNT                 instructions retired (native exits add theirs)
    LIMIT                  native code chains to another block only while
                           ICOUNT < LIMIT
    EXIT_REQ               non-zero: native code must not chain (an interrupt
                           or exit request is pending); any thread may set it
    STATUS                 why native code returned (STATUS_* below)
    LEAVE                  host address of the runtime's epilogue: blocks leave
                           with `jmp [env + LEAVE]`, so block code stays
                           position-independent (cacheable as bytes)
    TLB_R, TLB_W           TLB_ENTRIES entries of (tag, addend): tag is the
                           virtual page number (vaddr >> 12) or TLB_EMPTY;
                           host address = vaddr + addend. Index: vpn & TLB_MASK
    JC                     JC_ENTRIES entries of (guest pc, host code address);
                           index: `jc_index(pc)`; pc JC_EMPTY means none

The TLB holds only RAM pages a fast access may use: the Python tier's TLB
dicts are the authority and the native TLB is a subset of them, so every
flush of those dicts flushes it too. Pages holding translated code never have
a TLB_W entry (stores there go to Python, which invalidates the code).
"""
from __future__ import annotations

import ctypes
import mmap
import struct

TLB_ENTRIES = 256
TLB_MASK = TLB_ENTRIES - 1
TLB_EMPTY = (1 << 64) - 1
JC_ENTRIES = 4096
JC_MASK = JC_ENTRIES - 1
JC_EMPTY = (1 << 64) - 1

#: native code returned at the end of a block: the result is the next guest pc
STATUS_CHAIN = 0
#: native code returned before an instruction it does not run itself (TLB miss,
#: page-crossing access, an op it cannot compile): the result is that
#: instruction's pc, no part of it has run, and the Python tier must run it
STATUS_PYTHON = 1


def jc_index(pc: int) -> int:
    """The jump-cache slot of a guest pc (instructions are at least 2-byte aligned
    on RISC-V; other targets collide a little more, which costs only a miss)."""
    return (pc >> 1) & JC_MASK


class EnvLayout:
    """Byte offsets of every field for a target's global spaces."""

    def __init__(self, spaces: dict[str, int]) -> None:
        self.spaces: dict[str, int] = {}  # space -> byte offset
        self.counts = dict(spaces)
        off = 0
        for name, count in spaces.items():
            self.spaces[name] = off
            off += 8 * count
        self.ICOUNT = off
        self.LIMIT = off + 8
        self.EXIT_REQ = off + 16
        self.STATUS = off + 24
        self.LEAVE = off + 32
        off += 64  # room for more scalar fields
        self.TLB_R = off
        self.TLB_W = off + 16 * TLB_ENTRIES
        self.JC = off + 32 * TLB_ENTRIES
        self.size = self.JC + 16 * JC_ENTRIES

    def global_offset(self, space: str, index: int) -> int:
        return self.spaces[space] + 8 * index


class Env:
    """One CPU's environment buffer (anonymous memory, so its address is fixed)."""

    def __init__(self, layout: EnvLayout) -> None:
        self.layout = layout
        # private: Python's default for anonymous maps is MAP_SHARED, which a
        # forked guest process (user mode) would share with its parent
        self.mem = mmap.mmap(-1, (layout.size + 4095) & ~4095,
                             flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
        self.addr = ctypes.addressof(ctypes.c_char.from_buffer(self.mem))
        self.q = memoryview(self.mem).cast("Q")  # the whole buffer as u64 slots
        self._pair = struct.Struct("<QQ")
        self.tlb_flush()
        self.jc_flush()

    def space(self, name: str) -> memoryview:
        """The slots of one global space, as a list-like view of u64 values."""
        off = self.layout.spaces[name] // 8
        return self.q[off:off + self.layout.counts[name]]

    def _get(self, off: int) -> int:
        return self.q[off // 8]

    def _set(self, off: int, v: int) -> None:
        self.q[off // 8] = v

    icount = property(lambda s: s._get(s.layout.ICOUNT), lambda s, v: s._set(s.layout.ICOUNT, v))
    limit = property(lambda s: s._get(s.layout.LIMIT), lambda s, v: s._set(s.layout.LIMIT, v))
    exit_req = property(lambda s: s._get(s.layout.EXIT_REQ),
                        lambda s, v: s._set(s.layout.EXIT_REQ, v))
    status = property(lambda s: s._get(s.layout.STATUS), lambda s, v: s._set(s.layout.STATUS, v))
    leave = property(lambda s: s._get(s.layout.LEAVE), lambda s, v: s._set(s.layout.LEAVE, v))

    # --- TLB ----------------------------------------------------------------------------
    def tlb_set(self, write: bool, vpn: int, addend: int) -> None:
        base = self.layout.TLB_W if write else self.layout.TLB_R
        self._pair.pack_into(self.mem, base + 16 * (vpn & TLB_MASK), vpn, addend & TLB_EMPTY)

    def tlb_drop(self, vpn: int) -> None:
        for base in (self.layout.TLB_R, self.layout.TLB_W):
            off = base + 16 * (vpn & TLB_MASK)
            if self.q[off // 8] == vpn:
                self.q[off // 8] = TLB_EMPTY

    def tlb_flush(self, write_only: bool = False) -> None:
        lay = self.layout
        start = lay.TLB_W if write_only else lay.TLB_R
        self.mem[start:lay.TLB_W + 16 * TLB_ENTRIES] = b"\xff" * (lay.TLB_W + 16 * TLB_ENTRIES
                                                                  - start)

    # --- jump cache ---------------------------------------------------------------------
    def jc_set(self, pc: int, host: int) -> None:
        self._pair.pack_into(self.mem, self.layout.JC + 16 * jc_index(pc), pc, host)

    def jc_flush(self) -> None:
        lay = self.layout
        self.mem[lay.JC:lay.JC + 16 * JC_ENTRIES] = b"\xff" * (16 * JC_ENTRIES)


__all__ = ["Env", "EnvLayout", "JC_EMPTY", "JC_ENTRIES", "STATUS_CHAIN", "STATUS_PYTHON",
           "TLB_EMPTY", "TLB_ENTRIES", "jc_index"]
