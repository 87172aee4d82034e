"""RISC-V guest instructions -> Python source, for one instruction or a block.

A `TransCtx` is handed to each `trans_<insn>(ctx, a)` handler, which emits
Python statements through it. The same handlers serve both tiers:

- tier 0 (reference interpreter, mode "interp"): registers are read and
  written in the CPU's list `X` directly; one instruction per function.
- tier 1 (translation blocks, mode "block"): registers live in locals
  (`x5`), loaded at entry and written back at exit or when a trap unwinds
  the block; loads/stores go through the softmmu TLB dicts inline.

Generated code sees: X, F (register lists), c (the CPU), R/W (read/write TLB
dicts: virtual page -> offset such that RAM index = vaddr + offset), RAM
(the main RAM mmap) and the names in `GLOBALS`.
"""
from __future__ import annotations

import struct

from pemu.target.riscv import fpu
from pemu.target.riscv.trap import Trap

M64 = (1 << 64) - 1
SB = 1 << 63

_LOADS = {  # (size, signed) -> (unpack name, needs & M)
    (2, False): "LH", (2, True): "LHS", (4, False): "LW", (4, True): "LWS",
    (8, False): "LD", (8, True): "LD",
}
_STORES = {2: "SH", 4: "SW", 8: "SD"}


def _div(a: int, b: int) -> int:
    if b == 0:
        return M64
    sa, sb_ = a - ((a & SB) << 1), b - ((b & SB) << 1)
    if sa == -(1 << 63) and sb_ == -1:
        return a
    q = abs(sa) // abs(sb_)
    return (-q if (sa < 0) != (sb_ < 0) else q) & M64


def _rem(a: int, b: int) -> int:
    if b == 0:
        return a
    sa, sb_ = a - ((a & SB) << 1), b - ((b & SB) << 1)
    if sa == -(1 << 63) and sb_ == -1:
        return 0
    r = abs(sa) % abs(sb_)
    return (-r if sa < 0 else r) & M64


def _sx32(v: int) -> int:
    v &= 0xFFFFFFFF
    return (v - ((v & 0x80000000) << 1)) & M64


def _divw(a: int, b: int) -> int:
    a, b = _sx32(a), _sx32(b)
    if b & 0xFFFFFFFF == 0:
        return M64
    return _sx32(_div(a, b))


def _remw(a: int, b: int) -> int:
    a, b = _sx32(a), _sx32(b)
    if b & 0xFFFFFFFF == 0:
        return a
    return _sx32(_rem(a, b))


