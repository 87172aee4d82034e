"""KVM API numbers and structures (Documentation/virt/kvm/api.rst, <linux/kvm.h>).

Structures are ctypes mirrors of the x86-64 layouts; ioctl request numbers
are built with the generic _IOC encoding from <asm-generic/ioctl.h>.
"""
from __future__ import annotations

import ctypes
from ctypes import c_int32, c_uint8, c_uint16, c_uint32, c_uint64

KVMIO = 0xAE
_IOC_NONE, _IOC_WRITE, _IOC_READ = 0, 1, 2


def _ioc(direction: int, nr: int, size: int) -> int:
    return (direction << 30) | (size << 16) | (KVMIO << 8) | nr


def _io(nr: int) -> int:
    return _ioc(_IOC_NONE, nr, 0)


def _iow(nr: int, ctype: type) -> int:
    return _ioc(_IOC_WRITE, nr, ctypes.sizeof(ctype))


def _ior(nr: int, ctype: type) -> int:
    return _ioc(_IOC_READ, nr, ctypes.sizeof(ctype))


def _iowr(nr: int, ctype: type) -> int:
    return _ioc(_IOC_READ | _IOC_WRITE, nr, ctypes.sizeof(ctype))


# --- structures (api.rst section 4, "API description") -----------------------
class KvmRegs(ctypes.Structure):
    """struct kvm_regs (4.11 KVM_GET_REGS)."""

    _fields_ = [(n, c_uint64) for n in (
        "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rsp", "rbp",
        "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip", "rflags")]


class KvmSegment(ctypes.Structure):
    _fields_ = [("base", c_uint64), ("limit", c_uint32), ("selector", c_uint16),
                ("type", c_uint8), ("present", c_uint8), ("dpl", c_uint8), ("db", c_uint8),
                ("s", c_uint8), ("l", c_uint8), ("g", c_uint8), ("avl", c_uint8),
                ("unusable", c_uint8), ("padding", c_uint8)]


class KvmDtable(ctypes.Structure):
    _fields_ = [("base", c_uint64), ("limit", c_uint16), ("padding", c_uint16 * 3)]


class KvmSregs(ctypes.Structure):
    """struct kvm_sregs (4.13 KVM_GET_SREGS)."""

    _fields_ = [("cs", KvmSegment), ("ds", KvmSegment), ("es", KvmSegment),
                ("fs", KvmSegment), ("gs", KvmSegment), ("ss", KvmSegment),
                ("tr", KvmSegment), ("ldt", KvmSegment),
                ("gdt", KvmDtable), ("idt", KvmDtable),
                ("cr0", c_uint64), ("cr2", c_uint64), ("cr3", c_uint64), ("cr4", c_uint64),
                ("cr8", c_uint64), ("efer", c_uint64), ("apic_base", c_uint64),
                ("interrupt_bitmap", c_uint64 * 4)]


class KvmUserspaceMemoryRegion(ctypes.Structure):
    """struct kvm_userspace_memory_region (4.35)."""

    _fields_ = [("slot", c_uint32), ("flags", c_uint32), ("guest_phys_addr", c_uint64),
                ("memory_size", c_uint64), ("userspace_addr", c_uint64)]


class KvmCpuidEntry2(ctypes.Structure):
    _fields_ = [("function", c_uint32), ("index", c_uint32), ("flags", c_uint32),
                ("eax", c_uint32), ("ebx", c_uint32), ("ecx", c_uint32), ("edx", c_uint32),
                ("padding", c_uint32 * 3)]


KVM_CPUID_FLAG_SIGNIFCANT_INDEX = 1

CPUID_MAX_ENTRIES = 256


class KvmCpuid2(ctypes.Structure):
    """struct kvm_cpuid2 with room for CPUID_MAX_ENTRIES entries (4.46 KVM_GET_SUPPORTED_CPUID)."""

    _fields_ = [("nent", c_uint32), ("padding", c_uint32),
                ("entries", KvmCpuidEntry2 * CPUID_MAX_ENTRIES)]


class _KvmCpuid2Header(ctypes.Structure):
    _fields_ = [("nent", c_uint32), ("padding", c_uint32)]


