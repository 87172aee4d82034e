"""The raw format driver: guest offset == host offset."""

from __future__ import annotations

import os

from .errors import BlockError
from .file import FileProtocol
from .node import STATUS_ALLOCATED, STATUS_DATA, STATUS_ZERO, BlockNode

_SEEK_DATA = getattr(os, "SEEK_DATA", 3)
_SEEK_HOLE = getattr(os, "SEEK_HOLE", 4)


class RawNode(BlockNode):
    """A raw image: the host file is the disk."""

    format_name = "raw"

    def __init__(self, file: FileProtocol) -> None:
        super().__init__(file.filename, file.readonly)
        self.file = file
        self.size = file.size()
        self.cluster_size = 0

    def read(self, offset: int, length: int) -> bytes:
        self.check_range(offset, length)
        return self.file.pread(offset, length)

    def read_into(self, offset: int, buf: memoryview) -> None:
        self.file.pread_into(buf, offset)

    def write(self, offset: int, data: bytes) -> None:
        self._require_writable()
        self.check_range(offset, len(data))
        self.file.pwrite(offset, data)

    def write_zeroes(self, offset: int, length: int, unmap: bool = False) -> None:
        self._require_writable()
        self.check_range(offset, length)
        if unmap:
            self.file.punch_hole(offset, length)
        else:
            self.file.pwrite(offset, bytes(length))

    def discard(self, offset: int, length: int) -> None:
        self._require_writable()
        self.file.punch_hole(offset, length)

    def flush(self) -> None:
        self.file.flush()

    def close(self) -> None:
        self.file.close()

    def truncate(self, size: int, shrink: bool = False) -> None:
        self._require_writable()
        if size < self.size and not shrink:
            raise BlockError("Use the --shrink option to perform a shrink operation.")
        self.file.truncate(size)
        self.size = size

    def block_status(self, offset: int, length: int) -> tuple[int, int, int | None]:
        """Use SEEK_DATA/SEEK_HOLE to find holes in the host file."""
        end = offset + length
        try:
            data = os.lseek(self.file.fd, offset, _SEEK_DATA)
        except OSError:
            # ENXIO: no data after offset -> hole to EOF
            return STATUS_ZERO | STATUS_ALLOCATED, length, offset
        if data > offset:
            return STATUS_ZERO | STATUS_ALLOCATED, min(data, end) - offset, offset
        try:
            hole = os.lseek(self.file.fd, offset, _SEEK_HOLE)
        except OSError:
            hole = end
        return STATUS_DATA | STATUS_ALLOCATED, max(1, min(hole, end) - offset), offset

    def allocated_size(self) -> int:
        return self.file.allocated_size()


def create_raw(filename: str, size: int, preallocation: str = "off") -> None:
    """Create a raw image of ``size`` bytes."""
    f = FileProtocol(filename, readonly=False, create=True)
    try:
        f.truncate(size)
        if preallocation in ("falloc", "full") and size:
            if preallocation == "full":
                chunk = bytes(1 << 20)
                for off in range(0, size, len(chunk)):
                    f.pwrite(off, chunk[: min(len(chunk), size - off)])
            else:
                f.allocate(0, size)
    finally:
        f.close()
