"""Where each IR value lives in a native block: a host register or memory.

- Globals used at least twice get one of GLOBAL_REGS (most used first): the
  block loads them at entry and writes back, at every exit, those the code
  before the exit may have written (control flow is forward only, so "written
  somewhere earlier in the op list" covers every path to the exit; writing
  back an unchanged value is harmless). The other globals stay in the env.
- Temps get a register from TEMP_REGS (or a GLOBAL_REGS one no global took)
  while one is free, else an 8-byte slot of the frame at [rsp]. A temp lives
  from its first write to its last read in op order, which again covers every
  forward path; registers and slots are reused once the interval ends.

rax, rcx, rdx, rsi and rdi are never allocated: the lowering uses them as
scratch (rdx:rax for mul/div, cl for shifts, rsi/rdi for TLB lookups).
"""
from __future__ import annotations

from pemu.tcg.env import EnvLayout
from pemu.tcg.ir import Global, Op, Temp, Value
from pemu.tcg.native.codebuf import ENV_REG, FRAME_SIZE
from pemu.tcg.native.x86_64_asm import Mem, Reg

GLOBAL_REGS = (Reg.RBP, Reg.R12, Reg.R13, Reg.R14, Reg.R15, Reg.R8)
TEMP_REGS = (Reg.R9, Reg.R10, Reg.R11)
MAX_SLOTS = FRAME_SIZE // 8

Loc = Reg | Mem


_ENV_SLOTS: dict[int, Mem] = {}


def _env_slot(layout: EnvLayout, g: Global) -> Mem:
    """The env memory operand of a global (one object per offset)."""
    off = layout.global_offset(g.space, g.index)
    m = _ENV_SLOTS.get(off)
    if m is None:
        m = _ENV_SLOTS[off] = Mem(ENV_REG, off)
    return m


class TooManyTemps(Exception):
    """The block needs more frame slots than the frame has."""


class Allocation:
    def __init__(self, ops: list[Op], layout: EnvLayout, use_regs: bool = True) -> None:
        self.loc: dict[Value, Loc] = {}
        self.pinned: dict[Global, Reg] = {}
        uses: dict[Global, int] = {}
        last: dict[Temp, int] = {}
        for i, op in enumerate(ops):
            for v in op.args:
                if type(v) is Global:
                    uses[v] = uses.get(v, 0) + 1
                elif type(v) is Temp:
                    last[v] = i
            v = op.out
            if type(v) is Global:
                uses[v] = uses.get(v, 0) + 1
            elif type(v) is Temp:
                last[v] = i
        ranked = sorted((g for g, n in uses.items() if n >= 2), key=lambda g: -uses[g])
        for g in uses:
            self.loc[g] = _env_slot(layout, g)
        if use_regs:
            for g, r in zip(ranked, GLOBAL_REGS, strict=False):
                self.pinned[g] = r
                self.loc[g] = r
        # temps also get the global registers no global took
        free_regs = ([r for r in GLOBAL_REGS if r not in self.pinned.values()] + list(TEMP_REGS)
                     if use_regs else [])
        free_slots: list[int] = []
        nslots = 0
        ends: dict[int, list[Temp]] = {}
        for t, i in last.items():
            ends.setdefault(i, []).append(t)
        for i, op in enumerate(ops):
            for t in ends.get(i, ()):
                if t in self.loc and t is not op.out:
                    self._free(self.loc[t], free_regs, free_slots)
            d = op.out
            if isinstance(d, Temp) and d not in self.loc:
                if free_regs:
                    self.loc[d] = free_regs.pop()
                else:
                    if not free_slots:
                        if nslots >= MAX_SLOTS:
                            raise TooManyTemps
                        free_slots.append(nslots)
                        nslots += 1
                    self.loc[d] = Mem(Reg.RSP, 8 * free_slots.pop())
                if last[d] == i:  # written, never read: free at once
                    self._free(self.loc[d], free_regs, free_slots)
        self.nslots = nslots

    @staticmethod
    def _free(loc: Loc, free_regs: list[Reg], free_slots: list[int]) -> None:
        if isinstance(loc, Reg):
            free_regs.append(loc)
        else:
            free_slots.append(loc.disp // 8)
