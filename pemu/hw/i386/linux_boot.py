"""Direct kernel boot for x86-64: bzImage or ELF, zero page, e820, initrd, entry state.

Follows Documentation/arch/x86/boot.rst ("The Linux/x86 Boot Protocol") and
zero-page.rst. A bzImage's payload (the compressed vmlinux ELF, found through
`payload_offset`/`payload_length`, boot protocol 2.08+) is decompressed here
on the host when the compressor is one Python knows (gzip, xz, lzma, bzip2,
zstd); the ELF is then loaded at its physical addresses and entered at
`startup_64` through the 64-bit boot protocol, as Firecracker does with a
vmlinux. That skips the in-guest decompressor, which matters where guest
kernel code is emulated (PVM). Otherwise the bzImage's protected-mode part is
loaded at `pref_address` and entered at +0x200 (section "64-bit Boot Protocol").
An ELF `-kernel` (a vmlinux, or the test guest) is entered the same way.
"""
from __future__ import annotations

import bz2
import gzip
import io
import lzma
import struct
from dataclasses import dataclass

from pemu.core.memory import AddressSpace
from pemu.target.i386.cpu import BOOT_GDT, X86State, long_mode_entry

# Guest-physical layout of the boot data (all below 1 MiB, in e820 RAM or reserved).
GDT_ADDR = 0x500
ZERO_PAGE_ADDR = 0x7000
PML4_ADDR = 0x9000
PDPT_ADDR = 0xA000
PD_ADDR = 0xB000  # four page directories: 0xB000-0xEFFF map 4 GiB with 2 MiB pages
CMDLINE_ADDR = 0x20000
CMDLINE_MAX = 0x10000
EBDA_START = 0x9FC00
BIOS_AREA = (0xE0000, 0x100000)
DEFAULT_LOAD_ADDR = 0x1000000

# zero-page.rst offsets.
BP_ACPI_RSDP = 0x070
BP_EXT_RAMDISK_IMAGE, BP_EXT_RAMDISK_SIZE, BP_EXT_CMD_LINE_PTR = 0x0C0, 0x0C4, 0x0C8
BP_E820_ENTRIES = 0x1E8
BP_E820_TABLE = 0x2D0
E820_MAX = 128
# boot.rst "The real-mode kernel header" offsets.
HDR_SETUP_SECTS, HDR_BOOT_FLAG, HDR_HEADER, HDR_VERSION = 0x1F1, 0x1FE, 0x202, 0x206
HDR_TYPE_OF_LOADER, HDR_LOADFLAGS = 0x210, 0x211
HDR_RAMDISK_IMAGE, HDR_RAMDISK_SIZE = 0x218, 0x21C
HDR_CMD_LINE_PTR, HDR_INITRD_ADDR_MAX, HDR_KERNEL_ALIGNMENT = 0x228, 0x22C, 0x230
HDR_XLOADFLAGS, HDR_CMDLINE_SIZE = 0x236, 0x238
HDR_PAYLOAD_OFFSET, HDR_PAYLOAD_LENGTH = 0x248, 0x24C
HDR_PREF_ADDRESS, HDR_INIT_SIZE = 0x258, 0x260
LOADED_HIGH = 0x01
XLF_KERNEL_64 = 0x01
E820_RAM, E820_RESERVED = 1, 2


class BootError(Exception):
    """A kernel or initrd that cannot be booted; one line for the user."""


@dataclass
class BootImage:
    """What was loaded: where to enter, and what the e820 map must not hide."""

    entry: int
    kernel_start: int
    kernel_end: int
    kind: str  # "bzImage (host-decompressed)", "bzImage", "ELF"


def _decompress(payload: bytes) -> bytes | None:
    """The vmlinux inside a bzImage payload, for the compressors Python has."""
    try:
        if payload[:2] == b"\x1f\x8b":
            return gzip.GzipFile(fileobj=io.BytesIO(payload)).read()
        if payload[:6] == b"\xfd7zXZ\x00":
            return lzma.LZMADecompressor(lzma.FORMAT_XZ).decompress(payload)
        if payload[:3] == b"\x5d\x00\x00":
            return lzma.LZMADecompressor(lzma.FORMAT_ALONE).decompress(payload)
        if payload[:3] == b"BZh":
            return bz2.BZ2Decompressor().decompress(payload)
        if payload[:4] == b"\x28\xb5\x2f\xfd":
            import zstandard
            return zstandard.ZstdDecompressor().decompressobj().decompress(payload)
    except (OSError, EOFError, lzma.LZMAError, ValueError, ImportError):
        return None
    return None  # lz4, lzo: leave it to the in-guest decompressor


