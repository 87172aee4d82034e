"""Drive a pemu (or QEMU) system emulator through its serial console on stdio."""
from __future__ import annotations

import os
import re
import select
import shutil
import subprocess
import sys
import time

import pytest

SHARED_IMAGES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "images",
                             "riscv64")
PEMU_RISCV = [sys.executable, "-m", "pemu.cli.system"]
BOOT_TIMEOUT = float(os.environ.get("PEMU_BOOT_TIMEOUT", "900"))

needs_shared_images = pytest.mark.skipif(
    not os.path.exists(os.path.join(SHARED_IMAGES, "Image")),
    reason="../shared/images/riscv64 (the reference guest) is missing")


class Console:
    """A running emulator; read its serial output, type into it."""

    def __init__(self, argv: list[str], env: dict[str, str] | None = None) -> None:
        self.argv = argv
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, env=env)
        self.out = bytearray()
        self.pos = 0  # where the next expect() starts looking

    def read_some(self, timeout: float) -> bool:
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            return False
        data = os.read(self.proc.stdout.fileno(), 65536)
        if not data:
            return False
        self.out += data
        return True

    def expect(self, pattern: str | bytes, timeout: float = BOOT_TIMEOUT) -> re.Match:
        """Wait for a regex in the output after the previous match."""
        pat = re.compile(pattern.encode() if isinstance(pattern, str) else pattern)
        deadline = time.monotonic() + timeout
        while True:
            m = pat.search(self.out, self.pos)
            if m:
                self.pos = m.end()
                return m
            left = deadline - time.monotonic()
            if left <= 0 or (self.proc.poll() is not None and not self.read_some(0.1)):
                tail = self.out[-3000:].decode(errors="replace")
                raise AssertionError(f"timed out waiting for {pattern!r}; output ends:\n{tail}")
            self.read_some(min(left, 1.0))

    def send(self, text: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text.encode())
        self.proc.stdin.flush()

    def run(self, command: str, prompt: str = r"pemu:[^\n]*# ", timeout: float = 300) -> str:
        """Type a shell command, return what it printed before the next prompt."""
        self.send(command + "\n")
        start = self.pos
        m = self.expect(prompt, timeout)
        text = self.out[start:m.start()].decode(errors="replace").replace("\r", "")
        lines = text.split("\n")
        if lines and command in lines[0]:
            lines = lines[1:]
        return "\n".join(lines).strip()

    def wait(self, timeout: float = 120) -> int:
        end = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < end:
            self.read_some(0.5)
        return self.proc.wait(timeout=max(1, end - time.monotonic()))

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def qemu_available(name: str = "qemu-system-riscv64") -> bool:
    return shutil.which(name) is not None
