"""Clocks, sleeps and interval timers (struct timespec/timeval/itimerval
have the same LP64 layout on host and guest)."""
from __future__ import annotations

import errno
import struct
import time

from pemu.linux_user import hostlibc as H
from pemu.linux_user.syscalls import s32, syscall
from pemu.linux_user.syscalls.fs import _rbuf, _wbuf

TIMER_ABSTIME = 1


@syscall
def sys_clock_gettime(t, clk, tp):
    try:
        ns = time.clock_gettime_ns(s32(clk))
    except OSError:
        return -errno.EINVAL
    t.proc.mem.write(tp, struct.pack("<qq", ns // 1_000_000_000, ns % 1_000_000_000))
    return 0


@syscall
def sys_clock_getres(t, clk, tp):
    try:
        res = time.clock_getres(s32(clk))
    except OSError:
        return -errno.EINVAL
    if tp:
        ns = round(res * 1e9)
        t.proc.mem.write(tp, struct.pack("<qq", ns // 1_000_000_000, ns % 1_000_000_000))
    return 0


@syscall
def sys_gettimeofday(t, tv, tz):
    ns = time.time_ns()
    if tv:
        t.proc.mem.write(tv, struct.pack("<qq", ns // 1_000_000_000,
                                         (ns % 1_000_000_000) // 1000))
    if tz:
        t.proc.mem.write(tz, bytes(8))
    return 0


def _sleep_result(t, r: int) -> int:
    if r == -errno.EINTR:
        return -errno.EINTR
    return r


@syscall
def sys_nanosleep(t, req, rem):
    preq = _rbuf(t, req, 16)
    prem = _wbuf(t, rem, 16) if rem else None
    return _sleep_result(t, H.call("nanosleep", preq, prem))


@syscall
def sys_clock_nanosleep(t, clk, flags, req, rem):
    preq = _rbuf(t, req, 16)
    prem = _wbuf(t, rem, 16) if rem and not flags & TIMER_ABSTIME else None
    r = H.libc.clock_nanosleep(s32(clk), s32(flags), preq, prem)
    return -r if r else 0


@syscall
def sys_setitimer(t, which, new, old):
    pnew = _rbuf(t, new, 32) if new else None
    pold = _wbuf(t, old, 32) if old else None
    return H.call("setitimer", s32(which), pnew, pold)


@syscall
def sys_getitimer(t, which, cur):
    return H.call("getitimer", s32(which), _wbuf(t, cur, 32))


@syscall
def sys_times(t, buf):
    p = _wbuf(t, buf, 32) if buf else None
    return H.call("times", p)
