"""Builds translation blocks (tier 1) and single-instruction functions
(tier 0, the reference interpreter) for a RISC-V hart.

The decoder comes from the extension tables; a block runs from its start
pc to the first instruction that ends it (branch, jump, CSR, system
instruction), the end of the page, or MAX_BLOCK instructions. Handlers emit
the IR of pemu/tcg; the optimiser and the Python backend turn it into a
function.
"""
from __future__ import annotations

import hashlib
import marshal
import struct
from typing import Any

from pemu.accel.tcg.code_cache import CodeCache, fingerprint
from pemu.accel.tcg.cpu_exec import Tb
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
        self._decoder_tag = ",".join(sorted(disabled)).encode()
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

    def translate(self, cpu: Any, vpc: int, ppc: int, fs_on: bool, single: bool = False):
        """Returns (Tb, physical pages) for the block at vpc (one instruction if `single`)."""
        key = (vpc, ppc, fs_on)
        warm = self._warm(cpu, vpc, ppc, fs_on, single)
        if warm is not None:
            code, pcs = warm
            ns: dict = {}
            exec(code, self.globals, ns)
            return Tb(ns["tb"], len(pcs), pcs, key), {ppc >> 12}
        block, pcs, pages = self.build_ir(cpu, vpc, ppc, fs_on, 1 if single else None)
        src, helpers = python_backend.generate(TARGET, block,
                                               loops=self.tier == 1 and not single)
        self.globals.update(helpers)
        ns = {}
        # (the persistent cache keeps the code by the block's address and bytes,
        # `_remember`, so a warm run skips the work above, not only compile())
        code = compile(src, "<tb>", "exec")
        exec(code, self.globals, ns)
        fn = ns["tb"]
        fn.source = src
        if self.keep_ir:
            fn.ir = block.dump()
        self._remember(cpu, vpc, ppc, fs_on, single, code, pcs, pages, tuple(helpers))
        return Tb(fn, len(pcs), tuple(pcs), key), pages

    # --- warm translations: a block's code found by where it is and what bytes it has -----
    def _warm_key(self, vpc: int, ppc: int, fs_on: bool, single: bool,
                  native: str = "") -> bytes:
        return hashlib.blake2b(struct.pack("<QQ??B", vpc, ppc, fs_on, single, self.tier)
                               + self._decoder_tag + native.encode(), digest_size=16).digest()

    def cached_native(self, cpu: Any, key: tuple, pcs: tuple[int, ...],
                      fp: str) -> bytes | None:
        """Native code kept for this block from the same guest bytes (b"": the
        backend refused it), or None. `fp` is the backend's fingerprint."""
        if self.breakpoints or any(pc & 0xFFF == 0xFFE for pc in pcs):
            return None
        blob = self.code_cache.get_blob(self._warm_key(*key, False, fp))
        if blob is None:
            return None
        try:
            lo, hi, digest, code = marshal.loads(blob)
        except (EOFError, ValueError, TypeError):
            return None
        span = self._guest_span(cpu, key[1], lo, hi)
        if span is None or hashlib.blake2b(span, digest_size=16).digest() != digest \
                or not isinstance(code, bytes):
            return None
        return code

    def remember_native(self, cpu: Any, key: tuple, pcs: tuple[int, ...], code: bytes,
                        fp: str) -> None:
        if self.breakpoints or any(pc & 0xFFF == 0xFFE for pc in pcs):
            return  # (a 4-byte instruction there would reach into the next page)
        lo = min(pc & 0xFFF for pc in pcs)
        hi = min(max(pc & 0xFFF for pc in pcs) + 4, 4096)
        span = self._guest_span(cpu, key[1], lo, hi)
        if span is not None:
            blob = marshal.dumps((lo, hi, hashlib.blake2b(span, digest_size=16).digest(), code))
            self.code_cache.put_blob(self._warm_key(*key, False, fp), blob)

    def _guest_span(self, cpu: Any, ppc: int, lo: int, hi: int) -> bytes | None:
        base = (ppc & ~0xFFF) - cpu.ram_base
        if not 0 <= base <= cpu.ram_end - cpu.ram_base - 4096:
            return None  # code outside RAM (the boot ROM): always translated afresh
        return bytes(cpu.ram.buf[base + lo:base + hi])

    def _warm(self, cpu: Any, vpc: int, ppc: int, fs_on: bool, single: bool):
        """(code, pcs) of a block translated before from the same guest bytes at the
        same addresses, or None. Skips decoding, IR, code generation and compile()."""
        if self.breakpoints or self.keep_ir:
            return None
        blob = self.code_cache.get_blob(self._warm_key(vpc, ppc, fs_on, single))
        self.code_cache.misses += 1  # (undone below on a hit)
        if blob is None:
            return None
        try:
            lo, hi, digest, code, pcs, helpers = marshal.loads(blob)
        except (EOFError, ValueError, TypeError):
            return None
        span = self._guest_span(cpu, ppc, lo, hi)
        if span is None or hashlib.blake2b(span, digest_size=16).digest() != digest \
                or any(h not in self.globals for h in helpers):
            return None  # other code there now, or a helper this run has not met yet
        self.code_cache.hits += 1
        self.code_cache.misses -= 1
        return code, pcs

    def _remember(self, cpu: Any, vpc: int, ppc: int, fs_on: bool, single: bool, code: Any,
                  pcs: list[int], pages: set[int], helpers: tuple[str, ...]) -> None:
        if self.breakpoints or self.keep_ir or pages != {ppc >> 12}:
            return
        lo = min(pc & 0xFFF for pc in pcs)
        hi = min(max(pc & 0xFFF for pc in pcs) + 4, 4096)
        span = self._guest_span(cpu, ppc, lo, hi)
        if span is None:
            return
        blob = marshal.dumps((lo, hi, hashlib.blake2b(span, digest_size=16).digest(), code,
                              tuple(pcs), helpers))
        self.code_cache.put_blob(self._warm_key(vpc, ppc, fs_on, single), blob)

    def build_ir(self, cpu: Any, vpc: int, ppc: int, fs_on: bool, limit: int | None = None):
        """The optimised IR of the block at vpc, its instructions' pcs and its
        physical pages (raises the fetch fault of its first instruction).
        `limit` bounds the block (1: a debugger's single step), whatever the tier.

        In tier 1 a block is a superblock within one page: it follows direct
        jumps and calls (jal) and continues past conditional branches on the
        fall-through path, returning early (a side exit) when one is taken.
        """
        if limit is None:
            limit = MAX_BLOCK if self.tier == 1 else 1
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
        return optimize.optimize(ir.block), pcs, pages
