"""The block node API: what every format driver offers.

A :class:`BlockNode` is one layer of an image (QEMU's ``BlockDriverState``):
it has a virtual ``size``, byte-granular ``read``/``write``, and an optional
``backing`` node that supplies data for ranges this layer does not allocate.

``block_status(offset, length)`` describes the first run of bytes that share
one state, as ``(flags, length, host_offset)`` where flags combine
``STATUS_DATA``, ``STATUS_ZERO`` and ``STATUS_ALLOCATED`` (allocated in this
layer, as opposed to inherited from the backing chain).
"""

from __future__ import annotations

from typing import Self

from .errors import BlockError

STATUS_DATA = 1
STATUS_ZERO = 2
STATUS_ALLOCATED = 4
STATUS_COMPRESSED = 8


class BlockNode:
    """Base class of format drivers."""

    format_name = "?"

    def __init__(self, filename: str, readonly: bool) -> None:
        self.filename = filename
        self.readonly = readonly
        self.size = 0
        self.backing: BlockNode | None = None
        self.cluster_size = 65536

    # -- data path ------------------------------------------------------------
    def read(self, offset: int, length: int) -> bytes:
        raise NotImplementedError

    def write(self, offset: int, data: bytes) -> None:
        raise NotImplementedError

    def write_zeroes(self, offset: int, length: int, unmap: bool = False) -> None:
        self.write(offset, bytes(length))

    def discard(self, offset: int, length: int) -> None:
        """Advisory: the range may read back as zeros (or backing data)."""

    def flush(self) -> None:
        pass

    def close(self) -> None:
        if self.backing is not None:
            self.backing.close()
            self.backing = None

    def truncate(self, size: int, shrink: bool = False) -> None:
        raise BlockError(f"Image format '{self.format_name}' does not support resizing")

    # -- metadata -------------------------------------------------------------
    def block_status(self, offset: int, length: int) -> tuple[int, int, int | None]:
        return STATUS_DATA | STATUS_ALLOCATED, length, offset

    def allocated_size(self) -> int:
        return 0

    def check_range(self, offset: int, length: int) -> None:
        if offset < 0 or length < 0 or offset + length > self.size:
            raise BlockError(
                f"Access out of range: offset {offset} length {length} "
                f"(image size {self.size})")

    def _require_writable(self) -> None:
        if self.readonly:
            raise BlockError(f"Image '{self.filename}' is opened read-only")

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def chain_status(node: BlockNode, offset: int, length: int) -> tuple[bool, int, int]:
    """Resolve a run through the backing chain.

    Returns ``(is_zero, run_length, depth)``: whether the run reads as zeros
    without looking at data, its length, and the depth of the layer that
    allocates it (``depth`` = chain length when nothing allocates it).
    """
    depth = 0
    cur: BlockNode | None = node
    while cur is not None:
        if offset >= cur.size:
            return True, length, depth
        flags, n, _ = cur.block_status(offset, min(length, cur.size - offset))
        length = n
        if flags & STATUS_ALLOCATED:
            return bool(flags & STATUS_ZERO), length, depth
        cur = cur.backing
        depth += 1
    return True, length, depth
