"""The arm64 rt_sigframe (arch/arm64/kernel/signal.c, uapi asm/sigcontext.h,
asm-generic/ucontext.h):

    rt_sigframe  = siginfo (128) + ucontext
    ucontext     = uc_flags u64 @0, uc_link @8, uc_stack {sp @16, flags @24,
                   size @32}, uc_sigmask @40 (+120 bytes of room for a larger
                   sigset), uc_mcontext @176 (16-byte aligned)
    sigcontext   = fault_address @0, regs[31] @8, sp @256, pc @264,
                   pstate @272, __reserved[4096] @288 (16-byte aligned):
                   a list of records {magic u32, size u32, ...}; pemu writes
                   fpsimd_context (magic 0x46508001, size 528: fpsr u32,
                   fpcr u32, vregs[32] u128 @16) then the terminator {0, 0}
    frame record = {fp, lr} just above the frame (x29 points at it)

The handler gets x0 = signal, x1 = &info, x2 = &uc, x29 = &frame record,
x30 = the sigreturn trampoline (mov x8, #139; svc #0) in a "[vdso]" page,
sp = the frame (16-byte aligned).
"""
from __future__ import annotations

import struct

UC_OFF = 128
MC_OFF = UC_OFF + 176
RESERVED_OFF = MC_OFF + 288
FRAME_SIZE = MC_OFF + 288 + 4096
FPSIMD_MAGIC, FPSIMD_SIZE = 0x46508001, 528
SIGRETURN_CODE = struct.pack("<II", 0xD2801168, 0xD4000001)  # mov x8, #139; svc #0
M64 = (1 << 64) - 1


def build_frame(info: bytes, regs: list[int], sp: int, pc: int, nzcv: int,
                fpsr: int, fpcr: int, vregs: list[int], oldmask: int,
                altstack: tuple[int, int, int], fault_address: int = 0) -> bytes:
    """The bytes of an rt_sigframe."""
    frame = bytearray(FRAME_SIZE)
    frame[0:128] = info
    ss_sp, ss_flags, ss_size = altstack
    struct.pack_into("<QQQiiQQ", frame, UC_OFF, 0, 0, ss_sp, ss_flags, 0, ss_size, oldmask)
    struct.pack_into("<Q31QQQQ", frame, MC_OFF, fault_address, *regs[:31], sp, pc, nzcv)
    struct.pack_into("<IIII", frame, RESERVED_OFF, FPSIMD_MAGIC, FPSIMD_SIZE, fpsr, fpcr)
    for i, v in enumerate(vregs):
        struct.pack_into("<QQ", frame, RESERVED_OFF + 16 + 16 * i, v & M64, v >> 64)
    return bytes(frame)


def read_frame(data: bytes) -> dict:
    """Registers and mask from an rt_sigframe (the FP/SIMD state only if its
    record is there, as the kernel's parse_user_sigframe accepts)."""
    out: dict = {"mask": struct.unpack_from("<Q", data, UC_OFF + 40)[0]}
    vals = struct.unpack_from("<Q31QQQQ", data, MC_OFF)
    out["regs"], out["sp"], out["pc"], out["pstate"] = list(vals[1:32]), vals[32], vals[33], \
        vals[34]
    magic, size, fpsr, fpcr = struct.unpack_from("<IIII", data, RESERVED_OFF)
    if magic == FPSIMD_MAGIC and size == FPSIMD_SIZE:
        out["fpsr"], out["fpcr"] = fpsr, fpcr
        out["vregs"] = [lo | (hi << 64) for lo, hi in (
            struct.unpack_from("<QQ", data, RESERVED_OFF + 16 + 16 * i) for i in range(32))]
    return out
