"""The initial process stack: argc, argv, envp and the auxiliary vector,
laid out as Linux's create_elf_tables() does (strings at the top, then
AT_RANDOM bytes, then the 16-byte aligned pointer block at sp).
"""
from __future__ import annotations

import os
import struct

from pemu.linux_user.elfload import LoadedImage
from pemu.linux_user.memory import PROT_READ, PROT_WRITE, TASK_SIZE, GuestMemory

AT_NULL, AT_PHDR, AT_PHENT, AT_PHNUM, AT_PAGESZ, AT_BASE, AT_FLAGS, AT_ENTRY = (
    0, 3, 4, 5, 6, 7, 8, 9)
AT_UID, AT_EUID, AT_GID, AT_EGID, AT_HWCAP, AT_CLKTCK = 11, 12, 13, 14, 16, 17
AT_SECURE, AT_RANDOM, AT_HWCAP2, AT_EXECFN, AT_MINSIGSTKSZ = 23, 25, 26, 31, 51

STACK_TOP = TASK_SIZE - 0x1000  # leave a guard page below the top
DEFAULT_STACK_SIZE = 8 << 20


def setup_stack(mem: GuestMemory, exe: LoadedImage, interp: LoadedImage | None,
                argv: list[bytes], envp: list[bytes], execfn: bytes,
                stack_size: int = DEFAULT_STACK_SIZE,
                hwcap: tuple[int, int] = (0, 0)) -> int:
    """Map the stack, write the initial frame and return the initial sp;
    `hwcap` is the ABI's (AT_HWCAP, AT_HWCAP2)."""
    bottom = STACK_TOP - stack_size
    mem.map(bottom, stack_size, PROT_READ | PROT_WRITE, "[stack]")
    sp = STACK_TOP

    def push_bytes(b: bytes) -> int:
        nonlocal sp
        sp -= len(b)
        mem.buf[sp:sp + len(b)] = b
        return sp

    execfn_p = push_bytes(execfn + b"\0")
    env_p = [push_bytes(e + b"\0") for e in reversed(envp)][::-1]
    arg_p = [push_bytes(a + b"\0") for a in reversed(argv)][::-1]
    sp &= ~15
    random_p = push_bytes(os.urandom(16))
    aux = [
        (AT_HWCAP, hwcap[0]), (AT_PAGESZ, 4096), (AT_CLKTCK, 100),
        (AT_PHDR, exe.phdr), (AT_PHENT, exe.phent), (AT_PHNUM, exe.phnum),
        (AT_BASE, interp.base if interp else 0), (AT_FLAGS, 0), (AT_ENTRY, exe.entry),
        (AT_UID, os.getuid()), (AT_EUID, os.geteuid()), (AT_GID, os.getgid()),
        (AT_EGID, os.getegid()), (AT_SECURE, 0), (AT_RANDOM, random_p),
        (AT_HWCAP2, hwcap[1]), (AT_EXECFN, execfn_p), (AT_MINSIGSTKSZ, 2048), (AT_NULL, 0),
    ]
    words = [len(argv)] + arg_p + [0] + env_p + [0]
    for k, v in aux:
        words += [k, v]
    block = struct.pack(f"<{len(words)}Q", *words)
    sp = (sp - len(block)) & ~15
    mem.buf[sp:sp + len(block)] = block
    return sp
