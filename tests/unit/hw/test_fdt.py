"""The DTB writer, checked by decompiling with the real dtc."""
from __future__ import annotations

import shutil
import struct
import subprocess

import pytest

from pemu.hw.fdt import FDT_MAGIC, Fdt, FdtError


def build() -> bytes:
    fdt = Fdt()
    fdt.add_reservation(0x80000000, 0x200000)
    fdt.begin_node("")
    fdt.prop_u32("#address-cells", 2)
    fdt.prop_u32("#size-cells", 2)
    fdt.prop_str("compatible", "riscv-virtio")
    fdt.begin_node("soc")
    fdt.prop_empty("ranges")
    fdt.begin_node("plic@c000000")
    ph = fdt.prop_phandle()
    fdt.prop_strlist("compatible", ["sifive,plic-1.0.0", "riscv,plic0"])
    fdt.prop_cells("reg", [0, 0xC000000, 0, 0x600000])
    fdt.end_node()
    fdt.begin_node("serial@10000000")
    fdt.prop_u32("interrupt-parent", ph)
    fdt.prop_u32("interrupts", 10)
    fdt.prop_str("compatible", "ns16550a")
    fdt.end_node()
    fdt.prop_u32("#size-cells", 2)  # after a subnode: still emitted first
    fdt.end_node()
    fdt.begin_node("memory@80000000")
    fdt.prop_str("device_type", "memory")
    fdt.prop_u64("reg-ish", 0x1_2345_6789)
    fdt.prop_bytes("blob", b"\x01\x02\x03")
    fdt.end_node()
    fdt.end_node()
    return fdt.to_bytes()


def test_header_and_dedup() -> None:
    blob = build()
    (magic, total, off_struct, off_strings, off_rsv, version, last_comp, _boot,
     size_strings, size_struct) = struct.unpack_from(">10I", blob)
    assert magic == FDT_MAGIC and total == len(blob)
    assert version == 17 and last_comp == 16
    assert off_rsv % 8 == 0 and off_struct % 4 == 0
    assert struct.unpack_from(">QQQQ", blob, off_rsv) == (0x80000000, 0x200000, 0, 0)
    strings = blob[off_strings:off_strings + size_strings]
    assert strings.count(b"compatible\0") == 1
    assert strings.count(b"#size-cells\0") == 1
    assert off_struct + size_struct == off_strings


def test_misuse() -> None:
    fdt = Fdt()
    with pytest.raises(FdtError):
        fdt.begin_node("notroot")
    fdt.begin_node("")
    with pytest.raises(FdtError):
        fdt.to_bytes()
    fdt.end_node()
    with pytest.raises(FdtError):
        fdt.end_node()


@pytest.mark.skipif(shutil.which("dtc") is None,
                    reason="dtc missing (Debian package device-tree-compiler)")
def test_dtc_decompiles(tmp_path) -> None:
    path = tmp_path / "t.dtb"
    path.write_bytes(build())
    out = subprocess.run(["dtc", "-I", "dtb", "-O", "dts", str(path)],
                         capture_output=True, text=True, check=True).stdout
    assert "/memreserve/\t0x0000000080000000 0x0000000000200000;" in out
    assert 'compatible = "riscv-virtio";' in out
    assert 'compatible = "sifive,plic-1.0.0\\0riscv,plic0";' in out
    assert "reg = <0x00 0xc000000 0x00 0x600000>;" in out
    assert "phandle = <0x01>;" in out
    assert "interrupt-parent = <0x01>;" in out
    assert "ranges;" in out
    assert "reg-ish = <0x01 0x23456789>;" in out
    assert "blob = [01 02 03];" in out
    assert "serial@10000000 {" in out and "memory@80000000 {" in out
    # Round trip: dtc re-encodes it to the same tree.
    again = subprocess.run(["dtc", "-I", "dtb", "-O", "dts", "-"], input=subprocess.run(
        ["dtc", "-I", "dts", "-O", "dtb", "-"], input=out.encode(), capture_output=True,
        check=True).stdout, capture_output=True, check=True).stdout.decode()
    assert again == out