class KvmMsrEntry(ctypes.Structure):
    _fields_ = [("index", c_uint32), ("reserved", c_uint32), ("data", c_uint64)]


MSR_MAX_ENTRIES = 64


class KvmMsrs(ctypes.Structure):
    """struct kvm_msrs with room for MSR_MAX_ENTRIES entries (4.18 KVM_GET_MSRS)."""

    _fields_ = [("nmsrs", c_uint32), ("pad", c_uint32),
                ("entries", KvmMsrEntry * MSR_MAX_ENTRIES)]


class _KvmMsrsHeader(ctypes.Structure):
    _fields_ = [("nmsrs", c_uint32), ("pad", c_uint32)]


class KvmPitConfig(ctypes.Structure):
    """struct kvm_pit_config (4.61 KVM_CREATE_PIT2)."""

    _fields_ = [("flags", c_uint32), ("pad", c_uint32 * 15)]


KVM_PIT_SPEAKER_DUMMY = 1


class KvmIrqLevel(ctypes.Structure):
    """struct kvm_irq_level (4.25 KVM_IRQ_LINE); `irq` doubles as `status`."""

    _fields_ = [("irq", c_int32), ("level", c_uint32)]


class KvmMpState(ctypes.Structure):
    _fields_ = [("mp_state", c_uint32)]


KVM_MP_STATE_RUNNABLE = 0
KVM_MP_STATE_UNINITIALIZED = 1
KVM_MP_STATE_HALTED = 3


class KvmVcpuEvents(ctypes.Structure):
    """struct kvm_vcpu_events (4.31 KVM_GET_VCPU_EVENTS), x86 layout, 64 bytes."""

    _fields_ = [("exc_injected", c_uint8), ("exc_nr", c_uint8), ("exc_has_error_code", c_uint8),
                ("exc_pending", c_uint8), ("exc_error_code", c_uint32),
                ("int_injected", c_uint8), ("int_nr", c_uint8), ("int_soft", c_uint8),
                ("int_shadow", c_uint8),
                ("nmi_injected", c_uint8), ("nmi_pending", c_uint8), ("nmi_masked", c_uint8),
                ("nmi_pad", c_uint8),
                ("sipi_vector", c_uint32), ("flags", c_uint32),
                ("smi", c_uint8 * 4), ("reserved", c_uint8 * 27),
                ("exception_has_payload", c_uint8), ("exception_payload", c_uint64)]


class KvmLapicState(ctypes.Structure):
    _fields_ = [("regs", ctypes.c_char * 1024)]


# --- struct kvm_run (api.rst section 5) ---------------------------------------
class KvmRunIo(ctypes.Structure):
    _fields_ = [("direction", c_uint8), ("size", c_uint8), ("port", c_uint16),
                ("count", c_uint32), ("data_offset", c_uint64)]


class KvmRunMmio(ctypes.Structure):
    _fields_ = [("phys_addr", c_uint64), ("data", c_uint8 * 8), ("len", c_uint32),
                ("is_write", c_uint8)]


class KvmRunInternal(ctypes.Structure):
    _fields_ = [("suberror", c_uint32), ("ndata", c_uint32), ("data", c_uint64 * 16)]


class KvmRunFailEntry(ctypes.Structure):
    _fields_ = [("hardware_entry_failure_reason", c_uint64), ("cpu", c_uint32)]


class KvmRunSystemEvent(ctypes.Structure):
    _fields_ = [("type", c_uint32), ("ndata", c_uint32), ("data", c_uint64 * 16)]


class KvmRunExit(ctypes.Union):
    _fields_ = [("io", KvmRunIo), ("mmio", KvmRunMmio), ("internal", KvmRunInternal),
                ("fail_entry", KvmRunFailEntry), ("system_event", KvmRunSystemEvent),
                ("padding", ctypes.c_char * 256)]


class KvmRun(ctypes.Structure):
    _fields_ = [("request_interrupt_window", c_uint8), ("immediate_exit", c_uint8),
                ("padding1", c_uint8 * 6), ("exit_reason", c_uint32),
                ("ready_for_interrupt_injection", c_uint8), ("if_flag", c_uint8),
                ("flags", c_uint16), ("cr8", c_uint64), ("apic_base", c_uint64),
                ("u", KvmRunExit)]


