"""RV64A: load-reserved/store-conditional and AMOs (ISA manual vol. I, "A").
They go through the CPU's `amo`, `lr` and `sc` helpers, which translate
for write first (an AMO on a read-only page is a store/AMO fault) and
require natural alignment (misaligned raises the store/AMO misaligned
exception)."""
from __future__ import annotations

from pemu.target.riscv.translate import method
from pemu.tcg.ir import Helper

TABLE = """
lr.w       ATOM 00010 -- 00000 ----- 010 ----- 0101111
sc.w       ATOM 00011 -- ----- ----- 010 ----- 0101111
amoswap.w  ATOM 00001 -- ----- ----- 010 ----- 0101111
amoadd.w   ATOM 00000 -- ----- ----- 010 ----- 0101111
amoxor.w   ATOM 00100 -- ----- ----- 010 ----- 0101111
amoand.w   ATOM 01100 -- ----- ----- 010 ----- 0101111
amoor.w    ATOM 01000 -- ----- ----- 010 ----- 0101111
amomin.w   ATOM 10000 -- ----- ----- 010 ----- 0101111
amomax.w   ATOM 10100 -- ----- ----- 010 ----- 0101111
amominu.w  ATOM 11000 -- ----- ----- 010 ----- 0101111
amomaxu.w  ATOM 11100 -- ----- ----- 010 ----- 0101111
lr.d       ATOM 00010 -- 00000 ----- 011 ----- 0101111
sc.d       ATOM 00011 -- ----- ----- 011 ----- 0101111
amoswap.d  ATOM 00001 -- ----- ----- 011 ----- 0101111
amoadd.d   ATOM 00000 -- ----- ----- 011 ----- 0101111
amoxor.d   ATOM 00100 -- ----- ----- 011 ----- 0101111
amoand.d   ATOM 01100 -- ----- ----- 011 ----- 0101111
amoor.d    ATOM 01000 -- ----- ----- 011 ----- 0101111
amomin.d   ATOM 10000 -- ----- ----- 011 ----- 0101111
amomax.d   ATOM 10100 -- ----- ----- 011 ----- 0101111
amominu.d  ATOM 11000 -- ----- ----- 011 ----- 0101111
amomaxu.d  ATOM 11100 -- ----- ----- 011 ----- 0101111
"""


_LR, _SC = method("lr"), method("sc")


def _lr(size: int):
    return lambda c, a: c.call(_LR, c.xd(a.rd), c.x(a.rs1), size)


def _sc(size: int):
    return lambda c, a: c.call(_SC, c.xd(a.rd), c.x(a.rs1), c.x(a.rs2), size)


def _amo(op: str, size: int):
    helper = Helper(f"AMO_{op.upper()}", lambda cpu, va, src, n: cpu.amo(op, va, src, n))
    return lambda c, a: c.call(helper, c.xd(a.rd), c.x(a.rs1), c.x(a.rs2), size)


trans_lr_w, trans_sc_w, trans_lr_d, trans_sc_d = _lr(4), _sc(4), _lr(8), _sc(8)
for _op in ("swap", "add", "xor", "and", "or", "min", "max", "minu", "maxu"):
    globals()[f"trans_amo{_op}_w"] = _amo(_op, 4)
    globals()[f"trans_amo{_op}_d"] = _amo(_op, 8)
