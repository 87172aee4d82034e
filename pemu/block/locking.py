"""Image locking as QEMU 7.2's file-posix driver does it, so pemu and QEMU see each other.

Every user of an image file declares *permissions* it takes (bit i of ``perm``)
and the ones it lets other users take (``shared``).  The bits, in QEMU's order
and with QEMU's names (they appear in the error messages):

====  ===================  =====================================
bit   name                 meaning
====  ===================  =====================================
0     consistent read      reads see data nobody changes underneath
1     write                guest-visible writes
2     write unchanged      writes that do not change what is read
3     resize               changing the file size
====  ===================  =====================================

They live in the file as open file description (OFD) read locks on single
bytes: byte ``100 + i`` is locked while a user *holds* permission i, and byte
``200 + i`` while a user does *not share* permission i.  Taking a permission
means: no one else has byte ``200 + i`` locked; refusing to share it means: no
one else has byte ``100 + i`` locked.  The test is ``F_OFD_GETLK`` with a write
lock, which reports a lock by any other open file description (a different
process, or another ``open()`` of the same file in this one), never our own.

How the offsets and the sets below were found: running ``qemu-io``,
``qemu-img`` and ``qemu-system-riscv64`` (Debian's 7.2) on images and reading
``/proc/locks`` while they held them, and ``strace -e fcntl`` of the short
``qemu-img`` runs.  A read-write qcow2 holds bytes 100, 101, 103, 201, 203; a
read-only one 100, 201, 203; ``qemu-img info`` only 201 and 203; a raw image
written by a guest device 100, 101, 201; ``-U`` (force-share) locks no 2xx
byte.  QEMU first locks the union of old and new bytes, then tests the ones
it needs (held permissions first, bit by bit, then unshared ones), and on a
conflict goes back to what it held; this module does the same, so two
programs racing to open one image can both fail but never both succeed.
"""

from __future__ import annotations

import errno
import fcntl
import os
import struct
from dataclasses import dataclass, replace

from .errors import BlockError

PERM_CONSISTENT_READ = 0x1
PERM_WRITE = 0x2
PERM_WRITE_UNCHANGED = 0x4
PERM_RESIZE = 0x8
PERM_ALL = 0xF
PERM_NAMES = ("consistent read", "write", "write unchanged", "resize")

LOCK_PERM_BASE = 100
LOCK_SHARED_BASE = 200

# Linux <asm-generic/fcntl.h>: F_OFD_GETLK 36, F_OFD_SETLK 37 (Python has them on Linux)
F_OFD_GETLK = getattr(fcntl, "F_OFD_GETLK", 36)
F_OFD_SETLK = getattr(fcntl, "F_OFD_SETLK", 37)
# struct flock on 64-bit Linux: short l_type, short l_whence, off_t l_start,
# off_t l_len, pid_t l_pid (padded to 32 bytes); l_pid must be 0 for OFD locks
_FLOCK = struct.Struct("@hhqqi0q")
LOCKING_MODES = ("on", "off", "auto")
# errors meaning "this file system (or kernel) has no OFD locks"
_UNSUPPORTED = (errno.EINVAL, errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS)


class LockConflict(BlockError):
    """Another user holds a lock byte we need; ``detail`` is the message QEMU
    prints where no "Could not open" prefix applies (``-drive`` errors)."""

    def __init__(self, message: str, detail: str | None = None) -> None:
        super().__init__(message)
        self.detail = detail if detail is not None else message


@dataclass(frozen=True)
class LockPolicy:
    """How one user of an image locks it (QEMU's BlockBackend perms and file options).

    ``shared`` is what the user lets others do; the permissions it takes
    follow from opening read-only or not, ``no_io`` (metadata only, as
    ``qemu-img info``: no consistent-read claim) and ``resize``.
    ``locking`` is ``file.locking``; ``force_share`` is ``-U`` / ``force-share=on``.
    """

    locking: str = "auto"
    force_share: bool = False
    shared: int = PERM_ALL
    no_io: bool = False
    resize: bool = False

    def for_backing(self) -> LockPolicy:
        """A backing file: read only, and nobody may write or resize it under us.
        ``force_share`` is inherited; ``file.locking`` is not (QEMU: it is an
        option of the top image's file node)."""
        return LockPolicy(force_share=self.force_share,
                          shared=PERM_ALL & ~(PERM_WRITE | PERM_RESIZE), no_io=self.no_io)

    def with_locking(self, locking: str) -> LockPolicy:
        return replace(self, locking=locking)


