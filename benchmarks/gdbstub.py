"""Benchmark: gdb-multiarch driving pemu-system-riscv64 and qemu-system-riscv64
in one run (not run by the tests).

A bare-metal loop; gdb connects, single-steps N instructions (`stepi N`: one
`s` packet and its stop reply per instruction, plus the registers gdb reads
each time), then hits a breakpoint M times with `continue` (each stop and
resume goes through the runstate machinery). Prints each emulator's time
for both parts and the ratio pemu / QEMU.
Usage: ``python benchmarks/gdbstub.py [--steps N] [--hits M]``.
"""
from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROGRAM = """\
.option norelax
.text
.globl _start
_start:
    li t0, 0
loop:
    addi t0, t0, 1
    addi t1, t0, 3
.globl hit
hit:
    j loop
"""
LINK = "ENTRY(_start)\nSECTIONS { . = 0x80000000; .text : { *(.text*) } }\n"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _gdb(elf: str, port: int, commands: list[str]) -> float:
    script = ["set pagination off", "set confirm off", "set tcp connect-timeout 30",
              f"target remote 127.0.0.1:{port}", *commands]
    args = ["gdb-multiarch", "-batch", "-nx", *(a for c in script for a in ("-ex", c)), elf]
    t = time.perf_counter()
    subprocess.run(args, check=True, capture_output=True, timeout=600)
    return time.perf_counter() - t


def measure(emulator: list[str], elf: str, steps: int, hits: int) -> tuple[float, float]:
    times = []
    for commands in ([f"stepi {steps}"], ["break hit", *["continue"] * hits]):
        port = _port()
        emu = subprocess.Popen([*emulator, "-M", "virt", "-bios", "none", "-kernel", elf,
                                "-display", "none", "-serial", "null", "-monitor", "none",
                                "-gdb", f"tcp:127.0.0.1:{port}", "-S"],
                               env=dict(os.environ, PYTHONPATH=str(ROOT)))
        time.sleep(2)  # let it listen: the time below is gdb's session only
        try:
            times.append(_gdb(elf, port, commands))
        finally:
            emu.kill()
            emu.wait()
    return times[0], times[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--hits", type=int, default=200)
    args = ap.parse_args()
    tools = ("riscv64-linux-gnu-gcc", "gdb-multiarch", "qemu-system-riscv64")
    if not all(shutil.which(t) for t in tools):
        print(f"needs {', '.join(tools)} (apt-get install gcc-riscv64-linux-gnu "
              "gdb-multiarch qemu-system-misc)")
        return 1
    with tempfile.TemporaryDirectory() as d:
        src, ld, elf = (os.path.join(d, n) for n in ("p.S", "p.ld", "p.elf"))
        Path(src).write_text(PROGRAM)
        Path(ld).write_text(LINK)
        subprocess.run(["riscv64-linux-gnu-gcc", "-nostdlib", "-nostartfiles", "-static",
                        "-no-pie", "-g", "-T", ld, "-Wl,--build-id=none", "-o", elf, src],
                       check=True)
        pemu = measure([sys.executable, "-m", "pemu.cli.system"], elf, args.steps, args.hits)
        qemu = measure(["qemu-system-riscv64"], elf, args.steps, args.hits)
    for what, p, q in ((f"stepi {args.steps}", pemu[0], qemu[0]),
                       (f"{args.hits} breakpoint hits", pemu[1], qemu[1])):
        print(f"{what:<24} pemu {p:7.2f} s   qemu {q:7.2f} s   ratio {p / q:5.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
