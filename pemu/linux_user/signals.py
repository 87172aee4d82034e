"""Guest signals: dispositions, siginfo, delivery and death by signal.

The frame a handler gets is per-ISA (linux_user/<arch>/signal.py).
Host signals the guest catches are caught by Python handlers that queue
them; SIG_DFL and SIG_IGN are mirrored onto the host, so a guest killed by
a signal kills pemu the same way.
"""
from __future__ import annotations

import os
import resource
import signal as hsignal
import struct
from dataclasses import dataclass

NSIG = 64
SIG_DFL, SIG_IGN = 0, 1
SA_NOCLDSTOP, SA_NOCLDWAIT, SA_SIGINFO = 1, 2, 4
SA_ONSTACK, SA_RESTART, SA_NODEFER, SA_RESETHAND = 0x08000000, 0x10000000, 0x40000000, 0x80000000
SS_ONSTACK, SS_DISABLE = 1, 2

SIGHUP, SIGINT, SIGQUIT, SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE = 1, 2, 3, 4, 5, 6, 7, 8
SIGKILL, SIGUSR1, SIGSEGV, SIGUSR2, SIGPIPE, SIGALRM, SIGTERM = 9, 10, 11, 12, 13, 14, 15
SIGCHLD, SIGCONT, SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU, SIGURG = 17, 18, 19, 20, 21, 22, 23
SIGXCPU, SIGXFSZ, SIGWINCH, SIGSYS = 24, 25, 28, 31

CORE = {SIGQUIT, SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE, SIGSEGV, SIGXCPU, SIGXFSZ, SIGSYS}
IGNORED = {SIGCHLD, SIGURG, SIGWINCH, SIGCONT}
STOP = {SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU}
SYNC = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP}  # raised by the CPU, never mirrored
UNCATCHABLE = {SIGKILL, SIGSTOP}

SI_USER, SI_TKILL = 0, -6


@dataclass
class SigAction:
    handler: int = SIG_DFL
    flags: int = 0
    mask: int = 0


@dataclass
class SigInfo:
    signo: int
    code: int = SI_USER
    pid: int = 0
    uid: int = 0
    addr: int | None = None
    status: int = 0

    def pack(self) -> bytes:
        b = bytearray(128)
        struct.pack_into("<iii", b, 0, self.signo, 0, self.code)
        if self.addr is not None:
            struct.pack_into("<Q", b, 16, self.addr)
        else:
            struct.pack_into("<iI", b, 16, self.pid, self.uid)
            if self.signo == SIGCHLD:
                struct.pack_into("<i", b, 24, self.status)
        return bytes(b)


def sig_bit(sig: int) -> int:
    return 1 << (sig - 1)


def default_ignored(sig: int) -> bool:
    return sig in IGNORED or sig in STOP


def die_with_signal(sig: int, flush=None) -> None:
    """End pemu the way the guest dies: by the same signal."""
    if flush is not None:
        flush()
    try:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ValueError, OSError):
        pass
    try:
        hsignal.signal(sig, hsignal.SIG_DFL)
        hsignal.pthread_sigmask(hsignal.SIG_UNBLOCK, [sig])
        os.kill(os.getpid(), sig)
    except (OSError, ValueError):
        pass
    os._exit(128 + sig)


def host_mirrorable(sig: int) -> bool:
    """Signals whose guest disposition is mirrored onto the host process."""
    return 1 <= sig <= NSIG and sig not in SYNC and sig not in UNCATCHABLE \
        and sig < hsignal.NSIG and sig not in (32, 33)
