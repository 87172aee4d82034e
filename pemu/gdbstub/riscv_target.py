"""The RISC-V target description gdb reads with qXfer:features:read, and the
register numbering it implies (GDB manual, "Target Descriptions" and
"RISC-V Features").

Features: org.gnu.gdb.riscv.cpu (x0-x31 by ABI name, pc), .fpu (f0-f31,
fflags, frm, fcsr), .csr (the other CSRs the hart has) and .virtual (priv).
Register numbers follow gdb's own RISC-V numbering, so p/P need no table:
0-31 the x registers, 32 pc, 33-64 the f registers, 65 + n the CSR numbered
n (fflags 66, frm 67, fcsr 68), 4161 (65 + 4096) priv. The `g` packet holds
x0-x31 and pc; gdb fetches the rest with `p`.
"""
from __future__ import annotations

from typing import Any

from pemu.target.riscv import csr
from pemu.target.riscv.debug_access import FNAMES, XNAMES

ARCH = "riscv:rv64"
PC_REGNUM = 32
FIRST_FP_REGNUM = 33
FIRST_CSR_REGNUM = 65
PRIV_REGNUM = FIRST_CSR_REGNUM + 4096
G_REGS = 33  # x0-x31, pc: what the g packet carries
REG_BYTES = 8
FP_CSRS = (0x001, 0x002, 0x003)  # fflags, frm, fcsr live in the fpu feature
#: gdb types of the cpu feature's registers (code or data pointers print as such)
_CPU_TYPES = {"ra": "code_ptr", "sp": "data_ptr", "gp": "data_ptr", "tp": "data_ptr"}


def regnum_name(cpu: Any, regnum: int) -> str | None:
    """The CPU-protocol name of gdb register `regnum`, None if the hart has none."""
    if 0 <= regnum < 32:
        return XNAMES[regnum]
    if regnum == PC_REGNUM:
        return "pc"
    if FIRST_FP_REGNUM <= regnum < FIRST_FP_REGNUM + 32:
        return FNAMES[regnum - FIRST_FP_REGNUM]
    if regnum == PRIV_REGNUM:
        return "priv"
    num = regnum - FIRST_CSR_REGNUM
    entry = csr.CSRS.get(num)
    if entry is None or csr.CSR_EXT.get(num) in cpu.ext_off:
        return None
    return entry[0]


def _reg(name: str, regnum: int, typ: str = "int", group: str = "") -> str:
    grp = f' group="{group}"' if group else ""
    return f'  <reg name="{name}" bitsize="64" regnum="{regnum}" type="{typ}"{grp}/>\n'


def feature_files(cpu: Any) -> dict[str, str]:
    """annex name -> XML text: target.xml and the feature files it includes."""
    cpu_xml = ['<?xml version="1.0"?>\n<!DOCTYPE feature SYSTEM "gdb-target.dtd">\n'
               '<feature name="org.gnu.gdb.riscv.cpu">\n']
    for i, name in enumerate(XNAMES):
        cpu_xml.append(_reg(name, i, _CPU_TYPES.get(name, "int")))
    cpu_xml.append(_reg("pc", PC_REGNUM, "code_ptr"))
    cpu_xml.append("</feature>\n")

    fpu_xml = ['<?xml version="1.0"?>\n<!DOCTYPE feature SYSTEM "gdb-target.dtd">\n'
               '<feature name="org.gnu.gdb.riscv.fpu">\n'
               '  <union id="riscv_double">\n    <field name="float" type="ieee_single"/>\n'
               '    <field name="double" type="ieee_double"/>\n  </union>\n']
    for i, name in enumerate(FNAMES):
        fpu_xml.append(_reg(name, FIRST_FP_REGNUM + i, "riscv_double", "float"))
    for num in FP_CSRS:
        fpu_xml.append(_reg(csr.CSRS[num][0], FIRST_CSR_REGNUM + num, "int", "float"))
    fpu_xml.append("</feature>\n")

    csr_xml = ['<?xml version="1.0"?>\n<!DOCTYPE feature SYSTEM "gdb-target.dtd">\n'
               '<feature name="org.gnu.gdb.riscv.csr">\n']
    for num, (name, _, _) in sorted(csr.CSRS.items()):
        if num in FP_CSRS or csr.CSR_EXT.get(num) in cpu.ext_off:
            continue
        csr_xml.append(_reg(name, FIRST_CSR_REGNUM + num, "int", "system"))
    csr_xml.append("</feature>\n")

    virt_xml = ('<?xml version="1.0"?>\n<!DOCTYPE feature SYSTEM "gdb-target.dtd">\n'
                '<feature name="org.gnu.gdb.riscv.virtual">\n'
                + _reg("priv", PRIV_REGNUM, "int", "system") + "</feature>\n")

    files = {"riscv-64bit-cpu.xml": "".join(cpu_xml), "riscv-64bit-fpu.xml": "".join(fpu_xml),
             "riscv-64bit-csr.xml": "".join(csr_xml), "riscv-64bit-virtual.xml": virt_xml}
    target = ['<?xml version="1.0"?>\n<!DOCTYPE target SYSTEM "gdb-target.dtd">\n<target>\n'
              f"  <architecture>{ARCH}</architecture>\n"]
    target += [f'  <xi:include href="{name}"/>\n' for name in files]
    target.append("</target>\n")
    files["target.xml"] = "".join(target)
    return files


__all__ = ["feature_files", "regnum_name", "G_REGS", "REG_BYTES", "PC_REGNUM"]
