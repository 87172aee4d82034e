"""Synthetic /proc files that must describe the guest rather than pemu."""
from __future__ import annotations

import os

from pemu.linux_user.memory import PROT_EXEC, PROT_READ, PROT_WRITE


def maps_text(proc) -> bytes:
    """/proc/self/maps in the kernel's format, from the guest's VMAs."""
    lines = []
    for v in proc.mem.vmas:
        perms = ("r" if v.prot & PROT_READ else "-") + ("w" if v.prot & PROT_WRITE else "-") \
            + ("x" if v.prot & PROT_EXEC else "-") + ("s" if v.shared else "p")
        dev, ino = v.dev_ino
        major, minor = (os.major(dev), os.minor(dev)) if dev else (0, 0)
        head = f"{v.start:08x}-{v.end:08x} {perms} {v.offset:08x} {major:02x}:{minor:02x} {ino}"
        lines.append(f"{head:<73}{v.name}".rstrip() + "\n" if v.name else head + "\n")
    return "".join(lines).encode()
