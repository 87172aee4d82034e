"""Typed guest faults: raised by memory access and helpers, turned into traps
at one boundary (the CPU loop). Causes are the privileged spec's mcause codes
(Privileged ISA, "Machine Cause Register")."""
from __future__ import annotations

from pemu.accel.tcg.cpu_exec import GuestTrap

INSN_MISALIGNED = 0
INSN_ACCESS = 1
ILLEGAL_INSN = 2
BREAKPOINT = 3
LOAD_MISALIGNED = 4
LOAD_ACCESS = 5
STORE_MISALIGNED = 6
STORE_ACCESS = 7
ECALL_U = 8
ECALL_S = 9
ECALL_M = 11
INSN_PAGE_FAULT = 12
LOAD_PAGE_FAULT = 13
STORE_PAGE_FAULT = 15

NAMES = {
    0: "instruction address misaligned", 1: "instruction access fault",
    2: "illegal instruction", 3: "breakpoint", 4: "load address misaligned",
    5: "load access fault", 6: "store/AMO address misaligned", 7: "store/AMO access fault",
    8: "environment call from U-mode", 9: "environment call from S-mode",
    11: "environment call from M-mode", 12: "instruction page fault",
    13: "load page fault", 15: "store/AMO page fault",
}


class Trap(GuestTrap):
    """A synchronous exception: cause and tval; `k` is the index of the
    faulting instruction in its block (set while the block unwinds)."""

    __slots__ = ("cause", "tval", "k")

    def __init__(self, cause: int, tval: int = 0) -> None:
        self.cause = cause
        self.tval = tval
        self.k = 0

    def __str__(self) -> str:
        return f"{NAMES.get(self.cause, self.cause)} (tval={self.tval:#x})"


class DebugStop(Trap):
    """Not a guest exception: a hart reached a debugger breakpoint ("break",
    the pc) or watchpoint ("watch", the watched address, the access kind).
    It unwinds a block as a fault does (translated code catches Trap), so the
    hart stops on that instruction; RiscvCpu.raise_trap hands it to the debugger."""

    __slots__ = ("kind", "addr", "access")

    def __init__(self, kind: str, addr: int, access: int = 0) -> None:
        super().__init__(-1, 0)
        self.kind = kind
        self.addr = addr
        self.access = access

    def __str__(self) -> str:
        return f"debugger {self.kind} at {self.addr:#x}"
