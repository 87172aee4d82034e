"""The file back end: output appended or written to a file, optional input file."""
from __future__ import annotations

import os

from pemu.chardev.fd import FdChardev
from pemu.core.main_loop import MainLoop


def open_or_fail(path: str, flags: int, mode: int = 0o666) -> int:
    """os.open with QEMU's error wording ("Could not open 'p': reason")."""
    try:
        return os.open(path, flags | os.O_CLOEXEC, mode)
    except OSError as e:
        raise ValueError(f"Could not open '{path}': {e.strerror}") from None


class FileChardev(FdChardev):
    """-chardev file,id=x,path=out[,append=on][,input-path=in]"""

    type_name = "file"

    def __init__(self, chr_id: str, loop: MainLoop | None, path: str, *,
                 append: bool = False, input_path: str | None = None) -> None:
        flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC)
        out_fd = open_or_fail(path, flags)
        in_fd = open_or_fail(input_path, os.O_RDONLY) if input_path else None
        self.path = path
        super().__init__(chr_id, loop, in_fd, out_fd, blocking_out=True)

    def describe(self) -> str:
        return f"file:{self.path}"
