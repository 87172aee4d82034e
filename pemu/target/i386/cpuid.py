"""The guest's CPUID: a CPU model filtered through what the accelerator supports.

`parse_cpu_option("host,-xsave,+cx16")` gives a `CpuConfig`; `build_cpuid`
takes the accelerator's supported leaves (KVM_GET_SUPPORTED_CPUID) as a list
of `CpuidLeaf` and returns the leaves to give each vCPU, plus one warning per
requested feature the host lacks, worded as QEMU's
("host doesn't support requested feature: CPUID.01H:ECX.xsave [bit 26]").
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from pemu.target.i386.features import DEPENDENTS, FEATURE_WORDS, lookup
from pemu.target.i386.models import MODELS, CpuModel

#: Features every model gets under KVM when the host has them (QEMU's kvm_default_props).
_IMPLIED = {"hypervisor", "x2apic", "tsc-deadline"}


class CpuOptionError(ValueError):
    """A bad -cpu argument (unknown model or feature)."""


@dataclass
class CpuidLeaf:
    function: int
    index: int
    flags: int
    eax: int
    ebx: int
    ecx: int
    edx: int


@dataclass
class CpuConfig:
    model: CpuModel
    plus: list[str] = field(default_factory=list)
    minus: list[str] = field(default_factory=list)


def parse_cpu_option(text: str) -> CpuConfig:
    """Parse QEMU's -cpu syntax: model[,+feat|-feat|feat=on|feat=off]..."""
    parts = [p for p in text.split(",") if p]
    if not parts or parts[0] not in MODELS:
        name = parts[0] if parts else ""
        raise CpuOptionError(f"unable to find CPU model '{name}'")
    cfg = CpuConfig(MODELS[parts[0]])
    for p in parts[1:]:
        if p[0] in "+-":
            name, on = p[1:], p[0] == "+"
        elif "=" in p:
            name, _, val = p.partition("=")
            if val not in ("on", "off", "true", "false", "yes", "no"):
                raise CpuOptionError(f"Property '{name}' doesn't take value '{val}'")
            on = val in ("on", "true", "yes")
        else:
            name, on = p, True
        if lookup(name) is None:
            typ = f"{parts[0]}-x86_64-cpu"
            raise CpuOptionError(f"can't apply global {typ}.{name}={'on' if on else 'off'}: "
                                 f"Property '{typ}.{name}' not found")
        (cfg.plus if on else cfg.minus).append(name)
    return cfg


def _word_name(word: str, bit: int, name: str) -> str:
    fw = FEATURE_WORDS[word]
    leaf = f"{fw.leaf:02X}H" if fw.leaf < 0x100 else f"{fw.leaf:X}H"
    sub = f".{fw.subleaf:02X}H" if fw.leaf in (7, 0xD) else ""
    return f"CPUID.{leaf}{sub}:{fw.reg.upper()}.{name} [bit {bit}]"


def _find(leaves: list[CpuidLeaf], function: int, index: int = 0) -> CpuidLeaf | None:
    for leaf in leaves:
        if leaf.function == function and leaf.index == index:
            return leaf
    return None


def _vendor_regs(vendor: str) -> tuple[int, int, int]:
    b = vendor.encode()[:12].ljust(12, b"\0")
    return (int.from_bytes(b[0:4], "little"), int.from_bytes(b[4:8], "little"),
            int.from_bytes(b[8:12], "little"))


def _signature(family: int, model: int, stepping: int) -> int:
    """CPUID.01H:EAX (SDM vol. 2A, figure 3-6)."""
    eax = stepping & 0xF
    eax |= (model & 0xF) << 4
    if family > 0xF:
        eax |= 0xF << 8 | ((family - 0xF) & 0xFF) << 20
    else:
        eax |= (family & 0xF) << 8
    eax |= ((model >> 4) & 0xF) << 16
    return eax


def _set_brand(leaves: list[CpuidLeaf], text: str) -> None:
    raw = text.encode()[:47].ljust(48, b"\0")
    for i, fn in enumerate((0x80000002, 0x80000003, 0x80000004)):
        leaf = _find(leaves, fn)
        if leaf is None:
            continue
        chunk = raw[16 * i:16 * i + 16]
        leaf.eax, leaf.ebx, leaf.ecx, leaf.edx = (
            int.from_bytes(chunk[j:j + 4], "little") for j in range(0, 16, 4))


