"""RISC-V frontend: guest instructions -> the IR of pemu/tcg.

A `TransCtx` is handed to each `trans_<insn>(ctx, a)` handler, which emits
IR ops through `ctx.ir` (a `pemu.tcg.ir.Builder`) and the few RISC-V-shaped
helpers below: register operands (`x(n)` reads, `xd(n)` is the destination,
x0 reads as 0 and writes vanish), loads and stores through the softmmu,
calls into the CPU, traps, branches and block ends.

Guest state the IR names: the globals x1..x31 (space "X", the CPU's integer
register list) and f0..f31 (space "F", its FP register list, raw 64-bit
patterns). Everything else (CSRs, fflags, privilege) is reached through
helpers, so the translator never caches it.
"""
from __future__ import annotations

from pemu.target.riscv import fpu
from pemu.target.riscv.trap import Trap
from pemu.tcg.env import EnvLayout
from pemu.tcg.ir import CONDS, Builder, Const, Global, Helper, MemOp, Value
from pemu.tcg.python_backend import TargetInfo

M64 = (1 << 64) - 1
SB = 1 << 63

X_REGS = [Global(f"x{n}", "X", n) for n in range(32)]
F_REGS = [Global(f"f{n}", "F", n) for n in range(32)]
TARGET = TargetInfo(spaces={"X": "X", "F": "c.f"}, fault_class="Trap")
#: where the globals live in the CPU environment buffer (pemu/tcg/env.py)
LAYOUT = EnvLayout({"X": 32, "F": 32})


def _raise(cause: int, tval: int) -> None:
    raise Trap(cause, tval)


def _raise_ecall(c) -> None:
    raise Trap(8 + c.priv, 0)  # 8, 9, 11 for U, S, M


def _dynamic_rm(c, word: int) -> int:
    """frm as the rounding mode of an instruction with rm=7; reserved values trap."""
    if c.frm > 4:
        raise Trap(2, word)
    return c.frm


def method(name: str, raises: bool = True) -> Helper:
    """A helper that is a method of the CPU object."""
    return Helper(name, method=name, raises=raises)


H_RAISE = Helper("RAISE", _raise, cpu_arg=False, noreturn=True)
H_ECALL = Helper("RAISE_ECALL", _raise_ecall, noreturn=True)
H_DYN_RM = Helper("DYN_RM", _dynamic_rm)
H_FS_DIRTY = method("mark_fs_dirty", raises=False)
#: FP operations (fpu.py): they read and accumulate fflags through the CPU
FPU: dict[str, Helper] = {name: Helper(name, fn) for name, fn in fpu.GLOBALS.items()
                          if callable(fn)}
BOX = fpu.BOX


class TransCtx:
    """The state of one block's translation, handed to every handler."""

    def __init__(self, pc: int, fs_on: bool = True) -> None:
        self.ir = Builder(pc)
        self.fs_on = fs_on
        self.pc = pc
        self.ilen = 4
        self.word = 0
        self.stop = False
        self.npc: Value | None = None  # where the block goes when it ends here
        self.taken: int | None = None  # target of a conditional branch just translated
        self.direct: int | None = None  # target of a direct jump (jal)
        self.fs_marked = False

    # --- registers -------------------------------------------------------------------------
    @staticmethod
    def x(n: int) -> Value:
        return Const(0) if n == 0 else X_REGS[n]

    def xd(self, n: int) -> Value:
        """The destination for x[n]: writes to x0 go to a temp nobody reads."""
        return self.ir.temp() if n == 0 else X_REGS[n]

    def fd(self, n: int) -> Global:
        """The destination f[n]; the first FP write of a block marks mstatus.FS dirty."""
        self.mark_fs_dirty()
        return F_REGS[n]

    @staticmethod
    def f(n: int) -> Global:
        return F_REGS[n]

    def temp(self):
        return self.ir.temp()

    def mark_fs_dirty(self) -> None:
        if not self.fs_marked:
            self.fs_marked = True
            self.ir.call(H_FS_DIRTY, None)

    # --- control ---------------------------------------------------------------------------
    @property
    def next_pc(self) -> int:
        return (self.pc + self.ilen) & M64

    def end(self, npc: Value | int) -> None:
        """The block ends after this instruction and goes on at npc."""
        self.npc = Builder.val(npc)
        self.stop = True

    def branch(self, cond: str, a: Value, b: Value, target: int) -> None:
        """A conditional branch: the taken path leaves the block; the translator
        either ends the block on the fall-through path or goes on translating it."""
        fall = self.ir.label()
        self.taken = target & M64
        self.ir.brcond(CONDS[cond], a, b, fall)
        self.ir.exit(self.taken)
        self.ir.set_label(fall)
        self.end(self.next_pc)

    def jump(self, target: int) -> None:
        self.direct = target & M64
        self.end(self.direct)

    def trap(self, cause: Value | int, tval: Value | int = 0) -> None:
        self.ir.call(H_RAISE, None, cause, tval)
        self.end(self.pc)  # not reached; keeps the block well formed

    def illegal(self, word: int | None = None) -> None:
        self.trap(2, self.word if word is None else word)

    # --- memory and helpers ------------------------------------------------------------------
    def load(self, d: Value, addr: Value, size: int, signed: bool) -> None:
        self.ir.ld(d, addr, MemOp(size, signed))

    def store(self, value: Value, addr: Value, size: int) -> None:
        self.ir.st(value, addr, MemOp(size))

    def addr(self, rs1: int, imm: int) -> Value:
        """rs1 + imm, the address of a load or store."""
        if not imm:
            return self.x(rs1)
        t = self.ir.temp()
        self.ir.add(t, self.x(rs1), imm)
        return t

    def call(self, helper: Helper, d: Value | None, *args: Value | int) -> None:
        self.ir.call(helper, d, *args)

    def dynamic_rm(self, rm: int) -> Value | int:
        """The rounding-mode operand of an FP instruction."""
        if rm != 7:
            return rm
        t = self.ir.temp()
        self.ir.call(H_DYN_RM, t, self.word)
        return t


__all__ = ["BOX", "F_REGS", "FPU", "H_ECALL", "M64", "SB", "TARGET", "TransCtx", "X_REGS",
           "method"]
