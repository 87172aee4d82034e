"""Paths and metadata: stat family, directories, links, permissions,
renames, cwd. Paths go through the process's -L prefix mapping."""
from __future__ import annotations

import errno
import os
import struct

from pemu.linux_user import hostlibc as H
from pemu.linux_user.syscalls import AT_FDCWD, s32, syscall
from pemu.linux_user.syscalls.fs import _wbuf, dirfd, guest_path, host_path

AT_SYMLINK_NOFOLLOW, AT_REMOVEDIR, AT_SYMLINK_FOLLOW, AT_EACCESS = 0x100, 0x200, 0x400, 0x200
AT_EMPTY_PATH = 0x1000
STAT_FMT = struct.Struct("<QQIIIIQQqiiqqQqQqQII")  # asm-generic struct stat (128 bytes)


def pack_stat(st: os.stat_result) -> bytes:
    def ts(ns: int) -> tuple[int, int]:
        return ns // 1_000_000_000, ns % 1_000_000_000
    a, m, c = ts(st.st_atime_ns), ts(st.st_mtime_ns), ts(st.st_ctime_ns)
    return STAT_FMT.pack(st.st_dev, st.st_ino, st.st_mode, st.st_nlink, st.st_uid, st.st_gid,
                         st.st_rdev, 0, st.st_size, st.st_blksize, 0, st.st_blocks,
                         a[0], a[1], m[0], m[1], c[0], c[1], 0, 0)


def _dir(v: int) -> int | None:
    fd = dirfd(v)
    return None if fd == AT_FDCWD else fd


@syscall
def sys_fstat(t, fd, buf):
    t.proc.mem.write(buf, pack_stat(os.fstat(s32(fd))))
    return 0


@syscall
def sys_newfstatat(t, dfd, path, buf, flags):
    p = host_path(t, path)
    flags = s32(flags)
    if not p and flags & AT_EMPTY_PATH:
        st = os.fstat(s32(dfd)) if dirfd(dfd) != AT_FDCWD else os.stat(".")
    elif not p:
        return -errno.ENOENT
    else:
        st = os.stat(p, dir_fd=_dir(dfd) if not p.startswith(b"/") else None,
                     follow_symlinks=not flags & AT_SYMLINK_NOFOLLOW)
    t.proc.mem.write(buf, pack_stat(st))
    return 0


@syscall
def sys_statx(t, dfd, path, flags, mask, buf):
    p = host_path(t, path)
    return H.call("statx", dirfd(dfd), p, s32(flags), mask & 0xFFFFFFFF, _wbuf(t, buf, 256))


@syscall
def sys_statfs(t, path, buf):
    return H.call("statfs", host_path(t, path), _wbuf(t, buf, 120))


@syscall
def sys_fstatfs(t, fd, buf):
    return H.call("fstatfs", s32(fd), _wbuf(t, buf, 120))


@syscall
def sys_faccessat(t, dfd, path, mode):
    p = host_path(t, path)
    ok = os.access(p, s32(mode), dir_fd=_dir(dfd) if not p.startswith(b"/") else None)
    if ok:
        return 0
    return -errno.ENOENT if not os.path.lexists(p) and _dir(dfd) is None else -errno.EACCES


@syscall
def sys_faccessat2(t, dfd, path, mode, flags):
    p = host_path(t, path)
    try:
        ok = os.access(p, s32(mode), dir_fd=_dir(dfd) if not p.startswith(b"/") else None,
                       effective_ids=bool(flags & AT_EACCESS),
                       follow_symlinks=not flags & AT_SYMLINK_NOFOLLOW)
    except NotImplementedError:
        ok = os.access(p, s32(mode))
    if ok:
        return 0
    return -errno.ENOENT if not os.path.lexists(p) and _dir(dfd) is None else -errno.EACCES


