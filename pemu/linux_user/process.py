"""A guest Linux process: address space, loaded program, threads, signal
dispositions, and the options that follow it across execve.
"""
from __future__ import annotations

import ctypes
import errno
import os
import signal as hsignal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from pemu.accel.tcg.cpu_exec import TbStore
from pemu.accel.tcg.native_tier import make_native_tier
from pemu.linux_user import signals as S
from pemu.linux_user.abi import Abi, by_name
from pemu.linux_user.elfload import LoadedImage, load_elf
from pemu.linux_user.memory import PROT_EXEC, PROT_READ, GuestMemory, page_up
from pemu.linux_user.stack import DEFAULT_STACK_SIZE, setup_stack
from pemu.linux_user.syscalls import load_all


@dataclass
class UserOptions:
    """What the command line (and QEMU_* variables) asked for."""

    sysroot: str | None = None
    strace: bool = False
    log_items: set[str] = field(default_factory=set)
    log_file: str | None = None
    stack_size: int = DEFAULT_STACK_SIZE
    cpu: str | None = None
    argv0: str | None = None
    passthrough: list[str] = field(default_factory=list)  # options to re-use on execve
    one_insn: bool = False  # -one-insn-per-tb / -singlestep: the reference tier
    gdb: str | None = None  # -g PORT|PATH, QEMU_GDB: wait for gdb there


