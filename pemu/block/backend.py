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
All errors are :class:`pemu.block.errors.BlockError` with a one-line message,
except lock conflicts (:class:`pemu.block.locking.LockConflict`), which add
QEMU's second line ``Is another process using the image [F]?``.

Devices lock images as QEMU's do (:data:`pemu.block.locking.DEVICE`): a
writable disk lets nobody else write it, a read-only one lets nobody write
it either; ``force-share=on`` (read-only only) shares everything.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Self

from .errors import BlockError
from .locking import DEVICE, LockPolicy, file_perms
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


def temporary_overlay(filename: str, fmt: str | None = None,
                      lock: LockPolicy = DEVICE) -> BlockNode:
    """A writable qcow2 overlay on ``filename`` in an unlinked temporary file
    (``filename`` is then a backing file: read-only, nobody else may write it)."""
    from .qcow2_create import create_qcow2

    backing_lock = lock.for_backing().with_locking(lock.locking)
    base = open_image(filename, fmt, readonly=True, lock=backing_lock)
    fd, path = tempfile.mkstemp(prefix="pemu-snapshot-", suffix=".qcow2")
    os.close(fd)
    try:
        create_qcow2(path, base.size, backing_file=os.path.abspath(filename),
                     backing_fmt=base.format_name)
        top = open_image(path, "qcow2", readonly=False, backing=False,
                         lock=LockPolicy(locking="off"))  # private, already unlinked
        top.backing = base
    except BaseException:
        base.close()
        os.unlink(path)
        raise
    os.unlink(path)  # the open descriptor keeps it alive until close
    return top


def open_backend(filename: str, fmt: str | None = None, readonly: bool = False,
                 snapshot: bool = False, lock: LockPolicy = DEVICE) -> BlockBackend:
    """Open an image for a device (``-drive file=...,format=...,readonly=...,snapshot=...``;
    ``lock`` carries ``file.locking`` and ``force-share``)."""
    if snapshot:
        return BlockBackend(temporary_overlay(filename, fmt, lock))
    return BlockBackend(open_image(filename, fmt, readonly=readonly, lock=lock))


@contextmanager
def writable_view(node: BlockNode) -> Iterator[BlockNode]:
    """A writable second opening of the read-only image ``node`` (no backing chain).

    For committing into a file this process holds read-only (a -snapshot base,
    ``pemu-img commit``'s base), as QEMU reopens it read-write: ``node``'s own
    lock is raised to a writer's first (failing as QEMU would if anybody else
    reads or writes it), the second opening relies on that lock, and the old
    permissions come back at the end.
    """
    file = node.file  # type: ignore[attr-defined]
    old = (file.lock.perm, file.lock.shared)
    file.set_perm(*file_perms(node.format_name, False, LockPolicy(shared=old[1])))
    try:
        with open_image(node.filename, node.format_name, readonly=False, backing=False,
                        lock=LockPolicy(locking="off")) as rw:
            yield rw
    finally:
        file.set_perm(*old)
