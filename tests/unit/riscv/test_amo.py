"""AMOs and LR/SC: results computed from the ISA manual's definitions."""
from __future__ import annotations

import pytest
from rvasm import BareMachine, assemble, needs_as

PROG = """
    li s0, 0x80080000
    li t0, -5
    sw t0, 0(s0)
    li t1, 3
    amomin.w a0, t1, (s0)
    amominu.w a1, t1, (s0)
    lw a2, 0(s0)
    addi s1, s0, 8
    li t0, 0x8000000000000000
    sd t0, 0(s1)
    li t1, 1
    amomax.d a3, t1, (s1)
    ld a4, 0(s1)
    amomaxu.d a5, t0, (s1)
    ld a6, 0(s1)
    li t2, 0xffffffff
    amoadd.w a7, t2, (s0)   # 3 + 0xffffffff wraps to 2 in 32 bits
    lw s2, 0(s0)
    lr.d s3, (s1)
    sc.d s4, t1, (s1)       # succeeds: s4 = 0
    sc.d s5, t1, (s1)       # no reservation: s5 = 1
    ld s6, 0(s1)
    wfi
"""

M64 = (1 << 64) - 1


@needs_as
@pytest.mark.parametrize("tier", [0, 1])
def test_amo_and_lr_sc_results(tier):
    x = BareMachine(assemble(PROG), tier).run().x
    assert x[10] == (-5) & M64 and x[11] == (-5) & M64 and x[12] == 3
    assert x[13] == 1 << 63 and x[14] == 1          # signed max of MIN and 1 is 1
    assert x[15] == 1 and x[16] == 1 << 63           # unsigned max of 1 and 2^63
    assert x[17] == 3 and x[18] == 2
    assert x[19] == 1 << 63 and x[20] == 0 and x[21] == 1 and x[22] == 1
