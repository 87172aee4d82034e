"""Benchmark: a CPU-bound C program under pemu-<arch> and qemu-<arch> in one
run (not run by the tests); --arch riscv64 (default) or aarch64.

Builds tests/linux_user/progs/cpubench.c statically with <arch>-linux-gnu-gcc,
runs it under both emulators, checks they print the same thing, and prints
the times, the ratio (pemu time / qemu time) and pemu's guest MIPS (guest
instructions counted by pemu, PEMU_USER_STATS=1, over its wall time).
Usage: ``python benchmarks/user.py [--arch A] [--n N] [--runs R]``.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "tests" / "linux_user" / "progs" / "cpubench.c"


def _run(cmd: list[str], env: dict | None = None) -> tuple[float, str, str]:
    t = time.perf_counter()
    r = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env,
                       cwd=tempfile.gettempdir())
    return time.perf_counter() - t, r.stdout, r.stderr


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=300000, help="problem size")
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--arch", choices=("riscv64", "aarch64"), default="riscv64")
    args = ap.parse_args()
    arch = args.arch
    cc, qemu = shutil.which(f"{arch}-linux-gnu-gcc"), shutil.which(f"qemu-{arch}")
    if not cc or not qemu:
        print(f"needs {arch}-linux-gnu-gcc and qemu-{arch} "
              f"(apt-get install gcc-{arch}-linux-gnu qemu-user)")
        return 1
    with tempfile.TemporaryDirectory() as d:
        exe = os.path.join(d, "cpubench")
        subprocess.run([cc, "-O2", "-static", "-o", exe, str(SRC)], check=True)
        env = dict(os.environ, PEMU_USER_STATS="1")
        pemu = [sys.executable, "-c", "import sys; from pemu.cli.user import main; "
                f"sys.exit(main(sys.argv[1:], {arch!r}))", exe, str(args.n)]
        _run(pemu, env)  # warm the persistent code cache
        qt, pt = [], []
        for _ in range(args.runs):
            t, qout, _ = _run([qemu, exe, str(args.n)])
            qt.append(t)
            t, pout, perr = _run(pemu, env)
            pt.append(t)
        if qout != pout:
            print(f"output differs:\n qemu: {qout!r}\n pemu: {pout!r}")
            return 1
        m = re.search(r"insns=(\d+)", perr)
        insns = int(m.group(1)) if m else 0
        q, p = min(qt), min(pt)
        print(f"program     cpubench n={args.n}: {pout.strip()}")
        print(f"qemu-{arch:<8} {q:8.3f} s")
        print(f"pemu-{arch:<8} {p:8.3f} s   ({insns / 1e6:.1f} M guest instructions)")
        print(f"ratio         {p / q:8.1f}x slower")
        print(f"pemu MIPS     {insns / p / 1e6:8.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
