"""Shared helpers for the pemu-img interop tests (qemu-img/qemu-io are the oracle)."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

QEMU_IMG = shutil.which("qemu-img")
QEMU_IO = shutil.which("qemu-io")

needs_qemu = pytest.mark.skipif(
    QEMU_IMG is None or QEMU_IO is None,
    reason="qemu-img/qemu-io not installed (apt-get install qemu-utils)")


def pemu_img(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    r = subprocess.run([sys.executable, "-m", "pemu.cli.img", *args],
                       check=False, capture_output=True, text=True)
    if check and r.returncode != 0:
        raise AssertionError(f"pemu-img {args} failed ({r.returncode}): {r.stderr}")
    return r


def qemu_img(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    r = subprocess.run([QEMU_IMG, *args], check=False, capture_output=True, text=True)
    if check and r.returncode != 0:
        raise AssertionError(f"qemu-img {args} failed ({r.returncode}): {r.stderr}")
    return r


def qemu_io(path: str, *cmds: str, fmt: str = "qcow2") -> str:
    args = [QEMU_IO, "-f", fmt]
    for c in cmds:
        args += ["-c", c]
    r = subprocess.run([*args, path], check=False, capture_output=True, text=True)
    out = r.stdout + r.stderr
    assert r.returncode == 0 and "fail" not in out.lower(), out
    return out


def assert_clean(path: str) -> None:
    r = qemu_img("check", path, check=False)
    assert r.returncode == 0, r.stdout + r.stderr
