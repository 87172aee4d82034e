"""Real code: every block of the RISC-V C library's text (compressed instructions too),
as the translator splits it, compiles natively or is refused cleanly; a sample runs
against the reference interpreter."""
import random
from pathlib import Path

import pytest

from pemu.tcg import optimize
from pemu.tcg.ir import Const
from pemu.tcg.native.backend import available

LIBC = Path("/usr/riscv64-linux-gnu/lib/libc.so.6")
pytestmark = [
    pytest.mark.skipif(not available(), reason="the native backend needs an x86-64 Linux host"),
    pytest.mark.skipif(not LIBC.exists(), reason=f"{LIBC} is missing (Debian libc6-riscv64-cross)"),
]
MAX_BLOCK = 64


def text_section():
    from elftools.elf.elffile import ELFFile
    with LIBC.open("rb") as f:
        sec = ELFFile(f).get_section_by_name(".text")
        return sec["sh_addr"], sec.data()


def blocks(base, data, limit):
    """Blocks from successive start points, built as pemu's translator builds them."""
    from pemu.target.riscv import insn_rvc
    from pemu.target.riscv.translate import TransCtx
    from pemu.target.riscv.translator import DECODER
    off = 0
    while off + 4 <= len(data) and limit:
        pc = start = base + off
        ctx = TransCtx(pc)
        n = 0
        while True:
            o = pc - base
            h = int.from_bytes(data[o:o + 2], "little")
            if h & 3 == 3:
                word, ilen = int.from_bytes(data[o:o + 4], "little"), 4
                raw = word
            else:
                raw, word, ilen = h, insn_rvc.expand(h), 2
            ctx.pc, ctx.ilen, ctx.word = pc, ilen, raw
            ctx.direct = ctx.taken = None
            ctx.ir.insn_start(pc)
            insn = DECODER.decode(word) if word else None
            if insn is None:
                ctx.illegal(raw)
            else:
                insn.trans(ctx, insn.extract(word))
            n += 1
            pc += ilen
            if ctx.stop:
                ctx.ir.exit(ctx.npc)
                break
            if n >= MAX_BLOCK or pc - base + 4 > len(data) or (pc & 0xFFF) == 0:
                ctx.ir.exit(Const(pc))
                break
        yield start, optimize.optimize(ctx.ir.block)
        off = pc - base
        limit -= 1


def test_libc_blocks_compile_or_are_refused_and_run_like_the_interpreter():
    from test_native_riscv import check  # the shared native-vs-interpreter check

    from pemu.tcg.native.harness import Harness
    base, data = text_section()
    h = Harness(pages=3)
    h.map_all()
    rng = random.Random(3)
    counts = {"full": 0, "cut": 0, "python": 0}
    insns = {"native": 0, "all": 0}
    for n, (_, block) in enumerate(blocks(base, data, 2500)):
        nb = h.backend.compile(block)
        kind = "python" if nb is None else "cut" if nb.cut else "full"
        counts[kind] += 1
        insns["all"] += block.ninsns
        insns["native"] += nb.ninsns if nb else 0
        if nb is not None and n % 10 == 0:
            check(h, block, rng, states=1)
    print(counts, insns)
    assert counts["full"] + counts["cut"] > counts["python"], counts
    assert insns["native"] > insns["all"] // 2, insns