# --- exit reasons (api.rst 5, "exit_reason") ------------------------------------
EXIT_NAMES = {
    0: "UNKNOWN", 1: "EXCEPTION", 2: "IO", 3: "HYPERCALL", 4: "DEBUG", 5: "HLT", 6: "MMIO",
    7: "IRQ_WINDOW_OPEN", 8: "SHUTDOWN", 9: "FAIL_ENTRY", 10: "INTR", 11: "SET_TPR",
    12: "TPR_ACCESS", 17: "INTERNAL_ERROR", 24: "SYSTEM_EVENT",
}
KVM_EXIT_IO = 2
KVM_EXIT_HLT = 5
KVM_EXIT_MMIO = 6
KVM_EXIT_SHUTDOWN = 8
KVM_EXIT_FAIL_ENTRY = 9
KVM_EXIT_INTR = 10
KVM_EXIT_INTERNAL_ERROR = 17
KVM_EXIT_SYSTEM_EVENT = 24
KVM_EXIT_IO_IN, KVM_EXIT_IO_OUT = 0, 1
KVM_SYSTEM_EVENT_SHUTDOWN, KVM_SYSTEM_EVENT_RESET, KVM_SYSTEM_EVENT_CRASH = 1, 2, 3
INTERNAL_ERROR_NAMES = {1: "emulation failure", 2: "simultaneous exception",
                        3: "delivery event", 4: "unexpected exit reason"}

# --- capabilities (api.rst section 8 / KVM_CHECK_EXTENSION) ---------------------------
KVM_CAP_IRQCHIP = 0
KVM_CAP_HLT = 1
KVM_CAP_USER_MEMORY = 3
KVM_CAP_SET_TSS_ADDR = 4
KVM_CAP_EXT_CPUID = 7
KVM_CAP_NR_VCPUS = 9
KVM_CAP_NR_MEMSLOTS = 10
KVM_CAP_PIT2 = 33
KVM_CAP_MAX_VCPUS = 66
KVM_CAP_IMMEDIATE_EXIT = 136

# --- ioctls ----------------------------------------------------------------------
KVM_GET_API_VERSION = _io(0x00)
KVM_CREATE_VM = _io(0x01)
KVM_CHECK_EXTENSION = _io(0x03)
KVM_GET_VCPU_MMAP_SIZE = _io(0x04)
KVM_GET_SUPPORTED_CPUID = _iowr(0x05, _KvmCpuid2Header)
KVM_CREATE_VCPU = _io(0x41)
KVM_SET_USER_MEMORY_REGION = _iow(0x46, KvmUserspaceMemoryRegion)
KVM_SET_TSS_ADDR = _io(0x47)
KVM_SET_IDENTITY_MAP_ADDR = _iow(0x48, c_uint64)
KVM_CREATE_IRQCHIP = _io(0x60)
KVM_IRQ_LINE = _iow(0x61, KvmIrqLevel)
KVM_CREATE_PIT2 = _iow(0x77, KvmPitConfig)
KVM_RUN = _io(0x80)
KVM_GET_REGS = _ior(0x81, KvmRegs)
KVM_SET_REGS = _iow(0x82, KvmRegs)
KVM_GET_SREGS = _ior(0x83, KvmSregs)
KVM_SET_SREGS = _iow(0x84, KvmSregs)
KVM_GET_MSRS = _iowr(0x88, _KvmMsrsHeader)
KVM_SET_MSRS = _iow(0x89, _KvmMsrsHeader)
KVM_GET_LAPIC = _ior(0x8E, KvmLapicState)
KVM_SET_CPUID2 = _iow(0x90, _KvmCpuid2Header)
KVM_GET_MP_STATE = _ior(0x98, KvmMpState)
KVM_GET_VCPU_EVENTS = _ior(0x9F, KvmVcpuEvents)
KVM_SET_VCPU_EVENTS = _iow(0xA0, KvmVcpuEvents)
KVM_SET_MP_STATE = _iow(0x99, KvmMpState)
