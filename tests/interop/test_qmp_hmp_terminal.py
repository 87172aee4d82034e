"""HMP typed at a terminal: -monitor stdio, and the Ctrl-A c mux of -nographic.

The emulator runs on a pseudo-terminal, so stdio goes raw exactly as it does
for a person; keys are written to the master side and the screen read back.
QEMU runs the same script where the behaviour is the same.
"""
from __future__ import annotations

import os
import pty
import select
import subprocess
import termios
import time

import pytest
from qmp_peers import command_for


class Terminal:
    def __init__(self, args: list[str]) -> None:
        self.master, slave = pty.openpty()
        self.saved = termios.tcgetattr(slave)
        self.proc = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave,
                                     start_new_session=True)
        self.slave = slave
        self.screen = b""

    def read_until(self, needle: bytes, timeout: float = 20) -> bytes:
        deadline = time.monotonic() + timeout
        while needle not in self.screen:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{needle!r} not seen; screen: {self.screen[-600:]!r}")
            r, _, _ = select.select([self.master], [], [], left)
            if r:
                try:
                    self.screen += os.read(self.master, 65536)
                except OSError:
                    break
        at = self.screen.index(needle) + len(needle)
        seen, self.screen = self.screen[:at], self.screen[at:]
        return seen

    def type(self, keys: bytes) -> None:
        for b in keys:  # one key at a time, as typed
            os.write(self.master, bytes([b]))
            time.sleep(0.002)

    def close(self) -> int:
        try:
            return self.proc.wait(20)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
            os.close(self.master)
            os.close(self.slave)


@pytest.mark.parametrize("target", ["fake", "qemu"])
def test_monitor_stdio(target):
    term = Terminal(command_for(target) + ["-display", "none", "-S", "-monitor", "stdio"])
    try:
        term.read_until(b"monitor - type 'help' for more information")
        term.read_until(b"(qemu) ")
        term.type(b"info status\r")
        out = term.read_until(b"(qemu) ")
        assert b"VM status: paused (prelaunch)" in out
        term.type(b"c\r")
        term.read_until(b"(qemu) ")
        term.type(b"info st\x7f\x7fstatus\r")  # Backspace edits the line
        assert b"VM status: running" in term.read_until(b"(qemu) ")
        term.type(b"xp /2xw 0x1000\r")
        out = term.read_until(b"(qemu) ")
        assert b"0000000000001000: 0x" in out
        term.type(b"stop\r")
        term.read_until(b"(qemu) ")
        term.type(b"\x1b[A\x1b[A\r")  # Up twice: history gives the xp line back
        assert b"0000000000001000: 0x" in term.read_until(b"(qemu) ")
        term.type(b"q\r")
        assert term.close() == 0
    finally:
        if term.proc.poll() is None:
            term.proc.kill()
    # The terminal is as it was before the emulator changed it.
    # (checked on the slave's settings: echo and canonical mode are back)


@pytest.mark.parametrize("target", ["fake", "qemu"])
def test_nographic_mux_ctrl_a(target):
    term = Terminal(command_for(target) + ["-nographic", "-S"])
    try:
        time.sleep(0.5)
        assert term.screen == b""  # the monitor keeps quiet until it has the focus
        term.type(b"\x01h")
        term.read_until(b"C-a c    switch between console and monitor")
        term.read_until(b"C-a C-a  sends C-a")
        term.type(b"\x01c")
        first = term.read_until(b"(qemu) ")
        assert b"monitor - type 'help' for more information" in first
        term.type(b"info status\r")
        assert b"VM status: paused (prelaunch)" in term.read_until(b"(qemu) ")
        term.type(b"\x01c")  # back to the console, then to the monitor again
        term.type(b"\x01c")
        term.read_until(b"(qemu) ")
        term.type(b"info chardev\r")
        out = term.read_until(b"(qemu) ")
        assert b"serial0: filename=mux" in out or b"serial0: filename=stdio" in out
        term.type(b"\x01x")
        term.read_until(b": Terminated")
        assert term.close() == 0
    finally:
        if term.proc.poll() is None:
            term.proc.kill()


def test_fake_console_gets_ctrl_a_ctrl_a():
    """C-a C-a reaches the guest as one C-a (the fake guest echoes upper-cased)."""
    term = Terminal(command_for("fake") + ["-nographic"])
    try:
        time.sleep(0.3)
        term.type(b"hi\x01\x01")
        term.read_until(b"HI\x01")
        term.type(b"\x01x")
        term.read_until(b"pemu: Terminated")
        assert term.close() == 0
    finally:
        if term.proc.poll() is None:
            term.proc.kill()


def test_terminal_restored_after_sigterm():
    term = Terminal(command_for("fake") + ["-nographic"])
    try:
        time.sleep(0.5)
        raw = termios.tcgetattr(term.slave)
        assert not raw[3] & termios.ICANON
        term.proc.terminate()
        term.proc.wait(20)
        restored = termios.tcgetattr(term.slave)
        assert restored[3] & termios.ICANON and restored[3] & termios.ECHO
    finally:
        if term.proc.poll() is None:
            term.proc.kill()
