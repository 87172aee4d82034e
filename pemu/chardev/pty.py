"""The pty back end: a new pseudo-terminal whose slave the user opens (screen, minicom).

Like QEMU, it announces "char device redirected to /dev/pts/N (label ID)" on
stderr. Output that nobody reads is dropped once the pty buffer and a 64 KiB queue fill.
"""
from __future__ import annotations

import os
import sys
import termios
import tty

from pemu.chardev.fd import FdChardev
from pemu.core.main_loop import MainLoop


class PtyChardev(FdChardev):
    type_name = "pty"

    def __init__(self, chr_id: str, loop: MainLoop | None, announce: bool = True) -> None:
        master, slave = os.openpty()
        tty.setraw(slave, termios.TCSANOW)
        self.slave_name = os.ttyname(slave)
        # Keep a slave fd open: the master then never sees EIO when a user
        # closes the terminal, and a later user can reopen it.
        self._slave_fd = slave
        super().__init__(chr_id, loop, master, master)
        if announce:
            sys.stderr.write(f"char device redirected to {self.slave_name} (label {chr_id})\n")
            sys.stderr.flush()

    def write(self, data: bytes) -> None:
        if len(self._out) > 65536:
            return
        super().write(data)

    def describe(self) -> str:
        return f"pty:{self.slave_name}"

    def close(self) -> None:
        super().close()
        try:
            os.close(self._slave_fd)
        except OSError:
            pass
