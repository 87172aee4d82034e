"""Loading firmware and kernels the way QEMU's RISC-V boards do.

Kernel: an ELF (segments at their physical addresses) or a Linux Image
(header magic "RSC\\x05" at 0x38, loaded at the 2 MiB-aligned address after
the firmware), else a raw binary at that address. The initrd goes well above
the kernel; the device tree near the top of RAM (below 3 GiB). The reset
vector in the mask ROM hands OpenSBI's fw_dynamic its info block
(a0 = hartid, a1 = fdt, a2 = &fw_dynamic_info), as QEMU's does.
"""
from __future__ import annotations

import io
import struct
from dataclasses import dataclass

FW_DYNAMIC_MAGIC = 0x4942534F  # "OSBI"
FW_DYNAMIC_VERSION = 2
NEXT_MODE_S = 1
MiB = 1 << 20


class BootError(Exception):
    """A kernel/firmware/initrd that cannot be loaded (one-line message)."""


@dataclass
class Blob:
    addr: int
    data: bytes


def read_file(path: str, what: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise BootError(f"could not load {what} '{path}': {e.strerror or e}") from None


def is_elf(data: bytes) -> bool:
    return data[:4] == b"\x7fELF"


def load_elf(data: bytes, what: str) -> tuple[list[Blob], int, int]:
    """(segments, entry, highest address) of a RISC-V 64 ELF."""
    from elftools.common.exceptions import ELFError
    from elftools.elf.elffile import ELFFile
    try:
        elf = ELFFile(io.BytesIO(data))
        if elf.get_machine_arch() != "RISC-V" or elf.elfclass != 64:
            raise BootError(f"{what} is not a RISC-V 64-bit ELF")
        blobs = []
        top = 0
        for seg in elf.iter_segments():
            if seg["p_type"] != "PT_LOAD" or seg["p_memsz"] == 0:
                continue
            body = seg.data() + bytes(seg["p_memsz"] - seg["p_filesz"])
            blobs.append(Blob(seg["p_paddr"], body))
            top = max(top, seg["p_paddr"] + seg["p_memsz"])
        return blobs, elf["e_entry"], top
    except (ELFError, struct.error, ValueError) as e:
        raise BootError(f"{what} is not a valid ELF file: {e}") from None


def is_linux_image(data: bytes) -> bool:
    return len(data) >= 64 and data[0x38:0x3C] == b"RSC\x05"


def reset_vector(start: int, fdt_addr: int, fw_info: bytes | None) -> bytes:
    """Mask-ROM code at 0x1000: a0 = mhartid, a1 = fdt, a2 = fw_dynamic_info, jump."""
    insns = [
        0x00000297,  # auipc t0, 0
        0x02828613,  # addi  a2, t0, 40   (fw_dynamic_info at 0x1028)
        0xF1402573,  # csrr  a0, mhartid
        0x0202B583,  # ld    a1, 32(t0)   (fdt address)
        0x0182B283,  # ld    t0, 24(t0)   (start address)
        0x00028067,  # jr    t0
    ]
    code = b"".join(struct.pack("<I", i) for i in insns)
    code += struct.pack("<QQ", start, fdt_addr)
    return code + (fw_info or b"")


def fw_dynamic_info(next_addr: int, boot_hart: int = 0) -> bytes:
    """struct fw_dynamic_info (OpenSBI include/sbi/fw_dynamic.h, version 2)."""
    return struct.pack("<QQQQQQ", FW_DYNAMIC_MAGIC, FW_DYNAMIC_VERSION, next_addr,
                       NEXT_MODE_S, 0, boot_hart)
