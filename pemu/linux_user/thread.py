"""A guest thread: one CPU run by cpu_exec in one host (Python) thread.

Traps come here from the CPU; the process's ABI (linux_user/<arch>/) says
which is a system call (its number, arguments and result registers) and
which signal any other sends (SIGSEGV with SEGV_MAPERR/ACCERR, SIGILL,
SIGBUS, SIGTRAP). At block boundaries (`irq_check`) pending unblocked
signals are delivered by building the ABI's rt_sigframe on the guest stack.
"""
from __future__ import annotations

import errno
import os
import threading
from typing import TYPE_CHECKING, Any

from pemu.accel.tcg.cpu_exec import cpu_exec
from pemu.linux_user import signals as S
from pemu.linux_user.memory import Fault
from pemu.linux_user.syscalls import NO_RESULT, SYSCALLS

if TYPE_CHECKING:
    from pemu.linux_user.process import Process

M64 = (1 << 64) - 1


class ThreadExit(Exception):
    """Ends the guest thread's run loop."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class RestartSyscall(Exception):
    """A blocking call was interrupted by a signal whose handler has SA_RESTART."""


class GuestThread:
    def __init__(self, proc: Process, cpu: Any = None) -> None:
        self.proc = proc
        self.cpu = cpu or proc.abi.new_cpu(proc.mem, self)
        self.cpu.thread = self
        self.cpu.tbs = proc.tbs
        self.cpu.translator = proc.translator
        self.tid = 0
        self.sigmask = 0
        self.pending: list[S.SigInfo] = []
        self.altstack = (0, S.SS_DISABLE, 0)
        self.clear_child_tid = 0
        self.robust_list = 0
        self.host: threading.Thread | None = None
        self.in_syscall = False
        self.saved_mask: int | None = None  # mask to restore after sigsuspend
        if proc.gdbstub is not None:
            proc.gdbstub.attach(self.cpu)  # new threads stop at breakpoints too

    # --- the run loop ---------------------------------------------------------------
    def run(self) -> int:
        """Run guest code until this thread exits; returns its exit status."""
        cpu = self.cpu
        try:
            while True:
                cpu_exec(cpu, 1 << 40)
        except ThreadExit as e:
            return e.status

    # --- traps ------------------------------------------------------------------------
    def on_trap(self, cpu: Any, t: Any) -> None:
        info = self.proc.abi.trap_signal(cpu, t)
        if info is None:
            self.syscall(cpu)
            return
        self.proc.log_int(f"guest fault {t} at pc {cpu.pc:#x} -> signal {info.signo}")
        self.force_signal(info)

    def syscall(self, cpu: Any) -> None:
        proc = self.proc
        abi = proc.abi
        nr = abi.syscall_nr(cpu)
        args = abi.syscall_args(cpu)
        name = abi.numbers.get(nr)
        fn = SYSCALLS.get(name) if name else None
        if proc.strace:
            proc.strace.enter(self, nr, name, args)
        if fn is None:
            if proc.log_unimp and not proc.strace:
                proc.log(f"Unsupported syscall: {nr}{' (' + name + ')' if name else ''}\n")
            ret = -errno.ENOSYS
        else:
            self.in_syscall = True
            try:
                ret = fn(self, *args[:fn.nargs])
            except Fault:
                ret = -errno.EFAULT
            except OSError as e:
                ret = -(e.errno or errno.EIO)
            except RestartSyscall:
                cpu.pc -= abi.syscall_insn_len
                if proc.strace:
                    proc.strace.leave(self, nr, name, -errno.ERESTARTSYS if hasattr(
                        errno, "ERESTARTSYS") else -512, args)
                return
            except (ThreadExit, SystemExit, KeyboardInterrupt):
                raise
            except Exception as e:  # a bug in pemu, never the guest's fault
                ret = proc.syscall_bug(name or str(nr), e)
            finally:
                self.in_syscall = False
        if ret is NO_RESULT:
            if proc.strace:
                proc.strace.leave(self, nr, name, None, abi.syscall_args(cpu))
            return
        if proc.strace:
            proc.strace.leave(self, nr, name, ret, args)
        abi.set_result(cpu, ret)

    # --- signals ----------------------------------------------------------------------
    def force_signal(self, info: S.SigInfo) -> None:
        """A synchronous fault: delivered now; blocked or ignored means death."""
        sig = info.signo
        if self.proc.gdbstub is not None and not self.proc.gdbstub.report_signal(self, sig):
            return  # gdb kept the signal from the guest
        act = self.proc.sigactions[sig]
        if act.handler in (S.SIG_DFL, S.SIG_IGN) or self.sigmask & S.sig_bit(sig):
            self.proc.die(sig)
        self.setup_frame(sig, act, info)

    def queue(self, info: S.SigInfo) -> None:
        self.pending.append(info)
        self.cpu.kick()

    def deliver_signals(self, cpu: Any) -> bool:
        delivered = False
        for source in (self.pending, self.proc.pending):
            i = 0
            while i < len(source):
                info = source[i]
                if self.sigmask & S.sig_bit(info.signo):
                    i += 1
                    continue
                del source[i]
                if self.handle(info):
                    delivered = True
        return delivered

    def has_deliverable(self) -> bool:
        return any(not self.sigmask & S.sig_bit(i.signo)
                   for i in self.pending + self.proc.pending)

    def handle(self, info: S.SigInfo) -> bool:
        sig = info.signo
        if self.proc.gdbstub is not None and not self.proc.gdbstub.report_signal(self, sig):
            return False  # gdb kept the signal from the guest
        act = self.proc.sigactions[sig]
        if act.handler == S.SIG_IGN:
            return False
        if act.handler == S.SIG_DFL:
            if S.default_ignored(sig):
                return False
            self.proc.die(sig)
        self.setup_frame(sig, act, info)
        return True

    def on_altstack(self, sp: int) -> bool:
        ss_sp, flags, size = self.altstack
        return not flags & S.SS_DISABLE and ss_sp < sp <= ss_sp + size

    def setup_frame(self, sig: int, act: S.SigAction, info: S.SigInfo) -> None:
        cpu = self.cpu
        abi = self.proc.abi
        sp = abi.get_sp(cpu)
        ss_sp, ss_flags, ss_size = self.altstack
        on_alt = self.on_altstack(sp)
        if act.flags & S.SA_ONSTACK and not ss_flags & S.SS_DISABLE and not on_alt:
            sp = ss_sp + ss_size
        alt_flags = S.SS_DISABLE if ss_flags & S.SS_DISABLE else (
            S.SS_ONSTACK if on_alt else 0)
        oldmask = self.sigmask if self.saved_mask is None else self.saved_mask
        try:
            abi.setup_frame(self, sig, act, info, sp, oldmask, (ss_sp, alt_flags, ss_size))
        except Fault:
            self.proc.die(S.SIGSEGV)
        if self.proc.strace:
            self.proc.strace.signal(self, info)
        self.sigmask |= act.mask
        if not act.flags & S.SA_NODEFER:
            self.sigmask |= S.sig_bit(sig)
        if act.flags & S.SA_RESETHAND:
            self.proc.set_action(sig, S.SigAction())

    def sigreturn(self) -> object:
        self.set_sigmask(self.proc.abi.restore_frame(self))
        return NO_RESULT

    def set_sigmask(self, mask: int) -> None:
        mask &= ~(S.sig_bit(S.SIGKILL) | S.sig_bit(S.SIGSTOP))
        self.sigmask = mask
        self.proc.mirror_mask(mask)
        self.cpu.kick()

    def interrupted(self) -> int:
        """Result of a blocking call cut short by a signal: restart or EINTR."""
        for info in self.pending + self.proc.pending:
            if self.sigmask & S.sig_bit(info.signo):
                continue
            act = self.proc.sigactions[info.signo]
            if act.handler not in (S.SIG_DFL, S.SIG_IGN) and act.flags & S.SA_RESTART:
                raise RestartSyscall()
        return -errno.EINTR

    def start_host_thread_paused(self) -> threading.Event:
        """Start the host thread; it learns its tid, then waits for the
        returned event before running guest code."""
        ready = threading.Event()
        go = threading.Event()

        def body() -> None:
            self.tid = threading.get_native_id()
            ready.set()
            go.wait()
            self.proc.mirror_mask(self.sigmask)
            status = self.run()
            self.proc.thread_exited(self, status)

        self.host = threading.Thread(target=body, daemon=True)
        self.host.start()
        ready.wait()
        return go


__all__ = ["GuestThread", "ThreadExit", "os"]
