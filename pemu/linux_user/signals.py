"""Guest signals: dispositions, the riscv64 rt_sigframe, delivery and return.

Frame layout (arch/riscv/kernel/signal.c, uapi asm/ucontext.h, sigcontext.h):

    rt_sigframe  = siginfo (128) + ucontext
    ucontext     = uc_flags u64 @0, uc_link @8, uc_stack {sp @16, flags @24,
                   size @32}, uc_sigmask @40, padding to 168, uc_mcontext @176
                   (16-byte aligned because of the Q-extension FP state)
    sigcontext   = sc_regs[32] (pc, x1..x31) @0, FP state @256: f[0..31] u64
                   then fcsr u32 (the union is sized for Q: 528 bytes)

The handler gets a0 = signal, a1 = &info, a2 = &uc, ra = the sigreturn
trampoline (li a7, 139; ecall) in a "[vdso]" page, sp 16-byte aligned.
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
FRAME_SIZE = 128 + 176 + 256 + 528
UC_OFF = 128
MC_OFF = UC_OFF + 176
SIGRETURN_CODE = struct.pack("<II", 0x08B00893, 0x00000073)  # li a7,139; ecall


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


def build_frame(buf, sp: int, x: list[int], f: list[int], fcsr: int, pc: int,
                info: SigInfo, oldmask: int, altstack: tuple[int, int, int]) -> None:
    """Write an rt_sigframe at guest address sp (the caller checked it)."""
    frame = bytearray(FRAME_SIZE)
    frame[0:128] = info.pack()
    ss_sp, ss_flags, ss_size = altstack
    struct.pack_into("<QQQiiQQ", frame, UC_OFF, 0, 0, ss_sp, ss_flags, 0, ss_size, oldmask)
    struct.pack_into("<32Q", frame, MC_OFF, pc, *x[1:32])
    struct.pack_into("<32QI", frame, MC_OFF + 256, *f, fcsr)
    buf[sp:sp + FRAME_SIZE] = frame


def read_frame(data: bytes) -> tuple[int, list[int], list[int], int, int]:
    """(pc, x, f, fcsr, sigmask) from the bytes of an rt_sigframe."""
    mask = struct.unpack_from("<Q", data, UC_OFF + 40)[0]
    regs = list(struct.unpack_from("<32Q", data, MC_OFF))
    fp = struct.unpack_from("<32QI", data, MC_OFF + 256)
    pc = regs[0]
    regs[0] = 0
    return pc, regs, list(fp[:32]), fp[32], mask
