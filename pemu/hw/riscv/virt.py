"""QEMU's RISC-V `virt` board: the same memory map, interrupt numbers and
device tree, so guests built for QEMU boot unchanged.

Everything is produced from VIRT_MEMMAP: the devices, their IRQ wiring and
the device tree nodes.
"""
from __future__ import annotations

import os
import sys
from typing import Any, ClassVar

from pemu.accel.tcg.cpu_exec import TbStore
from pemu.accel.tcg.native_tier import make_native_tier
from pemu.accel.tcg.runner import TcgRunner
from pemu.core.guest_random import GuestRandom
from pemu.core.machine import Machine
from pemu.core.memory import RamRegion, RomRegion
from pemu.hw.char.uart16550 import Uart16550
from pemu.hw.fdt import Fdt
from pemu.hw.intc.aclint import Aclint
from pemu.hw.intc.plic import Plic
from pemu.hw.misc.sifive_test import SifiveTest
from pemu.hw.riscv import boot
from pemu.hw.rtc.goldfish_rtc import GoldfishRtc
from pemu.hw.virtio.virtio_mmio import VirtioMmio
from pemu.qom import Property, register_type
from pemu.target.riscv.cpu import RiscvCpu
from pemu.target.riscv.sstc import SstcTimer
from pemu.target.riscv.translate import LAYOUT
from pemu.target.riscv.translator import DEFAULT_OFF, Translator

MiB = 1 << 20
GiB = 1 << 30

# name: (base, size) — QEMU hw/riscv/virt.c virt_memmap[]
VIRT_MEMMAP: dict[str, tuple[int, int]] = {
    "mrom": (0x1000, 0xF000),
    "test": (0x100000, 0x1000),
    "rtc": (0x101000, 0x1000),
    "clint": (0x2000000, 0x10000),
    "plic": (0xC000000, 0x600000),
    "uart0": (0x10000000, 0x100),
    "virtio": (0x10001000, 0x1000),
    "dram": (0x80000000, 0),
}
UART0_IRQ = 10
RTC_IRQ = 11
VIRTIO_IRQ = 1
VIRTIO_COUNT = 8
PLIC_NUM_SOURCES = 96  # riscv,ndev
TIMEBASE_FREQ = 10_000_000
# riscv,isa lists the multi-letter extensions in QEMU 7.2's order (its
# isa_edata_arr); QEMU's default rv64 says
# "rv64imafdch_zicsr_zifencei_zihintpause_zba_zbb_zbc_zbs_sstc": pemu has
# neither H nor Zbc. "debug" (Sdtrig) is not part of the string in 7.2.
ISA_ORDER = ("zicsr", "zifencei", "zihintpause", "zba", "zbb", "zbs", "sstc",
             "svinval", "svnapot", "svpbmt")
ISA_STRING = "rv64imafdc_zicsr_zifencei_zihintpause_zba_zbb_zbs_sstc"


def isa_string(disabled: frozenset[str] = DEFAULT_OFF) -> str:
    """riscv,isa for the device tree: the base and every enabled multi-letter extension."""
    return "_".join(["rv64imafdc", *(e for e in ISA_ORDER if e not in disabled)])
IRQ_S_SOFT, IRQ_M_SOFT, IRQ_S_TIMER, IRQ_M_TIMER, IRQ_S_EXT, IRQ_M_EXT = 1, 3, 5, 7, 9, 11
FIRMWARE_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(__file__))),
                            "firmware")
DEFAULT_BIOS = os.path.join(FIRMWARE_DIR, "opensbi-riscv64-generic-fw_dynamic.bin")


