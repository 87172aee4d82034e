"""x86-64 architectural register state, boot-time states, and `info registers` output.

`X86State` is accelerator-neutral: KVM loads it with KVM_SET_SREGS/REGS and
reads it back for the monitor; a TCG x86 target would keep the same fields.
Segment fields follow the descriptor layout (Intel SDM vol. 3, 3.4.5).
"""
from __future__ import annotations

from dataclasses import dataclass, field

# Control register and EFER bits (SDM vol. 3, 2.5 and 2.2.1).
CR0_PE, CR0_MP, CR0_ET, CR0_NE, CR0_WP, CR0_AM, CR0_PG = (
    1 << 0, 1 << 1, 1 << 4, 1 << 5, 1 << 16, 1 << 18, 1 << 31)
CR4_PAE, CR4_PGE, CR4_OSFXSR, CR4_OSXMMEXCPT = 1 << 5, 1 << 7, 1 << 9, 1 << 10
EFER_SCE, EFER_LME, EFER_LMA, EFER_NXE = 1 << 0, 1 << 8, 1 << 10, 1 << 11

# MSRs Linux touches at boot (SDM vol. 4).
MSR_IA32_TSC = 0x10
MSR_IA32_APICBASE = 0x1B
MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP = 0x174, 0x175, 0x176
MSR_IA32_MISC_ENABLE = 0x1A0
MSR_IA32_CR_PAT = 0x277
MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SYSCALL_MASK = 0xC0000081, 0xC0000082, 0xC0000083, 0xC0000084
MSR_KERNEL_GS_BASE = 0xC0000102
MISC_ENABLE_FAST_STRING = 1 << 0
APICBASE_BSP, APICBASE_ENABLE = 1 << 8, 1 << 11
APIC_DEFAULT_BASE = 0xFEE00000
PAT_POWER_ON = 0x0007040600070406

RFLAGS_RESERVED = 1 << 1


@dataclass
class Segment:
    selector: int = 0
    base: int = 0
    limit: int = 0xFFFF
    type: int = 3
    present: int = 1
    dpl: int = 0
    db: int = 0
    s: int = 1
    l: int = 0  # noqa: E741 - the descriptor L (long mode) bit
    g: int = 0
    unusable: int = 0


def code64(selector: int) -> Segment:
    """A flat 64-bit code segment (execute/read, accessed, L=1)."""
    return Segment(selector=selector, limit=0xFFFFFFFF, type=0xB, l=1, g=1)


def code32(selector: int) -> Segment:
    return Segment(selector=selector, limit=0xFFFFFFFF, type=0xB, db=1, g=1)


def data_flat(selector: int) -> Segment:
    """A flat read/write data segment (accessed)."""
    return Segment(selector=selector, limit=0xFFFFFFFF, type=0x3, db=1, g=1)


def descriptor(seg: Segment) -> int:
    """The 8-byte GDT descriptor for a flat segment (SDM vol. 3, figure 3-8)."""
    limit = seg.limit >> 12 if seg.g else seg.limit
    access = seg.type | (seg.s << 4) | (seg.dpl << 5) | (seg.present << 7)
    flags = (seg.l << 1) | (seg.db << 2) | (seg.g << 3)
    return ((limit & 0xFFFF) | ((seg.base & 0xFFFFFF) << 16) | (access << 40)
            | (((limit >> 16) & 0xF) << 48) | (flags << 52) | (((seg.base >> 24) & 0xFF) << 56))


GPR_NAMES = ("rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rsp", "rbp",
             "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15")


@dataclass
class X86State:
    gpr: dict[str, int] = field(default_factory=dict)
    rip: int = 0xFFF0
    rflags: int = RFLAGS_RESERVED
    cs: Segment = field(default_factory=lambda: Segment(selector=0xF000, base=0xFFFF0000, type=0xB))
    ds: Segment = field(default_factory=Segment)
    es: Segment = field(default_factory=Segment)
    fs: Segment = field(default_factory=Segment)
    gs: Segment = field(default_factory=Segment)
    ss: Segment = field(default_factory=Segment)
    tr: Segment = field(default_factory=lambda: Segment(type=0xB, s=0))
    ldt: Segment = field(default_factory=lambda: Segment(type=0x2, s=0))
    gdt_base: int = 0
    gdt_limit: int = 0xFFFF
    idt_base: int = 0
    idt_limit: int = 0xFFFF
    cr0: int = 0x60000010
    cr2: int = 0
    cr3: int = 0
    cr4: int = 0
    cr8: int = 0
    efer: int = 0
    apic_base: int = 0

    def dump(self) -> str:
        """QEMU-style `info registers` text (x86_cpu_dump_state, 64-bit layout)."""
        g = {n: self.gpr.get(n, 0) for n in GPR_NAMES}
        lines = []
        names = [n.upper() for n in GPR_NAMES]
        for i in range(0, 16, 4):
            lines.append(" ".join(f"{names[j]:<3}={g[GPR_NAMES[j]]:016x}" for j in range(i, i + 4)))
        cpl = self.cs.selector & 3
        lines.append(f"RIP={self.rip:016x} RFL={self.rflags:08x} CPL={cpl}")
        for name in ("es", "cs", "ss", "ds", "fs", "gs", "ldt", "tr"):
            s: Segment = getattr(self, name)
            label = {"ldt": "LDT", "tr": "TR"}.get(name, name.upper())
            lines.append(f"{label:<3}={s.selector:04x} {s.base:016x} {s.limit:08x} "
                         f"type={s.type:x} p={s.present} dpl={s.dpl} l={s.l} db={s.db}")
        lines.append(f"GDT=     {self.gdt_base:016x} {self.gdt_limit:08x}")
        lines.append(f"IDT=     {self.idt_base:016x} {self.idt_limit:08x}")
        lines.append(f"CR0={self.cr0:08x} CR2={self.cr2:016x} CR3={self.cr3:016x} "
                     f"CR4={self.cr4:08x}")
        lines.append(f"CR8={self.cr8:x} EFER={self.efer:016x} APICBASE={self.apic_base:x}")
        return "\n".join(lines)


def long_mode_entry(rip: int, cr3: int, gdt_base: int, gdt_limit: int,
                    gpr: dict[str, int]) -> X86State:
    """The state Linux's 64-bit boot protocol asks for (Documentation/arch/x86/boot.rst,
    "64-bit Boot Protocol"): long mode, paging on with an identity map at `cr3`,
    CS = __BOOT_CS (0x10, 64-bit code), DS/ES/SS = __BOOT_DS (0x18), interrupts off.
    """
    st = X86State(gpr=dict(gpr), rip=rip)
    st.cs = code64(0x10)
    for name in ("ds", "es", "fs", "gs", "ss"):
        setattr(st, name, data_flat(0x18))
    st.tr = Segment(selector=0x20, limit=0x67, type=0xB, s=0)
    st.gdt_base, st.gdt_limit = gdt_base, gdt_limit
    st.idt_base, st.idt_limit = 0, 0
    st.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_AM | CR0_PG
    st.cr3 = cr3
    st.cr4 = CR4_PAE
    st.efer = EFER_LME | EFER_LMA
    return st


BOOT_GDT = (0, 0, descriptor(code64(0x10)), descriptor(data_flat(0x18)))
