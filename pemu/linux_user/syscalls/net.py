"""Sockets. Socket fds are host fds; sockaddr, socket options and control
messages have the same layout on host and guest (LP64 little-endian), so
buffers pass through in place; msghdr/iovec pointers are translated."""
from __future__ import annotations

import ctypes
import errno
import struct

from pemu.linux_user import hostlibc as H
from pemu.linux_user.syscalls import s32, syscall
from pemu.linux_user.syscalls.fs import _rbuf, _wbuf, blocking, host_iovec


def _addrlen_ptr(t, addrlen: int) -> tuple[int | None, int]:
    if not addrlen:
        return None, 0
    n = t.proc.mem.read_u32(addrlen)
    return _wbuf(t, addrlen, 4), n


@syscall
def sys_socket(t, domain, typ, proto):
    return H.call("socket", s32(domain), s32(typ), s32(proto))


@syscall
def sys_socketpair(t, domain, typ, proto, sv):
    return H.call("socketpair", s32(domain), s32(typ), s32(proto), _wbuf(t, sv, 8))


@syscall
def sys_bind(t, fd, addr, addrlen):
    return H.call("bind", s32(fd), _rbuf(t, addr, addrlen), addrlen & 0xFFFFFFFF)


@syscall
def sys_connect(t, fd, addr, addrlen):
    return blocking(t, "connect", s32(fd), _rbuf(t, addr, addrlen), addrlen & 0xFFFFFFFF)


@syscall
def sys_listen(t, fd, backlog):
    return H.call("listen", s32(fd), s32(backlog))


@syscall
def sys_accept4(t, fd, addr, addrlen, flags):
    plen, n = _addrlen_ptr(t, addrlen)
    paddr = _wbuf(t, addr, n) if addr else None
    return blocking(t, "accept4", s32(fd), paddr, plen, s32(flags))


@syscall
def sys_accept(t, fd, addr, addrlen):
    return sys_accept4(t, fd, addr, addrlen, 0)


def _name(t, fn, fd, addr, addrlen):
    plen, n = _addrlen_ptr(t, addrlen)
    return H.call(fn, s32(fd), _wbuf(t, addr, n), plen)


@syscall
def sys_getsockname(t, fd, addr, addrlen):
    return _name(t, "getsockname", fd, addr, addrlen)


@syscall
def sys_getpeername(t, fd, addr, addrlen):
    return _name(t, "getpeername", fd, addr, addrlen)


@syscall
def sys_sendto(t, fd, buf, ln, flags, addr, addrlen):
    paddr = _rbuf(t, addr, addrlen) if addr else None
    return blocking(t, "sendto", s32(fd), _rbuf(t, buf, ln), ln, s32(flags), paddr,
                    addrlen & 0xFFFFFFFF)


@syscall
def sys_recvfrom(t, fd, buf, ln, flags, addr, addrlen):
    plen, n = _addrlen_ptr(t, addrlen)
    paddr = _wbuf(t, addr, n) if addr else None
    return blocking(t, "recvfrom", s32(fd), _wbuf(t, buf, ln), ln, s32(flags), paddr,
                    plen if addr else None)


@syscall
def sys_setsockopt(t, fd, level, name, val, ln):
    return H.call("setsockopt", s32(fd), s32(level), s32(name),
                  _rbuf(t, val, ln) if val else None, ln & 0xFFFFFFFF)


@syscall
def sys_getsockopt(t, fd, level, name, val, lenp):
    plen, n = _addrlen_ptr(t, lenp)
    return H.call("getsockopt", s32(fd), s32(level), s32(name), _wbuf(t, val, n), plen)


@syscall
def sys_shutdown(t, fd, how):
    return H.call("shutdown", s32(fd), s32(how))


MSGHDR = struct.Struct("<QI4xQQQQi4x")  # name, namelen, iov, iovlen, control, controllen, flags


def _msg(t, msg: int, writing: bool):
    name, namelen, iov, iovlen, ctl, ctllen, flags = MSGHDR.unpack(t.proc.mem.read(msg, 56))
    arr, n = host_iovec(t, iov, iovlen, writing)
    pname = (_wbuf(t, name, namelen) if writing else _rbuf(t, name, namelen)) if name else 0
    pctl = (_wbuf(t, ctl, ctllen) if writing else _rbuf(t, ctl, ctllen)) if ctl else 0
    host = ctypes.create_string_buffer(MSGHDR.pack(pname, namelen, ctypes.addressof(arr), n,
                                                   pctl, ctllen, flags), 56)
    return host, arr


@syscall
def sys_sendmsg(t, fd, msg, flags):
    host, keep = _msg(t, msg, False)
    return blocking(t, "sendmsg", s32(fd), ctypes.addressof(host), s32(flags))


@syscall
def sys_recvmsg(t, fd, msg, flags):
    host, keep = _msg(t, msg, True)
    r = blocking(t, "recvmsg", s32(fd), ctypes.addressof(host), s32(flags))
    if r >= 0:
        _, namelen, _, _, _, ctllen, mflags = MSGHDR.unpack(host.raw)
        mem = t.proc.mem
        mem.write_u32(msg + 8, namelen)
        mem.write_u64(msg + 40, ctllen)
        mem.write_u32(msg + 48, mflags)
    return r


__all__ = ["errno"]
