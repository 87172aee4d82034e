"""File descriptors and I/O: open/close, read/write families, seek, dup,
pipes, fcntl and terminal ioctls. Guest fds are host fds; buffers are
passed to the host C library in place (after an EFAULT check)."""
from __future__ import annotations

import ctypes
import errno
import os
import struct

from pemu.linux_user import hostlibc as H
from pemu.linux_user.memory import PROT_READ, PROT_WRITE
from pemu.linux_user.syscalls import AT_FDCWD, s32, s64, syscall

O_CLOEXEC = 0o2000000
EINTR = errno.EINTR


def dirfd(v: int) -> int:
    fd = s32(v)
    return AT_FDCWD if fd == AT_FDCWD else fd


def guest_path(t, addr: int) -> bytes:
    return t.proc.mem.read_cstr(addr)


def host_path(t, addr: int) -> bytes:
    return os.fsencode(t.proc.host_path(guest_path(t, addr)))


def _wbuf(t, addr: int, n: int) -> int:
    """Host pointer of a guest buffer the host call will write."""
    t.proc.mem.check_writable(addr, n)
    return t.proc.hptr(addr)


def _rbuf(t, addr: int, n: int) -> int:
    t.proc.mem.check(addr, n, PROT_READ)
    return t.proc.hptr(addr)


def blocking(t, fn, *args) -> int:
    """A host call that may block: EINTR becomes a restart or -EINTR."""
    r = H.call(fn, *args)
    if r == -EINTR:
        return t.interrupted()
    return r


@syscall
def sys_read(t, fd, buf, count):
    count = min(count, 0x7FFFF000)
    return blocking(t, "read", s32(fd), _wbuf(t, buf, count), count)


@syscall
def sys_write(t, fd, buf, count):
    count = min(count, 0x7FFFF000)
    return blocking(t, "write", s32(fd), _rbuf(t, buf, count), count)


@syscall
def sys_pread64(t, fd, buf, count, off):
    return blocking(t, "pread64", s32(fd), _wbuf(t, buf, count), count, s64(off))


@syscall
def sys_pwrite64(t, fd, buf, count, off):
    return blocking(t, "pwrite64", s32(fd), _rbuf(t, buf, count), count, s64(off))


def host_iovec(t, iov: int, cnt: int, writing: bool):
    """A host iovec array for a guest one (each buffer checked)."""
    cnt = s32(cnt)
    if cnt < 0 or cnt > 1024:
        raise OSError(errno.EINVAL, "iovcnt")
    raw = t.proc.mem.read(iov, 16 * cnt)
    arr = (ctypes.c_uint64 * (2 * cnt))()
    for i in range(cnt):
        base, ln = struct.unpack_from("<QQ", raw, 16 * i)
        arr[2 * i] = _wbuf(t, base, ln) if writing else _rbuf(t, base, ln)
        arr[2 * i + 1] = ln
    return arr, cnt


@syscall
def sys_readv(t, fd, iov, cnt):
    arr, n = host_iovec(t, iov, cnt, True)
    return blocking(t, "readv", s32(fd), ctypes.addressof(arr), n)


@syscall
def sys_writev(t, fd, iov, cnt):
    arr, n = host_iovec(t, iov, cnt, False)
    return blocking(t, "writev", s32(fd), ctypes.addressof(arr), n)


@syscall
def sys_preadv(t, fd, iov, cnt, off):
    arr, n = host_iovec(t, iov, cnt, True)
    return blocking(t, "preadv", s32(fd), ctypes.addressof(arr), n, s64(off))


@syscall
def sys_pwritev(t, fd, iov, cnt, off):
    arr, n = host_iovec(t, iov, cnt, False)
    return blocking(t, "pwritev", s32(fd), ctypes.addressof(arr), n, s64(off))


def _special_open(t, path: str) -> int | None:
    """/proc files that must describe the guest, not pemu."""
    pid = t.proc.pid
    for prefix in ("/proc/self/", f"/proc/{pid}/", "/proc/thread-self/"):
        if path.startswith(prefix):
            rest = path[len(prefix):]
            if rest == "maps":
                from pemu.linux_user.procfs import maps_text
                return _memfile(maps_text(t.proc))
            if rest == "auxv" or rest == "cmdline":
                return None
    return None


def _memfile(data: bytes) -> int:
    fd = H.call("memfd_create", b"pemu-proc", 0)
    if fd < 0:
        return fd
    os.write(fd, data)
    os.lseek(fd, 0, 0)
    return fd


@syscall
def sys_openat(t, dfd, path, flags, mode):
    gp = os.fsdecode(guest_path(t, path))
    special = _special_open(t, gp)
    if special is not None:
        return special
    hp = os.fsencode(t.proc.host_path(gp))
    flags = t.proc.abi.open_flags_to_host(s32(flags))
    return blocking(t, "openat", dirfd(dfd), hp, flags, mode & 0o7777)


@syscall
def sys_close(t, fd):
    try:
        os.close(s32(fd))
    except OSError as e:
        return -(e.errno or errno.EBADF)
    return 0


@syscall
def sys_close_range(t, first, last, flags):
    if flags:
        return -errno.EINVAL
    os.closerange(first, min(last, 65535) + 1)
    return 0


@syscall
def sys_lseek(t, fd, off, whence):
    return os.lseek(s32(fd), s64(off), s32(whence))


@syscall
def sys_dup(t, fd):
    return H.call("dup", s32(fd))


