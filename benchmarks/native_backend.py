"""Benchmark: the native x86-64 backend against the Python backend on the same IR
(not run by the tests).

- compile time per block (µs): RISC-V blocks of ~12 instructions (the reference
  boot's average) built from random integer instructions, optimised once, then
  compiled by each backend (native: assemble + place in the code buffer;
  Python: generate source + compile() + exec);
- run time of a hot loop block (10 RISC-V instructions with a load, a store, a
  multiply and a backward branch): native code chained to itself through the
  jump cache, native code called once per pass through ctypes, and the Python
  backend's function (which loops up to 256 passes per call);
- with --llvmlite, the same loop and blocks through a minimal IR -> LLVM IR
  translation (benchmarks/llvm_ir.py) compiled by llvmlite's MCJIT: import
  time, compile time per block, run time.

Usage: ``PYTHONPATH=. python3 benchmarks/native_backend.py [--iters N] [--llvmlite]``.
"""
from __future__ import annotations

import argparse
import ctypes
import random
import time

from pemu.target.riscv.translate import TARGET, TransCtx
from pemu.target.riscv.translator import DECODER
from pemu.tcg import optimize, python_backend
from pemu.tcg.env import Env, EnvLayout
from pemu.tcg.ir import Block, Const
from pemu.tcg.native.backend import NativeBackend

PC = 0x8000_1000
DATA = 0x8000_2000


def r_type(f7: int, rs2: int, rs1: int, f3: int, rd: int, op: int) -> int:
    return f7 << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | rd << 7 | op


def i_type(imm: int, rs1: int, f3: int, rd: int, op: int) -> int:
    return (imm & 0xFFF) << 20 | rs1 << 15 | f3 << 12 | rd << 7 | op


def s_type(imm: int, rs2: int, rs1: int, f3: int) -> int:
    imm &= 0xFFF
    return (imm >> 5) << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | (imm & 31) << 7 | 0x23


def b_type(imm: int, rs2: int, rs1: int, f3: int) -> int:
    imm &= 0x1FFF
    return ((imm >> 12) << 31 | ((imm >> 5) & 63) << 25 | rs2 << 20 | rs1 << 15 | f3 << 12
            | ((imm >> 1) & 15) << 8 | ((imm >> 11) & 1) << 7 | 0x63)


A0, A1, A2, A3, A4, A5 = range(10, 16)
LOOP = [
    i_type(0, A5, 3, A4, 0x03),            # ld   a4, 0(a5)
    r_type(0, A4, A0, 0, A0, 0x33),        # add  a0, a0, a4
    r_type(0, A1, A0, 4, A2, 0x33),        # xor  a2, a0, a1
    i_type(3, A2, 1, A3, 0x13),            # slli a3, a2, 3
    r_type(0, A3, A0, 0, A0, 0x33),        # add  a0, a0, a3
    s_type(8, A0, A5, 3),                  # sd   a0, 8(a5)
    r_type(1, A1, A1, 0, A3, 0x33),        # mul  a3, a1, a1
    r_type(0, A3, A0, 0, A0, 0x33),        # add  a0, a0, a3
    i_type(-1, A1, 0, A1, 0x13),           # addi a1, a1, -1
    b_type(-36, 0, A1, 1),                 # bnez a1, loop
]


def translate(words: list[int], pc: int = PC) -> Block:
    ctx = TransCtx(pc)
    for w in words:
        ctx.pc, ctx.ilen, ctx.word = pc, 4, w
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


def sample_blocks(n: int, rng: random.Random) -> list[Block]:
    """Blocks of ~12 random integer instructions with no helper calls."""
    pool = []
    for lst in DECODER.by_opcode.values():
        for insn in lst:
            for _ in range(8):
                w = (rng.getrandbits(32) & ~insn.mask) | insn.match
                if DECODER.decode(w) is insn:
                    b = translate([w])
                    if not any(op.name in ("call", "exit") for op in b.ops[:-1]):
                        pool.append(w)
                    break
    return [translate(rng.sample(pool, 12)) for _ in range(n)]


class _Cpu:
    """What the Python backend's block functions touch on the CPU object."""

    def __init__(self) -> None:
        self.icount = 0
        self.f = [0] * 32

    def load_slow(self, *a):
        raise RuntimeError("slow path in the benchmark")

    store_slow = load_slow


def python_compile(block: Block, namespace: dict):
    src, helpers = python_backend.generate(TARGET, block)
    ns: dict = {}
    exec(compile(src, "<tb>", "exec"), dict(namespace, **helpers), ns)
    return ns["tb"]


