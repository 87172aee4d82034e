"""The pipe back end: PATH.in / PATH.out FIFOs, or one bidirectional PATH."""
from __future__ import annotations

import os

from pemu.chardev.fd import FdChardev
from pemu.chardev.file import open_or_fail
from pemu.core.main_loop import MainLoop


class PipeChardev(FdChardev):
    """-chardev pipe,id=x,path=P: reads P.in and writes P.out if both exist, else P."""

    type_name = "pipe"

    def __init__(self, chr_id: str, loop: MainLoop | None, path: str) -> None:
        self.path = path
        if os.path.exists(path + ".in") and os.path.exists(path + ".out"):
            in_fd = open_or_fail(path + ".in", os.O_RDWR | os.O_NONBLOCK)
            out_fd = open_or_fail(path + ".out", os.O_RDWR | os.O_NONBLOCK)
        else:
            in_fd = out_fd = open_or_fail(path, os.O_RDWR | os.O_NONBLOCK)
        super().__init__(chr_id, loop, in_fd, out_fd)

    def describe(self) -> str:
        return f"pipe:{self.path}"
