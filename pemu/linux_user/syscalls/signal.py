"""Signal system calls: sigaction, masks, sigreturn, altstacks, kill
family, sigsuspend, sigtimedwait, sigpending."""
from __future__ import annotations

import errno
import os
import signal as hsignal
import struct
import time

from pemu.linux_user import signals as S
from pemu.linux_user.syscalls import NO_RESULT, s32, syscall

SIG_BLOCK, SIG_UNBLOCK, SIG_SETMASK = 0, 1, 2
UNBLOCKABLE = S.sig_bit(S.SIGKILL) | S.sig_bit(S.SIGSTOP)


def _valid(sig: int) -> bool:
    return 1 <= sig <= S.NSIG


@syscall
def sys_rt_sigaction(t, sig, act, oact, size):
    sig = s32(sig)
    if not _valid(sig) or size != 8:
        return -errno.EINVAL
    proc = t.proc
    old = proc.sigactions[sig]
    new = None
    # {handler, flags, [restorer,] mask}: pemu's trampoline is the restorer
    restorer = proc.abi.sigaction_has_restorer
    fmt = "<QQQQ" if restorer else "<QQQ"
    if act:
        fields = struct.unpack(fmt, proc.mem.read(act, struct.calcsize(fmt)))
        h, flags, mask = fields[0], fields[1], fields[-1]
        if sig in S.UNCATCHABLE:
            return -errno.EINVAL
        new = S.SigAction(h, flags, mask & ~UNBLOCKABLE)
    if oact:
        vals = (old.handler, old.flags) + ((0,) if restorer else ()) + (old.mask,)
        proc.mem.write(oact, struct.pack(fmt, *vals))
    if new is not None:
        proc.set_action(sig, new)
    return 0


@syscall
def sys_rt_sigprocmask(t, how, set_, oset, size):
    if size != 8:
        return -errno.EINVAL
    old = t.sigmask
    if set_:
        m = t.proc.mem.read_u64(set_)
        how = s32(how)
        if how == SIG_BLOCK:
            new = old | m
        elif how == SIG_UNBLOCK:
            new = old & ~m
        elif how == SIG_SETMASK:
            new = m
        else:
            return -errno.EINVAL
    if oset:
        t.proc.mem.write_u64(oset, old)
    if set_:
        t.set_sigmask(new)
    return 0


@syscall
def sys_rt_sigreturn(t):
    return t.sigreturn()


@syscall
def sys_rt_sigpending(t, set_, size):
    bits = 0
    for info in t.pending + t.proc.pending:
        bits |= S.sig_bit(info.signo)
    try:
        for sig in hsignal.sigpending():
            bits |= S.sig_bit(int(sig))
    except OSError:
        pass
    t.proc.mem.write_u64(set_, bits & t.sigmask)
    return 0


@syscall
def sys_sigaltstack(t, ss, oss):
    sp = t.proc.abi.get_sp(t.cpu)
    if oss:
        ss_sp, flags, size = t.altstack
        if t.on_altstack(sp):
            flags = S.SS_ONSTACK
        t.proc.mem.write(oss, struct.pack("<QiiQ", ss_sp, flags, 0, size))
    if ss:
        ss_sp, flags, _, size = struct.unpack("<QiiQ", t.proc.mem.read(ss, 24))
        if t.on_altstack(sp):
            return -errno.EPERM
        if flags & ~S.SS_DISABLE and flags != S.SS_ONSTACK:
            return -errno.EINVAL
        if flags & S.SS_DISABLE:
            t.altstack = (0, S.SS_DISABLE, 0)
        else:
            if size < 2048:
                return -errno.ENOMEM
            t.altstack = (ss_sp, 0, size)
    return 0


def _wait_for_signal(t, deadline: float | None = None) -> bool:
    """Sleep until an unblocked signal is pending (or the deadline passes)."""
    while not t.has_deliverable():
        if deadline is not None and time.monotonic() >= deadline:
            return False
        time.sleep(0.002)
    return True


@syscall
def sys_rt_sigsuspend(t, mask, size):
    if size != 8:
        return -errno.EINVAL
    new = t.proc.mem.read_u64(mask)
    old = t.sigmask
    t.set_sigmask(new)
    _wait_for_signal(t)
    t.proc.abi.set_result(t.cpu, -errno.EINTR)
    t.saved_mask = old
    delivered = t.deliver_signals(t.cpu)
    t.saved_mask = None
    if not delivered:
        t.set_sigmask(old)
    return NO_RESULT


@syscall
def sys_rt_sigtimedwait(t, set_, info, timeout, size):
    want = t.proc.mem.read_u64(set_)
    deadline = None
    if timeout:
        sec, nsec = struct.unpack("<qq", t.proc.mem.read(timeout, 16))
        deadline = time.monotonic() + sec + nsec / 1e9
    while True:
        for q in (t.pending, t.proc.pending):
            for i, si in enumerate(q):
                if want & S.sig_bit(si.signo):
                    del q[i]
                    if info:
                        t.proc.mem.write(info, si.pack())
                    return si.signo
        host = [s for s in range(1, S.NSIG + 1) if want & S.sig_bit(s) and S.host_mirrorable(s)]
        if host:
            got = hsignal.sigtimedwait(host, 0.01)
            if got is not None:
                si = S.SigInfo(got.si_signo, got.si_code, got.si_pid, got.si_uid)
                if info:
                    t.proc.mem.write(info, si.pack())
                return si.signo
        else:
            time.sleep(0.005)
        if deadline is not None and time.monotonic() >= deadline:
            return -errno.EAGAIN


def _post_self(t, sig: int, code: int, thread=None) -> int:
    if sig == 0:
        return 0
    t.proc.post(S.SigInfo(sig, code, t.proc.pid, os.getuid()), thread)
    return 0


@syscall
def sys_kill(t, pid, sig):
    pid, sig = s32(pid), s32(sig)
    if sig < 0 or sig > S.NSIG:
        return -errno.EINVAL
    if pid == t.proc.pid:
        return _post_self(t, sig, S.SI_USER)
    os.kill(pid, sig)
    return 0


@syscall
def sys_tkill(t, tid, sig):
    return sys_tgkill(t, t.proc.pid, tid, sig)


@syscall
def sys_tgkill(t, tgid, tid, sig):
    tid, sig = s32(tid), s32(sig)
    if sig < 0 or sig > S.NSIG or tid <= 0:
        return -errno.EINVAL
    target = t.proc.threads.get(tid)
    if target is not None:
        return _post_self(t, sig, S.SI_TKILL, target)
    if s32(tgid) == t.proc.pid:
        return -errno.ESRCH
    os.kill(tid, sig)
    return 0
