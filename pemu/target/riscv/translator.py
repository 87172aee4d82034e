"""Builds translation blocks (tier 1) and single-instruction functions
(tier 0, the reference interpreter) for a RISC-V hart.

The decoder comes from the extension tables; a block runs from its start
pc to the first instruction that ends it (branch, jump, CSR, system
instruction), the end of the page, or MAX_BLOCK instructions. Handlers emit
the IR of pemu/tcg; the optimiser and the Python backend turn it into a
function.
"""
from __future__ import annotations

from typing import Any

from pemu.accel.tcg.code_cache import CodeCache, fingerprint
from pemu.target.riscv import (
    insn_rva,
    insn_rvc,
    insn_rvfd,
    insn_rvi,
    insn_rvm,
    insn_svinval,
    insn_zba,
    insn_zbb,
    insn_zbs,
    insn_zicsr,
)
from pemu.target.riscv.decode import Decoder, parse_table
from pemu.target.riscv.translate import TARGET, TransCtx, method
from pemu.target.riscv.trap import Trap
from pemu.tcg import optimize, python_backend
from pemu.tcg.ir import Const

MAX_BLOCK = 64
EXTENSIONS = {
    "i": insn_rvi, "m": insn_rvm, "a": insn_rva, "zicsr": insn_zicsr, "fd": insn_rvfd,
    "zba": insn_zba, "zbb": insn_zbb, "zbs": insn_zbs, "svinval": insn_svinval,
}
#: extensions a -cpu switch turns on or off (-cpu rv64,zba=off,svinval=on) and
#: whether QEMU 7.2's rv64 has them on by default; the non-decoder ones act
#: through RiscvCpu.ext_off (sstc: stimecmp; debug: the trigger CSRs; svpbmt,
#: svnapot: PTE bits)
SWITCHES = {"zba": True, "zbb": True, "zbs": True, "sstc": True, "debug": True,
            "svinval": False, "svnapot": False, "svpbmt": False}
OPTIONAL = tuple(SWITCHES)
DEFAULT_OFF = frozenset(e for e, on in SWITCHES.items() if not on)
_DECODERS: dict[frozenset, Decoder] = {}
_EXEC_TRIGGER = method("exec_trigger")


def build_decoder(enabled: frozenset[str] | None = None) -> Decoder:
    """The decoder for a set of extensions (None: all of them); cached."""
    key = frozenset(EXTENSIONS) if enabled is None else frozenset(enabled)
    dec = _DECODERS.get(key)
    if dec is None:
        insns = []
        for ext, module in EXTENSIONS.items():
            if ext in key:
                insns += parse_table(module.TABLE, module, ext)
        dec = _DECODERS[key] = Decoder(insns)
    return dec


DECODER = build_decoder()


def _generator_fingerprint() -> str:
    import sys

    from pemu import tcg
    from pemu.target.riscv import decode, fpu, translate
    from pemu.tcg import ir
    return fingerprint(*EXTENSIONS.values(), insn_rvc, decode, fpu, translate, tcg, ir,
                       optimize, python_backend, sys.modules[__name__])


CODEGEN_FINGERPRINT = _generator_fingerprint()


class Translator:
    """Turns guest code at a pc into Python functions."""

    def __init__(self, ram_buf: Any, tier: int = 1,
                 disabled: frozenset[str] = frozenset()) -> None:
        self.globals = dict(python_backend.RUNTIME, RAM=ram_buf, Trap=Trap)
        self.tier = tier
        #: keep each block's optimised IR and source on its function (-d op, out_asm)
        self.keep_ir = False
        self.decoder = build_decoder(frozenset(EXTENSIONS) - disabled)
        #: pcs named by some hart's execute trigger (Sdtrig): blocks check them
        self.breakpoints: frozenset[int] = frozenset()
        self._decoded: dict[int, tuple[Any, Any]] = {}
        self.code_cache = CodeCache(tag="riscv", fingerprint=CODEGEN_FINGERPRINT)

    def _decode(self, word: int) -> tuple[Any, Any]:
        got = self._decoded.get(word)
        if got is None:
            insn = self.decoder.decode(word) if word else None
            got = self._decoded[word] = (insn, insn.extract(word) if insn else None)
        return got

    def translate(self, cpu: Any, vpc: int, ppc: int, fs_on: bool,
                  max_insns: int | None = None):
        """Returns ((fn, count, pcs), physical pages) for the block at vpc.

        max_insns bounds the block (1: a debugger's single step), whatever the tier.

        In tier 1 a block is a superblock within one page: it follows direct
        jumps and calls (jal) and continues past conditional branches on the
        fall-through path, returning early (a side exit) when one is taken.
        """
        limit = max_insns or (MAX_BLOCK if self.tier == 1 else 1)
        ctx = TransCtx(vpc, fs_on)
        ir = ctx.ir
        pcs: list[int] = []
        pages = {ppc >> 12}
        page_va, page_pa = vpc & ~0xFFF, ppc & ~0xFFF
        pc, pa = vpc, ppc
        ram_base, buf = cpu.ram_base, cpu.ram.buf
        ram_last = cpu.ram_end - 2
        while True:
            try:
                if ram_base <= pa <= ram_last:
                    h = buf[pa - ram_base] | (buf[pa - ram_base + 1] << 8)
                else:
                    h = cpu.fetch16(pa, pc)
                if h & 3 == 3:
                    if (pc & 0xFFF) == 0xFFE:
                        pa2 = cpu.fetch_phys(pc + 2)
                        pages.add(pa2 >> 12)
                    else:
                        pa2 = pa + 2
                    raw = word = h | (cpu.fetch16(pa2, pc + 2) << 16)
                    ilen = 4
                else:
                    raw, word, ilen = h, insn_rvc.expand(h), 2
            except Trap:
                if not pcs:
                    raise
                ir.exit(pc)  # fault on a later fetch: stop before it
                break
            ctx.pc, ctx.ilen, ctx.word = pc, ilen, raw
            ctx.direct = ctx.taken = None
            ir.insn_start(pc)
            insn, args = self._decode(word)
            if pc in self.breakpoints:
                ctx.call(_EXEC_TRIGGER, None, pc)
            if insn is None:
                ctx.illegal(raw)
            else:
                insn.trans(ctx, args)
            pcs.append(pc)
            nxt = pc + ilen
            if ctx.stop and len(pcs) < limit:
                # superblock continuation within the same page
                if ctx.taken is not None and ctx.taken != vpc and (nxt & 0xFFF) \
                        and nxt & ~0xFFF == page_va:
                    ctx.stop = False  # a side exit: go on along the fall-through path
                elif ctx.direct is not None and ctx.direct & ~0xFFF == page_va \
                        and ctx.direct not in pcs:
                    ctx.stop = False
                    nxt = ctx.direct
            if ctx.stop:
                ir.exit(ctx.npc)
                break
            pc = nxt
            pa = page_pa | (pc & 0xFFF)
            if len(pcs) >= limit or pc & ~0xFFF != page_va:
                ir.exit(Const(pc))  # a block never leaves its first page
                break
        block = optimize.optimize(ir.block)
        loops = self.tier == 1 and max_insns is None
        src, helpers = python_backend.generate(TARGET, block, loops=loops)
        self.globals.update(helpers)
        ns: dict = {}
        exec(self.code_cache.compile(src, "<tb>"), self.globals, ns)
        fn = ns["tb"]
        fn.source = src
        if self.keep_ir:
            fn.ir = block.dump()
        return (fn, len(pcs), tuple(pcs)), pages
