"""KVM benchmark: pemu-system-x86_64 against qemu-system-x86_64 on the same work.

    python benchmarks/kvm.py [--timeout S] [--skip-qemu]

1. The test guest's user-mode loop (tests/kvm/guest): TSC cycles in the guest
   against the same loop run natively.
2. The Debian kernel (../shared/images/x86_64): seconds until the console shows
   "Linux version", "Run /init" and the busybox prompt, for pemu (-M microvm)
   and QEMU (-accel kvm -M microvm). QEMU boots through its qboot firmware and
   runs the bzImage decompressor inside the guest; pemu decompresses on the host.
Prints one line per measurement and the pemu/QEMU ratio.
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

ROOT = Path(__file__).resolve().parents[1]
IMAGES = Path("/work/shared/images/x86_64")
CPU = "host,-xsave,-cx16"
APPEND = "console=ttyS0 earlyprintk=ttyS0"
MARKS = ("Linux version", "Run /init", "pemu:/# ")


def timed_console(cmd: list[str], timeout: float) -> dict[str, float]:
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    os.set_blocking(proc.stdout.fileno(), False)
    seen: dict[str, float] = {}
    buf = b""
    t0 = time.monotonic()
    try:
        while len(seen) < len(MARKS) and time.monotonic() - t0 < timeout:
            chunk = proc.stdout.read()
            if chunk:
                buf += chunk
            elif proc.poll() is not None:
                break
            else:
                time.sleep(0.05)
            for m in MARKS:
                if m not in seen and m.encode() in buf:
                    seen[m] = time.monotonic() - t0
    finally:
        proc.kill()
        proc.wait()
    return seen


def user_loop(loops: int) -> None:
    out = Path(tempfile.mkdtemp())
    subprocess.run(["make", "-s", "-C", str(ROOT / "tests/kvm/guest"), f"OUT={out}"], check=True)
    native = subprocess.run([str(out / "native"), str(loops)], capture_output=True, text=True)
    n = int(re.search(r"cycles=(\d+)", native.stdout).group(1))
    r = subprocess.run([sys.executable, "-m", "pemu.cli.system_x86", "-cpu", CPU, "-nographic",
                        "-kernel", str(out / "testkernel.elf"), "-append", f"loops={loops}"],
                       stdin=subprocess.PIPE, capture_output=True, text=True, timeout=120)
    g = int(re.search(r"user: cycles=(\d+)", r.stdout).group(1))
    print(f"user loop x{loops}: guest {g} cycles, native {n} cycles, ratio {g / n:.3f}")


def linux(timeout: float, skip_qemu: bool) -> None:
    kernel, initrd = str(IMAGES / "vmlinuz"), str(IMAGES / "initramfs.cpio.gz")
    common = ["-m", "512M", "-nographic", "-no-reboot", "-kernel", kernel, "-initrd", initrd]
    pemu = timed_console([sys.executable, "-m", "pemu.cli.system_x86", "-M", "microvm",
                          "-cpu", CPU, *common, "-append", APPEND], timeout)
    qemu: dict[str, float] = {}
    if not skip_qemu and shutil.which("qemu-system-x86_64"):
        qemu = timed_console(["qemu-system-x86_64", "-accel", "kvm", "-M", "microvm",
                              "-cpu", "host,-arch-capabilities,-xsave,-cx16", *common,
                              "-append", APPEND + " noxsave"], timeout)
    for m in MARKS:
        p, q = pemu.get(m), qemu.get(m)
        ps = f"{p:7.1f} s" if p is not None else f"  >{timeout:.0f} s"
        qs = f"{q:7.1f} s" if q is not None else (f"  >{timeout:.0f} s" if not skip_qemu else "-")
        ratio = f"  pemu/qemu {p / q:.2f}" if p and q else ""
        print(f"debian '{m}': pemu {ps}  qemu {qs}{ratio}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--timeout", type=float, default=1200)
    ap.add_argument("--loops", type=int, default=200_000_000)
    ap.add_argument("--skip-qemu", action="store_true")
    args = ap.parse_args()
    user_loop(args.loops)
    linux(args.timeout, args.skip_qemu)


if __name__ == "__main__":
    main()
