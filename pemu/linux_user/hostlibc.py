"""The host C library through ctypes, for system calls whose structures are
laid out the same on the host (x86-64/aarch64 LP64 Linux) and on riscv64:
the guest buffer's host address is passed straight to the host call, so
reads land in guest memory with no copy. ctypes releases the GIL around
each call, so a guest thread blocked in one does not stop the others.
"""
from __future__ import annotations

import ctypes
import ctypes.util

libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)

_sig = {
    "read": (ctypes.c_ssize_t, [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t]),
    "write": (ctypes.c_ssize_t, [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t]),
    "pread64": (ctypes.c_ssize_t, [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t,
                                   ctypes.c_int64]),
    "pwrite64": (ctypes.c_ssize_t, [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t,
                                    ctypes.c_int64]),
    "readv": (ctypes.c_ssize_t, [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]),
    "writev": (ctypes.c_ssize_t, [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]),
    "preadv": (ctypes.c_ssize_t, [ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.c_int64]),
    "pwritev": (ctypes.c_ssize_t, [ctypes.c_int, ctypes.c_void_p, ctypes.c_int,
                                   ctypes.c_int64]),
    "ioctl": (ctypes.c_int, [ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p]),
    "syscall": (ctypes.c_long, [ctypes.c_long] * 7),
    "recvfrom": (ctypes.c_ssize_t, [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t,
                                    ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p]),
    "sendto": (ctypes.c_ssize_t, [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t,
                                  ctypes.c_int, ctypes.c_void_p, ctypes.c_uint]),
    "recvmsg": (ctypes.c_ssize_t, [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]),
    "sendmsg": (ctypes.c_ssize_t, [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]),
    "accept4": (ctypes.c_int, [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]),
    "connect": (ctypes.c_int, [ctypes.c_int, ctypes.c_void_p, ctypes.c_uint]),
    "bind": (ctypes.c_int, [ctypes.c_int, ctypes.c_void_p, ctypes.c_uint]),
    "getsockname": (ctypes.c_int, [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p]),
    "getpeername": (ctypes.c_int, [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p]),
    "setsockopt": (ctypes.c_int, [ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_void_p,
                                  ctypes.c_uint]),
    "getsockopt": (ctypes.c_int, [ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_void_p,
                                  ctypes.c_void_p]),
    "ppoll": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_void_p, ctypes.c_void_p]),
    "getdents64": (ctypes.c_ssize_t, [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t]),
    "statx": (ctypes.c_int, [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_uint,
                             ctypes.c_void_p]),
    "wait4": (ctypes.c_int, [ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p]),
    "waitid": (ctypes.c_int, [ctypes.c_int, ctypes.c_uint, ctypes.c_void_p, ctypes.c_int]),
    "sendfile": (ctypes.c_ssize_t, [ctypes.c_int, ctypes.c_int, ctypes.c_void_p,
                                    ctypes.c_size_t]),
    "copy_file_range": (ctypes.c_ssize_t, [ctypes.c_int, ctypes.c_void_p, ctypes.c_int,
                                           ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint]),
    "openat": (ctypes.c_int, [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_uint]),
    "dup": (ctypes.c_int, [ctypes.c_int]),
    "flock": (ctypes.c_int, [ctypes.c_int, ctypes.c_int]),
    "dup3": (ctypes.c_int, [ctypes.c_int, ctypes.c_int, ctypes.c_int]),
    "pipe2": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_int]),
    "socket": (ctypes.c_int, [ctypes.c_int, ctypes.c_int, ctypes.c_int]),
    "socketpair": (ctypes.c_int, [ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_void_p]),
    "epoll_create1": (ctypes.c_int, [ctypes.c_int]),
    "epoll_ctl": (ctypes.c_int, [ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_void_p]),
    "epoll_wait": (ctypes.c_int, [ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.c_int]),
    "eventfd": (ctypes.c_int, [ctypes.c_uint, ctypes.c_int]),
    "fcntl": (ctypes.c_int, [ctypes.c_int, ctypes.c_int, ctypes.c_void_p]),
    "pselect": (ctypes.c_int, [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
                               ctypes.c_void_p, ctypes.c_void_p]),
    "nanosleep": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_void_p]),
    "clock_nanosleep": (ctypes.c_int, [ctypes.c_int, ctypes.c_int, ctypes.c_void_p,
                                       ctypes.c_void_p]),
    "prlimit": (ctypes.c_int, [ctypes.c_int, ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p]),
    "sysinfo": (ctypes.c_int, [ctypes.c_void_p]),
    "getrusage": (ctypes.c_int, [ctypes.c_int, ctypes.c_void_p]),
    "times": (ctypes.c_long, [ctypes.c_void_p]),
    "setitimer": (ctypes.c_int, [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p]),
    "getitimer": (ctypes.c_int, [ctypes.c_int, ctypes.c_void_p]),
    "listen": (ctypes.c_int, [ctypes.c_int, ctypes.c_int]),
    "shutdown": (ctypes.c_int, [ctypes.c_int, ctypes.c_int]),
    "memfd_create": (ctypes.c_int, [ctypes.c_char_p, ctypes.c_uint]),
    "utimensat": (ctypes.c_int, [ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_int]),
    "sched_getaffinity": (ctypes.c_int, [ctypes.c_int, ctypes.c_size_t, ctypes.c_void_p]),
    "statfs": (ctypes.c_int, [ctypes.c_char_p, ctypes.c_void_p]),
    "fstatfs": (ctypes.c_int, [ctypes.c_int, ctypes.c_void_p]),
    "renameat2": (ctypes.c_int, [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                                 ctypes.c_uint]),
}
for _name, (_res, _args) in _sig.items():
    _f = getattr(libc, _name)
    _f.restype = _res
    _f.argtypes = _args


def check(ret: int) -> int:
    """A libc return value as a syscall result (-errno on failure)."""
    if ret == -1:
        return -ctypes.get_errno()
    return ret


def call(name: str, *args) -> int:
    return check(getattr(libc, name)(*args))
