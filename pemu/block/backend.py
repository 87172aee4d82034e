"""The block backend devices use (virtio-blk, IDE, ...).

A :class:`BlockBackend` wraps the top node of an image chain and offers the
small, bounds-checked interface a device model needs::

    from pemu.block import open_backend
    be = open_backend("disk.qcow2", fmt=None, readonly=False, snapshot=False)
    be.size, be.readonly            # bytes, bool
    data = be.read(offset, length)  # -> bytes
    be.write(offset, data)
    be.write_zeroes(offset, length)
    be.discard(offset, length)
    be.flush()
    be.close()

``snapshot=True`` (``-snapshot`` / ``-drive snapshot=on``) puts a temporary
qcow2 overlay in front of the image: writes land in the overlay, which lives in
an already-unlinked temporary file and so disappears on close (or on a crash).
All errors are :class:`pemu.block.errors.BlockError` with a one-line message.
"""

from __future__ import annotations

import os
import tempfile
from typing import Self

from .errors import BlockError
from .node import BlockNode
from .open import open_image


class BlockBackend:
    """Device-facing view of an image chain."""

    def __init__(self, node: BlockNode, temp_path: str | None = None) -> None:
        self.node = node
        self._temp_path = temp_path

    @property
    def size(self) -> int:
        return self.node.size

    @property
    def readonly(self) -> bool:
        return self.node.readonly

    def _check(self, offset: int, length: int) -> None:
        if offset < 0 or length < 0 or offset + length > self.node.size:
            raise BlockError(f"request out of range: offset {offset} length {length}")

    def read(self, offset: int, length: int) -> bytes:
        self._check(offset, length)
        return self.node.read(offset, length)

    def write(self, offset: int, data: bytes) -> None:
        self._check(offset, len(data))
        if self.readonly:
            raise BlockError("the block device is read-only")
        self.node.write(offset, data)

    def write_zeroes(self, offset: int, length: int) -> None:
        self._check(offset, length)
        if self.readonly:
            raise BlockError("the block device is read-only")
        self.node.write_zeroes(offset, length)

    def discard(self, offset: int, length: int) -> None:
        self._check(offset, length)
        if self.readonly:
            raise BlockError("the block device is read-only")
        self.node.discard(offset, length)

    def flush(self) -> None:
        if not self.readonly:
            self.node.flush()

    def close(self) -> None:
        self.node.close()
        if self._temp_path:
            try:
                os.unlink(self._temp_path)
            except FileNotFoundError:
                pass
            self._temp_path = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def temporary_overlay(filename: str, fmt: str | None = None) -> BlockNode:
    """A writable qcow2 overlay on ``filename`` in an unlinked temporary file."""
    from .qcow2_create import create_qcow2

    base = open_image(filename, fmt, readonly=True)
    fd, path = tempfile.mkstemp(prefix="pemu-snapshot-", suffix=".qcow2")
    os.close(fd)
    try:
        create_qcow2(path, base.size, backing_file=os.path.abspath(filename),
                     backing_fmt=base.format_name)
        top = open_image(path, "qcow2", readonly=False, backing=False)
        top.backing = base
    except BaseException:
        base.close()
        os.unlink(path)
        raise
    os.unlink(path)  # the open descriptor keeps it alive until close
    return top


def open_backend(filename: str, fmt: str | None = None, readonly: bool = False,
                 snapshot: bool = False) -> BlockBackend:
    """Open an image for a device (``-drive file=...,format=...,readonly=...,snapshot=...``)."""
    if snapshot:
        return BlockBackend(temporary_overlay(filename, fmt))
    return BlockBackend(open_image(filename, fmt, readonly=readonly))
