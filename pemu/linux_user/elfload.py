"""Loading ELF executables (and their interpreter) into a guest
address space, as the kernel's binfmt_elf does.

ET_EXEC images go at their link addresses; ET_DYN images (PIE, ld.so) at a
chosen base. Segments are copied from the file (private mappings), the
tail of the last file page and the bss are zero, protections follow
p_flags. Errors are `LoadError` with a one-line message.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

from pemu.linux_user.memory import (
    PAGE,
    PAGE_MASK,
    PROT_EXEC,
    PROT_READ,
    PROT_WRITE,
    GuestMemory,
    page_up,
)

EM_RISCV = 243
ELF_ET_DYN_BASE = 0x2AAAAAA000  # 2/3 of the Sv39 user space, as Linux


class LoadError(Exception):
    """The file cannot be run (message is the one-line reason)."""


@dataclass
class LoadedImage:
    path: str
    entry: int
    base: int  # load bias (0 for ET_EXEC)
    phdr: int  # guest address of the program headers
    phent: int
    phnum: int
    end: int  # highest mapped address (start of brk for the main program)
    interp: str | None
    flags: int


def is_riscv64_elf(path: str) -> bool:
    """True if `path` is an ELF file for riscv64 (execve uses this)."""
    try:
        with open(path, "rb") as f:
            head = f.read(20)
    except OSError:
        return False
    return (len(head) == 20 and head[:4] == b"\x7fELF" and head[4] == 2
            and int.from_bytes(head[18:20], "little") == EM_RISCV)


def _prot(p_flags: int) -> int:
    return ((PROT_READ if p_flags & 4 else 0) | (PROT_WRITE if p_flags & 2 else 0)
            | (PROT_EXEC if p_flags & 1 else 0))


def load_elf(mem: GuestMemory, path: str, host_path: str | None = None,
             is_interp: bool = False, machine: str = "EM_RISCV") -> LoadedImage:
    """Map the ELF at host_path (shown as `path`) into `mem`; `machine` is the
    pyelftools name of the e_machine it must have."""
    host_path = host_path or path
    try:
        f = open(host_path, "rb")
    except OSError as e:
        raise LoadError(f"{path}: {os.strerror(e.errno or 2)}") from None
    with f:
        data = f.read()
        st = os.fstat(f.fileno())
    if data[:4] != b"\x7fELF":
        raise LoadError(f"{path}: Exec format error" if not is_interp
                        else f"{path}: Invalid ELF image for this architecture")
    try:
        import io
        elf = ELFFile(io.BytesIO(data))
        if elf.elfclass != 64 or elf["e_machine"] != machine or not elf.little_endian:
            raise LoadError(f"{path}: Invalid ELF image for this architecture")
        if elf["e_type"] not in ("ET_EXEC", "ET_DYN"):
            raise LoadError(f"{path}: Invalid ELF image for this architecture")
        segs = [s.header for s in elf.iter_segments()]
    except (ELFError, ValueError, KeyError, OSError):
        raise LoadError(f"{path}: Invalid ELF image for this architecture") from None
    except Exception as e:  # pyelftools raises assorted errors on truncated files
        if isinstance(e, LoadError):
            raise
        raise LoadError(f"{path}: Invalid ELF image for this architecture") from None
    loads = [h for h in segs if h.p_type == "PT_LOAD"]
    if not loads:
        raise LoadError(f"{path}: Invalid ELF image for this architecture")
    for h in loads:
        if h.p_offset + h.p_filesz > len(data) or h.p_filesz > h.p_memsz:
            raise LoadError(f"{path}: Invalid ELF image for this architecture (truncated)")
    interp = None
    for h in segs:
        if h.p_type == "PT_INTERP":
            interp = data[h.p_offset:h.p_offset + h.p_filesz].split(b"\0")[0].decode()
    lo = min(h.p_vaddr for h in loads) & PAGE_MASK
    hi = page_up(max(h.p_vaddr + h.p_memsz for h in loads))
    bias = 0
    if elf["e_type"] == "ET_DYN":
        if is_interp:
            start = mem.find_free(hi - lo)
            if start is None:
                raise LoadError(f"{path}: cannot allocate memory")
        else:
            start = ELF_ET_DYN_BASE
        bias = start - lo
    elif hi > len(mem.buf):
        raise LoadError(f"{path}: Invalid ELF image for this architecture")
    name = os.path.abspath(path)
    dev_ino = (st.st_dev, st.st_ino)
    for h in loads:
        vaddr = h.p_vaddr + bias
        seg_start = vaddr & PAGE_MASK
        seg_end = page_up(vaddr + h.p_memsz)
        mem.map(seg_start, seg_end - seg_start, _prot(h.p_flags), name,
                h.p_offset & PAGE_MASK, dev_ino)
        mem.buf[vaddr:vaddr + h.p_filesz] = data[h.p_offset:h.p_offset + h.p_filesz]
    phdr = 0
    for h in segs:
        if h.p_type == "PT_PHDR":
            phdr = h.p_vaddr + bias
    if not phdr:
        e_phoff = elf["e_phoff"]
        for h in loads:
            if h.p_offset <= e_phoff < h.p_offset + h.p_filesz:
                phdr = e_phoff - h.p_offset + h.p_vaddr + bias
    return LoadedImage(path=name, entry=elf["e_entry"] + bias, base=bias, phdr=phdr,
                       phent=elf["e_phentsize"], phnum=elf["e_phnum"], end=hi + bias,
                       interp=interp, flags=elf["e_flags"])


__all__ = ["LoadError", "LoadedImage", "load_elf", "is_riscv64_elf", "PAGE"]
