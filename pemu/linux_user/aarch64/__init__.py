"""aarch64 Linux ABI (arch/arm64): x8 holds the system call number, x0..x5
its arguments and x0 its result; TPIDR_EL0 is the TLS register; `svc #0`
enters the kernel. AT_HWCAP advertises what pemu implements completely: FP,
ASIMD and CRC32 (not ATOMICS: CASP is missing), so the C library picks its
plain A64 + Advanced SIMD routines."""
from __future__ import annotations

from typing import Any

from pemu.linux_user import signals as S
from pemu.linux_user.aarch64 import signal as frame
from pemu.linux_user.aarch64.numbers import NUMBERS
from pemu.linux_user.abi import Abi
from pemu.target.arm import state
from pemu.target.arm import trap as T

M64 = (1 << 64) - 1
HWCAP_FP, HWCAP_ASIMD, HWCAP_CRC32 = 1 << 0, 1 << 1, 1 << 7
FP, LR, X8 = 29, 30, 8
#: open(2) flags arm64 numbers differently from asm-generic (uapi asm/fcntl.h):
#: (arm64, generic) for O_DIRECTORY, O_NOFOLLOW, O_DIRECT, O_LARGEFILE
OPEN_FLAGS = ((0o40000, 0o200000), (0o100000, 0o400000), (0o200000, 0o40000),
              (0o400000, 0o100000))
OPEN_MASK = 0o740000
#: si_code values of the signals a fault sends (uapi asm-generic/siginfo.h)
SEGV_MAPERR, SEGV_ACCERR, ILL_ILLOPC, TRAP_BRKPT, BUS_ADRALN = 1, 2, 1, 1, 1


class Aarch64Abi(Abi):
    name = "aarch64"
    machine = "aarch64"
    elf_machine = 183
    elf_machine_name = "EM_AARCH64"
    hwcap = HWCAP_FP | HWCAP_ASIMD | HWCAP_CRC32
    sigreturn_code = frame.SIGRETURN_CODE
    numbers = NUMBERS
    native_layout = state.LAYOUT
    reports_core_signals = True
    sigaction_has_restorer = True

    def new_cpu(self, mem: Any, thread: Any) -> Any:
        from pemu.linux_user.aarch64.cpu import ArmUserCpu
        return ArmUserCpu(mem, thread)

    def new_translator(self, buf: Any, tier: int) -> Any:
        from pemu.target.arm.translator import Translator
        return Translator(buf, tier)

    def start(self, cpu: Any, entry: int, sp: int) -> None:
        cpu.pc = entry
        cpu.sp = sp

    def copy_cpu(self, dst: Any, src: Any) -> None:
        dst.copy_from(src)

    def open_flags_to_host(self, flags: int) -> int:
        out = flags & ~OPEN_MASK
        for arm, generic in OPEN_FLAGS:
            if flags & arm:
                out |= generic
        return out

    def open_flags_from_host(self, flags: int) -> int:
        out = flags & ~OPEN_MASK
        for arm, generic in OPEN_FLAGS:
            if flags & generic:
                out |= arm
        return out

    def syscall_nr(self, cpu: Any) -> int:
        return cpu.x[X8]

    def syscall_args(self, cpu: Any) -> list[int]:
        return list(cpu.x[0:6])

    def set_result(self, cpu: Any, value: int) -> None:
        cpu.x[0] = value & M64

    def get_sp(self, cpu: Any) -> int:
        return cpu.sp

    def set_sp(self, cpu: Any, sp: int) -> None:
        cpu.sp = sp

    def set_tls(self, cpu: Any, tls: int) -> None:
        cpu.sys[state.TPIDR_EL0] = tls & M64

    def trap_signal(self, cpu: Any, t: Any) -> S.SigInfo | None:
        ec = t.ec
        if ec == T.SVC:
            cpu.pc = (cpu.pc + 4) & M64
            return None
        if ec in (T.DATA_ABORT, T.INSN_ABORT):
            return S.SigInfo(S.SIGSEGV, SEGV_ACCERR if t.mapped else SEGV_MAPERR,
                             addr=t.value & M64)
        if ec == T.BRK:
            return S.SigInfo(S.SIGTRAP, TRAP_BRKPT, addr=cpu.pc)
        if ec in (T.PC_ALIGN, T.SP_ALIGN, T.ALIGNMENT):
            return S.SigInfo(S.SIGBUS, BUS_ADRALN, addr=t.value & M64)
        return S.SigInfo(S.SIGILL, ILL_ILLOPC, addr=cpu.pc)

    def setup_frame(self, thread: Any, sig: int, act: S.SigAction, info: S.SigInfo,
                    frame_top: int, oldmask: int, altstack: tuple[int, int, int]) -> None:
        cpu = thread.cpu
        mem = thread.proc.mem
        record = (frame_top - 16) & ~15
        sp = (record - frame.FRAME_SIZE) & ~15
        mem.check_writable(sp, record + 16 - sp)
        x = cpu.x
        fault = info.addr if info.signo in (S.SIGSEGV, S.SIGBUS) and info.addr else 0
        data = frame.build_frame(info.pack(), list(x[0:31]), cpu.sp, cpu.pc, cpu.nzcv,
                                 cpu.sys[state.FPSR], cpu.sys[state.FPCR],
                                 [cpu.vreg(i) for i in range(32)], oldmask, altstack,
                                 fault_address=fault)
        mem.buf[sp:sp + len(data)] = data
        mem.buf[record:record + 16] = (x[FP] | (x[LR] << 64)).to_bytes(16, "little")
        x[0], x[1], x[2] = sig, sp, sp + frame.UC_OFF
        x[FP] = record
        x[LR] = thread.proc.sigtramp
        cpu.sp = sp
        cpu.pc = act.handler
        cpu.resv = None

    def restore_frame(self, thread: Any) -> int:
        cpu = thread.cpu
        f = frame.read_frame(thread.proc.mem.read(cpu.sp, frame.FRAME_SIZE))
        for i, v in enumerate(f["regs"]):
            cpu.x[i] = v
        cpu.sp = f["sp"]
        cpu.pc = f["pc"]
        cpu.nzcv = f["pstate"]
        if "vregs" in f:
            cpu.sys[state.FPSR] = f["fpsr"]
            cpu.sys[state.FPCR] = f["fpcr"]
            for i, v in enumerate(f["vregs"]):
                cpu.set_vreg(i, v)
        return f["mask"]


ABI = Aarch64Abi()
