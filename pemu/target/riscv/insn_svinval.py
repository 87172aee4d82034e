"""Svinval: fine-grained address-translation cache invalidation (Privileged
ISA, "Svinval" chapter). Off by default, as in QEMU 7.2's rv64
(-cpu rv64,svinval=on).

sinval.vma orders and invalidates like sfence.vma (same privilege rules:
illegal in U-mode and in S-mode with mstatus.TVM). sfence.w.inval and
sfence.inval.ir only order accesses, which pemu's in-order hart already
does; QEMU 7.2 executes them in any privilege mode, and so does pemu.
"""
from __future__ import annotations

from pemu.target.riscv.translate import method

_SFENCE = method("sfence_vma")

TABLE = """
sinval.vma       R  0001011 ----- ----- 000 00000 1110011
sfence.w.inval   N  0001100 00000 00000 000 00000 1110011
sfence.inval.ir  N  0001100 00001 00000 000 00000 1110011
"""


def trans_sinval_vma(c, a):
    # QEMU 7.2 reports this illegal instruction with mtval 0, not the
    # instruction bits (its sinval.vma does not record the opcode)
    c.call(_SFENCE, None, c.x(a.rs1), c.x(a.rs2), a.rs1, 0)
    c.end(c.next_pc)


def trans_sfence_w_inval(c, a):
    pass


def trans_sfence_inval_ir(c, a):
    pass
