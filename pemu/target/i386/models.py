"""Named CPU models as data (QEMU's builtin_x86_defs, abridged).

A model gives the vendor, family/model/stepping, the model-id string and the
feature names it asks for; `host` and `max` ask for everything the
accelerator supports.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CpuModel:
    name: str
    description: str
    vendor: str = ""  # "" = the host's
    family: int = 0
    model: int = 0
    stepping: int = 0
    model_id: str = ""
    features: tuple[str, ...] = ()
    passthrough: bool = False  # host/max: every supported feature


_BASE_686 = ("fpu", "de", "pse", "tsc", "msr", "pae", "mce", "cx8", "apic", "sep", "mtrr",
             "pge", "mca", "cmov", "pat", "pse36", "clflush", "mmx", "fxsr", "sse", "sse2")
_X86_64 = ("lm", "syscall", "nx")

MODELS: dict[str, CpuModel] = {m.name: m for m in (
    CpuModel("host", "processor with all supported host features", passthrough=True),
    CpuModel("max", "Enables all features supported by the accelerator in the current host",
             passthrough=True),
    CpuModel("qemu64", "QEMU Virtual CPU version 2.5+", "AuthenticAMD", 15, 107, 1,
             "QEMU Virtual CPU version 2.5+",
             _BASE_686 + _X86_64 + ("pni", "cx16", "lahf-lm")),
    CpuModel("kvm64", "Common KVM processor", "GenuineIntel", 15, 6, 1,
             "Common KVM processor", _BASE_686 + _X86_64 + ("pni", "cx16")),
    CpuModel("Nehalem", "Intel Core i7 9xx (Nehalem Class Core i7)", "GenuineIntel", 6, 26, 3,
             "Intel Core i7 9xx (Nehalem Class Core i7)",
             _BASE_686 + _X86_64 + ("pni", "ssse3", "cx16", "sse4.1", "sse4.2", "popcnt",
                                    "lahf-lm")),
    CpuModel("EPYC", "AMD EPYC Processor", "AuthenticAMD", 23, 1, 2, "AMD EPYC Processor",
             _BASE_686 + _X86_64 + (
                 "pni", "pclmulqdq", "ssse3", "fma", "cx16", "sse4.1", "sse4.2", "movbe",
                 "popcnt", "aes", "xsave", "avx", "f16c", "rdrand", "fsgsbase", "bmi1",
                 "avx2", "smep", "bmi2", "rdseed", "adx", "smap", "clflushopt", "sha-ni",
                 "xsaveopt", "xsavec", "xgetbv1", "mmxext", "fxsr-opt", "pdpe1gb", "rdtscp",
                 "lahf-lm", "cmp-legacy", "cr8legacy", "abm", "sse4a", "misalignsse",
                 "3dnowprefetch", "osvw", "topoext")),
)}


def model_help() -> str:
    """The text of `-cpu help`."""
    lines = ["Available CPUs:"]
    for m in MODELS.values():
        lines.append(f"  {m.name:<16} {m.description}")
    return "\n".join(lines)
