"""Start a machine with a QMP socket for the interop tests: pemu or QEMU.

Targets:
  fake  - tests/unit/monitor/fake_vm.py (pemu's monitor on a fake machine)
  pemu  - pemu-system-riscv64 -M virt -bios none (once the board runs)
  qemu  - qemu-system-riscv64 -M virt -bios none, the oracle (skipped if absent)
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FAKE_VM = os.path.join(ROOT, "tests", "unit", "monitor", "fake_vm.py")
RISCV_ARGS = ["-M", "virt", "-bios", "none"]


def command_for(target: str) -> list[str]:
    if target == "fake":
        return [sys.executable, FAKE_VM]
    if target == "pemu":
        exe = shutil.which("pemu-system-riscv64")
        if exe is None:
            pytest.skip("pemu-system-riscv64 is not installed (pip install -e .)")
        return [exe, *RISCV_ARGS]
    if target == "qemu":
        exe = shutil.which("qemu-system-riscv64")
        if exe is None:
            pytest.skip("qemu-system-riscv64 missing (Debian package qemu-system-misc)")
        return [exe, *RISCV_ARGS]
    raise ValueError(target)


class Peer:
    """A running emulator with QMP on one or more unix sockets."""

    def __init__(self, target: str, extra: list[str] = (), sockets: int = 1,
                 stopped: bool = True) -> None:
        self.target = target
        self.dir = tempfile.mkdtemp(prefix="pemu-qmp-")
        self.sockets = [os.path.join(self.dir, f"qmp{i}.sock") for i in range(sockets)]
        args = command_for(target) + ["-display", "none"] + (["-S"] if stopped else [])
        for path in self.sockets:
            args += ["-qmp", f"unix:{path},server=on,wait=off"]
        args += list(extra)
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while not all(os.path.exists(p) for p in self.sockets):
            if self.proc.poll() is not None:
                out, err = self.proc.communicate()
                pytest.fail(f"{target} exited with {self.proc.returncode}: {err.decode()}")
            if time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"{target}: QMP socket never appeared")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


def supported_targets() -> list[str]:
    return ["fake", "pemu", "qemu"]
