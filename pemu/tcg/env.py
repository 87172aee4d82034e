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
    MISS                   with STATUS_PYTHON: the guest address whose TLB
                           lookup missed, or all ones (an instruction left to
                           Python for another reason)
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
        self.MISS = off + 40
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
        span = 32 * TLB_ENTRIES
        self._tlb_span = (layout.TLB_R, layout.TLB_R + span)
        self._empty = b"\xff" * span
        #: TLB contents of the contexts not current (e.g. other privilege levels)
        self._saved: dict[object, bytearray] = {}
        #: native code is running on this env in its vCPU thread (see _defer)
        self.in_native = False
        self.pending: list[tuple[str, tuple]] = []
        self._r0, self._w0 = layout.TLB_R // 8, layout.TLB_W // 8
        #: host address that TLB deltas are relative to (the CPU sets it: RAM's base)
        self.ram_host = 0
        self._ctx: object = None
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

    def tlb_refill(self, vaddr: int, tlb_r: dict, tlb_w: dict) -> bool:
        """After a native TLB miss at vaddr: copy the page's entries from the
        Python TLB dicts (vpn -> delta from the host address base in
        `ram_host`); False when that changes nothing (the miss needs Python)."""
        if vaddr == TLB_EMPTY:
            return False
        vpn = vaddr >> 12
        slot = 2 * (vpn & TLB_MASK)
        done = False
        for d, base, write in ((tlb_r, self._r0, False), (tlb_w, self._w0, True)):
            delta = d.get(vpn)
            if delta is not None and self.q[base + slot] != vpn:
                self.tlb_set(write, vpn, self.ram_host + delta)
                done = True
        return done

    # --- changes from other threads --------------------------------------------------------
    # Native code runs without the GIL. While it does (`in_native`), another guest
    # thread (user mode) must not rewrite this env's TLB or jump cache under it: a
    # half-rewritten entry would send it to a wrong host address. Such a change is
    # queued instead, and EXIT_REQ makes the native code return within a block; the
    # vCPU thread applies the queue (`apply_pending`) before it enters native code.
    def _defer(self, method: str, *args: object) -> bool:
        if not self.in_native:
            return False
        self.pending.append((method, args))
        self.q[self.layout.EXIT_REQ // 8] = 1
        return True

    def request_exit(self) -> None:
        """Make native code running on this env return at its next block end."""
        self.q[self.layout.EXIT_REQ // 8] = 1

    def apply_pending(self) -> None:
        todo, self.pending = self.pending, []
        for method, args in todo:
            getattr(self, method)(*args)

    def tlb_drop(self, vpn: int) -> None:
        """Forget page vpn in every context."""
        if self._defer("tlb_drop", vpn):
            return
        lo = self._tlb_span[0]
        for mem, base in [(self.mem, lo)] + [(b, 0) for b in self._saved.values()]:
            for half in (0, 16 * TLB_ENTRIES):
                off = base + half + 16 * (vpn & TLB_MASK)
                if int.from_bytes(mem[off:off + 8], "little") == vpn:
                    mem[off:off + 8] = b"\xff" * 8

    def tlb_flush(self, write_only: bool = False) -> None:
        """Empty the TLB (or its write half) of every context."""
        if self._defer("tlb_flush", write_only):
            return
        lo, hi = self._tlb_span
        cut = 16 * TLB_ENTRIES if write_only else 0
        self.mem[lo + cut:hi] = self._empty[cut:]
        for saved in self._saved.values():
            saved[cut:] = self._empty[cut:]

    def switch_tlb(self, ctx: object) -> None:
        """Make the TLB of context `ctx` current, keeping the current one's
        entries for when it comes back (a privilege switch costs two copies)."""
        if ctx == self._ctx:
            return
        lo, hi = self._tlb_span
        self._saved[self._ctx] = bytearray(self.mem[lo:hi])
        saved = self._saved.pop(ctx, None)
        self.mem[lo:hi] = saved if saved is not None else self._empty
        self._ctx = ctx

    # --- jump cache ---------------------------------------------------------------------
    def jc_set(self, pc: int, host: int) -> None:
        self._pair.pack_into(self.mem, self.layout.JC + 16 * jc_index(pc), pc, host)

    def jc_flush(self) -> None:
        if self._defer("jc_flush"):
            return
        lay = self.layout
        self.mem[lay.JC:lay.JC + 16 * JC_ENTRIES] = b"\xff" * (16 * JC_ENTRIES)


__all__ = ["Env", "EnvLayout", "JC_EMPTY", "JC_ENTRIES", "STATUS_CHAIN", "STATUS_PYTHON",
           "TLB_EMPTY", "TLB_ENTRIES", "jc_index"]
