"""riscv64 Linux ABI (the first user of the per-ISA split): a7 holds the
system call number, a0..a5 its arguments and a0 its result; tp is the TLS
register; `ecall` traps into the kernel."""
from __future__ import annotations

from typing import Any

from pemu.linux_user import signals as S
from pemu.linux_user.abi import Abi
from pemu.linux_user.riscv64 import signal as frame
from pemu.linux_user.riscv64.numbers import NUMBERS
from pemu.target.riscv import trap as T
from pemu.target.riscv.translate import LAYOUT

M64 = (1 << 64) - 1
HWCAP_RV64GC = sum(1 << (ord(c) - ord("A")) for c in "IMAFDC")
SP, TP, RA, A0, A7 = 2, 4, 1, 10, 17


class Riscv64Abi(Abi):
    name = "riscv64"
    machine = "riscv64"
    elf_machine = 243
    elf_machine_name = "EM_RISCV"
    hwcap = HWCAP_RV64GC
    sigreturn_code = frame.SIGRETURN_CODE
    numbers = NUMBERS
    native_layout = LAYOUT

    def new_cpu(self, mem: Any, thread: Any) -> Any:
        from pemu.linux_user.riscv64.cpu import UserCpu
        return UserCpu(mem, thread)

    def new_translator(self, buf: Any, tier: int) -> Any:
        from pemu.accel.tcg.code_cache import CodeCache
        from pemu.target.riscv.translator import CODEGEN_FINGERPRINT, Translator
        tr = Translator(buf, tier)
        # user-mode blocks get their own (small) persistent cache file
        tr.code_cache = CodeCache(tag="user-tb", fingerprint=CODEGEN_FINGERPRINT)
        return tr

    def start(self, cpu: Any, entry: int, sp: int) -> None:
        cpu.pc = entry
        cpu.x[SP] = sp

    def copy_cpu(self, dst: Any, src: Any) -> None:
        for i in range(32):
            dst.x[i] = src.x[i]
            dst.f[i] = src.f[i]
        dst.fflags, dst.frm = src.fflags, src.frm
        dst.pc = src.pc

    def syscall_nr(self, cpu: Any) -> int:
        return cpu.x[A7]

    def syscall_args(self, cpu: Any) -> list[int]:
        return list(cpu.x[A0:A0 + 6])

    def set_result(self, cpu: Any, value: int) -> None:
        cpu.x[A0] = value & M64

    def get_sp(self, cpu: Any) -> int:
        return cpu.x[SP]

    def set_sp(self, cpu: Any, sp: int) -> None:
        cpu.x[SP] = sp & M64

    def set_tls(self, cpu: Any, tls: int) -> None:
        cpu.x[TP] = tls & M64

    def trap_signal(self, cpu: Any, t: Any) -> S.SigInfo | None:
        c = t.cause
        if c == T.ECALL_U:
            cpu.pc = (cpu.pc + 4) & M64
            return None
        if c in (T.INSN_PAGE_FAULT, T.LOAD_PAGE_FAULT, T.STORE_PAGE_FAULT,
                 T.INSN_ACCESS, T.LOAD_ACCESS, T.STORE_ACCESS):
            code = 2 if getattr(t, "mapped", False) else 1
            return S.SigInfo(S.SIGSEGV, code, addr=t.tval & M64)
        if c == T.ILLEGAL_INSN:
            return S.SigInfo(S.SIGILL, 1, addr=cpu.pc)
        if c == T.BREAKPOINT:
            return S.SigInfo(S.SIGTRAP, 1, addr=cpu.pc)
        return S.SigInfo(S.SIGBUS, 1, addr=t.tval & M64)  # misaligned atomics, fetches

    def setup_frame(self, thread: Any, sig: int, act: S.SigAction, info: S.SigInfo,
                    frame_top: int, oldmask: int, altstack: tuple[int, int, int]) -> None:
        cpu = thread.cpu
        sp = (frame_top - frame.FRAME_SIZE) & ~15
        thread.proc.mem.check_writable(sp, frame.FRAME_SIZE)
        fcsr = (cpu.frm << 5) | cpu.fflags
        frame.build_frame(thread.proc.mem.buf, sp, cpu.x, cpu.f, fcsr, cpu.pc, info,
                          oldmask, altstack)
        x = cpu.x
        x[SP] = sp
        x[RA] = thread.proc.sigtramp
        x[A0] = sig
        x[A0 + 1] = sp
        x[A0 + 2] = sp + frame.UC_OFF
        cpu.pc = act.handler
        cpu.resv = None

    def restore_frame(self, thread: Any) -> int:
        cpu = thread.cpu
        data = thread.proc.mem.read(cpu.x[SP], frame.FRAME_SIZE)
        pc, regs, fregs, fcsr, mask = frame.read_frame(data)
        for i in range(32):
            cpu.x[i] = regs[i]
            cpu.f[i] = fregs[i]
        cpu.set_fcsr(fcsr)
        cpu.pc = pc
        return mask


ABI = Riscv64Abi()