def is_bzimage(data: bytes) -> bool:
    return len(data) > 0x264 and data[HDR_HEADER:HDR_HEADER + 4] == b"HdrS"


def is_elf64(data: bytes) -> bool:
    return data[:4] == b"\x7fELF" and len(data) > 64 and data[4] == 2


def load_elf(memory: AddressSpace, data: bytes, what: str = "kernel") -> BootImage:
    """Load an x86-64 ELF's PT_LOAD segments at their physical addresses."""
    from elftools.common.exceptions import ELFError
    from elftools.elf.elffile import ELFFile
    try:
        elf = ELFFile(io.BytesIO(data))
        if elf["e_machine"] != "EM_X86_64":
            raise BootError(f"{what} is an ELF for {elf['e_machine']}, not x86-64")
        lo, hi = 1 << 64, 0
        for seg in elf.iter_segments():
            if seg["p_type"] != "PT_LOAD" or seg["p_memsz"] == 0:
                continue
            paddr, filesz, memsz = seg["p_paddr"], seg["p_filesz"], seg["p_memsz"]
            body = seg.data()
            if memory.ram_at(paddr, memsz) is None:
                raise BootError(f"{what} segment at {paddr:#x} (+{memsz:#x}) is outside RAM;"
                                " try a larger -m")
            memory.write_bytes(paddr, body + bytes(memsz - filesz), force=True)
            lo, hi = min(lo, paddr), max(hi, paddr + memsz)
        entry = elf["e_entry"]
    except ELFError as e:
        raise BootError(f"{what}: bad ELF file ({e})") from None
    if hi == 0:
        raise BootError(f"{what}: ELF file has nothing to load")
    if entry >= 1 << 32:
        # A vmlinux's e_entry is physical (phys_startup_64); a virtual one means the
        # image's link address; translate it with the first segment's offset.
        seg = next(s for s in elf.iter_segments() if s["p_type"] == "PT_LOAD")
        entry = entry - seg["p_vaddr"] + seg["p_paddr"]
    return BootImage(entry, lo, hi, "ELF")


def load_bzimage(memory: AddressSpace, data: bytes, host_decompress: bool = True) -> BootImage:
    version = struct.unpack_from("<H", data, HDR_VERSION)[0]
    if version < 0x20C or not data[HDR_XLOADFLAGS] & XLF_KERNEL_64:
        raise BootError(f"linux kernel too old to load (boot protocol {version >> 8}."
                        f"{version & 0xFF}; need 2.12 with a 64-bit entry point)")
    setup_sects = data[HDR_SETUP_SECTS] or 4
    pm_start = (setup_sects + 1) * 512
    if host_decompress:
        off, length = struct.unpack_from("<II", data, HDR_PAYLOAD_OFFSET)
        vmlinux = _decompress(data[pm_start + off:pm_start + off + length])
        if vmlinux is not None and is_elf64(vmlinux):
            img = load_elf(memory, vmlinux)
            img.kind = "bzImage (host-decompressed)"
            return img
    load = struct.unpack_from("<Q", data, HDR_PREF_ADDRESS)[0] or DEFAULT_LOAD_ADDR
    init_size = struct.unpack_from("<I", data, HDR_INIT_SIZE)[0]
    pm = data[pm_start:]
    end = load + max(init_size, len(pm))
    if memory.ram_at(load, end - load) is None:
        raise BootError("kernel does not fit in RAM; try a larger -m")
    memory.write_bytes(load, pm, force=True)
    return BootImage(load + 0x200, load, end, "bzImage")


def e820_map(ram_below_4g: int, ram_above_4g: int) -> list[tuple[int, int, int]]:
    """(address, size, type) entries: low RAM, the EBDA/BIOS holes, RAM up to and past 4 GiB."""
    out = [(0, EBDA_START, E820_RAM), (EBDA_START, 0xA0000 - EBDA_START, E820_RESERVED),
           (BIOS_AREA[0], BIOS_AREA[1] - BIOS_AREA[0], E820_RESERVED),
           (0x100000, ram_below_4g - 0x100000, E820_RAM)]
    if ram_above_4g:
        out.append((1 << 32, ram_above_4g, E820_RAM))
    return out


