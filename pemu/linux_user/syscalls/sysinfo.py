"""System information: sysinfo, getrandom, syslog and the calls Linux
allows to answer with ENOSYS (rseq)."""
from __future__ import annotations

import errno
import os

from pemu.linux_user import hostlibc as H
from pemu.linux_user.syscalls import syscall
from pemu.linux_user.syscalls.fs import _wbuf

GRND_NONBLOCK, GRND_RANDOM = 1, 2


@syscall
def sys_sysinfo(t, buf):
    return H.call("sysinfo", _wbuf(t, buf, 112))


@syscall
def sys_getrandom(t, buf, length, flags):
    length = min(length, 1 << 25)
    t.proc.mem.write(buf, os.urandom(length))
    return length


@syscall
def sys_rseq(t, rseq, length, flags, sig):
    return -errno.ENOSYS


@syscall
def sys_membarrier(t, cmd, flags, cpu):
    return 0 if cmd else 0


@syscall
def sys_riscv_flush_icache(t, start, end, flags):
    return 0


@syscall
def sys_riscv_hwprobe(t, pairs, count, cpusetsize, cpus, flags):
    return -errno.ENOSYS


@syscall
def sys_capget(t, hdr, data):
    if data:
        t.proc.mem.write(data, bytes(24))
    return 0


@syscall
def sys_syslog(t, typ, buf, length):
    return -errno.EPERM
