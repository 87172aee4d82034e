"""Helpers for the pemu-riscv64 tests: running pemu and the peer
(qemu-riscv64), skip markers for missing tools, busybox extraction."""
from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

HERE = Path(__file__).parent
PROGS = HERE / "progs"
QEMU = shutil.which("qemu-riscv64")
CC = shutil.which("riscv64-linux-gnu-gcc")
SYSROOT = "/usr/riscv64-linux-gnu"
INITRAMFS = Path("/work/shared/images/riscv64/initramfs.cpio.gz")

needs_qemu = pytest.mark.skipif(QEMU is None,
                                reason="qemu-riscv64 missing (apt-get install qemu-user)")
needs_cc = pytest.mark.skipif(
    CC is None or not os.path.isdir(SYSROOT),
    reason="riscv64 cross compiler missing "
           "(apt-get install gcc-riscv64-linux-gnu libc6-riscv64-cross)")


@dataclass
class Result:
    status: int
    out: bytes
    err: bytes


def run_pemu(args: list[str], cwd: str, env: dict | None = None, timeout: int = 120) -> Result:
    # cwd must not be the repository root, so `-m` imports the installed package
    cmd = [sys.executable, "-m", "pemu.cli.user", "-L", SYSROOT, *args]
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, timeout=timeout,
                       check=False)
    return Result(r.returncode, r.stdout, r.stderr)


def run_qemu(args: list[str], cwd: str, env: dict | None = None, timeout: int = 60) -> Result:
    r = subprocess.run([QEMU, "-L", SYSROOT, *args], cwd=cwd, env=env, capture_output=True,
                       timeout=timeout, check=False)
    return Result(r.returncode, r.stdout, r.stderr)


def extract_busybox(dest: Path) -> Path | None:
    """The riscv64 busybox from the shared initramfs (newc cpio, gzip)."""
    if not INITRAMFS.exists():
        return None
    data = gzip.decompress(INITRAMFS.read_bytes())
    off = 0
    while off + 110 <= len(data) and data[off:off + 6] in (b"070701", b"070702"):
        hdr = data[off:off + 110]
        namesize = int(hdr[94:102], 16)
        filesize = int(hdr[54:62], 16)
        name = data[off + 110:off + 110 + namesize - 1].decode()
        off = (off + 110 + namesize + 3) & ~3
        body = data[off:off + filesize]
        off = (off + filesize + 3) & ~3
        if name == "TRAILER!!!":
            break
        if name.endswith("bin/busybox") and body[:4] == b"\x7fELF":
            exe = dest / "busybox"
            exe.write_bytes(body)
            exe.chmod(0o755)
            return exe
    return None
