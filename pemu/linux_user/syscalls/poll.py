"""Waiting on descriptors: ppoll, pselect6, epoll, eventfd.

pollfd, fd_set and timespec have the host layout; riscv64's epoll_event is
16 bytes (u32 events, u64 data at offset 8) while x86-64's is packed (12
bytes), so epoll events are converted."""
from __future__ import annotations

import ctypes
import errno
import platform
import struct

from pemu.linux_user import hostlibc as H
from pemu.linux_user.syscalls import s32, syscall
from pemu.linux_user.syscalls.fs import _rbuf, _wbuf

HOST_EV = struct.Struct("<IQ" if platform.machine() == "x86_64" else "<I4xQ")
GUEST_EV = struct.Struct("<I4xQ")


def _host_sigset(t, addr: int) -> ctypes.Array | None:
    if not addr:
        return None
    mask = t.proc.mem.read_u64(addr)
    buf = (ctypes.c_uint64 * 16)()
    buf[0] = mask & ~((1 << 3) | (1 << 6) | (1 << 7) | (1 << 10) | (1 << 4))
    return buf


def _interruptible(t, r: int) -> int:
    if r == -errno.EINTR:
        return -errno.EINTR
    return r


@syscall
def sys_ppoll(t, fds, nfds, tmo, sigmask, size):
    pfds = _wbuf(t, fds, 8 * nfds) if nfds else None
    ptmo = _rbuf(t, tmo, 16) if tmo else None
    hs = _host_sigset(t, sigmask)
    return _interruptible(t, H.call("ppoll", pfds, nfds, ptmo,
                                    ctypes.addressof(hs) if hs is not None else None))


@syscall
def sys_pselect6(t, n, inp, outp, exp, tsp, sig):
    nbytes = ((s32(n) + 63) // 64) * 8
    ptrs = [_wbuf(t, a, nbytes) if a else None for a in (inp, outp, exp)]
    ptsp = _rbuf(t, tsp, 16) if tsp else None
    hs = None
    if sig:
        setp, _ = struct.unpack("<QQ", t.proc.mem.read(sig, 16))
        hs = _host_sigset(t, setp)
    r = H.call("pselect", s32(n), *ptrs, ptsp, ctypes.addressof(hs) if hs is not None else None)
    return _interruptible(t, r)


@syscall
def sys_epoll_create1(t, flags):
    return H.call("epoll_create1", s32(flags))


@syscall
def sys_epoll_ctl(t, epfd, op, fd, event):
    host = None
    if event:
        ev, data = GUEST_EV.unpack(t.proc.mem.read(event, 16))
        host = ctypes.create_string_buffer(HOST_EV.pack(ev, data), 16)
    return H.call("epoll_ctl", s32(epfd), s32(op), s32(fd),
                  ctypes.addressof(host) if host is not None else None)


@syscall
def sys_epoll_pwait(t, epfd, events, maxevents, timeout, sigmask, size):
    n = s32(maxevents)
    if n <= 0:
        return -errno.EINVAL
    t.proc.mem.check_writable(events, 16 * n)
    host = ctypes.create_string_buffer(HOST_EV.size * n)
    r = H.call("epoll_wait", s32(epfd), ctypes.addressof(host), n, s32(timeout))
    if r > 0:
        out = bytearray()
        for i in range(r):
            ev, data = HOST_EV.unpack_from(host, i * HOST_EV.size)
            out += GUEST_EV.pack(ev, data)
        t.proc.mem.write(events, bytes(out))
    return _interruptible(t, r)


@syscall
def sys_eventfd2(t, initval, flags):
    return H.call("eventfd", initval & 0xFFFFFFFF, s32(flags))
