"""What user-mode emulation needs to know of one guest ISA's Linux ABI.

The shared code (process, threads, system calls, signals) asks an `Abi`
for everything per-ISA, as QEMU's linux-user/<arch>/ directories provide
it: the ELF machine, system call numbers and registers, the TLS register,
the signal frame and its return trampoline, HWCAPs, `uname -m`, and the
CPU and translator to run it with. Each ISA has one instance, `ABI`, in
`linux_user/<arch>/__init__.py`; `for_elf` picks it from a program's
ELF header.
"""
from __future__ import annotations

from typing import Any

from pemu.linux_user import signals as S


class Abi:
    #: the qemu-<name> / pemu-<name> this ABI is (riscv64, aarch64)
    name = ""
    #: `uname -m`
    machine = ""
    #: ELF e_machine, and pyelftools' name for it
    elf_machine = 0
    elf_machine_name = ""
    #: AT_HWCAP and AT_HWCAP2 of the auxiliary vector
    hwcap = 0
    hwcap2 = 0
    #: the rt_sigreturn trampoline's code, placed in a "[vdso]" page
    sigreturn_code = b""
    #: system call number -> name
    numbers: dict[int, str] = {}
    #: bytes of the system call instruction (a restarted call goes back over it)
    syscall_insn_len = 4
    #: struct sigaction has sa_restorer before sa_mask (arches defining SA_RESTORER)
    sigaction_has_restorer = False
    #: QEMU prints "uncaught target signal" when such a guest dies of a core signal
    reports_core_signals = False

    # --- CPU and translator ---------------------------------------------------------------
    #: the env layout native code uses for this ISA's CPU, or None: no native tier yet
    native_layout: Any = None

    def new_cpu(self, mem: Any, thread: Any) -> Any:
        raise NotImplementedError

    def new_translator(self, buf: Any, tier: int) -> Any:
        raise NotImplementedError

    def start(self, cpu: Any, entry: int, sp: int) -> None:
        """Registers at the program's entry point."""
        raise NotImplementedError

    def copy_cpu(self, dst: Any, src: Any) -> None:
        """A new thread's registers: a copy of its creator's."""
        raise NotImplementedError

    # --- open(2) flags whose values differ from the generic ones (the host's) ------------------
    def open_flags_to_host(self, flags: int) -> int:
        return flags

    def open_flags_from_host(self, flags: int) -> int:
        return flags

    # --- registers of the system call ABI ---------------------------------------------------
    def syscall_nr(self, cpu: Any) -> int:
        raise NotImplementedError

    def syscall_args(self, cpu: Any) -> list[int]:
        """The six argument registers."""
        raise NotImplementedError

    def set_result(self, cpu: Any, value: int) -> None:
        raise NotImplementedError

    def get_sp(self, cpu: Any) -> int:
        raise NotImplementedError

    def set_sp(self, cpu: Any, sp: int) -> None:
        raise NotImplementedError

    def set_tls(self, cpu: Any, tls: int) -> None:
        raise NotImplementedError

    # --- traps and signals ----------------------------------------------------------------------
    def trap_signal(self, cpu: Any, trap: Any) -> S.SigInfo | None:
        """The signal a CPU trap sends, or None for a system call (the CPU's pc
        is then past the system call instruction)."""
        raise NotImplementedError

    def setup_frame(self, thread: Any, sig: int, act: S.SigAction, info: S.SigInfo,
                    frame_top: int, oldmask: int, altstack: tuple[int, int, int]) -> None:
        """Write the rt_sigframe below frame_top (the caller chose the stack)
        and enter the handler."""
        raise NotImplementedError

    def restore_frame(self, thread: Any) -> int:
        """rt_sigreturn: registers back from the frame at sp; returns the signal mask."""
        raise NotImplementedError


def for_elf(path: str) -> Abi | None:
    """The ABI of an ELF executable (None: not one pemu runs)."""
    from pemu.linux_user.aarch64 import ABI as AARCH64
    from pemu.linux_user.riscv64 import ABI as RISCV64
    try:
        with open(path, "rb") as f:
            head = f.read(20)
    except OSError:
        return None
    if len(head) < 20 or head[:4] != b"\x7fELF" or head[4] != 2 or head[5] != 1:
        return None
    machine = int.from_bytes(head[18:20], "little")
    for abi in (RISCV64, AARCH64):
        if abi.elf_machine == machine:
            return abi
    return None


def by_name(name: str) -> Abi:
    if name == "aarch64":
        from pemu.linux_user.aarch64 import ABI
        return ABI
    from pemu.linux_user.riscv64 import ABI as RV
    return RV
