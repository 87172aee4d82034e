"""One KVM vCPU: its fd, the shared kvm_run page, registers, CPUID and MSRs.

The kvm_run structure is mmap'ed from the vCPU fd (api.rst 4.5
KVM_GET_VCPU_MMAP_SIZE, section 5); PIO data lives in the same mapping at
`io.data_offset`.
"""
from __future__ import annotations

import ctypes
import mmap
import os

from pemu.accel.kvm import ioctls as K
from pemu.accel.kvm.system import KvmError, ioctl
from pemu.accel.kvm.vm import KvmVm, buffer_address
from pemu.target.i386.cpu import Segment, X86State


def _to_kvm_segment(seg: Segment, out: K.KvmSegment) -> None:
    out.base, out.limit, out.selector = seg.base, seg.limit, seg.selector
    out.type, out.present, out.dpl = seg.type, seg.present, seg.dpl
    out.db, out.s, out.l, out.g = seg.db, seg.s, seg.l, seg.g
    out.avl, out.unusable = 0, seg.unusable


def _from_kvm_segment(k: K.KvmSegment) -> Segment:
    return Segment(selector=k.selector, base=k.base, limit=k.limit, type=k.type,
                   present=k.present, dpl=k.dpl, db=k.db, s=k.s, l=k.l, g=k.g,
                   unusable=k.unusable)


class KvmVcpu:
    """A vCPU of a KvmVm (api.rst 4.7 KVM_CREATE_VCPU)."""

    def __init__(self, vm: KvmVm, index: int) -> None:
        self.vm = vm
        self.index = index
        self.fd = vm.create_vcpu_fd(index)
        self._map = mmap.mmap(self.fd, vm.system.vcpu_mmap_size, mmap.MAP_SHARED,
                              mmap.PROT_READ | mmap.PROT_WRITE)
        self.run_struct = K.KvmRun.from_buffer(self._map)
        self.run_addr = buffer_address(self._map)

    # --- kvm_run helpers --------------------------------------------------------------
    def io_data(self, length: int) -> ctypes.Array:
        off = self.run_struct.u.io.data_offset
        return (ctypes.c_uint8 * length).from_buffer(self._map, off)

    def run(self) -> int:
        """KVM_RUN once; returns the exit reason. Raises OSError(EINTR) on a kick."""
        ioctl(self.fd, K.KVM_RUN)
        return self.run_struct.exit_reason

    # --- registers (api.rst 4.11-4.14) ----------------------------------------------------
    def get_regs(self) -> K.KvmRegs:
        regs = K.KvmRegs()
        ioctl(self.fd, K.KVM_GET_REGS, regs)
        return regs

    def set_regs(self, regs: K.KvmRegs) -> None:
        ioctl(self.fd, K.KVM_SET_REGS, regs)

    def get_sregs(self) -> K.KvmSregs:
        sregs = K.KvmSregs()
        ioctl(self.fd, K.KVM_GET_SREGS, sregs)
        return sregs

    def set_sregs(self, sregs: K.KvmSregs) -> None:
        ioctl(self.fd, K.KVM_SET_SREGS, sregs)

    def set_state(self, st: X86State) -> None:
        """Load an architectural state (boot entry, reset) into the vCPU."""
        sregs = self.get_sregs()
        for name in ("cs", "ds", "es", "fs", "gs", "ss", "tr", "ldt"):
            _to_kvm_segment(getattr(st, name), getattr(sregs, name))
        sregs.gdt.base, sregs.gdt.limit = st.gdt_base, st.gdt_limit
        sregs.idt.base, sregs.idt.limit = st.idt_base, st.idt_limit
        sregs.cr0, sregs.cr3, sregs.cr4, sregs.efer = st.cr0, st.cr3, st.cr4, st.efer
        if st.apic_base:
            sregs.apic_base = st.apic_base
        self.set_sregs(sregs)
        regs = K.KvmRegs()
        for name, value in st.gpr.items():
            setattr(regs, name, value)
        regs.rip, regs.rflags = st.rip, st.rflags
        self.set_regs(regs)

    def get_state(self) -> X86State:
        """The vCPU's architectural state, for `info registers` (X86State.dump())."""
        regs, sregs = self.get_regs(), self.get_sregs()
        st = X86State()
        st.gpr = {name: getattr(regs, name) for name, _ in K.KvmRegs._fields_
                  if name not in ("rip", "rflags")}
        st.rip, st.rflags = regs.rip, regs.rflags
        for name in ("cs", "ds", "es", "fs", "gs", "ss", "tr", "ldt"):
            setattr(st, name, _from_kvm_segment(getattr(sregs, name)))
        st.gdt_base, st.gdt_limit = sregs.gdt.base, sregs.gdt.limit
        st.idt_base, st.idt_limit = sregs.idt.base, sregs.idt.limit
        st.cr0, st.cr2, st.cr3, st.cr4 = sregs.cr0, sregs.cr2, sregs.cr3, sregs.cr4
        st.cr8, st.efer, st.apic_base = sregs.cr8, sregs.efer, sregs.apic_base
        return st

    # --- CPUID and MSRs (api.rst 4.46 KVM_SET_CPUID2, 4.19 KVM_SET_MSRS) ---------------------
    def set_cpuid(self, entries: list[K.KvmCpuidEntry2]) -> None:
        buf = K.KvmCpuid2()
        buf.nent = len(entries)
        for i, e in enumerate(entries):
            buf.entries[i] = e
        try:
            ioctl(self.fd, K.KVM_SET_CPUID2, buf)
        except OSError as e:
            raise KvmError(f"KVM_SET_CPUID2 failed: {e.strerror}") from None

    def set_msrs(self, msrs: dict[int, int]) -> int:
        """Write MSRs; returns how many KVM accepted (it stops at the first refused one)."""
        buf = K.KvmMsrs()
        buf.nmsrs = len(msrs)
        for i, (index, value) in enumerate(msrs.items()):
            buf.entries[i].index = index
            buf.entries[i].data = value
        return ioctl(self.fd, K.KVM_SET_MSRS, buf)

    def get_msrs(self, indexes: list[int]) -> dict[int, int]:
        buf = K.KvmMsrs()
        buf.nmsrs = len(indexes)
        for i, index in enumerate(indexes):
            buf.entries[i].index = index
        n = ioctl(self.fd, K.KVM_GET_MSRS, buf)
        return {buf.entries[i].index: buf.entries[i].data for i in range(n)}

    def inject_exception(self, vector: int) -> None:
        """Queue a fault-type exception without error code (api.rst 4.32 KVM_SET_VCPU_EVENTS);
        flags = 0 leaves NMI, SIPI and SMM state alone."""
        ev = K.KvmVcpuEvents()
        ioctl(self.fd, K.KVM_GET_VCPU_EVENTS, ev)
        ev.exc_injected, ev.exc_nr, ev.exc_has_error_code, ev.exc_pending = 1, vector, 0, 0
        ev.exc_error_code = 0
        ev.flags = 0
        ioctl(self.fd, K.KVM_SET_VCPU_EVENTS, ev)

    def set_mp_state(self, state: int) -> None:
        mp = K.KvmMpState()
        mp.mp_state = state
        ioctl(self.fd, K.KVM_SET_MP_STATE, mp)

    def close(self) -> None:
        del self.run_struct
        self._map.close()
        os.close(self.fd)
