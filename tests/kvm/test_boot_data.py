"""Boot data built on the host, checked without running a guest (no KVM needed)."""
from __future__ import annotations

import struct

import pytest

from pemu.core.memory import AddressSpace, RamRegion
from pemu.hw.i386.acpi import AcpiConfig, build_tables
from pemu.hw.i386.acpi_pm import AcpiPm
from pemu.hw.i386.linux_boot import (
    CMDLINE_ADDR,
    ZERO_PAGE_ADDR,
    BootError,
    LinuxBootConfig,
    e820_map,
    load_linux,
)
from tests.kvm.conftest import IMAGES


def test_acpi_tables_checksum_and_link() -> None:
    base = 0xE0000
    blob, rsdp = build_tables(AcpiConfig(ncpus=2), base)
    assert blob[:8] == b"RSD PTR " and sum(blob[:20]) & 0xFF == 0
    rsdt = struct.unpack_from("<I", blob, 16)[0] - base
    length = struct.unpack_from("<I", blob, rsdt + 4)[0]
    assert blob[rsdt:rsdt + 4] == b"RSDT" and sum(blob[rsdt:rsdt + length]) & 0xFF == 0
    sigs = []
    for i in range((length - 36) // 4):
        t = struct.unpack_from("<I", blob, rsdt + 36 + 4 * i)[0] - base
        tlen = struct.unpack_from("<I", blob, t + 4)[0]
        assert sum(blob[t:t + tlen]) & 0xFF == 0
        sigs.append(blob[t:t + 4])
    assert sigs == [b"FACP", b"APIC"]
    madt = struct.unpack_from("<I", blob, rsdt + 40)[0] - base
    assert blob[madt + 44:madt + 52].count(bytes([0, 8])) >= 1  # a Local APIC entry


def test_pm1a_sleep_enable_s5_powers_off() -> None:
    calls = []
    pm = AcpiPm(lambda: calls.append("off"))
    pm.cnt_region.write(0, 2, 0 << 10)         # SLP_TYP alone does nothing
    assert calls == []
    pm.cnt_region.write(0, 2, (0 << 10) | (1 << 13))
    assert calls == ["off"]


def test_e820_has_holes_and_high_ram() -> None:
    m = e820_map(0xC0000000, 1 << 30)
    assert (0, 0x9FC00, 1) in m and (0x100000, 0xC0000000 - 0x100000, 1) in m
    assert (1 << 32, 1 << 30, 1) in m


def _memory(size: int = 256 << 20) -> AddressSpace:
    mem = AddressSpace()
    mem.map(0, RamRegion("ram", size))
    return mem


def test_not_a_kernel() -> None:
    with pytest.raises(BootError, match="neither a bzImage nor an ELF"):
        load_linux(_memory(), LinuxBootConfig(kernel=b"hello" * 200, ram_below_4g=256 << 20))


@pytest.mark.skipif(not (IMAGES / "vmlinuz").exists(), reason="needs the Debian vmlinuz")
def test_bzimage_zero_page_and_entry() -> None:
    mem = _memory()
    kernel = (IMAGES / "vmlinuz").read_bytes()
    img, st = load_linux(mem, LinuxBootConfig(kernel=kernel, cmdline="console=ttyS0",
                                              initrd=b"\x00" * 8192, ram_below_4g=256 << 20))
    assert img.kind == "bzImage (host-decompressed)" and st.rip == img.entry == 0x1000000
    zp = mem.read_bytes(ZERO_PAGE_ADDR, 4096)
    assert zp[0x202:0x206] == b"HdrS" and zp[0x210] == 0xFF
    assert struct.unpack_from("<I", zp, 0x228)[0] == CMDLINE_ADDR
    assert mem.read_bytes(CMDLINE_ADDR, 14) == b"console=ttyS0\0"
    start, size = struct.unpack_from("<II", zp, 0x218)
    assert size == 8192 and start + size <= 256 << 20 and start % 4096 == 0
    assert zp[0x1E8] == 4 and st.gpr["rsi"] == ZERO_PAGE_ADDR


def test_popcnt_register_form_emulation() -> None:
    from pemu.accel.kvm.ioctls import KvmRegs
    from pemu.target.i386.emulate import popcnt
    r = KvmRegs()
    r.rdi, r.rip, r.rflags = 0xFF00FF, 0x1000, 0x2 | 0x41
    assert popcnt(r, bytes.fromhex("f3480fb8c7"))         # popcnt %rdi,%rax
    assert (r.rax, r.rip, r.rflags) == (16, 0x1005, 0x2)
    assert popcnt(r, bytes.fromhex("f3450fb8c1"))         # popcnt %r9d,%r8d
    assert (r.r8, r.rip, r.rflags) == (0, 0x100A, 0x42)
    assert not popcnt(r, bytes.fromhex("f3480fb807"))     # memory operand: not handled


def test_clac_stac_emulation() -> None:
    from pemu.accel.kvm.ioctls import KvmRegs
    from pemu.target.i386.emulate import clac_stac
    r = KvmRegs()
    r.rip, r.rflags = 0x2000, 0x2
    assert clac_stac(r, bytes.fromhex("0f01cb")) and r.rflags == 0x40002 and r.rip == 0x2003
    assert clac_stac(r, bytes.fromhex("0f01ca")) and r.rflags == 0x2 and r.rip == 0x2006
    assert not clac_stac(r, bytes.fromhex("0f01d0"))
