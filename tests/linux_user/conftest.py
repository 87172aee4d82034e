"""Fixtures for the pemu-riscv64 tests: C programs built static and dynamic
with the cross compiler, and a riscv64 busybox extracted from the shared
initramfs. Anything missing skips with a message."""
from __future__ import annotations

import os
import subprocess

import pytest
from lu_util import CC, INITRAMFS, PROGS, SYSROOT, extract_busybox


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> dict[tuple[str, str], str]:
    """{(program, "static"|"dynamic"): path} for every progs/*.c."""
    if CC is None or not os.path.isdir(SYSROOT):
        pytest.skip("riscv64 cross compiler missing "
                    "(apt-get install gcc-riscv64-linux-gnu libc6-riscv64-cross)")
    out = tmp_path_factory.mktemp("progs")
    paths: dict[tuple[str, str], str] = {}
    for src in sorted(PROGS.glob("*.c")):
        for mode in ("static", "dynamic"):
            exe = out / f"{src.stem}.{mode}"
            cmd = [CC, "-O1", "-o", str(exe), str(src), "-lpthread"]
            if mode == "static":
                cmd.insert(1, "-static")
            subprocess.run(cmd, check=True, capture_output=True)
            paths[(src.stem, mode)] = str(exe)
    return paths


@pytest.fixture(scope="session")
def busybox(tmp_path_factory) -> str:
    exe = extract_busybox(tmp_path_factory.mktemp("busybox"))
    if exe is None:
        pytest.skip(f"no riscv64 busybox in {INITRAMFS}")
    return str(exe)