def timed(fn, repeat: int) -> float:
    t = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - t) / repeat


def bench_compile(blocks: list[Block], backend: NativeBackend, ns: dict) -> tuple[float, float]:
    t = time.perf_counter()
    for b in blocks:
        backend.compile(b)
    native = (time.perf_counter() - t) / len(blocks)
    t = time.perf_counter()
    for b in blocks:
        python_compile(b, ns)
    py = (time.perf_counter() - t) / len(blocks)
    return native, py


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--iters", type=int, default=2_000_000, help="loop passes (native)")
    ap.add_argument("--blocks", type=int, default=300, help="blocks for compile times")
    ap.add_argument("--llvmlite", action="store_true", help="measure llvmlite as well")
    args = ap.parse_args()
    rng = random.Random(1)
    layout = EnvLayout({"X": 32, "F": 32})
    env = Env(layout)
    backend = NativeBackend(layout)
    backend.buffer.install(env)
    ram = bytearray(0x4000)
    ram_c = (ctypes.c_char * len(ram)).from_buffer(ram)
    ram_addr = ctypes.addressof(ram_c)
    base = 0x8000_0000
    for page in range(4):
        vpn = (base >> 12) + page
        env.tlb_set(False, vpn, ram_addr + page * 4096 - (vpn << 12))
        env.tlb_set(True, vpn, ram_addr + page * 4096 - (vpn << 12))
    ns = dict(python_backend.RUNTIME, RAM=ram)

    blocks = sample_blocks(args.blocks, rng)
    n_ops = sum(len(b.ops) for b in blocks) / len(blocks)
    nat_c, py_c = bench_compile(blocks, backend, ns)
    print(f"compile, {len(blocks)} blocks of 12 instructions ({n_ops:.0f} IR ops):")
    print(f"  native {nat_c * 1e6:8.1f} µs/block   python {py_c * 1e6:8.1f} µs/block   "
          f"python/native {py_c / nat_c:5.1f}x")

    loop = translate(LOOP)
    nb = backend.compile(loop)
    assert nb is not None and not nb.cut
    x = env.space("X")

    def reset(passes: int) -> None:
        for i in range(32):
            x[i] = 0
        x[A1], x[A5] = passes, DATA
        env.icount = 0

    # native, chained: the block jumps to itself through the jump cache
    env.jc_set(PC, nb.addr)
    reset(args.iters)
    env.limit = 1 << 62
    t = time.perf_counter()
    pc = backend.buffer.run(env.addr, nb.addr)
    chained = (time.perf_counter() - t) / env.icount
    assert pc == PC + 40 and env.icount == 10 * args.iters, (hex(pc), env.icount)
    native_result = x[A0]
    # native, one ctypes call per pass
    calls = max(args.iters // 20, 1000)
    reset(calls)
    env.limit = 0
    run, ea, ca = backend.buffer.run, env.addr, nb.addr
    t = time.perf_counter()
    for _ in range(calls):
        run(ea, ca)
    per_call = (time.perf_counter() - t) / env.icount
    # the Python backend on the same IR
    fn = python_compile(loop, ns)
    cpu = _Cpu()
    passes = max(args.iters // 50, 1000)
    px = [0] * 32
    px[A1], px[A5] = passes, DATA
    R = W = {(base >> 12) + p: -base for p in range(4)}
    t = time.perf_counter()
    while px[A1]:
        fn(px, cpu, R, W)
    py_run = (time.perf_counter() - t) / cpu.icount
    reset(passes)
    env.limit = 1 << 62
    backend.buffer.run(env.addr, nb.addr)
    assert x[A0] == px[A0], "native and Python results differ"
    print(f"hot loop, {len(LOOP)} instructions per pass (result {native_result:#x}):")
    print(f"  native chained      {chained * 1e9:7.2f} ns/insn "
          f"({1e-6 / chained:7.1f} MIPS)")
    print(f"  native ctypes call  {per_call * 1e9:7.2f} ns/insn "
          f"({per_call * 10 * 1e9:6.0f} ns per block call)")
    print(f"  python backend      {py_run * 1e9:7.2f} ns/insn "
          f"({1e-6 / py_run:7.1f} MIPS)")
    print(f"  python/native chained {py_run / chained:6.1f}x   "
          f"python/native per call {py_run / per_call:5.1f}x")
    if args.llvmlite:
        from benchmarks import llvm_ir
        llvm_ir.bench(layout, env, loop, blocks, args.iters, chained, nat_c, reset, x)


if __name__ == "__main__":
    main()
