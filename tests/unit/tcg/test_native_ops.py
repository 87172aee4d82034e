"""Every pure IR op, run as native x86-64 code, equals `semantics.evaluate` on edge values.

Each op is compiled in several shapes (inputs in pinned registers, in the env,
constants, temps in registers and in frame slots) and with and without the
optional lzcnt/tzcnt/popcnt instructions.
"""
import random

import pytest

from pemu.tcg.ir import CONDS, OPS, PURE_OPS, Builder, Const, Global
from pemu.tcg.native.backend import available, host_features
from pemu.tcg.semantics import M64, evaluate

pytestmark = pytest.mark.skipif(not available(), reason="the native backend needs an x86-64 "
                                "Linux host")

X = [Global(f"x{i}", "X", i) for i in range(32)]
EDGES = [0, 1, 2, 63, 64, M64, M64 - 1, 1 << 63, (1 << 63) - 1, (1 << 63) + 1,
         (1 << 32) - 1, 1 << 32, (1 << 32) + 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF80000000,
         0x8000, 0x80, 0xFF, 0x1234_5678_9ABC_DEF0]
RNG = random.Random(11)
VALUES = EDGES + [RNG.getrandbits(64) for _ in range(8)]
UNARY = sorted(n for n in PURE_OPS if OPS[n][1] == 1)
BINARY = sorted(n for n in PURE_OPS if OPS[n][1] == 2 and n != "setcond")


def harness(**options):
    from pemu.tcg.native.harness import Harness
    return Harness(**options)


def valid(name, a, b):
    """Inputs the IR allows for op `name` (see ir.OPS)."""
    if name in ("shl", "shr", "sar", "rotl", "rotr"):
        return b < 64
    if name in ("divs", "divu", "rems", "remu"):
        return b != 0
    return True


def shift_count(name, b):
    return b & 63 if name in ("shl", "shr", "sar", "rotl", "rotr") else b


def run_block(h, b, inputs):
    """Compile once, run for each set of x-register inputs; the x3 results."""
    nb = h.backend.compile(b.block)
    assert nb is not None and not nb.cut
    out = []
    for vals in inputs:
        for i, v in enumerate(vals):
            h.env.space("X")[1 + i] = v
        h.env.limit = 0
        h.backend.buffer.run(h.env.addr, nb.addr)
        out.append(h.env.space("X")[3])
    return out


def unary_block(name, via_temp):
    b = Builder(0x1000)
    b.insn_start(0x1000)
    if via_temp:
        t = b.temp()
        getattr(b, name if name != "not" else "not_")(t, X[1])
        b.mov(X[3], t)
    else:
        getattr(b, name if name != "not" else "not_")(X[3], X[1])
    b.mov(X[1], X[1])  # x1 used twice: pinned to a register when registers are on
    b.exit(0x2000)
    return b


@pytest.mark.parametrize("features", [None, frozenset()], ids=["host", "fallback"])
@pytest.mark.parametrize("name", UNARY)
def test_unary_op(name, features):
    for use_regs in (True, False):
        for via_temp in (False, True):
            h = harness(features=features, use_regs=use_regs)
            got = run_block(h, unary_block(name, via_temp), [(v,) for v in VALUES])
            assert got == [evaluate(name, (v,)) for v in VALUES], (name, use_regs, via_temp)


def method(name):
    return name + "_" if name in ("and", "or", "not") else name


def binary_block(name, a, bv, out=X[3]):
    b = Builder(0x1000)
    b.insn_start(0x1000)
    getattr(b, method(name))(out, a, bv)
    if out != X[3]:
        b.mov(X[3], out)
    b.exit(0x2000)
    return b


@pytest.mark.parametrize("name", BINARY)
def test_binary_op_on_registers_and_env(name):
    pairs = [(a, shift_count(name, b)) for a in VALUES for b in VALUES]
    pairs = [(a, b) for a, b in pairs if valid(name, a, b)]
    want = [evaluate(name, p) for p in pairs]
    for use_regs in (True, False):
        h = harness(use_regs=use_regs)
        # x1 op x2 (env or pinned), a temp output, and x1 op x1
        assert run_block(h, binary_block(name, X[1], X[2]), pairs) == want, use_regs
        b = Builder(0x1000)
        t = b.temp()
        b.insn_start(0x1000)
        getattr(b, method(name))(t, X[1], X[2])
        b.add(X[4], t, 0)
        b.mov(X[3], t)
        b.exit(0x2000)
        assert run_block(h, b, pairs) == want, use_regs
        same = [(a, a) for a in VALUES if valid(name, a, shift_count(name, a))
                and shift_count(name, a) == a]
        got = run_block(h, binary_block(name, X[1], X[1]), same)
        assert got == [evaluate(name, p) for p in same]


@pytest.mark.parametrize("name", BINARY)
def test_binary_op_with_constants(name):
    h = harness()
    consts = [0, 1, 5, 63, M64, 1 << 63, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF80000000,
              0x1234_5678_9ABC_DEF0]
    for c in consts:
        c = shift_count(name, c)
        rows = [(v,) for v in VALUES if valid(name, v, c)]
        if rows:
            got = run_block(h, binary_block(name, X[1], Const(c)), rows)
            assert got == [evaluate(name, (v, c)) for (v,) in rows], hex(c)
        rows = [(v,) for v in VALUES if valid(name, c, shift_count(name, v))]
        rows = [(shift_count(name, v),) for (v,) in rows]
        if rows:
            got = run_block(h, binary_block(name, Const(c), X[1]), rows)
            assert got == [evaluate(name, (c, v)) for (v,) in rows], hex(c)


@pytest.mark.parametrize("cond", sorted(CONDS))
def test_setcond_movcond_brcond(cond):
    h = harness()
    pairs = [(a, b) for a in EDGES[:12] for b in EDGES[:12]]
    b = Builder(0x1000)
    b.insn_start(0x1000)
    b.setcond(cond, X[3], X[1], X[2])
    b.exit(0x2000)
    assert run_block(h, b, pairs) == [evaluate("setcond", p, cond) for p in pairs]
    b = Builder(0x1000)
    b.insn_start(0x1000)
    b.movcond(cond, X[3], X[1], X[2], 0x1111, X[1])
    b.exit(0x2000)
    assert run_block(h, b, pairs) == [0x1111 if evaluate("setcond", p, cond) else p[0]
                                      for p in pairs]
    b = Builder(0x1000)
    skip = b.label()
    b.insn_start(0x1000)
    b.mov(X[3], 7)
    b.brcond(cond, X[1], X[2], skip)
    b.mov(X[3], 9)
    b.set_label(skip)
    b.exit(0x2000)
    assert run_block(h, b, pairs) == [7 if evaluate("setcond", p, cond) else 9 for p in pairs]
    # a constant operand on either side
    for c in (0, 1, M64, 1 << 63, 0x1_0000_0000):
        b = Builder(0x1000)
        b.insn_start(0x1000)
        b.setcond(cond, X[3], X[1], c)
        b.exit(0x2000)
        rows = [(v,) for v in EDGES]
        assert run_block(h, b, rows) == [evaluate("setcond", (v, c), cond) for v in EDGES]


def test_host_features_are_detected():
    # on any x86-64 made since 2013 all three exist; the fallback is tested above
    assert host_features() <= {"lzcnt", "tzcnt", "popcnt"}
