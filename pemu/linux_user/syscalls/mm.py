"""Memory: brk, mmap, munmap, mprotect, mremap, madvise and friends.

File mappings are private copies of the file's bytes (MAP_SHARED file
mappings are copied too: writes through them are not written back)."""
from __future__ import annotations

import errno
import os

from pemu.linux_user.memory import PAGE, SIZE, Vma, page_up
from pemu.linux_user.syscalls import s32, syscall

MAP_SHARED, MAP_PRIVATE, MAP_FIXED, MAP_ANONYMOUS = 1, 2, 0x10, 0x20
MAP_FIXED_NOREPLACE = 0x100000
MREMAP_MAYMOVE, MREMAP_FIXED = 1, 2
MADV_DONTNEED = 4


@syscall
def sys_brk(t, addr):
    mem = t.proc.mem
    with mem.lock:
        cur = mem.brk_cur
        if addr < mem.brk_start:
            return cur
        old_top, new_top = page_up(cur), page_up(addr)
        if new_top > old_top:
            if not mem._free(old_top, new_top) or new_top >= mem.mmap_base:
                return cur
            heap = mem.find(old_top - 1) if old_top > mem.brk_start else None
            if heap is not None and heap.name == "[heap]" and heap.end == old_top:
                heap.end = new_top
            else:
                mem.map(old_top, new_top - old_top, 3, "[heap]")
        elif new_top < old_top:
            mem.unmap(new_top, old_top - new_top)
        if addr < cur:  # what the guest gives back reads as zero if regrown
            mem.buf[addr:page_up(addr)] = bytes(page_up(addr) - addr)
        mem.brk_cur = addr
        return addr


@syscall
def sys_mmap(t, addr, length, prot, flags, fd, off):
    mem = t.proc.mem
    flags, fd = s32(flags), s32(fd)
    if length == 0 or off & (PAGE - 1) or addr & (PAGE - 1) and flags & MAP_FIXED:
        return -errno.EINVAL
    if length > SIZE:
        return -errno.ENOMEM
    length = page_up(length)
    name, dev_ino, data = "", (0, 0), b""
    if not flags & MAP_ANONYMOUS:
        try:
            st = os.fstat(fd)
            name = os.readlink(f"/proc/self/fd/{fd}")
        except OSError as e:
            return -(e.errno or errno.EBADF)
        dev_ino = (st.st_dev, st.st_ino)
        try:
            data = os.pread(fd, length, off)
        except OSError as e:
            if e.errno != errno.ENODEV:
                return -(e.errno or errno.EACCES)
    with mem.lock:
        if flags & (MAP_FIXED | MAP_FIXED_NOREPLACE):
            if addr + length > SIZE:
                return -errno.ENOMEM
            if flags & MAP_FIXED_NOREPLACE and not mem._free(addr, addr + length):
                return -errno.EEXIST
            start = addr
        else:
            start = mem.find_free(length, addr & ~(PAGE - 1))
            if start is None:
                return -errno.ENOMEM
        mem.map(start, length, prot & 7, name, off if name else 0, dev_ino,
                bool(flags & MAP_SHARED))
        if data:
            mem.buf[start:start + len(data)] = data
    return start


@syscall
def sys_munmap(t, addr, length):
    # mm/mmap.c __do_munmap: unaligned, beyond TASK_SIZE, or empty is EINVAL
    if addr & (PAGE - 1) or addr > SIZE or length > SIZE - addr:
        return -errno.EINVAL
    if page_up(length) == 0:
        return -errno.EINVAL
    t.proc.mem.unmap(addr, length)
    return 0


@syscall
def sys_mprotect(t, addr, length, prot):
    if addr & (PAGE - 1):
        return -errno.EINVAL
    if length == 0:
        return 0
    return 0 if t.proc.mem.protect(addr, length, prot & 7) else -errno.ENOMEM


@syscall
def sys_mremap(t, old, old_size, new_size, flags, new_addr):
    mem = t.proc.mem
    if old & (PAGE - 1) or new_size == 0:
        return -errno.EINVAL
    old_size, new_size = page_up(old_size), page_up(new_size)
    with mem.lock:
        v = mem.find(old)
        if v is None:
            return -errno.EFAULT
        if flags & MREMAP_FIXED:
            dest = new_addr
        elif new_size <= old_size:
            if new_size < old_size:
                mem.unmap(old + new_size, old_size - new_size)
            return old
        elif mem._free(old + old_size, old + new_size) and old + new_size <= mem.mmap_base \
                or mem._free(old + old_size, old + new_size) and old >= mem.mmap_base:
            _extend(mem, v, old, old_size, new_size)
            return old
        elif not flags & MREMAP_MAYMOVE:
            return -errno.ENOMEM
        else:
            dest = mem.find_free(new_size)
            if dest is None:
                return -errno.ENOMEM
        data = mem.buf[old:old + min(old_size, new_size)]
        mem.map(dest, new_size, v.prot, v.name, v.offset, v.dev_ino, v.shared)
        mem.buf[dest:dest + len(data)] = data
        mem.unmap(old, old_size)
        return dest


def _extend(mem, v: Vma, old: int, old_size: int, new_size: int) -> None:
    if v.end == old + old_size:
        mem.buf.madvise(4, old + old_size, new_size - old_size)
        v.end = old + new_size
    else:
        mem.map(old + old_size, new_size - old_size, v.prot, v.name, v.offset, v.dev_ino,
                v.shared)


@syscall
def sys_madvise(t, addr, length, advice):
    mem = t.proc.mem
    if s32(advice) == MADV_DONTNEED and length:
        v = mem.find(addr)
        if v is not None and not v.name.startswith("/"):
            end = min(page_up(addr + length), v.end)
            mem.buf.madvise(4, addr, end - addr)
    return 0


@syscall
def sys_msync(t, addr, length, flags):
    return 0


@syscall
def sys_mlock(t, addr, length):
    return 0


@syscall
def sys_munlock(t, addr, length):
    return 0


@syscall
def sys_mlockall(t, flags):
    return 0


@syscall
def sys_munlockall(t):
    return 0


@syscall
def sys_mincore(t, addr, length, vec):
    n = page_up(length) // PAGE
    t.proc.mem.write(vec, b"\1" * n)
    return 0
