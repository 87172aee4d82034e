"""The Debian kernel (bzImage + initramfs from ../shared/images/x86_64) on -M microvm.

Here (a PVM host) guest kernel code is emulated at about 2 MIPS, so even the
banner takes tens of seconds; the busybox prompt is a `slow` test.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.kvm.conftest import CPU, IMAGES, requires_kvm

KERNEL = IMAGES / "vmlinuz"
INITRD = IMAGES / "initramfs.cpio.gz"

pytestmark = [requires_kvm,
              pytest.mark.skipif(not KERNEL.exists(), reason=f"needs {KERNEL}")]


def wait_for(patterns: list[str], timeout: float, extra: tuple[str, ...] = ()) -> dict[str, float]:
    """Boot, and return the seconds at which each pattern first appeared on the console."""
    cmd = [sys.executable, "-m", "pemu.cli.system_x86", "-M", "microvm", "-m", "512M",
           "-cpu", CPU, "-nographic", "-no-reboot", "-kernel", str(KERNEL),
           "-initrd", str(INITRD), "-append", "console=ttyS0 earlyprintk=ttyS0", *extra]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, cwd=Path(__file__).resolve().parents[2])
    seen: dict[str, float] = {}
    buf = b""
    t0 = time.monotonic()
    os.set_blocking(proc.stdout.fileno(), False)
    try:
        while len(seen) < len(patterns) and time.monotonic() - t0 < timeout:
            if proc.poll() is not None:
                buf += proc.stdout.read() or b""
                break
            chunk = proc.stdout.read()
            if chunk:
                buf += chunk
            else:
                time.sleep(0.05)
            for p in patterns:
                if p not in seen and p.encode() in buf:
                    seen[p] = time.monotonic() - t0
    finally:
        proc.kill()
        proc.wait()
    tail = buf.decode(errors="replace")[-3000:]
    print(tail)
    for p, t in seen.items():
        print(f"'{p}' after {t:.1f} s")
    return seen


def test_debian_kernel_reaches_linux_version_banner() -> None:
    seen = wait_for(["Linux version"], timeout=240)
    assert "Linux version" in seen


@pytest.mark.slow
def test_debian_kernel_reaches_busybox_prompt() -> None:
    seen = wait_for(["Linux version", "Run /init", "pemu reference guest", "pemu:/# "],
                    timeout=3000)
    assert "pemu:/# " in seen
