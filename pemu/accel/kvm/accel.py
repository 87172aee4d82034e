"""`-accel kvm`: the accelerator object a board hands its memory, devices and CPUs to.

`KvmAccel` builds the VM (slots over the board's RAM, in-kernel irqchip and
PIT), creates the vCPUs with the board's CPU model, and is the main loop's
`CpuRunner`: vCPUs run in their own threads, so a main-loop turn never
waits for them; runstate changes (STOP/RESUME events) pause and resume the
threads. A reset rebuilds the VM from scratch, which resets the in-kernel
irqchip, PIT and every vCPU exactly as at power-on.
"""
from __future__ import annotations

import sys
from collections.abc import Callable

from pemu.accel.kvm import ioctls as K
from pemu.accel.kvm.cpus import VcpuThreads, install_kick_handler
from pemu.accel.kvm.system import KvmError, KvmSystem
from pemu.accel.kvm.vcpu import KvmVcpu
from pemu.accel.kvm.vm import KvmVm
from pemu.core.main_loop import MainLoop
from pemu.core.memory import AddressSpace
from pemu.target.i386 import cpu as X
from pemu.target.i386 import emulate
from pemu.target.i386.cpuid import CpuConfig, CpuidLeaf, build_cpuid, for_vcpu
from pemu.target.i386.mmu import read_virt

#: MSR values at power-on (SDM vol. 3, table 10-1) that Linux reads early.
BOOT_MSRS = {
    X.MSR_IA32_TSC: 0,
    X.MSR_IA32_MISC_ENABLE: X.MISC_ENABLE_FAST_STRING,
    X.MSR_IA32_CR_PAT: X.PAT_POWER_ON,
    X.MSR_IA32_SYSENTER_CS: 0, X.MSR_IA32_SYSENTER_ESP: 0, X.MSR_IA32_SYSENTER_EIP: 0,
    X.MSR_STAR: 0, X.MSR_LSTAR: 0, X.MSR_CSTAR: 0, X.MSR_SYSCALL_MASK: 0,
    X.MSR_KERNEL_GS_BASE: 0,
}


def _leaf_from_kvm(e: K.KvmCpuidEntry2) -> CpuidLeaf:
    return CpuidLeaf(e.function, e.index, e.flags, e.eax, e.ebx, e.ecx, e.edx)


def _leaf_to_kvm(leaf: CpuidLeaf) -> K.KvmCpuidEntry2:
    e = K.KvmCpuidEntry2()
    e.function, e.index, e.flags = leaf.function, leaf.index, leaf.flags
    e.eax, e.ebx, e.ecx, e.edx = leaf.eax, leaf.ebx, leaf.ecx, leaf.edx
    return e