def _page_tables(memory: AddressSpace) -> None:
    """Identity-map the low 4 GiB with 2 MiB pages (boot.rst: the 64-bit entry needs it)."""
    memory.write_bytes(PML4_ADDR, struct.pack("<Q", PDPT_ADDR | 0x3).ljust(4096, b"\0"))
    memory.write_bytes(PDPT_ADDR, b"".join(
        struct.pack("<Q", (PD_ADDR + i * 4096) | 0x3) for i in range(4)).ljust(4096, b"\0"))
    pd = b"".join(struct.pack("<Q", (i << 21) | 0x83) for i in range(4 * 512))
    memory.write_bytes(PD_ADDR, pd)


@dataclass
class LinuxBootConfig:
    kernel: bytes
    cmdline: str = ""
    initrd: bytes | None = None
    ram_below_4g: int = 0
    ram_above_4g: int = 0
    acpi_rsdp: int = 0
    host_decompress: bool = True


def load_linux(memory: AddressSpace, cfg: LinuxBootConfig) -> tuple[BootImage, X86State]:
    """Load kernel, initrd and zero page; return the image and the BSP entry state."""
    data = cfg.kernel
    zp = bytearray(4096)
    if is_bzimage(data):
        img = load_bzimage(memory, data, cfg.host_decompress)
        hdr_end = 0x202 + data[0x201]  # boot.rst: "0x0202 + byte value at offset 0x0201"
        zp[HDR_SETUP_SECTS:hdr_end] = data[HDR_SETUP_SECTS:hdr_end]
    elif is_elf64(data):
        img = load_elf(memory, data)
        struct.pack_into("<H", zp, HDR_BOOT_FLAG, 0xAA55)
        zp[HDR_HEADER:HDR_HEADER + 4] = b"HdrS"
        struct.pack_into("<H", zp, HDR_VERSION, 0x020F)
        struct.pack_into("<I", zp, HDR_KERNEL_ALIGNMENT, 0x200000)
        struct.pack_into("<I", zp, HDR_INITRD_ADDR_MAX, 0x7FFFFFFF)
    else:
        raise BootError("kernel is neither a bzImage nor an ELF file")

    cmdline = cfg.cmdline.encode() + b"\0"
    limit = struct.unpack_from("<I", zp, HDR_CMDLINE_SIZE)[0] or 2048
    if len(cmdline) > min(limit + 1, CMDLINE_MAX):
        raise BootError(f"kernel command line too long ({len(cmdline) - 1} bytes, max {limit})")
    memory.write_bytes(CMDLINE_ADDR, cmdline)
    zp[HDR_TYPE_OF_LOADER] = 0xFF  # "undefined" boot loader
    zp[HDR_LOADFLAGS] |= LOADED_HIGH
    struct.pack_into("<I", zp, HDR_CMD_LINE_PTR, CMDLINE_ADDR)
    struct.pack_into("<I", zp, HDR_CMDLINE_SIZE, len(cmdline) - 1)
    struct.pack_into("<Q", zp, BP_ACPI_RSDP, cfg.acpi_rsdp)

    if cfg.initrd:
        max_addr = struct.unpack_from("<I", zp, HDR_INITRD_ADDR_MAX)[0] or 0x37FFFFFF
        top = min(max_addr + 1, cfg.ram_below_4g)
        start = (top - len(cfg.initrd)) & ~0xFFF
        if start < (img.kernel_end + 0xFFF) & ~0xFFF:
            raise BootError(f"initrd ({len(cfg.initrd)} bytes) does not fit in RAM below "
                            f"{top:#x}; try a larger -m")
        memory.write_bytes(start, cfg.initrd)
        struct.pack_into("<II", zp, HDR_RAMDISK_IMAGE, start, len(cfg.initrd))

    e820 = e820_map(cfg.ram_below_4g, cfg.ram_above_4g)
    zp[BP_E820_ENTRIES] = len(e820)
    for i, (addr, size, kind) in enumerate(e820[:E820_MAX]):
        struct.pack_into("<QQI", zp, BP_E820_TABLE + 20 * i, addr, size, kind)
    memory.write_bytes(ZERO_PAGE_ADDR, bytes(zp))

    memory.write_bytes(GDT_ADDR, b"".join(struct.pack("<Q", d) for d in BOOT_GDT))
    _page_tables(memory)
    st = long_mode_entry(img.entry, PML4_ADDR, GDT_ADDR, 8 * len(BOOT_GDT) - 1,
                         {"rsi": ZERO_PAGE_ADDR})
    return img, st