@register_type
class VirtMachine(Machine):
    type_name = "virt"
    description = "RISC-V VirtIO board"
    aliases = ("virt-7.2",)
    default_ram = 128 * MiB
    default_icount_shift = 5  # 32 ns per instruction while busy
    max_cpus = 8

    kernel = Property(str, None, "Linux kernel or ELF image (-kernel)")
    initrd = Property(str, None, "initial ram disk (-initrd)")
    append = Property(str, "", "kernel command line (-append)")
    bios = Property(str, "default", "firmware: default, none or a file (-bios)")
    dtb = Property(str, None, "device tree blob to use instead of the generated one (-dtb)")
    dumpdtb = Property(str, None, "write the generated device tree to this file and exit")
    tier = Property(int, 1, "0: one instruction per block (reference interpreter), 1: blocks")
    native = Property(bool, True, "compile hot blocks to host machine code (tier 2)")
    cpu_disabled = Property(str, ",".join(sorted(DEFAULT_OFF)),
                            "optional ISA extensions switched off, comma separated"
                            " (-cpu rv64,zba=off,svinval=on)")
    seed = Property(int, None, "seed of the guest-visible random numbers, as QEMU's -seed "
                               "(none: the host's randomness)")

    cpu_types: ClassVar[tuple[str, ...]] = ("rv64", "any", "max")

    def __init__(self, **props: Any) -> None:
        super().__init__(**props)
        if not 1 <= self.smp <= self.max_cpus:
            raise ValueError(f"Invalid SMP CPUs {self.smp}. The max CPUs supported by "
                             f"machine 'virt' is {self.max_cpus}")
        self.virtio: list[VirtioMmio] = []
        self._blobs: list[boot.Blob] = []
        self._rom_image = b""
        self.fdt_bytes = b""
        self._stuck_reported = False
        self.build()

    # --- construction -----------------------------------------------------------------
    def build(self) -> None:
        mem = self.memory
        mm = VIRT_MEMMAP
        self.rom = mem.map(mm["mrom"][0], RomRegion("riscv_virt_board.mrom", mm["mrom"][1]))
        self.ram = mem.map(mm["dram"][0], RamRegion("riscv_virt_board.ram", self.ram_size))
        self.store = TbStore(mem)
        self.random = GuestRandom(self.seed)
        for _ in range(self.smp):
            self.random.bytes(8)  # QEMU seeds each vCPU thread from the stream first
        self.disabled_exts = frozenset(e for e in self.cpu_disabled.split(",") if e)
        translator = Translator(self.ram.buf, self.tier, self.disabled_exts)
        for h in range(self.smp):
            cpu = RiscvCpu(mem, h, self.ram)
            cpu.ext_off = self.disabled_exts
            cpu.translator = translator
            self.cpus.append(cpu)
        # PEMU_NATIVE=off: the Python tier for every machine (how CI runs the
        # fast tests a second time)
        if self.native and self.tier == 1 and os.environ.get("PEMU_NATIVE", "on") != "off":
            self.store.native = make_native_tier(self.store, LAYOUT)
            if self.store.native is None:
                print("pemu: no native code generator for this host; running the Python tier",
                      file=sys.stderr)
            else:
                for cpu in self.cpus:
                    self.store.native.attach(cpu)
        self.accel = TcgRunner(self.cpus, self.clock, self.store)
        self.loop.cpus = self.accel
        for cpu in self.cpus:
            cpu.on_stuck = self._guest_stuck

        self.clint = self._dev(Aclint(self.clock, self.smp, name="clint"), "clint")
        for h, cpu in enumerate(self.cpus):
            self.clint.mtip[h].connect(lambda lv, c=cpu: c.set_irq_bit(IRQ_M_TIMER, lv))
            self.clint.msip[h].connect(lambda lv, c=cpu: c.set_irq_bit(IRQ_M_SOFT, lv))
            cpu.time_fn = self.clint.mtime
            sstc = SstcTimer(self.clock, self.clint.mtime, self.clint.timebase_freq,
                             lambda lv, c=cpu: c.set_irq_bit(IRQ_S_TIMER, lv))
            cpu.on_stimecmp = sstc.write
        self.plic = self._dev(Plic(name="plic", num_sources=PLIC_NUM_SOURCES + 1,
                                   num_harts=self.smp, size=mm["plic"][1]), "plic")
        for ctx, (hart, mode) in enumerate(self.plic.contexts):
            bit = IRQ_M_EXT if mode == "M" else IRQ_S_EXT
            cpu = self.cpus[hart]
            self.plic.outputs[ctx].connect(lambda lv, c=cpu, b=bit: c.set_irq_bit(b, lv))
        self.test = self._dev(SifiveTest(self.loop, name="sifive_test"), "test")
        self.rtc = self._dev(GoldfishRtc(self.clock, name="rtc"), "rtc")
        self.rtc.irq.connect(self.plic.input(RTC_IRQ).set)
        self.uart0 = self._dev(Uart16550(name="serial"), "uart0")
        self.uart0.irq.connect(self.plic.input(UART0_IRQ).set)
        vbase, vsize = mm["virtio"]
        for i in range(VIRTIO_COUNT):
            dev = VirtioMmio(mem, name=f"virtio-mmio@{vbase + i * vsize:x}")
            mem.map(vbase + i * vsize, dev.region)
            dev.irq.connect(self.plic.input(VIRTIO_IRQ + i).set)
            self.add_device(dev, f"virtio-mmio{i}")
            self.virtio.append(dev)

    def _guest_stuck(self, message: str) -> None:
        """A hart loops on a fault it cannot handle: say so once (QEMU would
        spin silently; the runstate stays what QEMU's would be)."""
        if not self._stuck_reported:
            self._stuck_reported = True
            sys.stderr.write(f"pemu-system-riscv64: {message}\n")
            sys.stderr.flush()

    def _dev(self, dev: Any, key: str) -> Any:
        self.memory.map(VIRT_MEMMAP[key][0], dev.region)
        self.add_device(dev, key)
        return dev

    def plug_virtio(self, backend: Any) -> VirtioMmio:
        """Put a virtio device into the last free slot (QEMU fills from the top)."""
        for dev in reversed(self.virtio):
            if dev.backend is None:
                dev.plug(backend)
                return dev
        raise ValueError("no free virtio-mmio slot")

    def attach_serial(self, chardev: Any) -> None:
        self.uart0.attach_chardev(chardev)

    # --- boot images -----------------------------------------------------------------
    def load(self) -> None:
        """Prepare firmware, kernel, initrd and device tree (raises BootError)."""
        dram = VIRT_MEMMAP["dram"][0]
        blobs: list[boot.Blob] = []
        firmware_end = dram
        bios = self.bios or "default"
        if bios != "none":
            path = DEFAULT_BIOS if bios == "default" else bios
            data = boot.read_file(path, "firmware")
            if boot.is_elf(data):
                segs, _, top = boot.load_elf(data, "firmware")
                blobs += segs
                firmware_end = top
            else:
                blobs.append(boot.Blob(dram, data))
                firmware_end = dram + len(data)
        kernel_entry = 0
        kernel_end = firmware_end
        if self.kernel:
            data = boot.read_file(self.kernel, "kernel")
            if boot.is_elf(data):
                segs, kernel_entry, kernel_end = boot.load_elf(data, "kernel")
                blobs += segs
            else:
                # 2 MiB after the firmware (QEMU riscv_calc_kernel_start_addr)
                kernel_entry = (firmware_end + 2 * MiB - 1) & ~(2 * MiB - 1) \
                    if bios != "none" else dram
                blobs.append(boot.Blob(kernel_entry, data))
                kernel_end = kernel_entry + len(data)
        initrd_range = None
        if self.initrd:
            if not self.kernel:
                raise boot.BootError("-initrd requires -kernel")
            data = boot.read_file(self.initrd, "initrd")
            start = kernel_entry + min(self.ram_size // 2, 128 * MiB)
            start = max(start, (kernel_end + 0xFFF) & ~0xFFF)
            if start + len(data) > dram + self.ram_size:
                raise boot.BootError(f"initrd '{self.initrd}' is too large for the RAM size")
            blobs.append(boot.Blob(start, data))
            initrd_range = (start, start + len(data))
        if self.dtb:
            self.fdt_bytes = boot.read_file(self.dtb, "dtb")
        else:
            self.fdt_bytes = self.make_fdt(initrd_range)
        fdt_addr = (dram + min(self.ram_size, 3 * GiB) - len(self.fdt_bytes)) & ~(2 * MiB - 1)
        blobs = [self._clip_to_ram(b) for b in blobs]
        blobs.append(boot.Blob(fdt_addr, self.fdt_bytes))
        if bios == "none":
            start, info = (kernel_entry if self.kernel else dram), None
        else:
            start, info = dram, boot.fw_dynamic_info(kernel_entry)
        self._rom_image = boot.reset_vector(start, fdt_addr, info)
        self._blobs = blobs
        self._load_images()

    def _clip_to_ram(self, b: boot.Blob) -> boot.Blob:
        """The part of an image inside RAM (QEMU also drops ELF header pages
        that fall just below it); an image wholly outside RAM is an error."""
        lo, hi = self.ram.base, self.ram.base + self.ram_size
        start, end = max(b.addr, lo), min(b.addr + len(b.data), hi)
        if start >= end:
            raise boot.BootError(f"image at {b.addr:#x} ({len(b.data)} bytes) is outside RAM "
                                 f"({lo:#x}-{hi - 1:#x})")
        if end - start < len(b.data) and b.addr + len(b.data) > hi:
            raise boot.BootError(f"image at {b.addr:#x} ({len(b.data)} bytes) does not fit in "
                                 f"RAM ({lo:#x}-{hi - 1:#x}); try a larger -m")
        return boot.Blob(start, b.data[start - b.addr:end - b.addr])

    def _load_images(self) -> None:
        self.memory.write_bytes(VIRT_MEMMAP["mrom"][0], self._rom_image, force=True)
        for b in self._blobs:
            self.memory.write_bytes(b.addr, b.data)

    def reset(self) -> None:
        """System reset: devices and harts to power-on state, ROM images reloaded."""
        super().reset()
        self.store.flush()
        for cpu in self.cpus:
            cpu.reset()
        self._load_images()

    # --- device tree --------------------------------------------------------------------
    def make_fdt(self, initrd: tuple[int, int] | None = None) -> bytes:
        mm = VIRT_MEMMAP
        f = Fdt()
        f.begin_node("")
        f.prop_u32("#address-cells", 2)
        f.prop_u32("#size-cells", 2)
        f.prop_str("compatible", "riscv-virtio")
        f.prop_str("model", "riscv-virtio,qemu")

        f.begin_node("chosen")
        f.prop_str("stdout-path", f"/soc/serial@{mm['uart0'][0]:x}")
        if self.append:
            f.prop_str("bootargs", self.append)
        if initrd:
            f.prop_u64("linux,initrd-start", initrd[0])
            f.prop_u64("linux,initrd-end", initrd[1])
        f.prop_bytes("rng-seed", self.random.bytes(32))
        f.end_node()

        f.begin_node(f"memory@{mm['dram'][0]:x}")
        f.prop_str("device_type", "memory")
        f.prop_cells("reg", _reg(mm["dram"][0], self.ram_size))
        f.end_node()

        f.begin_node("cpus")
        f.prop_u32("#address-cells", 1)
        f.prop_u32("#size-cells", 0)
        f.prop_u32("timebase-frequency", TIMEBASE_FREQ)
        intc = []
        cpu_ph = []
        for h in range(self.smp):
            f.begin_node(f"cpu@{h}")
            cpu_ph.append(f.prop_phandle())
            f.prop_str("device_type", "cpu")
            f.prop_u32("reg", h)
            f.prop_str("status", "okay")
            f.prop_str("compatible", "riscv")
            f.prop_str("riscv,isa", isa_string(self.disabled_exts))
            f.prop_str("mmu-type", "riscv,sv48")
            f.begin_node("interrupt-controller")
            f.prop_u32("#interrupt-cells", 1)
            f.prop_empty("interrupt-controller")
            f.prop_str("compatible", "riscv,cpu-intc")
            intc.append(f.prop_phandle())
            f.end_node()
            f.end_node()
        f.begin_node("cpu-map")
        f.begin_node("cluster0")
        for h in range(self.smp):
            f.begin_node(f"core{h}")
            f.prop_u32("cpu", cpu_ph[h])
            f.end_node()
        f.end_node()
        f.end_node()
        f.end_node()  # cpus

        f.begin_node("soc")
        f.prop_u32("#address-cells", 2)
        f.prop_u32("#size-cells", 2)
        f.prop_str("compatible", "simple-bus")
        f.prop_empty("ranges")

        f.begin_node(f"clint@{mm['clint'][0]:x}")
        f.prop_strlist("compatible", ["sifive,clint0", "riscv,clint0"])
        f.prop_cells("reg", _reg(*mm["clint"]))
        f.prop_cells("interrupts-extended",
                     [c for ph in intc for c in (ph, IRQ_M_SOFT, ph, IRQ_M_TIMER)])
        f.end_node()

        f.begin_node(f"plic@{mm['plic'][0]:x}")
        plic_ph = f.prop_phandle()
        f.prop_u32("#interrupt-cells", 1)
        f.prop_u32("#address-cells", 0)
        f.prop_strlist("compatible", ["sifive,plic-1.0.0", "riscv,plic0"])
        f.prop_empty("interrupt-controller")
        f.prop_cells("interrupts-extended",
                     [c for ph in intc for c in (ph, IRQ_M_EXT, ph, IRQ_S_EXT)])
        f.prop_cells("reg", _reg(*mm["plic"]))
        f.prop_u32("riscv,ndev", PLIC_NUM_SOURCES)
        f.end_node()

        vbase, vsize = mm["virtio"]
        for i in reversed(range(VIRTIO_COUNT)):
            f.begin_node(f"virtio_mmio@{vbase + i * vsize:x}")
            f.prop_str("compatible", "virtio,mmio")
            f.prop_cells("reg", _reg(vbase + i * vsize, vsize))
            f.prop_u32("interrupt-parent", plic_ph)
            f.prop_u32("interrupts", VIRTIO_IRQ + i)
            f.end_node()

        f.begin_node(f"test@{mm['test'][0]:x}")
        test_ph = f.prop_phandle()
        f.prop_strlist("compatible", ["sifive,test1", "sifive,test0", "syscon"])
        f.prop_cells("reg", _reg(*mm["test"]))
        f.end_node()

        f.begin_node(f"serial@{mm['uart0'][0]:x}")
        f.prop_str("compatible", "ns16550a")
        f.prop_cells("reg", _reg(*mm["uart0"]))
        f.prop_u32("clock-frequency", 3686400)
        f.prop_u32("interrupt-parent", plic_ph)
        f.prop_u32("interrupts", UART0_IRQ)
        f.end_node()

        f.begin_node(f"rtc@{mm['rtc'][0]:x}")
        f.prop_str("compatible", "google,goldfish-rtc")
        f.prop_cells("reg", _reg(*mm["rtc"]))
        f.prop_u32("interrupt-parent", plic_ph)
        f.prop_u32("interrupts", RTC_IRQ)
        f.end_node()
        f.end_node()  # soc

        for name, value in (("poweroff", 0x5555), ("reboot", 0x7777)):
            f.begin_node(name)
            f.prop_str("compatible", f"syscon-{name}")
            f.prop_u32("regmap", test_ph)
            f.prop_u32("offset", 0)
            f.prop_u32("value", value)
            f.end_node()
        f.end_node()  # root
        return f.to_bytes()


def _reg(base: int, size: int) -> list[int]:
    return [base >> 32, base & 0xFFFFFFFF, size >> 32, size & 0xFFFFFFFF]


__all__ = ["VirtMachine", "VIRT_MEMMAP"]
