"""Signal numbers on the wire: the remote protocol uses gdb's own numbering
(gdb's include/gdb/signals.def), not the target's. This maps the Linux
generic numbers (RISC-V, asm-generic/signal.h) both ways.
"""
from __future__ import annotations

GDB_SIGNAL_UNKNOWN = 143

#: Linux signal -> gdb signal (the names are the same unless noted)
LINUX_TO_GDB: dict[int, int] = {
    1: 1,     # SIGHUP
    2: 2,     # SIGINT
    3: 3,     # SIGQUIT
    4: 4,     # SIGILL
    5: 5,     # SIGTRAP
    6: 6,     # SIGABRT
    7: 10,    # SIGBUS
    8: 8,     # SIGFPE
    9: 9,     # SIGKILL
    10: 30,   # SIGUSR1
    11: 11,   # SIGSEGV
    12: 31,   # SIGUSR2
    13: 13,   # SIGPIPE
    14: 14,   # SIGALRM
    15: 15,   # SIGTERM
    17: 20,   # SIGCHLD
    18: 19,   # SIGCONT
    19: 17,   # SIGSTOP
    20: 18,   # SIGTSTP
    21: 21,   # SIGTTIN
    22: 22,   # SIGTTOU
    23: 16,   # SIGURG
    24: 24,   # SIGXCPU
    25: 25,   # SIGXFSZ
    26: 26,   # SIGVTALRM
    27: 27,   # SIGPROF
    28: 28,   # SIGWINCH
    29: 23,   # SIGIO
    30: 32,   # SIGPWR
    31: 12,   # SIGSYS
    32: 77,   # SIGRTMIN: gdb's REALTIME_32
    # 33..63 are gdb's REALTIME_33.. (45..75), 64 is REALTIME_64 (78): added below
}
LINUX_TO_GDB.update({n: 45 + n - 33 for n in range(33, 64)})
LINUX_TO_GDB[64] = 78
GDB_TO_LINUX: dict[int, int] = {g: n for n, g in LINUX_TO_GDB.items()}


def to_gdb(sig: int) -> int:
    return LINUX_TO_GDB.get(sig, GDB_SIGNAL_UNKNOWN) if sig else 0


def from_gdb(sig: int) -> int:
    """The Linux signal for a gdb one; 0 (none) for 0 or one Linux does not have."""
    return GDB_TO_LINUX.get(sig, 0)


__all__ = ["to_gdb", "from_gdb", "LINUX_TO_GDB"]
