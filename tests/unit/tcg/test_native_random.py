"""Seeded random IR blocks, native code against the reference interpreter (pemu/tcg/interp.py).

Blocks mix every pure op, loads and stores (mapped, unmapped and page-crossing
addresses, so some miss and leave to Python), nested forward branch regions
spanning instructions, side exits, many live temps (so some live in frame
slots) and more globals than there are host registers for them.
"""
import os
import random

import pytest

from pemu.tcg.ir import CONDS, OPS, PURE_OPS, Builder, Const, Global, MemOp
from pemu.tcg.native.backend import available
from pemu.tcg.semantics import M64

pytestmark = pytest.mark.skipif(not available(), reason="the native backend needs an x86-64 "
                                "Linux host")

X = [Global(f"x{i}", "X", i) for i in range(32)]
F = [Global(f"f{i}", "F", i) for i in range(32)]
GLOBALS = X[1:14] + F[0:3]
BASE = 0x8000_0000
EDGE = [0, 1, 2, 63, M64, 1 << 63, (1 << 63) - 1, 0xFFFFFFFF, 1 << 32, 0x80000000,
        0xFFFFFFFF80000000, 0xFFF, 0x1000]
ARITH = sorted(n for n in PURE_OPS if n not in ("setcond", "movcond"))
SHIFTS = ("shl", "shr", "sar", "rotl", "rotr")
DIVS = ("divs", "divu", "rems", "remu")
#: more seeds for a longer local run: PEMU_RANDOM_SEEDS=200 pytest ...
SEEDS = int(os.environ.get("PEMU_RANDOM_SEEDS", "4"))


class Gen:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.b = Builder(0x10000)
        self.scopes: list[list] = [[]]  # temps visible in each open branch region
        self.pc = 0x10000
        self.effect = False  # the current instruction wrote a global or stored

    def value(self):
        r = self.rng.random()
        temps = [t for s in self.scopes for t in s]
        if temps and r < 0.4:
            return self.rng.choice(temps)
        if r < 0.8:
            return self.rng.choice(GLOBALS)
        return Const(self.rng.choice(EDGE + [self.rng.getrandbits(64)]))

    def out(self):
        if self.rng.random() < 0.5:
            t = self.b.temp()
            self.scopes[-1].append(t)
            return t
        self.effect = True
        return self.rng.choice(GLOBALS)

    def temp(self):
        t = self.b.temp()
        self.scopes[-1].append(t)
        return t

    def pure(self) -> None:
        b, rng = self.b, self.rng
        name = rng.choice(ARITH + ["setcond", "movcond"])
        if name == "setcond":
            x, y = self.value(), self.value()
            b.setcond(rng.choice(sorted(CONDS)), self.out(), x, y)
        elif name == "movcond":
            args = [self.value() for _ in range(4)]
            b.movcond(rng.choice(sorted(CONDS)), self.out(), *args)
        elif OPS[name][1] == 1:
            x = self.value()
            b._op(name, self.out(), x)
        else:
            a, c = self.value(), self.value()
            if name in SHIFTS:  # the IR asks for counts below 64
                t = self.temp()
                b._op("and", t, c, Const(63))
                c = t
            elif name in DIVS:  # and for non-zero divisors
                t = self.temp()
                b._op("or", t, c, Const(1 << rng.randrange(64)))
                c = t
            b._op(name, self.out(), a, c)

    def address(self, size: int):
        """Mostly mapped addresses; sometimes page ends, the unmapped page, or raw values."""
        b, rng = self.b, self.rng
        r = rng.random()
        if r < 0.1:
            return self.value()
        v = self.value()
        t, u = self.temp(), self.temp()
        if r < 0.25:  # near a page end: may cross
            b._op("and", t, v, Const(0x3000))
            b._op("add", u, t, Const(BASE + 0x1000 - rng.randrange(1, 9)))
        else:  # pages 0..3, page 3 unmapped
            b._op("and", t, v, Const(0x3FFF & ~(size - 1)))
            b._op("add", u, t, Const(BASE))
        return u

    def memory(self) -> None:
        rng = self.rng
        mo = MemOp(rng.choice((1, 2, 4, 8)), rng.random() < 0.5, rng.random() < 0.3)
        addr = self.address(mo.size)
        if rng.random() < 0.5:
            self.b.ld(self.out(), addr, mo)
        else:
            self.b.st(self.value(), addr, MemOp(mo.size, False, mo.big_endian))
            self.effect = True

    def instruction(self, open_labels: list) -> None:
        b, rng = self.b, self.rng
        b.insn_start(self.pc)
        self.pc += 4
        self.effect = False
        for _ in range(rng.randrange(1, 5)):
            r = rng.random()
            if r < 0.2 and not self.effect:  # memory only before the effects (else a cut)
                self.memory()
            elif r < 0.27:  # a side exit
                skip = b.label()
                b.brcond(rng.choice(sorted(CONDS)), self.value(), self.value(), skip)
                b.exit(Const(rng.choice((0x20000, 0x20004, self.pc))))
                b.set_label(skip)
            elif r < 0.35:  # open a region that may span instructions
                lb = b.label()
                if rng.random() < 0.2:
                    b.br(lb)
                else:
                    b.brcond(rng.choice(sorted(CONDS)), self.value(), self.value(), lb)
                open_labels.append(lb)
                self.scopes.append([])
            elif r < 0.45 and open_labels:
                b.set_label(open_labels.pop())
                self.scopes.pop()
            else:
                self.pure()

    def block(self):
        labels: list = []
        for _ in range(self.rng.randrange(1, 14)):
            self.instruction(labels)
        while labels:
            self.b.set_label(labels.pop())
            self.scopes.pop()
        end = self.rng.random()
        self.b.exit(self.value() if end < 0.3 else Const(0x10000 + 4 * self.rng.randrange(20)))
        return self.b.block


def randomise(h, rng):
    for space, n in (("X", 32), ("F", 32)):
        view = h.env.space(space)
        for i in range(n):
            view[i] = rng.choice(EDGE) if rng.random() < 0.3 else rng.getrandbits(64)
    h.ram[:] = rng.randbytes(len(h.ram))
    h.env.icount = rng.randrange(1000)


@pytest.mark.parametrize("use_regs", [True, False], ids=["regs", "memory"])
@pytest.mark.parametrize("seed", range(SEEDS))
def test_random_blocks_match_the_interpreter(seed, use_regs):
    from pemu.tcg.native.harness import Harness
    rng = random.Random(seed * 7919 + use_regs)
    h = Harness(use_regs=use_regs)
    for p in range(3):
        h.map(p)
    for n in range(60):
        block = Gen(rng).block()
        for _ in range(3):
            randomise(h, rng)
            native, ref = h.compare(block)
            assert native is not None, block.dump()
            assert native == ref, f"seed {seed} block {n}\n{block.dump()}"
