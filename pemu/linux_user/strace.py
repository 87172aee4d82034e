"""-strace: system calls logged in QEMU's format.

    PID name(arg,arg,...) = result

Arguments are formatted per system call where QEMU has a formatter for it
(strings quoted, AT_FDCWD, open flags, mmap protections and flags, NULL
pointers); the rest print as decimal numbers. Errors read
"-1 errno=N (message)"; pointer results (mmap, brk) print as 0x%016x.
"""
from __future__ import annotations

import os
from typing import Any

M64 = (1 << 64) - 1

# argument kinds: d int, u unsigned, x hex, p pointer, s string, f dirfd,
# O open flags, o octal mode, P prot, M mmap flags, A access mode, S signal
FORMATS = {
    "openat": "fsOo", "close": "d", "read": "dxu", "write": "dxu", "lseek": "ddd",
    "pread64": "dxud", "pwrite64": "dxud", "readv": "dxd", "writev": "dxd",
    "newfstatat": "fspx", "fstat": "dp", "statx": "fsxxp", "faccessat": "fsA",
    "faccessat2": "fsAx", "readlinkat": "fspu", "mkdirat": "fso", "unlinkat": "fsx",
    "renameat2": "fsfsx", "chdir": "s", "getcwd": "pu", "execve": "spp",
    "mmap": "puPMdx", "munmap": "pu", "mprotect": "puP", "brk": "p", "mremap": "puuxp",
    "exit_group": "d", "exit": "d", "dup": "d", "dup3": "ddO", "pipe2": "pO",
    "getdents64": "dpu", "fcntl": "ddx", "ioctl": "dxx", "kill": "dS", "tgkill": "ddS",
    "tkill": "dS", "rt_sigaction": "Spp", "rt_sigprocmask": "dppu", "wait4": "dpdp",
    "clock_gettime": "dp", "nanosleep": "pp", "set_tid_address": "p",
    "clone": "xppppp", "futex": "pddpp", "socket": "ddd", "connect": "dpd", "bind": "dpd",
    "chmod": "so", "fchmodat": "fso", "symlinkat": "sfs", "umask": "o", "getrandom": "pud",
}
OPEN_FLAGS = [(0o100, "O_CREAT"), (0o200, "O_EXCL"), (0o400, "O_NOCTTY"), (0o1000, "O_TRUNC"),
              (0o2000, "O_APPEND"), (0o4000, "O_NONBLOCK"), (0o10000, "O_DSYNC"),
              (0o200000, "O_DIRECTORY"), (0o400000, "O_NOFOLLOW"), (0o1000000, "O_NOATIME"),
              (0o2000000, "O_CLOEXEC"), (0o100000, "O_LARGEFILE"), (0o20000, "FASYNC"),
              (0o40000, "O_DIRECT"), (0o10000000, "O_PATH")]
MMAP_FLAGS = [(1, "MAP_SHARED"), (2, "MAP_PRIVATE"), (0x10, "MAP_FIXED"),
              (0x20, "MAP_ANONYMOUS"), (0x100, "MAP_GROWSDOWN"), (0x800, "MAP_DENYWRITE"),
              (0x1000, "MAP_EXECUTABLE"), (0x2000, "MAP_LOCKED"), (0x4000, "MAP_NORESERVE"),
              (0x8000, "MAP_POPULATE"), (0x10000, "MAP_NONBLOCK"), (0x20000, "MAP_STACK"),
              (0x100000, "MAP_FIXED_NOREPLACE")]
POINTER_RESULT = {"mmap", "brk", "mremap"}


def _flags(v: int, table, zero: str = "0") -> str:
    names = [n for bit, n in table if v & bit]
    rest = v & ~sum(bit for bit, _ in table)
    if rest:
        names.append(f"{rest:#x}")
    return "|".join(names) or zero


class Strace:
    def __init__(self, proc: Any) -> None:
        self.proc = proc

    def _ptr(self, v: int) -> str:
        return "NULL" if v == 0 else f"0x{v:016x}"

    def _str(self, addr: int) -> str:
        if not addr:
            return "NULL"
        try:
            s = self.proc.mem.read_cstr(addr, 4096)
        except Exception:
            return f"0x{addr:x}"
        return '"' + s.decode("latin-1").replace("\n", "\\n") + '"'

    def fmt_arg(self, kind: str, v: int) -> str:
        sv = v - (1 << 64) if v >> 63 else v
        s32 = (v & 0xFFFFFFFF) - (1 << 32) if v & 0x80000000 else v & 0xFFFFFFFF
        if kind == "d":
            return str(s32)
        if kind == "u":
            return str(v)
        if kind == "x":
            return f"{v:#x}" if v else "0"
        if kind == "p":
            return self._ptr(v)
        if kind == "s":
            return self._str(v)
        if kind == "f":
            return "AT_FDCWD" if s32 == -100 else str(s32)
        if kind == "o":
            return f"0{v & 0o7777:o}" if v else "0"
        if kind == "O":
            acc = ("O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE")[v & 3]
            rest = _flags(v & ~3, OPEN_FLAGS, "")
            return acc + ("|" + rest if rest else "")
        if kind == "P":
            if v == 0:
                return "PROT_NONE"
            return _flags(v, [(4, "PROT_EXEC"), (1, "PROT_READ"), (2, "PROT_WRITE")])
        if kind == "M":
            return _flags(v, MMAP_FLAGS)
        if kind == "A":
            if v == 0:
                return "F_OK"
            return _flags(v, [(4, "R_OK"), (2, "W_OK"), (1, "X_OK")])
        if kind == "S":
            import signal
            try:
                return signal.Signals(s32).name
            except ValueError:
                return str(s32)
        return str(sv)

    def enter(self, t: Any, nr: int, name: str | None, args: list[int]) -> None:
        pid = os.getpid()
        if name is None:
            self.proc.log(f"{pid} Unknown syscall {nr}\n")
            return
        kinds = FORMATS.get(name)
        if kinds is None:
            text = ",".join(str(a - (1 << 64) if a >> 63 else a) for a in args)
        else:
            text = ",".join(self.fmt_arg(k, a) for k, a in zip(kinds, args, strict=False))
        self.proc.log(f"{pid} {name}({text})")

    def leave(self, t: Any, nr: int, name: str | None, ret: int | None, args) -> None:
        if name is None:
            return
        if ret is None:
            self.proc.log("\n")
            return
        r = ret & M64
        sr = r - (1 << 64) if r >> 63 else r
        if -4096 < sr < 0:
            self.proc.log(f" = -1 errno={-sr} ({os.strerror(-sr)})\n")
        elif name in POINTER_RESULT:
            self.proc.log(f" = 0x{r:016x}\n")
        else:
            self.proc.log(f" = {sr}\n")

    def flush_exit(self, t: Any) -> None:
        self.proc.log("\n")

    def signal(self, t: Any, info: Any) -> None:
        import signal
        try:
            name = signal.Signals(info.signo).name
        except ValueError:
            name = str(info.signo)
        self.proc.log(f"--- {name} {{si_signo={name}, si_code={info.code}, "
                      f"si_pid={info.pid}, si_uid={info.uid}}} ---\n")
