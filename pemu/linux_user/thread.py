"""A guest thread: one hart run by cpu_exec in one host (Python) thread.

Traps come here from the CPU: `ecall` becomes a system call (a7 = number,
a0..a5 = arguments, result in a0), any other trap becomes the signal Linux
would send (SIGSEGV with SEGV_MAPERR/ACCERR, SIGILL, SIGBUS, SIGTRAP). At
block boundaries (`irq_check`) pending unblocked signals are delivered by
building an rt_sigframe on the guest stack.
"""
from __future__ import annotations

import errno
import os
import threading
from array import array
from typing import TYPE_CHECKING

from pemu.accel.tcg.cpu_exec import cpu_exec
from pemu.linux_user import signals as S
from pemu.linux_user.cpu import UserCpu
from pemu.linux_user.memory import Fault
from pemu.linux_user.syscalls import NO_RESULT, SYSCALLS
from pemu.linux_user.syscalls.numbers import NUMBERS
from pemu.target.riscv import trap as T

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
    def __init__(self, proc: Process, cpu: UserCpu | None = None) -> None:
        self.proc = proc
        self.cpu = cpu or UserCpu(proc.mem, self)
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
    def on_trap(self, cpu: UserCpu, t: T.Trap) -> None:
        if t.cause == T.ECALL_U:
            cpu.pc = (cpu.pc + 4) & M64
            self.syscall(cpu)
            return
        c = t.cause
        if c in (T.INSN_PAGE_FAULT, T.LOAD_PAGE_FAULT, T.STORE_PAGE_FAULT,
                 T.INSN_ACCESS, T.LOAD_ACCESS, T.STORE_ACCESS):
            code = 2 if getattr(t, "mapped", False) else 1
            info = S.SigInfo(S.SIGSEGV, code, addr=t.tval & M64)
        elif c == T.ILLEGAL_INSN:
            info = S.SigInfo(S.SIGILL, 1, addr=cpu.pc)
        elif c == T.BREAKPOINT:
            info = S.SigInfo(S.SIGTRAP, 1, addr=cpu.pc)
        else:  # misaligned atomics and fetches
            info = S.SigInfo(S.SIGBUS, 1, addr=t.tval & M64)
        self.proc.log_int(f"guest fault {t} at pc {cpu.pc:#x} -> signal {info.signo}")
        self.force_signal(info)

    def syscall(self, cpu: UserCpu) -> None:
        x = cpu.x
        nr = x[17]
        name = NUMBERS.get(nr)
        fn = SYSCALLS.get(name) if name else None
        proc = self.proc
        if proc.strace:
            proc.strace.enter(self, nr, name, x[10:16])
        if fn is None:
            if proc.log_unimp and not proc.strace:
                proc.log(f"Unsupported syscall: {nr}{' (' + name + ')' if name else ''}\n")
            ret = -errno.ENOSYS
        else:
            self.in_syscall = True
            try:
                ret = fn(self, *x[10:10 + fn.nargs])
            except Fault:
                ret = -errno.EFAULT
            except OSError as e:
                ret = -(e.errno or errno.EIO)
            except RestartSyscall:
                cpu.pc -= 4
                if proc.strace:
                    proc.strace.leave(self, nr, name, -errno.ERESTARTSYS if hasattr(
                        errno, "ERESTARTSYS") else -512, x[10:16])
                return
            except (ThreadExit, SystemExit, KeyboardInterrupt):
                raise
            except Exception as e:  # a bug in pemu, never the guest's fault
                ret = proc.syscall_bug(name or str(nr), e)
            finally:
                self.in_syscall = False
        if ret is NO_RESULT:
            if proc.strace:
                proc.strace.leave(self, nr, name, None, x[10:16])
            return
        if proc.strace:
            proc.strace.leave(self, nr, name, ret, x[10:16])
        x[10] = ret & M64

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

    def deliver_signals(self, cpu: UserCpu) -> bool:
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
        sp = cpu.x[2]
        ss_sp, ss_flags, ss_size = self.altstack
        on_alt = self.on_altstack(sp)
        if act.flags & S.SA_ONSTACK and not ss_flags & S.SS_DISABLE and not on_alt:
            sp = ss_sp + ss_size
        frame = (sp - S.FRAME_SIZE) & ~15
        alt_flags = S.SS_DISABLE if ss_flags & S.SS_DISABLE else (
            S.SS_ONSTACK if on_alt else 0)
        try:
            self.proc.mem.check_writable(frame, S.FRAME_SIZE)
        except Fault:
            self.proc.die(S.SIGSEGV)
        fcsr = (cpu.frm << 5) | cpu.fflags
        oldmask = self.sigmask if self.saved_mask is None else self.saved_mask
        S.build_frame(self.proc.mem.buf, frame, cpu.x, cpu.f, fcsr, cpu.pc, info,
                      oldmask, (ss_sp, alt_flags, ss_size))
        if self.proc.strace:
            self.proc.strace.signal(self, info)
        self.sigmask |= act.mask
        if not act.flags & S.SA_NODEFER:
            self.sigmask |= S.sig_bit(sig)
        if act.flags & S.SA_RESETHAND:
            self.proc.set_action(sig, S.SigAction())
        x = cpu.x
        x[2] = frame
        x[1] = self.proc.sigtramp
        x[10] = sig
        x[11] = frame
        x[12] = frame + S.UC_OFF
        cpu.pc = act.handler
        cpu.resv = None

    def sigreturn(self) -> object:
        cpu = self.cpu
        frame = cpu.x[2]
        data = self.proc.mem.read(frame, S.FRAME_SIZE)
        pc, regs, fregs, fcsr, mask = S.read_frame(data)
        cpu.x[:] = array("Q", regs)
        cpu.f[:] = array("Q", fregs)
        cpu.set_fcsr(fcsr)
        cpu.pc = pc
        self.set_sigmask(mask)
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