def _divuw(a: int, b: int) -> int:
    a, b = a & 0xFFFFFFFF, b & 0xFFFFFFFF
    return M64 if b == 0 else _sx32(a // b)


def _remuw(a: int, b: int) -> int:
    a, b = a & 0xFFFFFFFF, b & 0xFFFFFFFF
    return _sx32(a) if b == 0 else _sx32(a % b)


GLOBALS: dict = {
    "M": M64, "SB": SB, "Trap": Trap, "SX32": _sx32,
    "DIV": _div, "DIVU": lambda a, b: M64 if b == 0 else a // b,
    "REM": _rem, "REMU": lambda a, b: a if b == 0 else a % b,
    "DIVW": _divw, "DIVUW": _divuw, "REMW": _remw, "REMUW": _remuw,
    "LH": struct.Struct("<H").unpack_from, "LHS": struct.Struct("<h").unpack_from,
    "LW": struct.Struct("<I").unpack_from, "LWS": struct.Struct("<i").unpack_from,
    "LD": struct.Struct("<Q").unpack_from,
    "SH": struct.Struct("<H").pack_into, "SW": struct.Struct("<I").pack_into,
    "SD": struct.Struct("<Q").pack_into,
}
GLOBALS.update(fpu.GLOBALS)


class TransCtx:
    """Collects the Python statements of one instruction or one block."""

    def __init__(self, mode: str, fs_on: bool = True) -> None:
        self.mode = mode
        self.fs_on = fs_on
        self.lines: list[str] = []
        self.reads: set[int] = set()
        self.writes: set[int] = set()
        self.pc = 0
        self.ilen = 4
        self.index = 0
        self.stop = False
        self.npc: str | None = None
        self.cond: str | None = None  # conditional branch ending the block
        self.taken = 0
        self.fp_dirty = False
        self.word = 0
        self.direct: int | None = None  # target of a direct jump (jal)
        self.side_exits = 0

    # --- registers ---------------------------------------------------------
    def r(self, n: int) -> str:
        if n == 0:
            return "0"
        if self.mode == "interp":
            return f"X[{n}]"
        self.reads.add(n)
        return f"x{n}"

    def w(self, n: int, expr: str) -> None:
        if n == 0:
            return
        if self.mode == "interp":
            self.emit(f"X[{n}] = {expr}")
        else:
            self.writes.add(n)
            self.emit(f"x{n} = {expr}")

    def wf(self, n: int, expr: str) -> None:
        """Write FP register n (raw 64-bit pattern); marks mstatus.FS dirty."""
        self.fp_dirty = True
        self.emit(f"F[{n}] = {expr}")

    def emit(self, line: str) -> None:
        self.lines.append(line)

    # --- control ---------------------------------------------------------------
    @property
    def next_pc(self) -> int:
        return (self.pc + self.ilen) & M64

    def end(self, npc: str) -> None:
        self.npc = npc
        self.stop = True

    def branch(self, cond: str, target: int) -> None:
        self.cond = cond
        self.taken = target & M64
        self.end(f"{self.taken} if {cond} else {self.next_pc}")

    def side_exit(self) -> None:
        """Turn the conditional branch just translated into an early return
        (taken) and go on translating the fall-through path."""
        assert self.cond is not None
        wb = writeback(self.writes)
        self.emit(f"if {self.cond}:")
        if wb:
            self.emit(f"    {wb}")
        if self.fp_dirty:
            self.emit("    c.mark_fs_dirty()")
        self.emit(f"    c.icount += {self.index + 1}")
        self.emit(f"    return {self.taken}")
        self.cond = None
        self.stop = False
        self.npc = None
        self.side_exits += 1

    def mark_fault_point(self) -> None:
        if self.mode == "block":
            self.emit(f"k = {self.index}")

    def trap(self, cause: int | str, tval: int | str = 0) -> None:
        self.mark_fault_point()
        self.emit(f"raise Trap({cause}, {tval})")
        self.end("0")

    def illegal(self, word: int) -> None:
        self.trap(2, word)

    # --- memory -------------------------------------------------------------------
    def load(self, rd: int, addr: str, size: int, signed: bool, fp: bool = False) -> None:
        """Load into x[rd] (or f[rd] when fp) through the TLB, slow path on miss."""
        self.mark_fault_point()
        self.emit(f"a = {addr}")
        slow = f"c.load_slow(a, {size}, {int(signed)})"
        if size == 1:
            fast = "((RAM[a + d] ^ 128) - 128) & M" if signed else "RAM[a + d]"
            expr = f"{slow} if (d := R.get(a >> 12)) is None else {fast}"
        else:
            fn = _LOADS[(size, signed)]
            fast = f"{fn}(RAM, a + d)[0]" + (" & M" if signed and size < 8 else "")
            expr = (f"{slow} if (d := R.get(a >> 12)) is None or (a & 4095) > {4096 - size}"
                    f" else {fast}")
        if fp:
            box = " | 0xFFFFFFFF00000000" if size == 4 else ""
            self.wf(rd, f"({expr}){box}")
        elif rd == 0:
            self.emit(f"_ = {expr}")
        else:
            self.w(rd, expr)

    def store(self, addr: str, size: int, value: str) -> None:
        self.mark_fault_point()
        self.emit(f"a = {addr}")
        if size == 1:
            self.emit(f"if (d := W.get(a >> 12)) is None: c.store_slow(a, 1, {value})")
            self.emit(f"else: RAM[a + d] = {value} & 255")
        else:
            mask = {2: " & 0xFFFF", 4: " & 0xFFFFFFFF", 8: ""}[size]
            self.emit(f"if (d := W.get(a >> 12)) is None or (a & 4095) > {4096 - size}:"
                      f" c.store_slow(a, {size}, {value})")
            self.emit(f"else: {_STORES[size]}(RAM, a + d, {value}{mask})")

    def helper(self, call: str, rd: int | None = None) -> None:
        """A call into the CPU that may trap; its result goes to x[rd]."""
        self.mark_fault_point()
        if rd is None or rd == 0:
            self.emit(call)
        else:
            self.w(rd, call)


def writeback(regs: set[int]) -> str:
    """The statement storing register locals back into X."""
    return "; ".join(f"X[{n}] = x{n}" for n in sorted(regs))


def block_source(ctx: TransCtx, start_pc: int, count: int, name: str = "tb") -> str:
    """Wrap a block's statements in a function with register locals.

    Every exit adds the number of instructions it completed to c.icount; a
    trap unwinding the block sets e.k to the faulting instruction's index.
    """
    regs = sorted(ctx.reads | ctx.writes)
    wb = writeback(ctx.writes)
    faults = any(ln.startswith("k = ") or ln.startswith("    k = ") for ln in ctx.lines)
    out = [f"def {name}(X, c, R, W):"]
    head = []
    if faults:
        head.append("k = 0")
    if any("F[" in ln for ln in ctx.lines):
        head.append("F = c.f")
    if head:
        out.append("    " + "; ".join(head))
    if regs:
        out.append("    " + "; ".join(f"x{n} = X[{n}]" for n in regs))
    if ctx.fp_dirty:
        out.append("    c.mark_fs_dirty()")
    loop = ctx.cond is not None and ctx.taken == start_pc and not ctx.side_exits
    pad = "        " if faults else "    "
    body: list[str] = []
    if loop:
        # A block that branches back to its own start runs as a Python loop
        # (bounded so interrupts and timers are still seen).
        body.append("it = 0")
        body.append("while True:")
        body += ["    " + ln for ln in ctx.lines]
        body.append(f"    if {ctx.cond}:")
        body.append("        it += 1")
        body.append("        if it < 256: continue")
        body.append("        it -= 1")  # the limit exit completed `it` passes
        body.append(f"        npc = {start_pc}")
        body.append("    else:")
        body.append(f"        npc = {ctx.next_pc}")
        body.append("    break")
    else:
        body += ctx.lines
        body.append(f"npc = {ctx.npc}")
    if faults:
        out.append("    try:")
    out += [pad + ln for ln in body]
    if faults:
        out.append("    except Trap as e:")
        if wb:
            out.append("        " + wb)
        if loop:
            # passes completed before the faulting one count as executed
            out.append(f"        c.icount += it * {count}")
        out.append("        e.k = k")
        out.append("        raise")
    if wb:
        out.append("    " + wb)
    out.append(f"    c.icount += {'(it + 1) * ' if loop else ''}{count}")
    out.append("    return npc")
    return "\n".join(out) + "\n"


def insn_source(ctx: TransCtx, name: str = "ti") -> str:
    """A tier-0 function for one instruction: state lives in X directly."""
    out = [f"def {name}(X, c, R, W):"]
    if any("F[" in ln for ln in ctx.lines):
        out.append("    F = c.f")
    if ctx.fp_dirty:
        out.append("    c.mark_fs_dirty()")
    out += ["    " + ln for ln in ctx.lines]
    out.append("    c.icount += 1")
    out.append(f"    return {ctx.npc}")
    return "\n".join(out) + "\n"
