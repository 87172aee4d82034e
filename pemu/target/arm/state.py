"""AArch64 user-visible architectural state in one flat environment buffer.

The Env (pemu/tcg/env.py) holds three global spaces:

- "X": X0..X30 and, in slot 31, SP (register number 31 means SP or XZR
  depending on the instruction; XZR is never stored);
- "SYS": PSTATE.NZCV in QEMU's split form (slot 0 NF: N is bit 63; 1 ZF:
  Z is ZF == 0; 2 CF: 0 or 1; 3 VF: V is bit 63), so a flag-setting
  instruction writes results, not packed bits; then TPIDR_EL0, FPCR, FPSR,
  TPIDRRO_EL0;
- "V": the 32 SIMD&FP registers V0..V31 as (low, high) 64-bit halves.
"""
from __future__ import annotations

from pemu.tcg.env import Env, EnvLayout

NF, ZF, CF, VF, TPIDR_EL0, FPCR, FPSR, TPIDRRO_EL0 = range(8)
SYS_SLOTS = 8
LAYOUT = EnvLayout({"X": 32, "SYS": SYS_SLOTS, "V": 64})
SP = 31
M64 = (1 << 64) - 1


class ArmState:
    """Registers of one AArch64 PE at EL0."""

    def __init__(self) -> None:
        self.env = Env(LAYOUT)
        self.x = self.env.space("X")
        self.sys = self.env.space("SYS")
        self.v = self.env.space("V")
        self.pc = 0
        self.icount = 0

    @property
    def sp(self) -> int:
        return self.x[SP]

    @sp.setter
    def sp(self, value: int) -> None:
        self.x[SP] = value & M64

    @property
    def nzcv(self) -> int:
        """PSTATE.NZCV as the NZCV system register shows it (bits 31:28)."""
        s = self.sys
        return ((s[NF] >> 63) << 31) | ((s[ZF] == 0) << 30) | ((s[CF] & 1) << 29) \
            | ((s[VF] >> 63) << 28)

    @nzcv.setter
    def nzcv(self, value: int) -> None:
        s = self.sys
        s[NF] = ((value >> 31) & 1) << 63
        s[ZF] = ((value >> 30) & 1) ^ 1
        s[CF] = (value >> 29) & 1
        s[VF] = ((value >> 28) & 1) << 63

    def copy_from(self, other: ArmState) -> None:
        """Take every register of another PE (a new thread starts as a copy)."""
        for dst, src in ((self.x, other.x), (self.sys, other.sys), (self.v, other.v)):
            for i in range(len(dst)):
                dst[i] = src[i]
        self.pc = other.pc

    def vreg(self, n: int) -> int:
        return self.v[2 * n] | (self.v[2 * n + 1] << 64)

    def set_vreg(self, n: int, value: int) -> None:
        self.v[2 * n] = value & M64
        self.v[2 * n + 1] = (value >> 64) & M64
