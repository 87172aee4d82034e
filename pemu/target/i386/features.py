"""CPUID feature names as data: (leaf, subleaf, register) -> bit names.

Names are QEMU's (target/i386/cpu.c feature_word_info), as accepted by
`-cpu model,+name,-name`; bit positions come from the Intel SDM vol. 2A
CPUID tables and AMD APM vol. 3 appendix E.
"""
from __future__ import annotations

from typing import NamedTuple


class FeatureWord(NamedTuple):
    leaf: int
    subleaf: int
    reg: str  # "eax" | "ebx" | "ecx" | "edx"
    names: tuple[str | None, ...]  # index = bit number


def _bits(*names: str | None) -> tuple[str | None, ...]:
    return tuple(names)


FEATURE_WORDS: dict[str, FeatureWord] = {
    "1.edx": FeatureWord(1, 0, "edx", _bits(
        "fpu", "vme", "de", "pse", "tsc", "msr", "pae", "mce",
        "cx8", "apic", None, "sep", "mtrr", "pge", "mca", "cmov",
        "pat", "pse36", "pn", "clflush", None, "ds", "acpi", "mmx",
        "fxsr", "sse", "sse2", "ss", "ht", "tm", "ia64", "pbe")),
    "1.ecx": FeatureWord(1, 0, "ecx", _bits(
        "pni", "pclmulqdq", "dtes64", "monitor", "ds-cpl", "vmx", "smx", "est",
        "tm2", "ssse3", "cid", None, "fma", "cx16", "xtpr", "pdcm",
        None, "pcid", "dca", "sse4.1", "sse4.2", "x2apic", "movbe", "popcnt",
        "tsc-deadline", "aes", "xsave", "osxsave", "avx", "f16c", "rdrand", "hypervisor")),
    "7.0.ebx": FeatureWord(7, 0, "ebx", _bits(
        "fsgsbase", "tsc-adjust", "sgx", "bmi1", "hle", "avx2", None, "smep",
        "bmi2", "erms", "invpcid", "rtm", None, None, "mpx", None,
        "avx512f", "avx512dq", "rdseed", "adx", "smap", "avx512ifma", "pcommit", "clflushopt",
        "clwb", "intel-pt", "avx512pf", "avx512er", "avx512cd", "sha-ni", "avx512bw",
        "avx512vl")),
    "7.0.ecx": FeatureWord(7, 0, "ecx", _bits(
        None, "avx512vbmi", "umip", "pku", "ospke", "waitpkg", "avx512vbmi2", None,
        "gfni", "vaes", "vpclmulqdq", "avx512vnni", "avx512bitalg", None, "avx512-vpopcntdq",
        None, "la57", None, None, None, None, None, "rdpid", None,
        None, "cldemote", None, "movdiri", "movdir64b", None, "sgxlc", None)),
    "7.0.edx": FeatureWord(7, 0, "edx", _bits(
        None, None, "avx512-4vnniw", "avx512-4fmaps", "fsrm", None, None, None,
        "avx512-vp2intersect", None, "md-clear", None, None, None, "serialize", None,
        "tsx-ldtrk", None, None, None, None, None, "amx-bf16", "avx512-fp16",
        "amx-tile", "amx-int8", "spec-ctrl", "stibp", None, "arch-capabilities",
        "core-capability", "ssbd")),
    "0xd.1.eax": FeatureWord(0xD, 1, "eax", _bits(
        "xsaveopt", "xsavec", "xgetbv1", "xsaves", "xfd")),
    "0x80000001.edx": FeatureWord(0x80000001, 0, "edx", _bits(
        None, None, None, None, None, None, None, None,
        None, None, None, "syscall", None, None, None, None,
        None, None, None, None, "nx", None, "mmxext", None,
        None, "fxsr-opt", "pdpe1gb", "rdtscp", None, "lm", "3dnowext", "3dnow")),
    "0x80000001.ecx": FeatureWord(0x80000001, 0, "ecx", _bits(
        "lahf-lm", "cmp-legacy", "svm", "extapic", "cr8legacy", "abm", "sse4a", "misalignsse",
        "3dnowprefetch", "osvw", "ibs", "xop", "skinit", "wdt", None, "lwp",
        "fma4", "tce", None, "nodeid-msr", None, "tbm", "topoext", "perfctr-core",
        "perfctr-nb", None, None, None, None, None, None, None)),
    "0x40000001.eax": FeatureWord(0x40000001, 0, "eax", _bits(
        "kvmclock", "kvm-nopiodelay", "kvm-mmu", "kvmclock2", "kvm-asyncpf", "kvm-steal-time",
        "kvm-pv-eoi", "kvm-pv-unhalt", None, "kvm-pv-tlb-flush", "kvm-asyncpf-vmexit",
        "kvm-pv-ipi", "kvm-poll-control", "kvm-pv-sched-yield", "kvm-asyncpf-int",
        "kvm-msi-ext-dest-id")),
}

#: Alternative spellings QEMU accepts (underscores, old names).
ALIASES = {"sse3": "pni", "sse4_1": "sse4.1", "sse4_2": "sse4.2", "tsc_deadline": "tsc-deadline",
           "lahf_lm": "lahf-lm", "i64": "lm", "em64t": "lm", "sha_ni": "sha-ni",
           "arch_capabilities": "arch-capabilities", "fxsr_opt": "fxsr-opt"}


def _index() -> dict[str, tuple[str, int]]:
    out: dict[str, tuple[str, int]] = {}
    for word, fw in FEATURE_WORDS.items():
        for bit, name in enumerate(fw.names):
            if name is not None:
                out.setdefault(name, (word, bit))
    return out


#: name -> (feature word key, bit)
FEATURES: dict[str, tuple[str, int]] = _index()


def lookup(name: str) -> tuple[str, int] | None:
    """Where a feature lives, accepting QEMU's alternative spellings."""
    name = ALIASES.get(name, name)
    return FEATURES.get(name) or FEATURES.get(name.replace("_", "-"))


#: Features that make no sense without another (QEMU feature_dependencies and
#: Linux cpuid_deps): clearing the key clears these too.
DEPENDENTS = {
    "xsave": ("osxsave", "avx", "avx2", "fma", "f16c", "xsaveopt", "xsavec", "xgetbv1", "xsaves",
              "avx512f", "avx512dq", "avx512ifma", "avx512cd", "avx512bw", "avx512vl",
              "avx512vbmi", "avx512vbmi2", "avx512vnni", "avx512bitalg", "avx512-vpopcntdq",
              "vaes", "vpclmulqdq", "pku", "ospke", "amx-bf16", "amx-tile", "amx-int8",
              "avx512-fp16", "avx512-4vnniw", "avx512-4fmaps", "avx512-vp2intersect", "xfd"),
    "avx": ("avx2", "fma", "f16c", "avx512f", "vaes", "vpclmulqdq"),
    "avx512f": ("avx512dq", "avx512ifma", "avx512cd", "avx512bw", "avx512vl", "avx512vbmi",
                "avx512vbmi2", "avx512vnni", "avx512bitalg", "avx512-vpopcntdq", "avx512-fp16"),
}
