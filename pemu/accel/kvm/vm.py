"""One KVM virtual machine: memory slots, in-kernel irqchip and PIT, IRQ lines.

Memory slots map the machine's RAM blocks (`RamRegion.buf`, one anonymous
mmap each) into the guest: the same pages the TCG softmmu reads, so loaders
and DMA write RAM the ordinary way (api.rst 4.35 KVM_SET_USER_MEMORY_REGION).
"""
from __future__ import annotations

import ctypes
import os

from pemu.accel.kvm import ioctls as K
from pemu.accel.kvm.system import KvmError, KvmSystem, ioctl
from pemu.core.memory import AddressSpace, RamRegion

# Where QEMU parks the Intel VMX real-mode helpers (3 pages TSS + 1 page EPT
# identity map), just below the 4 GiB BIOS area (api.rst 4.48, 4.52).
TSS_ADDR = 0xFFFBD000
IDENTITY_MAP_ADDR = 0xFFFBC000
KVM_MEM_READONLY = 1 << 1


def buffer_address(buf: object) -> int:
    """The host virtual address of a writable buffer (an mmap)."""
    return ctypes.addressof(ctypes.c_char.from_buffer(buf))  # type: ignore[arg-type]


class KvmVm:
    """A VM file descriptor and what hangs off it."""

    def __init__(self, system: KvmSystem) -> None:
        self.system = system
        try:
            self.fd = ioctl(system.fd, K.KVM_CREATE_VM, 0)
        except OSError as e:
            raise KvmError(f"failed to initialize kvm: {e.strerror}") from None
        self._slots = 0
        self.irqchip = False
        try:
            ioctl(self.fd, K.KVM_SET_TSS_ADDR, TSS_ADDR)
            addr = ctypes.c_uint64(IDENTITY_MAP_ADDR)
            ioctl(self.fd, K.KVM_SET_IDENTITY_MAP_ADDR, addr)
        except OSError:
            pass  # only needed by Intel VMX without unrestricted guest

    # --- memory ------------------------------------------------------------------
    def map_ram(self, region: RamRegion) -> None:
        """A memory slot over one RAM (or ROM: read-only slot) region at its guest base."""
        mr = K.KvmUserspaceMemoryRegion()
        mr.slot = self._slots
        mr.flags = KVM_MEM_READONLY if region.readonly else 0
        mr.guest_phys_addr = region.base
        mr.memory_size = (region.size + 0xFFF) & ~0xFFF
        mr.userspace_addr = buffer_address(region.buf)
        try:
            ioctl(self.fd, K.KVM_SET_USER_MEMORY_REGION, mr)
        except OSError as e:
            raise KvmError(f"cannot map {region.name} ({region.size >> 20} MiB at "
                           f"{region.base:#x}) into KVM: {e.strerror}") from None
        self._slots += 1

    def map_address_space(self, space: AddressSpace) -> None:
        for region in space.ram_regions():
            self.map_ram(region)

    # --- interrupt controllers (api.rst 4.24, 4.61) ------------------------------------
    def create_irqchip(self) -> None:
        """In-kernel 8259 pair, IOAPIC and local APICs; GSI n routes to PIC/IOAPIC pin n."""
        try:
            ioctl(self.fd, K.KVM_CREATE_IRQCHIP)
        except OSError as e:
            raise KvmError(f"KVM_CREATE_IRQCHIP failed: {e.strerror}") from None
        self.irqchip = True

    def create_pit(self) -> None:
        """In-kernel i8254 on ports 0x40-0x43 (and a dummy speaker port 0x61), on GSI 0."""
        cfg = K.KvmPitConfig()
        cfg.flags = K.KVM_PIT_SPEAKER_DUMMY
        try:
            ioctl(self.fd, K.KVM_CREATE_PIT2, cfg)
        except OSError as e:
            raise KvmError(f"KVM_CREATE_PIT2 failed: {e.strerror}") from None

    def set_irq(self, gsi: int, level: int) -> None:
        """Drive an input of the in-kernel irqchip (KVM_IRQ_LINE, api.rst 4.25)."""
        lvl = K.KvmIrqLevel()
        lvl.irq = gsi
        lvl.level = 1 if level else 0
        ioctl(self.fd, K.KVM_IRQ_LINE, lvl)

    def create_vcpu_fd(self, index: int) -> int:
        try:
            return ioctl(self.fd, K.KVM_CREATE_VCPU, index)
        except OSError as e:
            raise KvmError(f"kvm_init_vcpu: KVM_CREATE_VCPU failed: {e.strerror}") from None

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
