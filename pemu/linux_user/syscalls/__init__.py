"""System calls of the emulated Linux, by topic.

Each topic module defines `sys_<name>(t, a0, a1, ...)` functions decorated
with `@syscall`; `t` is the calling GuestThread, the arguments are the raw
64-bit register values a0..a5. A handler returns the result (a negative
errno on failure), or raises OSError (its errno becomes the result) or
`Fault` (EFAULT). Returning `NO_RESULT` leaves a0 alone (rt_sigreturn).
Numbers come from the per-arch table (`linux_user/<arch>/numbers.py`), so handlers are
shared by every architecture with the generic syscall ABI.
"""
from __future__ import annotations

import errno
from collections.abc import Callable

SYSCALLS: dict[str, Callable[..., int]] = {}
NO_RESULT = object()
M64 = (1 << 64) - 1
AT_FDCWD = -100


def syscall(fn: Callable[..., int]) -> Callable[..., int]:
    """Register `sys_<name>` under <name>."""
    name = fn.__name__
    assert name.startswith("sys_"), name
    fn.nargs = fn.__code__.co_argcount - 1  # type: ignore[attr-defined]
    SYSCALLS[name[4:]] = fn
    return fn


def s32(v: int) -> int:
    """The low 32 bits of a register as a signed int (fd, flags)."""
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v & 0x80000000 else v


def s64(v: int) -> int:
    return v - (1 << 64) if v & (1 << 63) else v


def err(code: int) -> int:
    return -code


ENOSYS = errno.ENOSYS


def load_all() -> None:
    """Import every topic module (registers their handlers)."""
    from pemu.linux_user.syscalls import (  # noqa: F401
        fs,
        fs_meta,
        futex,
        mm,
        net,
        poll,
        proc,
        signal,
        sysinfo,
        time,
    )
