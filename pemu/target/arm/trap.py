"""AArch64 synchronous exceptions as Python exceptions (Arm ARM D1.10,
"Exception entry"): the frontend and the memory helpers raise them, the
CPU loop hands them to the CPU's owner (the user-mode thread turns them
into system calls and signals)."""
from __future__ import annotations

from pemu.accel.tcg.cpu_exec import GuestTrap

# exception classes (ESR_ELx.EC) pemu raises
UNDEF = 0x00  # unknown reason: UNDEFINED or unimplemented encoding
SVC = 0x15  # SVC from AArch64
INSN_ABORT = 0x20  # instruction abort from a lower EL
PC_ALIGN = 0x22
DATA_ABORT = 0x24  # data abort from a lower EL
SP_ALIGN = 0x26
BRK = 0x3C  # BRK instruction
#: a data abort whose fault status is "alignment fault" (exclusives and atomics
#: must be naturally aligned); pemu-internal, as it shares DATA_ABORT's class
ALIGNMENT = 0x124

NAMES = {UNDEF: "undefined instruction", SVC: "svc", INSN_ABORT: "instruction abort",
         PC_ALIGN: "pc alignment fault", DATA_ABORT: "data abort",
         SP_ALIGN: "sp alignment fault", BRK: "brk", ALIGNMENT: "alignment fault"}


class ArmTrap(GuestTrap):
    """An exception: its class `ec`, the faulting address or the
    instruction's immediate in `value`, whether the page was mapped (for
    SEGV_ACCERR versus SEGV_MAPERR); `k` indexes the faulting instruction
    of its block while the block unwinds."""

    __slots__ = ("ec", "value", "mapped", "k")

    def __init__(self, ec: int, value: int = 0, mapped: bool = False) -> None:
        self.ec = ec
        self.value = value
        self.mapped = mapped
        self.k = 0

    def __str__(self) -> str:
        return f"{NAMES.get(self.ec, hex(self.ec))} ({self.value:#x})"
