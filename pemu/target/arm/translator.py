"""Builds translation blocks for an AArch64 PE.

The decoder comes from the instruction-class tables; a block runs from its
start pc to the first instruction that ends it (a branch taken out of the
page, an indirect branch, an exception), the end of the page, or MAX_BLOCK
instructions. It is a superblock: it continues past a conditional branch
along the fall-through path and follows direct branches within its page.
Handlers emit the IR of pemu/tcg; the optimiser and the Python backend
turn it into a function.
"""
from __future__ import annotations

from typing import Any

from pemu.accel.tcg.code_cache import CodeCache, fingerprint
from pemu.target.arm import (
    insn_dp_imm,
    insn_dp_reg,
    insn_fp,
    insn_ldst,
    insn_simd,
    insn_simd_fp,
    insn_simd_ldst,
    insn_system,
)
from pemu.target.arm.decode import Decoder, Insn, parse_table
from pemu.target.arm.translate import TARGET, TransCtx
from pemu.target.arm.trap import ArmTrap
from pemu.tcg import optimize, python_backend
from pemu.tcg.ir import Const

MAX_BLOCK = 64
CLASSES = {
    "dp_imm": insn_dp_imm, "dp_reg": insn_dp_reg, "system": insn_system, "ldst": insn_ldst,
    "simd_ldst": insn_simd_ldst, "simd": insn_simd, "simd_fp": insn_simd_fp, "fp": insn_fp,
}


def build_decoder() -> Decoder:
    insns: list[Insn] = []
    for cls, module in CLASSES.items():
        insns += parse_table(module.TABLE, module, cls)
    return Decoder(insns)


DECODER = build_decoder()


def _generator_fingerprint() -> str:
    import sys

    from pemu import tcg
    from pemu.target.arm import decode, fpu, translate, vector
    from pemu.tcg import ir
    return fingerprint(*CLASSES.values(), decode, fpu, translate, vector, tcg, ir, optimize,
                       python_backend, sys.modules[__name__])


CODEGEN_FINGERPRINT = _generator_fingerprint()


class Translator:
    """Turns guest code at a pc into Python functions."""

    def __init__(self, ram_buf: Any, tier: int = 1) -> None:
        self.globals = dict(python_backend.RUNTIME, RAM=ram_buf, ArmTrap=ArmTrap)
        self.tier = tier
        self.keep_ir = False
        self.decoder = DECODER
        self._decoded: dict[int, tuple[Any, Any]] = {}
        self.code_cache = CodeCache(tag="aarch64", fingerprint=CODEGEN_FINGERPRINT)

    def decode(self, word: int) -> tuple[Any, Any]:
        got = self._decoded.get(word)
        if got is None:
            insn = self.decoder.decode(word)
            got = self._decoded[word] = (insn, insn.extract(word) if insn else None)
        return got

    def translate(self, cpu: Any, pc: int, single: bool = False):
        """Returns ((fn, count, pcs), pages) for the block at pc (one instruction
        if `single` or in tier 0). `cpu.fetch32(pc)` reads an instruction word
        (raising the instruction abort)."""
        limit = MAX_BLOCK if self.tier == 1 and not single else 1
        block, pcs, pages = self.build_ir(cpu, pc, limit)
        src, helpers = python_backend.generate(TARGET, block, loops=limit > 1)
        self.globals.update(helpers)
        ns: dict = {}
        exec(self.code_cache.compile(src, "<tb>"), self.globals, ns)
        fn = ns["tb"]
        fn.source = src
        if self.keep_ir:
            fn.ir = block.dump()
        return (fn, len(pcs), tuple(pcs)), pages

    # the native tier's persistent cache is RISC-V's only so far: always compile
    def cached_native(self, cpu: Any, key: Any, pcs: tuple[int, ...], fp: str) -> None:
        return None

    def remember_native(self, cpu: Any, key: Any, pcs: tuple[int, ...], code: bytes,
                        fp: str) -> None:
        pass

    def build_ir(self, cpu: Any, pc: int, limit: int = MAX_BLOCK):
        """The optimised IR of the block at pc, its instructions' pcs and its pages."""
        ctx = TransCtx(pc)
        ir = ctx.ir
        start = pc
        pcs: list[int] = []
        page = pc & ~0xFFF
        while True:
            try:
                word = cpu.fetch32(pc)
            except ArmTrap:
                if not pcs:
                    raise
                ir.exit(pc)  # a later fetch faults: stop before it
                break
            ctx.pc, ctx.word = pc, word
            ctx.direct = ctx.taken = None
            ir.insn_start(pc)
            insn, args = self.decode(word)
            if insn is None:
                ctx.undef()
            else:
                insn.trans(ctx, args)
            pcs.append(pc)
            nxt = pc + 4
            if ctx.stop and len(pcs) < limit:
                if ctx.taken is not None and ctx.taken != start and nxt & 0xFFF:
                    ctx.stop = False  # a side exit: go on along the fall-through path
                elif ctx.direct is not None and ctx.direct & ~0xFFF == page \
                        and ctx.direct not in pcs:
                    ctx.stop = False
                    nxt = ctx.direct
            if ctx.stop:
                ir.exit(ctx.npc)
                break
            pc = nxt
            if len(pcs) >= limit or pc & ~0xFFF != page:
                ir.exit(Const(pc))  # a block never leaves its first page
                break
        return optimize.optimize(ir.block), pcs, {page >> 12}
