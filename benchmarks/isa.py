"""Benchmark: guest MIPS of bare-metal RISC-V loops, pemu vs QEMU in one run
(not run by the tests).

Three loops, each a bare-metal image for `-M virt -bios none` that exits
through sifive_test:

- int:      integer ALU, M and Zba instructions;
- fp:       F/D arithmetic in round-to-nearest (pemu's host-double fast path);
- fp-exact: the same loop with a static directed rounding mode (rdn), which
            pemu computes with exact integer arithmetic: the cost of exactness.

Each emulator's start-up time (an image that exits at once) is subtracted.
pemu runs each loop twice: Python tier only (`-accel tcg,native=off`) and with
the native tier. Usage: ``python benchmarks/isa.py [--iters N] [--native-scale K]
[--qemu-scale K]``.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

AS, LD, QEMU = "riscv64-linux-gnu-as", "riscv64-linux-gnu-ld", "qemu-system-riscv64"

HEAD = """.option norelax
.text
.globl _start
_start:
    li t0, 0x6000
    csrs mstatus, t0
    la t1, consts
    fld f1, 0(t1)
    fld f2, 8(t1)
    fld f3, 16(t1)
    li a1, 12345
    li a2, 0x9e3779b97f4a7c15
    li t0, {iters}
    beqz t0, done
"""
TAIL = """done:
    li t0, 0x100000
    li t1, 0x5555
    sw t1, 0(t0)
1:  j 1b
.data
.align 3
consts: .double 1.0000001, 0.9999999, 1.5
"""
LOOPS = {  # name -> (body, instructions per iteration)
    "int": ("""loop:
    add a1, a1, a2
    xor a2, a2, a1
    slli a3, a1, 3
    srli a4, a2, 5
    mul a5, a3, a4
    sub a1, a1, a5
    and a6, a1, a2
    or a7, a6, a3
    sh1add a1, a1, a7
    addi t0, t0, -1
    bnez t0, loop
""", 11),
    "fp": ("""loop:
    fmadd.d f4, f1, f2, f3, {rm}
    fmul.d f5, f4, f2, {rm}
    fadd.d f6, f5, f1, {rm}
    fsub.d f7, f6, f3, {rm}
    fdiv.d f8, f7, f3, {rm}
    fsqrt.d f9, f6, {rm}
    fmul.s f10, f1, f2, {rm}
    fadd.s f11, f10, f1, {rm}
    fcvt.w.d a0, f6, {rm}
    addi t0, t0, -1
    bnez t0, loop
""", 11),
}


def build(name: str, iters: int, d: str) -> str:
    kind = "fp" if name.startswith("fp") else "int"
    body, _ = LOOPS[kind]
    src = HEAD.format(iters=iters) + body.format(rm="rdn" if name == "fp-exact" else "rne") \
        + TAIL
    s, o, elf = (os.path.join(d, f"{name}{iters}.{x}") for x in ("S", "o", "elf"))
    with open(s, "w") as f:
        f.write(src)
    subprocess.run([AS, "-march=rv64gc_zba_zbb_zbs", "-o", o, s], check=True)
    subprocess.run([LD, "-N", "--no-warn-rwx-segments", "-Ttext=0x80000000", "-o", elf, o],
                   check=True)
    return elf


def timed(cmd: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, stdin=subprocess.DEVNULL,
                   timeout=1800)
    return time.perf_counter() - t


def cmd_pemu(elf: str, native: bool = True) -> list[str]:
    return [sys.executable, "-m", "pemu.cli.system", "-M", "virt", "-bios", "none",
            "-kernel", elf, "-nographic", "-accel", f"tcg,native={'on' if native else 'off'}"]


def cmd_qemu(elf: str) -> list[str]:
    return [QEMU, "-M", "virt", "-bios", "none", "-kernel", elf, "-nographic",
            "-monitor", "none", "-serial", "stdio"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--iters", type=int, default=1_000_000,
                    help="loop iterations under pemu's Python tier")
    ap.add_argument("--native-scale", type=int, default=20,
                    help="pemu's native tier runs this many times more iterations")
    ap.add_argument("--qemu-scale", type=int, default=100,
                    help="QEMU runs this many times more iterations (it is much faster)")
    args = ap.parse_args()
    for tool in (AS, LD, QEMU):
        if shutil.which(tool) is None:
            print(f"needs {tool} (apt-get install binutils-riscv64-linux-gnu qemu-system-misc)")
            return 2
    print(f"{'loop':<10} {'python MIPS':>12} {'native MIPS':>12} {'qemu MIPS':>10}"
          f" {'qemu/python':>12} {'qemu/native':>12}")
    with tempfile.TemporaryDirectory() as d:
        empty = build("int", 0, d)
        base_p = timed(cmd_pemu(empty, False))
        base_n = timed(cmd_pemu(empty, True))
        base_q = timed(cmd_qemu(empty))
        for name in ("int", "fp", "fp-exact"):
            per = LOOPS["fp" if name.startswith("fp") else "int"][1]
            n_p = args.iters if name != "fp-exact" else args.iters // 4
            n_n, n_q = n_p * args.native_scale, n_p * args.qemu_scale
            tp = max(timed(cmd_pemu(build(name, n_p, d), False)) - base_p, 1e-6)
            tn = max(timed(cmd_pemu(build(name, n_n, d), True)) - base_n, 1e-6)
            tq = max(timed(cmd_qemu(build(name, n_q, d))) - base_q, 1e-6)
            mp, mn, mq = (n * per / t / 1e6 for n, t in ((n_p, tp), (n_n, tn), (n_q, tq)))
            print(f"{name:<10} {mp:>12.2f} {mn:>12.2f} {mq:>10.1f} {mq / mp:>12.1f}"
                  f" {mq / mn:>12.1f}")
    print(f"(start-up subtracted: pemu {base_p:.2f} s, pemu native {base_n:.2f} s,"
          f" qemu {base_q:.2f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