@syscall
def sys_readlinkat(t, dfd, path, buf, size):
    gp = os.fsdecode(guest_path(t, path))
    pid = t.proc.pid
    if gp in ("/proc/self/exe", f"/proc/{pid}/exe"):
        target = os.fsencode(t.proc.exe.path if t.proc.exe else "")
    else:
        hp = os.fsencode(t.proc.host_path(gp))
        target = os.readlink(hp, dir_fd=_dir(dfd) if not hp.startswith(b"/") else None)
    target = target[:size]
    t.proc.mem.write(buf, target)
    return len(target)


@syscall
def sys_getcwd(t, buf, size):
    cwd = os.getcwdb() + b"\0"
    if len(cwd) > size:
        return -errno.ERANGE
    t.proc.mem.write(buf, cwd)
    return len(cwd)


@syscall
def sys_chdir(t, path):
    os.chdir(host_path(t, path))
    return 0


@syscall
def sys_fchdir(t, fd):
    os.fchdir(s32(fd))
    return 0


@syscall
def sys_mkdirat(t, dfd, path, mode):
    os.mkdir(host_path(t, path), mode & 0o7777, dir_fd=_dir(dfd))
    return 0


@syscall
def sys_mknodat(t, dfd, path, mode, dev):
    os.mknod(host_path(t, path), mode & 0xFFFFFFFF, dev, dir_fd=_dir(dfd))
    return 0


@syscall
def sys_unlinkat(t, dfd, path, flags):
    p = host_path(t, path)
    if s32(flags) & AT_REMOVEDIR:
        os.rmdir(p, dir_fd=_dir(dfd))
    else:
        os.unlink(p, dir_fd=_dir(dfd))
    return 0


@syscall
def sys_renameat2(t, olddfd, old, newdfd, new, flags):
    if flags:
        return H.call("renameat2", dirfd(olddfd), host_path(t, old), dirfd(newdfd),
                      host_path(t, new), flags & 0xFFFFFFFF)
    os.rename(host_path(t, old), host_path(t, new), src_dir_fd=_dir(olddfd),
              dst_dir_fd=_dir(newdfd))
    return 0


@syscall
def sys_renameat(t, olddfd, old, newdfd, new):
    """aarch64 keeps renameat (38); riscv64 has only renameat2."""
    return sys_renameat2(t, olddfd, old, newdfd, new, 0)


@syscall
def sys_symlinkat(t, target, newdfd, linkpath):
    os.symlink(guest_path(t, target), host_path(t, linkpath), dir_fd=_dir(newdfd))
    return 0


@syscall
def sys_linkat(t, olddfd, old, newdfd, new, flags):
    os.link(host_path(t, old), host_path(t, new), src_dir_fd=_dir(olddfd),
            dst_dir_fd=_dir(newdfd), follow_symlinks=bool(flags & AT_SYMLINK_FOLLOW))
    return 0


@syscall
def sys_fchmod(t, fd, mode):
    os.fchmod(s32(fd), mode & 0o7777)
    return 0


@syscall
def sys_fchmodat(t, dfd, path, mode):
    os.chmod(host_path(t, path), mode & 0o7777, dir_fd=_dir(dfd))
    return 0


@syscall
def sys_fchown(t, fd, uid, gid):
    os.fchown(s32(fd), s32(uid), s32(gid))
    return 0


@syscall
def sys_fchownat(t, dfd, path, uid, gid, flags):
    p = host_path(t, path)
    if not p and flags & AT_EMPTY_PATH:
        os.fchown(s32(dfd), s32(uid), s32(gid))
        return 0
    os.chown(p, s32(uid), s32(gid), dir_fd=_dir(dfd),
             follow_symlinks=not flags & AT_SYMLINK_NOFOLLOW)
    return 0


@syscall
def sys_truncate(t, path, length):
    os.truncate(host_path(t, path), length)
    return 0


@syscall
def sys_utimensat(t, dfd, path, times, flags):
    p = host_path(t, path) if path else None
    tp = t.proc.hptr(t.proc.mem.read(times, 32) and times) if times else None
    return H.call("utimensat", dirfd(dfd), p, tp, s32(flags))


@syscall
def sys_umask(t, mask):
    return os.umask(mask & 0o777)


@syscall
def sys_chroot(t, path):
    return -errno.EPERM