class Process:
    def __init__(self, opts: UserOptions, abi: Abi | None = None) -> None:
        load_all()
        self.opts = opts
        #: the guest ISA's Linux ABI (linux_user/<arch>/)
        self.abi = abi or by_name("riscv64")
        self.mem = GuestMemory()
        self.host_base = ctypes.addressof(ctypes.c_char.from_buffer(self.mem.buf))
        self.tbs = TbStore(self.mem)  # type: ignore[arg-type]
        self.mem.tbs = self.tbs
        tier = 0 if opts.one_insn else int(os.environ.get("PEMU_TIER", "1"))
        self.translator = self.abi.new_translator(self.mem.buf, tier)
        if os.environ.get("PEMU_NATIVE", "on") != "off" and tier == 1 \
                and self.abi.native_layout is not None:
            # hot blocks as host machine code; PEMU_NATIVE=off keeps the Python tier
            self.tbs.native = make_native_tier(self.tbs, self.abi.native_layout)
        self.sigactions = [S.SigAction() for _ in range(S.NSIG + 1)]
        self.pending: list[S.SigInfo] = []
        self.threads: dict[int, object] = {}
        self.lock = threading.Lock()
        self.exe: LoadedImage | None = None
        self.exe_host = ""
        self.sigtramp = 0
        self.pid = os.getpid()
        self._logf = None
        self.log_unimp = "unimp" in opts.log_items
        self.strace = None
        if opts.strace:
            from pemu.linux_user.strace import Strace
            self.strace = Strace(self)
        self.main_thread = None
        #: the gdb connection (pemu/gdbstub/user.py) while one is attached
        self.gdbstub = None
        self.bugs: set[str] = set()  # syscalls that hit a pemu bug (logged once)

    # --- logging ---------------------------------------------------------------------
    def log(self, text: str) -> None:
        if self.opts.log_file:
            if self._logf is None:
                fd = os.open(self.opts.log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND
                             | os.O_CLOEXEC, 0o644)
                high = os.dup2(fd, 1000 if fd < 1000 else fd) if fd < 1000 else fd
                if high != fd:
                    os.close(fd)
                os.set_inheritable(high, False)
                self._logf = high
            os.write(self._logf, text.encode(errors="replace"))
        else:
            os.write(2, text.encode(errors="replace"))

    def syscall_bug(self, name: str, exc: BaseException) -> int:
        """A handler raised what no guest input should cause: report it once
        per syscall on stderr with its traceback (so it gets fixed) and give
        the guest ENOSYS, as for a call pemu does not implement."""
        import traceback
        with self.lock:
            first = name not in self.bugs
            self.bugs.add(name)
        if first:
            text = "".join(traceback.format_exception(exc))
            self.log(f"pemu bug: syscall {name} raised {type(exc).__name__}: {exc} "
                     f"(returning ENOSYS; please report)\n{text}")
        return -errno.ENOSYS

    def log_int(self, text: str) -> None:
        if "int" in self.opts.log_items:
            self.log(text + "\n")

    # --- paths -------------------------------------------------------------------------
    def host_path(self, path: bytes | str) -> str:
        """Where a guest path is on the host (-L prefix, /proc/self/exe)."""
        p = os.fsdecode(path)
        if p in ("/proc/self/exe", f"/proc/{self.pid}/exe"):
            return self.exe_host
        root = self.opts.sysroot
        if root and p.startswith("/") and os.path.lexists(root + p):
            return root + p
        return p

    def hptr(self, addr: int) -> int:
        """Host address of a guest address (for pass-through host calls)."""
        return self.host_base + addr

    # --- loading -----------------------------------------------------------------------
    def load(self, path: str, argv: list[bytes], envp: list[bytes]):
        """Load the program, build the stack, return the main GuestThread."""
        from pemu.linux_user.stack import STACK_TOP
        from pemu.linux_user.thread import GuestThread
        self.mem.mmap_base = STACK_TOP - self.opts.stack_size - 0x10000000
        machine = self.abi.elf_machine_name
        exe = load_elf(self.mem, path, machine=machine)
        self.exe, self.exe_host = exe, os.path.abspath(path)
        interp = None
        if exe.interp:
            interp = load_elf(self.mem, exe.interp, self.host_path(exe.interp), is_interp=True,
                              machine=machine)
        sp = setup_stack(self.mem, exe, interp, argv, envp, os.fsencode(path),
                         stack_size=self.opts.stack_size,
                         hwcap=(self.abi.hwcap, self.abi.hwcap2))
        self.mem.brk_start = self.mem.brk_cur = page_up(exe.end)
        self._map_sigtramp()
        t = GuestThread(self)
        t.tid = self.pid
        self.threads[t.tid] = t
        self.main_thread = t
        cpu = t.cpu
        self.abi.start(cpu, interp.entry if interp else exe.entry, sp)
        self.tbs.cpus = [cpu]
        if self.tbs.native is not None:
            self.tbs.native.attach(cpu)
        return t

    def _map_sigtramp(self) -> None:
        addr = self.mem.find_free(4096)
        self.mem.map(addr, 4096, PROT_READ | PROT_EXEC, "[vdso]")
        code = self.abi.sigreturn_code
        self.mem.buf[addr:addr + len(code)] = code
        self.sigtramp = addr

    # --- signals -----------------------------------------------------------------------
    def set_action(self, sig: int, act: S.SigAction) -> None:
        self.sigactions[sig] = act
        if not S.host_mirrorable(sig):
            return
        try:
            if act.handler == S.SIG_DFL:
                hsignal.signal(sig, hsignal.SIG_DFL)
            elif act.handler == S.SIG_IGN:
                hsignal.signal(sig, hsignal.SIG_IGN)
            else:
                hsignal.signal(sig, self._host_handler)
        except (OSError, ValueError):
            pass  # not from the main thread, or not settable

    def _host_handler(self, sig: int, frame) -> None:
        self.post(S.SigInfo(sig, S.SI_USER))

    def post(self, info: S.SigInfo, thread=None) -> None:
        """Queue a signal for a thread (or the process) and make it look."""
        if thread is not None:
            thread.queue(info)
            return
        self.pending.append(info)
        for t in list(self.threads.values()):
            t.cpu.kick()  # type: ignore[attr-defined]

    def mirror_mask(self, mask: int) -> None:
        sigs = [s for s in range(1, S.NSIG + 1) if S.host_mirrorable(s)]
        try:
            hsignal.pthread_sigmask(hsignal.SIG_SETMASK,
                                    [s for s in sigs if mask & S.sig_bit(s)])
        except (OSError, ValueError):
            pass

    def die(self, sig: int) -> None:
        if self.gdbstub is not None:
            self.gdbstub.process_killed(sig)
        if self.abi.reports_core_signals and sig in S.CORE:
            self._report_core_signal(sig)
        S.die_with_signal(sig, self.flush)

    def _report_core_signal(self, sig: int) -> None:
        """QEMU's line for a guest killed by a signal whose action dumps core,
        which it prints where it supports guest core dumps (aarch64, not
        riscv64 in QEMU 7.2). QEMU writes no core file when RLIMIT_CORE is 0
        and says "core dumped" all the same; pemu never writes one, so it says
        that only in that case."""
        import resource
        try:
            limit = resource.getrlimit(resource.RLIMIT_CORE)[0]
        except (ValueError, OSError):
            limit = 0
        what = "core dumped" if limit == 0 else "core not dumped (pemu writes no core files)"
        try:
            os.write(2, f"qemu: uncaught target signal {sig} ({hsignal.strsignal(sig)}) - "
                        f"{what}\n".encode())
        except OSError:
            pass

    # --- exit ----------------------------------------------------------------------------
    def flush(self) -> None:
        try:
            self.translator.code_cache.save()
        except Exception:
            pass

    def exit_group(self, status: int) -> None:
        if self.gdbstub is not None:
            self.gdbstub.process_exited(status)
        self.flush()
        if os.environ.get("PEMU_USER_STATS"):
            insns = sum(t.cpu.icount for t in list(self.threads.values()))  # type: ignore
            self.log(f"pemu-stats: insns={insns} blocks={self.tbs.translated}\n")
        try:
            sys.stdout.flush()
        except Exception:
            pass
        os._exit(status & 0xFF)

    def prepare_exec(self) -> None:
        """Before execve: nothing of pemu's may leak into the new program."""
        if self._logf is not None:
            os.close(self._logf)
            self._logf = None

    def thread_exited(self, thread, status: int) -> None:
        with self.lock:
            self.threads.pop(thread.tid, None)
            left = len(self.threads)
            # its hart no longer needs flushing (TLB, jump cache) with the others
            cpu = thread.cpu
            if cpu in self.tbs.cpus:
                self.tbs.cpus.remove(cpu)
            env = getattr(cpu, "env", None)
            if env in self.mem.envs:
                self.mem.envs.remove(env)
        if left == 0:
            self.exit_group(status)

    def run(self, main) -> None:
        status = main.run()
        with self.lock:
            self.threads.pop(main.tid, None)
        while True:
            with self.lock:
                rest = list(self.threads.values())
            if not rest:
                break
            for t in rest:
                if t.host is not None:  # type: ignore[attr-defined]
                    t.host.join()  # type: ignore[attr-defined]
        self.exit_group(status)


def setup_host_signals() -> None:
    """Undo Python's own signal choices so the guest sees Linux defaults."""
    for sig in (hsignal.SIGINT, hsignal.SIGPIPE, hsignal.SIGXFSZ):
        try:
            hsignal.signal(sig, hsignal.SIG_DFL)
        except (OSError, ValueError):
            pass


__all__ = ["Process", "UserOptions", "setup_host_signals", "Callable"]
