"""A few x86-64 instructions finished in user space when the host's emulator gives up.

PVM hosts emulate guest kernel-mode (CPL0) code and stop with
KVM_EXIT_INTERNAL_ERROR on some instructions that Linux uses even when
CPUID would let it avoid them (the host passes its native CPUID bits through
for leaves KVM does not list). Each handler gets the registers and the bytes
at RIP and returns the new registers, or None when it does not apply.
"""
from __future__ import annotations

from typing import Any

from pemu.target.i386.cpu import GPR_NAMES

# x86 GPR encoding order (SDM vol. 2A, table 2-2): rax rcx rdx rbx rsp rbp rsi rdi r8..r15.
_ENC = ("rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi") + GPR_NAMES[8:]
FLAGS_ARITH = 0x8D5  # CF PF AF ZF SF OF
FLAG_ZF = 0x40


def popcnt(regs: Any, code: bytes) -> bool:
    """POPCNT r, r/m (F3 [REX] 0F B8 /r), register form only (SDM vol. 2B, POPCNT)."""
    i = 0
    if code[i:i + 1] == b"\x66":
        return False  # 16-bit operand form: not used by the kernel
    if code[i:i + 1] != b"\xf3":
        return False
    i += 1
    rex = 0
    if 0x40 <= code[i] <= 0x4F:
        rex = code[i]
        i += 1
    if code[i:i + 2] != b"\x0f\xb8":
        return False
    modrm = code[i + 2]
    if modrm >> 6 != 3:
        return False
    reg = ((modrm >> 3) & 7) | ((rex & 4) << 1)
    rm = (modrm & 7) | ((rex & 1) << 3)
    wide = bool(rex & 8)
    src = getattr(regs, _ENC[rm]) & (0xFFFFFFFFFFFFFFFF if wide else 0xFFFFFFFF)
    setattr(regs, _ENC[reg], bin(src).count("1"))  # 32-bit results zero-extend
    regs.rflags = (regs.rflags & ~FLAGS_ARITH) | (FLAG_ZF if src == 0 else 0)
    regs.rip += i + 3
    return True


def int3(regs: Any, code: bytes) -> bool:
    """INT3: a trap, so the #BP frame holds the next RIP; the caller injects vector 3."""
    if code[:1] != b"\xcc":
        return False
    regs.rip += 1
    return True


FLAG_AC = 1 << 18


def clac_stac(regs: Any, code: bytes) -> bool:
    """CLAC (0F 01 CA) / STAC (0F 01 CB): clear/set RFLAGS.AC (SDM vol. 2A, CLAC; 2B, STAC)."""
    if code[:3] == b"\x0f\x01\xca":
        regs.rflags &= ~FLAG_AC
    elif code[:3] == b"\x0f\x01\xcb":
        regs.rflags |= FLAG_AC
    else:
        return False
    regs.rip += 3
    return True


def fwait(regs: Any, code: bytes) -> bool:
    """FWAIT (9B): a no-op unless an unmasked x87 exception is pending, which the
    kernel's own FPU use never leaves behind."""
    if code[:1] != b"\x9b":
        return False
    regs.rip += 1
    return True
