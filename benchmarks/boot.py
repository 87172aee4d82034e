"""Benchmark: boot the reference guest (../shared/images/riscv64) to its shell
prompt on pemu and on qemu-system-riscv64 in one run (not run by the tests).

Prints, for each emulator, the time to the prompt, their ratio, pemu's guest
MIPS over the boot, and the host CPU an idle guest uses over 10 s at the
prompt. pemu is measured three times: with an empty persistent code cache
(cold, what a first boot costs), again with the cache that boot left (warm),
and warm with the native tier off (`-accel tcg,native=off`: the Python tier).
Usage: ``python benchmarks/boot.py [--idle-seconds N] [--smp N]``.
"""
from __future__ import annotations

import argparse
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
IMAGES = os.path.join(HERE, "..", "..", "shared", "images", "riscv64")
PROMPT = re.compile(rb"pemu:[^\n]*# ")


def guest_args(smp: int) -> list[str]:
    return ["-M", "virt", "-m", "256M", "-smp", str(smp), "-nographic",
            "-kernel", os.path.join(IMAGES, "Image"),
            "-initrd", os.path.join(IMAGES, "initramfs.cpio.gz"), "-append", "console=ttyS0"]


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def boot(cmd: list[str], env: dict[str, str], idle_s: float, timeout: float = 1800):
    """(seconds to prompt, idle CPU fraction, stderr) for one boot."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=env)
    out = bytearray()
    try:
        while not PROMPT.search(out):
            if time.perf_counter() - t0 > timeout or p.poll() is not None:
                raise RuntimeError(f"{cmd[0]}: no prompt; output ends {out[-500:]!r}")
            if select.select([p.stdout], [], [], 1.0)[0]:
                out += os.read(p.stdout.fileno(), 65536)
        to_prompt = time.perf_counter() - t0
        time.sleep(1.0)  # let the shell settle
        c0, w0 = cpu_seconds(p.pid), time.perf_counter()
        time.sleep(idle_s)
        idle = (cpu_seconds(p.pid) - c0) / (time.perf_counter() - w0)
        p.stdin.write(b"poweroff -f\n")
        p.stdin.flush()
        _, err = p.communicate(timeout=120)
        return to_prompt, idle, err.decode(errors="replace")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--idle-seconds", type=float, default=10.0)
    ap.add_argument("--smp", type=int, default=1)
    args = ap.parse_args()
    if not os.path.exists(os.path.join(IMAGES, "Image")):
        print(f"reference guest missing: {IMAGES}")
        return 1
    rows = []
    if shutil.which("qemu-system-riscv64"):
        q, q_idle, _ = boot(["qemu-system-riscv64"] + guest_args(args.smp), dict(os.environ),
                            args.idle_seconds)
        rows.append(("qemu-system-riscv64", q, q_idle, None))
    else:
        q = None
        print("qemu-system-riscv64 not installed: pemu only")
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, PEMU_TB_CACHE=cache, PEMU_STATS="1")
        pemu = [sys.executable, "-m", "pemu.cli.system"] + guest_args(args.smp)
        runs = [("pemu (cold code cache)", []), ("pemu (warm code cache)", []),
                ("pemu, Python tier (warm)", ["-accel", "tcg,native=off"])]
        for label, extra in runs:
            t, idle, err = boot(pemu + extra, env, args.idle_seconds)
            m = re.search(r"(\d+) guest instructions", err)
            insns = int(m.group(1)) if m else None
            rows.append((label, t, idle, insns))
    print(f"{'emulator':<26} {'to prompt':>10} {'ratio':>7} {'idle CPU':>9} {'guest MIPS':>11}")
    for label, t, idle, insns in rows:
        ratio = f"{t / q:6.1f}x" if q else "-"
        mips = f"{insns / t / 1e6:10.2f}" if insns else "-"
        print(f"{label:<26} {t:9.1f}s {ratio:>7} {idle * 100:8.1f}% {mips:>11}")
    print("(guest MIPS: instructions executed over the whole run, including the idle "
          "period and poweroff, divided by the time to the prompt: an upper bound)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