@syscall
def sys_dup3(t, old, new, flags):
    if s32(old) == s32(new):
        return -errno.EINVAL
    return H.call("dup3", s32(old), s32(new), s32(flags))


@syscall
def sys_pipe2(t, fds, flags):
    buf = (ctypes.c_int * 2)()
    r = H.call("pipe2", ctypes.addressof(buf), s32(flags))
    if r < 0:
        return r
    try:
        t.proc.mem.write(fds, struct.pack("<ii", buf[0], buf[1]))
    except Exception:
        os.close(buf[0])
        os.close(buf[1])
        raise
    return 0


F_DUPFD, F_GETFD, F_SETFD, F_GETFL, F_SETFL, F_GETLK, F_SETLK, F_SETLKW = range(8)
F_DUPFD_CLOEXEC = 1030
FLOCK_SIZE = 32


@syscall
def sys_fcntl(t, fd, cmd, arg):
    cmd = s32(cmd)
    if cmd in (F_GETLK, F_SETLK, F_SETLKW, 36, 37, 38):  # (OFD locks too)
        ptr = _wbuf(t, arg, FLOCK_SIZE)
        return blocking(t, "fcntl", s32(fd), cmd, ptr)
    abi = t.proc.abi
    if cmd == F_SETFL:
        arg = abi.open_flags_to_host(s32(arg))
    if cmd == F_GETFL:
        r = H.call("fcntl", s32(fd), cmd, 0)
        return r if r < 0 else abi.open_flags_from_host(r)
    if cmd in (F_DUPFD, F_GETFD, F_SETFD, F_SETFL, F_DUPFD_CLOEXEC,
               1031, 1032, 1033, 1034, 8, 9, 1024, 1025, 1026):
        return H.call("fcntl", s32(fd), cmd, arg & 0xFFFFFFFFFFFFFFFF)
    return -errno.EINVAL


# ioctl requests whose argument layout is the same on host and guest:
# request -> size of the pointed-to data (0: argument is an integer).
IOCTLS = {
    0x5401: 36, 0x5402: 36, 0x5403: 36, 0x5404: 36,  # TCGETS, TCSETS, TCSETSW, TCSETSF
    0x540B: 0, 0x540E: 0, 0x5422: 0, 0x5409: 0, 0x540A: 0,  # TCFLSH, TIOCSCTTY, ...
    0x540F: 4, 0x5410: 4, 0x5429: 4,  # TIOCGPGRP, TIOCSPGRP, TIOCGSID
    0x5413: 8, 0x5414: 8,  # TIOCGWINSZ, TIOCSWINSZ
    0x541B: 4, 0x5421: 4, 0x5452: 4,  # FIONREAD, FIONBIO, FIOASYNC
    0x5450: 0, 0x5451: 0,  # FIONCLEX, FIOCLEX
    0x80045430: 4,  # TIOCGPTN
    0x40045431: 4,  # TIOCSPTLCK
    0x5412: 4,  # TIOCSTI
    0x5424: 4,  # TIOCGETD / 0x5423 TIOCSETD
}


@syscall
def sys_ioctl(t, fd, req, arg):
    req &= 0xFFFFFFFF
    size = IOCTLS.get(req)
    if size is None:
        if t.proc.log_unimp:
            t.proc.log(f"Unsupported ioctl: cmd=0x{req:04x}\n")
        return -errno.ENOTTY
    ptr = _wbuf(t, arg, size) if size else arg
    return blocking(t, "ioctl", s32(fd), req, ptr)


@syscall
def sys_sendfile(t, out_fd, in_fd, offp, count):
    ptr = _wbuf(t, offp, 8) if offp else None
    return blocking(t, "sendfile", s32(out_fd), s32(in_fd), ptr, count)


@syscall
def sys_copy_file_range(t, fd_in, off_in, fd_out, off_out, ln, flags):
    p_in = _wbuf(t, off_in, 8) if off_in else None
    p_out = _wbuf(t, off_out, 8) if off_out else None
    return blocking(t, "copy_file_range", s32(fd_in), p_in, s32(fd_out), p_out, ln, flags)


@syscall
def sys_fsync(t, fd):
    os.fsync(s32(fd))
    return 0


@syscall
def sys_fdatasync(t, fd):
    os.fdatasync(s32(fd))
    return 0


@syscall
def sys_sync(t):
    os.sync()
    return 0


@syscall
def sys_syncfs(t, fd):
    os.sync()
    return 0


@syscall
def sys_ftruncate(t, fd, length):
    os.ftruncate(s32(fd), s64(length))
    return 0


@syscall
def sys_fallocate(t, fd, mode, off, length):
    if mode:
        return -errno.EOPNOTSUPP
    os.posix_fallocate(s32(fd), s64(off), s64(length))
    return 0


@syscall
def sys_fadvise64(t, fd, off, length, advice):
    return 0


@syscall
def sys_flock(t, fd, op):
    # straight to the host call: the kernel, not Python, judges fd and op
    # (a negative fd is EBADF; LOCK_MAND is accepted and ignored since 5.19)
    return H.call("flock", s32(fd), s32(op))


@syscall
def sys_memfd_create(t, name, flags):
    return H.call("memfd_create", guest_path(t, name), flags & 0xFFFFFFFF)


@syscall
def sys_getdents64(t, fd, dirp, count):
    return H.call("getdents64", s32(fd), _wbuf(t, dirp, count), count)


__all__ = ["PROT_WRITE"]
