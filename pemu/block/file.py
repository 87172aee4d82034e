"""The file protocol: a host file accessed with positioned I/O.

Format drivers (raw, qcow2) sit on top of a :class:`FileProtocol`.  All I/O is
``os.pread``/``os.pwrite`` so one open file can serve any number of callers
without seeking, and short reads past the end of file read as zeros (as
QEMU's file-posix does).  Each open file carries an :class:`ImageLock`: the
byte locks QEMU uses to keep two programs from writing one image.
"""

from __future__ import annotations

import ctypes
import errno
import os

from .errors import BlockError
from .locking import CREATE_PERM, CREATE_SHARED, ImageLock

_FALLOC_FL_KEEP_SIZE = 0x01
_FALLOC_FL_PUNCH_HOLE = 0x02

try:
    _libc = ctypes.CDLL(None, use_errno=True)  # libc is loaded already; find_library forks
    _fallocate = _libc.fallocate
    _fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64]
except (OSError, AttributeError):  # pragma: no cover - non-glibc hosts
    _fallocate = None


class FileExtent:
    """Bytes that already sit in a host file, passed to a write instead of a buffer.

    :meth:`FileProtocol.pwrite` copies them file to file with
    ``copy_file_range`` (measured here: half the time of ``pwrite`` from a
    user buffer, as the kernel copies page cache to page cache); anything
    that needs the bytes themselves calls :meth:`read`.  Slicing gives
    sub-extents, as slicing a memoryview gives sub-views.
    """

    __slots__ = ("fd", "offset", "length")

    def __init__(self, fd: int, offset: int, length: int) -> None:
        self.fd, self.offset, self.length = fd, offset, length

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, s: slice) -> FileExtent:
        start, stop, _ = s.indices(self.length)
        return FileExtent(self.fd, self.offset + start, max(0, stop - start))

    def read(self) -> bytes:
        data = os.pread(self.fd, self.length, self.offset)
        return data + bytes(self.length - len(data))


class FileProtocol:
    """A host file opened for block I/O."""

    def __init__(self, filename: str, readonly: bool = True, create: bool = False,
                 locking: str = "auto") -> None:
        self.filename = filename
        self.readonly = readonly
        flags = os.O_RDONLY if readonly else os.O_RDWR
        if create:  # no O_TRUNC: an image someone else holds must survive a failed create
            flags |= os.O_CREAT
        try:
            self.fd = os.open(filename, flags | getattr(os, "O_CLOEXEC", 0), 0o644)
        except OSError as e:
            raise BlockError(f"Could not open '{filename}': {e.strerror}") from None
        self.closed = False
        try:
            self.lock = ImageLock(self.fd, filename, locking)
            if create:
                self.lock.set_perm(CREATE_PERM, CREATE_SHARED)
                # only an old file needs emptying: ext4 flushes a file truncated to
                # 0 when it is closed (auto_da_alloc), 0.3 s for 512 MiB written
                if os.fstat(self.fd).st_size:
                    os.ftruncate(self.fd, 0)
        except BaseException:
            self.close()
            raise

    def set_perm(self, perm: int, shared: int) -> None:
        """Take and share permissions on the file (see :mod:`pemu.block.locking`)."""
        self.lock.set_perm(perm, shared)

    # -- I/O ----------------------------------------------------------------
    def size(self) -> int:
        return os.fstat(self.fd).st_size

    def pread(self, offset: int, length: int) -> bytes:
        """Read ``length`` bytes at ``offset``; bytes past EOF read as zeros."""
        data = os.pread(self.fd, length, offset)
        if len(data) < length:
            parts = [data]
            got = len(data)
            while got < length:
                more = os.pread(self.fd, length - got, offset + got)
                if not more:
                    break
                parts.append(more)
                got += len(more)
            data = b"".join(parts)
            if len(data) < length:
                data += bytes(length - len(data))
        return data

    def pread_into(self, buf: memoryview, offset: int) -> None:
        """Fill ``buf`` from ``offset`` (zeros past EOF)."""
        done = 0
        n = len(buf)
        while done < n:
            got = os.preadv(self.fd, [buf[done:]], offset + done)
            if got <= 0:
                buf[done:] = bytes(n - done)
                return
            done += got

    def pwrite(self, offset: int, data: bytes | bytearray | memoryview | FileExtent) -> None:
        if self.readonly:
            raise BlockError(f"'{self.filename}' is opened read-only")
        if isinstance(data, FileExtent):
            if self._copy_range(offset, data):
                return
            data = data.read()
        view = memoryview(data)
        while len(view):
            n = os.pwrite(self.fd, view, offset)
            view = view[n:]
            offset += n

    def _copy_range(self, offset: int, ext: FileExtent) -> bool:
        """Copy ``ext`` to ``offset`` in the kernel; False if this pair of files can't."""
        done = 0
        while done < ext.length:
            try:
                n = os.copy_file_range(ext.fd, self.fd, ext.length - done, ext.offset + done,
                                       offset + done)
            except OSError as e:
                if done == 0 and e.errno in (errno.EXDEV, errno.ENOSYS, errno.EINVAL,
                                             errno.EOPNOTSUPP, errno.EBADF):
                    return False
                raise
            if n == 0:  # the source ended early: the rest reads as zeros
                self.pwrite(offset + done, bytes(ext.length - done))
                return True
            done += n
        return True

    def truncate(self, size: int) -> None:
        os.ftruncate(self.fd, size)

    def punch_hole(self, offset: int, length: int) -> None:
        """Deallocate host blocks (best effort; the range reads as zeros after)."""
        if _fallocate is None or length <= 0:
            return
        mode = _FALLOC_FL_PUNCH_HOLE | _FALLOC_FL_KEEP_SIZE
        if _fallocate(self.fd, mode, offset, length) != 0:
            err = ctypes.get_errno()
            if err not in (errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL):
                raise OSError(err, os.strerror(err))

    def allocate(self, offset: int, length: int) -> None:
        try:
            os.posix_fallocate(self.fd, offset, length)
        except OSError:
            self.pwrite(offset, bytes(length))

    def flush(self) -> None:
        if not self.readonly:
            os.fdatasync(self.fd)

    def allocated_size(self) -> int:
        return os.fstat(self.fd).st_blocks * 512

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            os.close(self.fd)
