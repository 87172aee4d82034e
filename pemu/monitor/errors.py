"""The error a monitor command raises; QMP turns it into {"error": {class, desc}}."""
from __future__ import annotations


class QmpError(Exception):
    """A command failure with QEMU's error class (GenericError, CommandNotFound, ...)."""

    def __init__(self, desc: str, cls: str = "GenericError") -> None:
        super().__init__(desc)
        self.desc = desc
        self.cls = cls