class KvmAccel:
    """The KVM side of one machine."""

    name = "kvm"

    def __init__(self, loop: MainLoop, memory: AddressSpace, io: AddressSpace,
                 ncpus: int, cpu: CpuConfig, warn: Callable[[str], None] | None = None) -> None:
        self.loop = loop
        self.memory = memory
        self.io = io
        self.ncpus = ncpus
        self.system = KvmSystem()
        if ncpus > self.system.max_vcpus():
            raise KvmError(f"Number of SMP cpus requested ({ncpus}) exceeds the maximum "
                           f"cpus supported by KVM ({self.system.max_vcpus()})")
        supported = [_leaf_from_kvm(e) for e in self.system.supported_cpuid()]
        self.cpuid, warnings = build_cpuid(cpu, supported)
        for w in warnings:
            (warn or (lambda m: sys.stderr.write(f"warning: {m}\n")))(w)
        self.vm: KvmVm | None = None
        self.vcpus: list[KvmVcpu] = []
        self.threads = VcpuThreads(loop, memory, io, self._on_fatal, self._emulate)
        #: Set by the board: callable(vcpu_index) -> X86State or None (wait for SIPI).
        self.boot_state: Callable[[int], X.X86State | None] = lambda i: None
        self.fatal_message: str | None = None
        loop.listeners.append(self._on_event)
        install_kick_handler()

    # --- building the VM -------------------------------------------------------------
    def create(self) -> None:
        vm = KvmVm(self.system)
        vm.map_address_space(self.memory)
        vm.create_irqchip()
        vm.create_pit()
        self.vm = vm
        self.vcpus = []
        for i in range(self.ncpus):
            v = KvmVcpu(vm, i)
            v.set_cpuid([_leaf_to_kvm(leaf) for leaf in for_vcpu(self.cpuid, i, self.ncpus)])
            v.set_msrs(BOOT_MSRS)
            self.vcpus.append(v)

    def set_irq(self, gsi: int, level: int) -> None:
        """An input line of the in-kernel IOAPIC/PIC pair (device interrupts)."""
        if self.vm is not None:
            self.vm.set_irq(gsi, level)

    def load_boot_state(self) -> None:
        for v in self.vcpus:
            st = self.boot_state(v.index)
            if st is not None:
                if v.index == 0:
                    st.apic_base = X.APIC_DEFAULT_BASE | X.APICBASE_ENABLE | X.APICBASE_BSP
                v.set_state(st)
                v.set_mp_state(K.KVM_MP_STATE_RUNNABLE)

    def start(self) -> None:
        """Create the VM (if needed), load the boot state, start the vCPU threads."""
        if self.vm is None:
            self.create()
        self.load_boot_state()
        with self.loop.bql:
            self.threads.start(self.vcpus)
            if not self.loop.running:
                self.threads.pause()

    def reset(self) -> None:
        """Power-cycle the CPUs and in-kernel chips: a fresh VM over the same RAM."""
        with self.loop.bql:
            self.threads.stop()
            self._destroy()
            self.create()

    def shutdown(self) -> None:
        with self.loop.bql:
            self.threads.stop()
        self._destroy()
        self.system.close()

    def _destroy(self) -> None:
        for v in self.vcpus:
            v.close()
        self.vcpus = []
        if self.vm is not None:
            self.vm.close()
            self.vm = None

    # --- CpuRunner (pemu.core.main_loop) --------------------------------------------
    def run_slice(self, deadline_ns: int) -> bool:
        return True  # vCPUs run in their own threads; the loop may sleep

    def idle(self) -> bool:
        return True

    def kick(self) -> None:
        """Main-loop wake-ups need no vCPU exit: devices are reached under the BQL."""

    def _on_event(self, event: str, data: dict) -> None:
        if event == "STOP":
            self.threads.pause()
        elif event == "RESUME" and self.vcpus:
            self.threads.resume()

    # --- errors -------------------------------------------------------------------
    def _emulate(self, v: KvmVcpu) -> bool:
        """Finish an instruction the host's emulator gave up on; True when done.

        PVM hosts emulate guest CPL0 code and fail on `int3` (0xCC), which Linux
        runs on purpose (alternatives self-test, text_poke_bp), on POPCNT and on
        CLAC/STAC (SMAP, whose CPUID bit the host shows natively) and FWAIT.
        int3 is a trap: the #BP handler must see RIP past it, so advance RIP and
        inject vector 3.
        """
        try:
            st = v.get_state()
            code = read_virt(self.memory, st, st.rip, 15) or b""
            regs = v.get_regs()
            if emulate.int3(regs, code):
                v.set_regs(regs)
                v.inject_exception(3)
                return True
            if (emulate.popcnt(regs, code) or emulate.clac_stac(regs, code)
                    or emulate.fwait(regs, code)):
                v.set_regs(regs)
                return True
        except (OSError, IndexError):
            pass
        return False

    def _on_fatal(self, v: KvmVcpu, msg: str) -> None:
        """Report like QEMU (message, registers, code bytes at RIP), then stop with status 1."""
        lines = [msg]
        try:
            st = v.get_state()
            lines.append(st.dump())
            code = read_virt(self.memory, st, st.rip, 16)
            if code is not None:
                lines.append(f"Code={code.hex(' ')} (bytes at RIP {st.rip:#x})")
        except OSError:
            pass
        self.fatal_message = "\n".join(lines)
        sys.stderr.write(self.fatal_message + "\n")
        sys.stderr.flush()
        self.loop.request("internal-error", msg)

    def dump_state(self) -> str:
        """`info registers` for every vCPU (pauses them first)."""
        out = []
        for v in self.vcpus:
            out.append(f"CPU#{v.index}\n" + v.get_state().dump())
        return "\n".join(out)
