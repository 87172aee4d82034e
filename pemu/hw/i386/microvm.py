"""`-M microvm`: a minimal x86-64 machine for direct Linux boot, after QEMU's microvm.

No PCI, no firmware: the kernel is loaded straight into RAM (linux_boot.py)
and entered in long mode. Devices, from one table (`MEMMAP`/`IOMAP` below):
the in-kernel 8259 pair, IOAPIC, LAPICs and i8254 (KVM), a 16550 UART on
COM1 (0x3f8, IRQ 4), the RTC/CMOS at 0x70, an i8042 that can only reset the
machine (0x60/0x64), ACPI PM1a registers at 0x600 for power-off, and eight
virtio-mmio slots at 0xfeb00000 (QEMU's VIRTIO_MMIO_BASE, IRQ 5 + i).
ACPI tables (RSDP/RSDT/FADT/MADT/DSDT) sit in the BIOS area at 0xe0000.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pemu.core.machine import Machine
from pemu.core.memory import AddressSpace, MmioRegion, RamRegion
from pemu.hw.i386.acpi import AcpiConfig, build_tables
from pemu.hw.i386.acpi_pm import AcpiPm
from pemu.hw.i386.cmos import CmosRtc
from pemu.hw.i386.i8042 import I8042
from pemu.hw.i386.linux_boot import BIOS_AREA, LinuxBootConfig, load_linux
from pemu.qom import Property, register_type
from pemu.target.i386.cpu import X86State

#: RAM below 4 GiB ends here; the rest goes above 4 GiB (QEMU's microvm uses 3 GiB too).
LOWMEM_LIMIT = 0xC0000000
HIGHMEM_BASE = 1 << 32

MEMMAP = {
    "virtio-mmio": (0xFEB00000, 0x200),  # per slot
    "ioapic": (0xFEC00000, 0x1000),
    "lapic": (0xFEE00000, 0x1000),
}
IOMAP = {
    "serial0": (0x3F8, 8),
    "i8042-data": (0x60, 1),
    "i8042-cmd": (0x64, 1),
    "rtc": (0x70, 2),
    "acpi-pm1a-evt": (0x600, 4),
    "acpi-pm1a-cnt": (0x604, 2),
}
IRQMAP = {"serial0": 4, "virtio-mmio": 5}
VIRTIO_SLOTS = 8


@register_type
class Microvm(Machine):
    type_name = "microvm"
    description = "microvm (i386)"
    default_ram = 128 << 20
    max_cpus = 288

    acpi = Property(bool, True, "generate ACPI tables (needed for power-off and -smp)")
    host_decompress = Property(bool, True,
                               "decompress a bzImage on the host and enter vmlinux at startup_64")
    auto_kernel_cmdline = Property(bool, True,
                                   "append virtio_mmio.device= for each virtio-mmio device")

    def __init__(self, **props: Any) -> None:
        super().__init__(**props)
        self.io = AddressSpace("io")
        self.set_irq: Callable[[int, int], None] = lambda gsi, level: None
        self.kernel: bytes | None = None
        self.initrd: bytes | None = None
        self.cmdline = ""
        self.no_reboot = False
        self.boot_info = ""
        self.serial = None
        self.virtio: list[Any] = []

    # --- construction ----------------------------------------------------------
    def build(self) -> None:
        low = min(self.ram_size, LOWMEM_LIMIT)
        self.ram_low = RamRegion("pc.ram", low)
        self.memory.map(0, self.ram_low)
        self.ram_high_size = self.ram_size - low
        if self.ram_high_size:
            self.memory.map(HIGHMEM_BASE, RamRegion("pc.ram-high", self.ram_high_size))
        self._build_devices()
        self.loop.handlers["reset"] = self._on_reset_request
        self.loop.handlers["internal-error"] = lambda reason: self.loop.quit(1)

    def _map_io(self, name: str, region: MmioRegion) -> None:
        base, size = IOMAP[name]
        region.size = size
        self.io.map(base, region)

    def _build_devices(self) -> None:
        from pemu.hw.char.uart16550 import Uart16550
        uart = Uart16550("serial0")
        self.serial = uart
        self._map_io("serial0", MmioRegion("serial0", 8, uart.read, uart.write, (1,)))
        uart.irq.connect(lambda level: self.set_irq(IRQMAP["serial0"], level))
        self.add_device(uart, "serial0")

        rtc = CmosRtc()
        self._map_io("rtc", rtc.region)
        self.add_device(rtc, "rtc")

        kbd = I8042(lambda: self.loop.request("reset", "guest-reset"))
        self._map_io("i8042-data", kbd.data_region)
        self._map_io("i8042-cmd", kbd.cmd_region)
        self.add_device(kbd, "i8042")

        pm = AcpiPm(lambda: self.loop.request("shutdown", "guest-shutdown"))
        self._map_io("acpi-pm1a-evt", pm.evt_region)
        self._map_io("acpi-pm1a-cnt", pm.cnt_region)
        self.add_device(pm, "acpi-pm")

    def add_virtio(self, device: Any) -> None:
        """Plug a virtio device into the next free virtio-mmio slot."""
        from pemu.hw.virtio.virtio_mmio import VirtioMmio
        slot = len(self.virtio)
        if slot >= VIRTIO_SLOTS:
            raise ValueError("no free virtio-mmio slot")
        base, size = MEMMAP["virtio-mmio"]
        transport = VirtioMmio(self.memory, device, name=f"virtio-mmio.{slot}")
        self.memory.map(base + slot * size, transport.region)
        gsi = IRQMAP["virtio-mmio"] + slot
        transport.irq.connect(lambda level, gsi=gsi: self.set_irq(gsi, level))
        self.virtio.append(transport)
        self.add_device(transport)

    # --- loading -----------------------------------------------------------------
    def load(self) -> X86State:
        """Write ACPI tables, kernel, initrd and zero page; returns the BSP entry state."""
        assert self.kernel is not None
        rsdp = 0
        if self.acpi:
            blob, rsdp = build_tables(AcpiConfig(ncpus=self.smp), BIOS_AREA[0])
            self.memory.write_bytes(BIOS_AREA[0], blob)
        cmdline = self.cmdline
        if self.auto_kernel_cmdline:
            base, size = MEMMAP["virtio-mmio"]
            for slot in range(len(self.virtio)):
                cmdline += (f" virtio_mmio.device={size}@{base + slot * size:#x}:"
                            f"{IRQMAP['virtio-mmio'] + slot}")
        cfg = LinuxBootConfig(kernel=self.kernel, cmdline=cmdline.strip(), initrd=self.initrd,
                              ram_below_4g=self.ram_low.size, ram_above_4g=self.ram_high_size,
                              acpi_rsdp=rsdp, host_decompress=self.host_decompress)
        img, state = load_linux(self.memory, cfg)
        self.boot_info = f"{img.kind}, entry {img.entry:#x}"
        return state

    # --- running (with an accelerator: KvmAccel) ---------------------------------------
    def attach_accel(self, accel: Any) -> None:
        """Wire the accelerator: device IRQs to its irqchip, CPUs to the main loop."""
        self.accel = accel
        self.set_irq = accel.set_irq
        self.loop.cpus = accel

    def start(self) -> None:
        """Load the guest and start the vCPUs: the BSP at the kernel entry, APs waiting
        for INIT/SIPI from it (the in-kernel LAPICs keep them UNINITIALIZED)."""
        state = self.load()
        self.accel.boot_state = lambda index: state if index == 0 else None
        self.accel.start()

    def reset(self) -> None:
        """System reset: fresh CPUs and in-kernel chips, devices reset, kernel reloaded."""
        self.accel.reset()
        super().reset()
        self.start()

    # --- reset ------------------------------------------------------------------
    def _on_reset_request(self, reason: str) -> None:
        self.loop.emit("RESET", {"guest": reason.startswith("guest"), "reason": reason})
        if self.no_reboot:
            self.loop.emit("SHUTDOWN", {"guest": True, "reason": "guest-reset"})
            self.loop.quit(0)
            return
        self.reset()
