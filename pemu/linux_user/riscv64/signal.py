"""The riscv64 rt_sigframe (arch/riscv/kernel/signal.c, uapi asm/ucontext.h,
sigcontext.h):

    rt_sigframe  = siginfo (128) + ucontext
    ucontext     = uc_flags u64 @0, uc_link @8, uc_stack {sp @16, flags @24,
                   size @32}, uc_sigmask @40, padding to 168, uc_mcontext @176
                   (16-byte aligned because of the Q-extension FP state)
    sigcontext   = sc_regs[32] (pc, x1..x31) @0, FP state @256: f[0..31] u64
                   then fcsr u32 (the union is sized for Q: 528 bytes)

The handler gets a0 = signal, a1 = &info, a2 = &uc, ra = the sigreturn
trampoline (li a7, 139; ecall) in a "[vdso]" page, sp 16-byte aligned.
"""
from __future__ import annotations

import struct

from pemu.linux_user.signals import SigInfo

FRAME_SIZE = 128 + 176 + 256 + 528
UC_OFF = 128
MC_OFF = UC_OFF + 176
SIGRETURN_CODE = struct.pack("<II", 0x08B00893, 0x00000073)  # li a7,139; ecall


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
