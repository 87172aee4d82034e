"""Minimal ACPI tables for an x86 guest: RSDP, RSDT, FADT, DSDT and MADT.

Just what Linux needs to find its CPUs and interrupt controllers (MADT,
ACPI 6.5 5.2.12) and to power off (FADT PM1a blocks, 5.2.9, and a DSDT
holding only the \\_S5 sleep package, 7.4.2). The FADT is the ACPI 1.0
layout (revision 1, 116 bytes) with a 32-bit DSDT pointer; no SMI command
port, so the OS finds the machine already in ACPI mode.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

OEM_ID = b"PEMU  "
OEM_TABLE_ID = b"PEMUMVM "
CREATOR_ID = b"PEMU"

# MADT structure types (ACPI 6.5 table 5.45) and flags.
MADT_LOCAL_APIC, MADT_IO_APIC, MADT_INT_OVERRIDE, MADT_LOCAL_APIC_NMI = 0, 1, 2, 4
MADT_PCAT_COMPAT = 1
MPS_ACTIVE_HIGH_LEVEL = 0x1 | (0x3 << 2)

# FADT flags (table 5.10) and IA-PC boot architecture flags (table 5.11).
FADT_WBINVD, FADT_PROC_C1, FADT_PWR_BUTTON, FADT_SLP_BUTTON = 1 << 0, 1 << 2, 1 << 4, 1 << 5
FADT_RTC_S4 = 1 << 7

# AML (ACPI 6.5 section 20): Name (_S5, Package (4) {Zero, Zero, Zero, Zero})
AML_NAME_OP, AML_PACKAGE_OP, AML_ZERO_OP = 0x08, 0x12, 0x00


def _checksum(data: bytes) -> int:
    return (-sum(data)) & 0xFF


def sdt(signature: bytes, revision: int, body: bytes) -> bytes:
    """A System Description Table: the 36-byte header (5.2.6) plus body, checksummed."""
    length = 36 + len(body)
    hdr = struct.pack("<4sIBB6s8sI4sI", signature, length, revision, 0, OEM_ID,
                      OEM_TABLE_ID, 1, CREATOR_ID, 1)
    table = bytearray(hdr + body)
    table[9] = _checksum(table)
    return bytes(table)


def aml_s5() -> bytes:
    elements = bytes([AML_ZERO_OP] * 4)
    pkg_body = bytes([4]) + elements  # NumElements + elements
    pkg = bytes([AML_PACKAGE_OP, len(pkg_body) + 1]) + pkg_body  # 1-byte PkgLength
    return bytes([AML_NAME_OP]) + b"_S5_" + pkg


@dataclass
class AcpiConfig:
    ncpus: int
    ioapic_addr: int = 0xFEC00000
    lapic_addr: int = 0xFEE00000
    sci_irq: int = 9
    pm1a_evt: int = 0x600
    pm1a_cnt: int = 0x604


def build_tables(cfg: AcpiConfig, base: int) -> tuple[bytes, int]:
    """All tables laid out from guest address `base`; returns (blob, RSDP address)."""
    dsdt = sdt(b"DSDT", 1, aml_s5())

    madt_body = bytearray(struct.pack("<II", cfg.lapic_addr, MADT_PCAT_COMPAT))
    for i in range(cfg.ncpus):
        madt_body += struct.pack("<BBBBI", MADT_LOCAL_APIC, 8, i, i, 1)
    madt_body += struct.pack("<BBBBII", MADT_IO_APIC, 12, cfg.ncpus, 0, cfg.ioapic_addr, 0)
    # The SCI is level-triggered, active high (as QEMU declares it).
    madt_body += struct.pack("<BBBBIH", MADT_INT_OVERRIDE, 10, 0, cfg.sci_irq, cfg.sci_irq,
                             MPS_ACTIVE_HIGH_LEVEL)
    madt_body += struct.pack("<BBBHB", MADT_LOCAL_APIC_NMI, 6, 0xFF, 0, 1)
    madt = sdt(b"APIC", 1, bytes(madt_body))

    # Layout: RSDP (20, 16-aligned) | DSDT | FADT | MADT | RSDT
    rsdp_addr = base
    off = 32
    dsdt_addr = base + off
    off += (len(dsdt) + 15) & ~15
    fadt_addr = base + off
    fadt = _fadt(cfg, dsdt_addr)
    off += (len(fadt) + 15) & ~15
    madt_addr = base + off
    off += (len(madt) + 15) & ~15
    rsdt_addr = base + off
    rsdt = sdt(b"RSDT", 1, struct.pack("<II", fadt_addr, madt_addr))

    rsdp = bytearray(struct.pack("<8sB6sBI", b"RSD PTR ", 0, OEM_ID, 0, rsdt_addr))
    rsdp[8] = _checksum(rsdp)
    blob = bytearray(off + len(rsdt))
    for addr, data in ((rsdp_addr, rsdp), (dsdt_addr, dsdt), (fadt_addr, fadt),
                       (madt_addr, madt), (rsdt_addr, rsdt)):
        blob[addr - base:addr - base + len(data)] = data
    return bytes(blob), rsdp_addr


def _fadt(cfg: AcpiConfig, dsdt_addr: int) -> bytes:
    """FADT revision 1 (ACPI 1.0b table 5-7 layout, 116 bytes with the header)."""
    body = bytearray(116 - 36)

    def put(offset: int, fmt: str, value: int) -> None:
        struct.pack_into(fmt, body, offset - 36, value)

    put(36, "<I", 0)               # FIRMWARE_CTRL: no FACS
    put(40, "<I", dsdt_addr)       # DSDT
    put(46, "<H", cfg.sci_irq)     # SCI_INT
    put(48, "<I", 0)               # SMI_CMD: none, always in ACPI mode
    put(56, "<I", cfg.pm1a_evt)    # PM1a_EVT_BLK
    put(64, "<I", cfg.pm1a_cnt)    # PM1a_CNT_BLK
    put(88, "<B", 4)               # PM1_EVT_LEN
    put(89, "<B", 2)               # PM1_CNT_LEN
    put(96, "<H", 0xFFF)           # P_LVL2_LAT > 100: C2 not supported
    put(98, "<H", 0xFFFF)          # P_LVL3_LAT > 1000: C3 not supported
    put(108, "<B", 0x32)           # CENTURY: CMOS register index
    put(112, "<I", FADT_WBINVD | FADT_PROC_C1 | FADT_PWR_BUTTON | FADT_SLP_BUTTON)
    return sdt(b"FACP", 1, bytes(body))
