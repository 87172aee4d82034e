"""CPUID construction: a model filtered by what the accelerator supports (no KVM needed)."""
from __future__ import annotations

import pytest

from pemu.target.i386.cpuid import (
    CpuidLeaf,
    CpuOptionError,
    build_cpuid,
    for_vcpu,
    parse_cpu_option,
)

CX16, XSAVE, HYPERVISOR = 1 << 13, 1 << 26, 1 << 31


def supported() -> list[CpuidLeaf]:
    return [CpuidLeaf(0, 0, 0, 0xD, 0x68747541, 0x444D4163, 0x69746E65),
            CpuidLeaf(1, 0, 0, 0xA10F11, 0, CX16 | XSAVE | HYPERVISOR | 1, 0x178BFBFF),
            CpuidLeaf(0xD, 0, 1, 0xE7, 0x980, 0x980, 0),
            CpuidLeaf(0x80000001, 0, 0, 0, 0, 0x1, 0x20100800)]


def leaf(leaves: list[CpuidLeaf], fn: int) -> CpuidLeaf:
    return next(x for x in leaves if x.function == fn)


def test_host_minus_features_clears_bits_and_xsave_leaf() -> None:
    leaves, warnings = build_cpuid(parse_cpu_option("host,-xsave,-cx16"), supported())
    assert not leaf(leaves, 1).ecx & (CX16 | XSAVE)
    assert leaf(leaves, 1).ecx & HYPERVISOR
    assert all(x.function != 0xD for x in leaves)
    assert warnings == []


def test_requested_feature_missing_on_host_warns_once() -> None:
    _, warnings = build_cpuid(parse_cpu_option("host,+avx2"), supported())
    assert warnings == ["host doesn't support requested feature: CPUID.07H.00H:EBX.avx2 [bit 5]"]


def test_named_model_sets_vendor_and_signature() -> None:
    leaves, warnings = build_cpuid(parse_cpu_option("qemu64"), supported())
    assert leaf(leaves, 1).eax == 0x000F0F61 or leaf(leaves, 1).eax >> 8 & 0xF == 0xF
    assert "CPUID.01H:ECX.pni" not in " ".join(warnings)  # pni is in the fake host


def test_unknown_feature_and_model() -> None:
    with pytest.raises(CpuOptionError):
        parse_cpu_option("host,+frob")
    with pytest.raises(CpuOptionError):
        parse_cpu_option("nosuch")


def test_per_vcpu_apic_id() -> None:
    leaves, _ = build_cpuid(parse_cpu_option("host"), supported())
    assert leaf(for_vcpu(leaves, 3, 4), 1).ebx >> 24 == 3