def host_model_id() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.partition(":")[2].strip()
    except OSError:
        pass
    return ""


def build_cpuid(cfg: CpuConfig, supported: list[CpuidLeaf]) -> tuple[list[CpuidLeaf], list[str]]:
    """The model's CPUID, limited to `supported`; returns (leaves, warnings)."""
    leaves = [replace(leaf) for leaf in supported]
    warnings: list[str] = []
    model = cfg.model

    def word_leaf(word: str) -> CpuidLeaf | None:
        fw = FEATURE_WORDS[word]
        return _find(leaves, fw.leaf, fw.subleaf)

    def host_has(word: str, bit: int) -> bool:
        fw = FEATURE_WORDS[word]
        leaf = _find(supported, fw.leaf, fw.subleaf)
        return leaf is not None and bool(getattr(leaf, fw.reg) >> bit & 1)

    def set_bit(word: str, bit: int, on: bool) -> None:
        leaf = word_leaf(word)
        if leaf is None:
            return
        reg = FEATURE_WORDS[word].reg
        v = getattr(leaf, reg)
        setattr(leaf, reg, (v | (1 << bit)) if on else (v & ~(1 << bit)))

    wanted: set[str] = set() if model.passthrough else set(model.features)
    wanted |= set(cfg.plus)
    removed: set[str] = set()
    for name in cfg.minus:
        removed.add(name)
        removed.update(DEPENDENTS.get(name, ()))

    if not model.passthrough:
        # Keep only what the model asks for in the feature words it describes;
        # the hypervisor and paravirtual words stay as the accelerator gives them.
        for word in ("1.edx", "1.ecx", "7.0.ebx", "7.0.ecx", "7.0.edx", "0xd.1.eax",
                     "0x80000001.edx", "0x80000001.ecx"):
            leaf = word_leaf(word)
            if leaf is not None:
                setattr(leaf, FEATURE_WORDS[word].reg, 0)
        wanted |= _IMPLIED
    for name in sorted(wanted - removed):
        word, bit = lookup(name)  # type: ignore[misc]
        if host_has(word, bit):
            set_bit(word, bit, True)
        elif (name in cfg.plus or name in model.features) and name not in _IMPLIED:
            warnings.append(f"host doesn't support requested feature: "
                            f"{_word_name(word, bit, name)}")
    for name in removed:
        found = lookup(name)
        if found is not None:
            set_bit(found[0], found[1], False)
    if "xsave" in removed:
        # No XSAVE: the state-component leaf is meaningless (QEMU drops it too).
        leaves = [leaf for leaf in leaves if leaf.function != 0xD]

    leaf0 = _find(leaves, 0)
    leaf1 = _find(leaves, 1)
    if model.vendor and leaf0 is not None:
        leaf0.ebx, leaf0.edx, leaf0.ecx = _vendor_regs(model.vendor)
        ext0 = _find(leaves, 0x80000000)
        if ext0 is not None:
            ext0.ebx, ext0.edx, ext0.ecx = leaf0.ebx, leaf0.edx, leaf0.ecx
    if model.family and leaf1 is not None:
        leaf1.eax = _signature(model.family, model.model, model.stepping)
        ext1 = _find(leaves, 0x80000001)
        if ext1 is not None:
            ext1.eax = leaf1.eax
    _set_brand(leaves, model.model_id or host_model_id())
    return leaves, warnings


def for_vcpu(leaves: list[CpuidLeaf], apic_id: int, ncpus: int) -> list[CpuidLeaf]:
    """Per-vCPU fix-ups: initial APIC ID (CPUID.01H:EBX[31:24], 0BH:EDX)."""
    out = [replace(leaf) for leaf in leaves]
    for leaf in out:
        if leaf.function == 1:
            leaf.ebx = (leaf.ebx & 0x0000FFFF) | (apic_id << 24) | (min(ncpus, 255) << 16)
            if ncpus > 1:
                leaf.edx |= 1 << 28  # HTT: the count in EBX[23:16] is valid
        elif leaf.function in (0xB, 0x1F):
            leaf.edx = apic_id
    return out