#: qemu-img's own opens (blk_new_open): take what the access needs, share everything.
DEFAULT = LockPolicy()
#: A guest device (virtio-blk without share-rw): nobody else may write.
DEVICE = LockPolicy(shared=PERM_ALL & ~PERM_WRITE)
#: Reading a backing file's header to create an overlay on it (bdrv_img_create).
PROBE = LockPolicy(force_share=True, no_io=True)
#: Creating an image: qemu-img create / convert's target before formatting.
CREATE_PERM = PERM_WRITE | PERM_RESIZE
CREATE_SHARED = PERM_ALL & ~PERM_RESIZE


def file_perms(fmt: str, readonly: bool, policy: LockPolicy) -> tuple[int, int]:
    """``(perm, shared)`` the format driver takes on its file, as QEMU's drivers do.

    raw passes its user's permissions through; qcow2 keeps metadata in the
    file, so it reads it consistently, resizes it when writable, and never
    lets anyone else write or resize it.
    """
    if policy.force_share and not readonly:
        raise BlockError("force-share=on can only be used with read-only images")
    perm = 0 if policy.no_io else PERM_CONSISTENT_READ
    if not readonly:
        perm |= PERM_CONSISTENT_READ | PERM_WRITE
    if policy.resize:
        perm |= PERM_RESIZE
    shared = policy.shared
    if fmt == "qcow2":
        if not readonly:
            perm |= PERM_RESIZE
        shared &= ~(PERM_WRITE | PERM_RESIZE)
    if policy.force_share:
        shared = PERM_ALL
    return perm, shared


def _flock(fd: int, cmd: int, ltype: int, start: int) -> int:
    raw = fcntl.fcntl(fd, cmd, _FLOCK.pack(ltype, os.SEEK_SET, start, 1, 0))
    return _FLOCK.unpack(raw)[0]


class ImageLock:
    """The lock bytes one open file description holds on an image file."""

    def __init__(self, fd: int, filename: str, locking: str = "auto") -> None:
        if locking not in LOCKING_MODES:
            raise BlockError(f"invalid parameter value: {locking}")
        self.fd = fd
        self.filename = filename
        self.enabled = locking != "off"
        self.required = locking == "on"
        self.perm = 0          # what this description holds now
        self.shared = PERM_ALL

    # -- low level -------------------------------------------------------------------
    def _bytes(self, perm: int, shared: int) -> set[int]:
        held = {LOCK_PERM_BASE + i for i in range(4) if perm >> i & 1}
        return held | {LOCK_SHARED_BASE + i for i in range(4) if not shared >> i & 1}

    def _apply(self, want: set[int], have: set[int]) -> None:
        for byte in sorted(want - have):
            self._set(byte, fcntl.F_RDLCK)
        for byte in sorted(have - want):
            self._set(byte, fcntl.F_UNLCK)

    def _set(self, byte: int, ltype: int) -> None:
        try:
            _flock(self.fd, F_OFD_SETLK, ltype, byte)
        except OSError as e:
            if e.errno in _UNSUPPORTED and not self.required:
                self.enabled = False  # file.locking=auto on a file system without locks
                raise _Unsupported from None
            raise BlockError(f"Failed to lock byte {byte}: {e.strerror}") from None

    def _taken_by_other(self, byte: int) -> bool:
        return _flock(self.fd, F_OFD_GETLK, fcntl.F_WRLCK, byte) != fcntl.F_UNLCK

    def _conflict(self, perm: int, shared: int) -> str | None:
        for i in range(4):
            if perm >> i & 1 and self._taken_by_other(LOCK_SHARED_BASE + i):
                return f'Failed to get "{PERM_NAMES[i]}" lock'
        for i in range(4):
            if not shared >> i & 1 and self._taken_by_other(LOCK_PERM_BASE + i):
                return f'Failed to get shared "{PERM_NAMES[i]}" lock'
        return None

    # -- the interface ---------------------------------------------------------------
    def set_perm(self, perm: int, shared: int) -> None:
        """Hold ``perm`` and share only ``shared``; raise :class:`LockConflict`
        (holding what was held before) if another user is in the way."""
        if not self.enabled:
            return
        old = self._bytes(self.perm, self.shared)
        union = self._bytes(self.perm | perm, self.shared & shared)
        try:
            self._apply(union, old)
            problem = self._conflict(perm, shared)
            if problem is not None:
                self._apply(old, union)
                raise LockConflict(
                    f"{problem}\nIs another process using the image [{self.filename}]?")
            self._apply(self._bytes(perm, shared), union)
        except _Unsupported:
            return
        self.perm, self.shared = perm, shared

    def release(self) -> None:
        """Drop every lock byte (closing the descriptor does the same)."""
        if self.enabled:
            try:
                self._apply(set(), self._bytes(self.perm, self.shared))
            except (_Unsupported, BlockError):
                pass
        self.perm, self.shared = 0, PERM_ALL


class _Unsupported(Exception):
    """Internal: the file system refused OFD locks under file.locking=auto."""
