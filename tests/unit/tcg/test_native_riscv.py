"""The IR of real RISC-V instructions: every handler of every decode table gives IR the
native backend either compiles exactly (checked against the reference interpreter on
random register and memory states) or refuses/cuts cleanly before the instruction."""
import random

import pytest

from pemu.tcg import optimize
from pemu.tcg.env import STATUS_PYTHON
from pemu.tcg.ir import Block, Const, Helper, Op
from pemu.tcg.native.backend import available

pytestmark = pytest.mark.skipif(not available(), reason="the native backend needs an x86-64 "
                                "Linux host")

BASE = 0x8000_0000
PC = 0x8000_1000
STOP = Helper("python", lambda c: 0)


def all_insns():
    from pemu.target.riscv.translator import DECODER
    return sorted((i for lst in DECODER.by_opcode.values() for i in lst),
                  key=lambda i: (i.ext, i.name))


def words_of(insn, rng, n):
    from pemu.target.riscv.translator import DECODER
    out = []
    for _ in range(n * 4):
        w = (rng.getrandbits(32) & ~insn.mask) | insn.match
        if DECODER.decode(w) is insn:
            out.append(w)
        if len(out) == n:
            break
    return out


def translate(words, pc=PC):
    """A block of the given instruction words, as the translator builds one (no superblock
    continuation), optimised."""
    from pemu.target.riscv.translate import TransCtx
    from pemu.target.riscv.translator import DECODER
    ctx = TransCtx(pc)
    for w in words:
        ctx.pc, ctx.ilen, ctx.word = pc, 4, w
        ctx.direct = ctx.taken = None
        ctx.ir.insn_start(pc)
        insn = DECODER.decode(w)
        insn.trans(ctx, insn.extract(w))
        pc += 4
        if ctx.stop:
            ctx.ir.exit(ctx.npc)
            break
    else:
        ctx.ir.exit(Const(pc))
    return optimize.optimize(ctx.ir.block)


def truncated(block, cut_pc):
    """The block up to the instruction at cut_pc, which becomes a call the interpreter
    leaves to Python for: the reference for a cut block."""
    ops = []
    for op in block.ops:
        if op.name == "insn_start" and op.aux == cut_pc:
            break
        ops.append(op)
    ops += [Op("insn_start", aux=cut_pc), Op("call", None, (), STOP), Op("exit", None,
                                                                        (Const(cut_pc),))]
    return Block(block.pc, ops, block.ntemps, block.nlabels, block.ninsns)


def randomise(h, rng):
    x = h.env.space("X")
    for i in range(1, 32):  # registers near mapped memory, so loads and stores hit
        r = rng.random()
        x[i] = (BASE + rng.randrange(0, 0x3000) if r < 0.5 else
                rng.choice([0, 1, (1 << 64) - 1, 1 << 63, 0x7FFFFFFF]) if r < 0.7 else
                rng.getrandbits(64))
    f = h.env.space("F")
    for i in range(32):
        f[i] = rng.getrandbits(64)
    h.ram[:] = rng.randbytes(len(h.ram))
    h.env.icount = 0


def check(h, block, rng, states=3):
    nb = h.backend.compile(block)
    if nb is None:
        return False
    ref_block = truncated(block, nb.cut_pc) if nb.cut else block
    for _ in range(states):
        randomise(h, rng)
        h.env.limit = 0
        st = h.state()
        native = h.run_native(nb)
        h.restore(st)
        ref = h.run_interp(ref_block)
        assert native == ref, block.dump()
        if nb.cut and native.status == STATUS_PYTHON:
            assert native.pc <= nb.cut_pc
    return True


def harness():
    from pemu.tcg.native.harness import Harness
    h = Harness(pages=3)
    h.map_all()
    return h


def test_every_instruction_compiles_or_is_refused_cleanly():
    rng = random.Random(5)
    h = harness()
    compiled, refused = [], []
    for insn in all_insns():
        for w in words_of(insn, rng, 6):
            block = translate([w])
            good = check(h, block, rng)
            (compiled if good else refused).append(insn.name)
            # today only helper calls are left to Python
            assert good == (not any(op.name == "call" for op in block.ops)), (insn.name, hex(w))
    # the integer core must all be native (only helpers go to Python)
    for name in ("add", "addi", "sub", "lw", "ld", "sd", "sb", "beq", "bltu", "jal", "jalr",
                 "lui", "auipc", "sraw", "mulh", "mulhsu", "div", "remw", "sh1add", "clz",
                 "cpop", "rev8", "bset", "slliw", "sraiw", "mulhu", "remu"):
        if name in compiled + refused:
            assert name in compiled, name
    assert len(compiled) > 60


def test_random_instruction_sequences_match_the_interpreter():
    rng = random.Random(9)
    h = harness()
    insns = all_insns()
    pool = [w for insn in insns for w in words_of(insn, rng, 3)]
    helpers = [w for w in pool if any(op.name == "call" for op in translate([w]).ops)]
    native = [w for w in pool if w not in helpers]
    for _ in range(200):  # mostly natively compiled instructions, some helper ones (cuts)
        words = [rng.choice(native if rng.random() < 0.92 else helpers)
                 for _ in range(rng.randrange(2, 10))]
        check(h, translate(words), rng, states=2)


class _SlowPath(Exception):
    pass


class _Cpu:
    """What the Python backend's block functions touch on the CPU."""

    def __init__(self, f):
        self.icount = 0
        self.f = f

    def load_slow(self, *args):
        raise _SlowPath

    store_slow = load_slow


def test_native_code_agrees_with_the_python_backend():
    """On blocks whose accesses all hit, the two tiers leave the same state."""
    from pemu.target.riscv.translate import TARGET
    from pemu.target.riscv.trap import Trap
    from pemu.tcg import python_backend
    rng = random.Random(13)
    h = harness()
    pool = [w for insn in all_insns() for w in words_of(insn, rng, 3)]
    pool = [w for w in pool if not any(op.name == "call" for op in translate([w]).ops)]
    vpns = {(BASE >> 12) + p: -BASE for p in range(h.pages)}
    compared = 0
    for _ in range(120):
        block = translate([rng.choice(pool) for _ in range(rng.randrange(1, 10))])
        nb = h.backend.compile(block)
        src, helpers = python_backend.generate(TARGET, block, loops=False)
        ns = {}
        exec(src, dict(python_backend.RUNTIME, RAM=h.ram, Trap=Trap, **helpers), ns)
        for _ in range(2):
            randomise(h, rng)
            h.env.limit = 0
            st = h.state()
            native = h.run_native(nb)
            h.restore(st)
            x, cpu = list(h.env.space("X")), _Cpu(list(h.env.space("F")))
            try:
                pc = ns["tb"](x, cpu, vpns, vpns)
            except _SlowPath:
                assert native.status == STATUS_PYTHON
                continue
            x[0] = 0
            assert (pc, x, cpu.f, bytes(h.ram)) == (native.pc, native.spaces["X"],
                                                   native.spaces["F"], native.ram)
            assert cpu.icount == native.icount
            compared += 1
    assert compared > 100
