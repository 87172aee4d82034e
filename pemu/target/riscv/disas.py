"""A small RISC-V disassembler over the decoder tables, for -d in_asm and the
monitor's x/i. Operands are printed from the instruction's format, with ABI
register names, as objdump does (compressed forms print as their 32-bit
expansion)."""
from __future__ import annotations

from pemu.target.riscv import insn_rvc
from pemu.target.riscv.csr import CSRS
from pemu.target.riscv.decode import Args
from pemu.target.riscv.translator import DECODER

XNAMES = ["zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2",
          "a3", "a4", "a5", "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9",
          "s10", "s11", "t3", "t4", "t5", "t6"]
FNAMES = ["ft0", "ft1", "ft2", "ft3", "ft4", "ft5", "ft6", "ft7", "fs0", "fs1", "fa0", "fa1",
          "fa2", "fa3", "fa4", "fa5", "fa6", "fa7", "fs2", "fs3", "fs4", "fs5", "fs6", "fs7",
          "fs8", "fs9", "fs10", "fs11", "ft8", "ft9", "ft10", "ft11"]


def _operands(name: str, fmt: str, a: Args, pc: int) -> str:
    x = XNAMES
    fp = name.startswith("f") and not name.startswith("fence")
    fd = FNAMES if fp and not name.startswith(("fcvt.w", "fcvt.l", "fmv.x", "fclass", "feq",
                                                "flt", "fle")) else x
    fs = FNAMES if fp and not name.startswith(("fcvt.s.w", "fcvt.s.l", "fcvt.d.w",
                                                "fcvt.d.l", "fmv.w.x", "fmv.d.x")) else x
    if name in ("flw", "fld"):
        return f"{FNAMES[a.rd]},{a.imm}({x[a.rs1]})"
    if name in ("fsw", "fsd"):
        return f"{FNAMES[a.rs2]},{a.imm}({x[a.rs1]})"
    if fmt == "U":
        return f"{x[a.rd]},{(a.imm >> 12) & 0xFFFFF:#x}"
    if fmt == "J":
        return f"{x[a.rd]},{(pc + a.imm) & ((1 << 64) - 1):#x}"
    if fmt == "B":
        return f"{x[a.rs1]},{x[a.rs2]},{(pc + a.imm) & ((1 << 64) - 1):#x}"
    if fmt == "S":
        return f"{x[a.rs2]},{a.imm}({x[a.rs1]})"
    if fmt == "I":
        if name.startswith("l") or name == "jalr":
            return f"{x[a.rd]},{a.imm}({x[a.rs1]})"
        return f"{x[a.rd]},{x[a.rs1]},{a.imm}"
    if fmt == "SH":
        return f"{x[a.rd]},{x[a.rs1]},{a.imm}"
    if fmt == "CSR":
        csr = CSRS[a.csr][0] if a.csr in CSRS else f"{a.csr:#x}"
        src = str(a.rs1) if name.endswith("i") else x[a.rs1]
        return f"{x[a.rd]},{csr},{src}"
    if fmt == "ATOM":
        if name.startswith("lr"):
            return f"{x[a.rd]},({x[a.rs1]})"
        return f"{x[a.rd]},{x[a.rs2]},({x[a.rs1]})"
    if fmt == "R4":
        return f"{FNAMES[a.rd]},{FNAMES[a.rs1]},{FNAMES[a.rs2]},{FNAMES[a.rs3]}"
    if fmt == "R":
        if name.startswith(("fsqrt", "fcvt", "fmv", "fclass")):
            return f"{fd[a.rd]},{fs[a.rs1]}"
        if name == "sfence.vma":
            return f"{x[a.rs1]},{x[a.rs2]}"
        return f"{fd[a.rd]},{fs[a.rs1]},{fs[a.rs2]}"
    return ""


_FORMAT_OF = {}


def _format_name(insn) -> str:
    if insn.name not in _FORMAT_OF:
        from pemu.target.riscv.decode import FORMATS
        _FORMAT_OF[insn.name] = next(k for k, v in FORMATS.items() if v is insn.extract)
    return _FORMAT_OF[insn.name]


def disassemble_one(data: bytes, pc: int) -> tuple[int, str]:
    """(length, text) of the instruction at the start of data (2 or 4 bytes)."""
    if len(data) < 2:
        return len(data) or 1, ".byte"
    h = data[0] | (data[1] << 8)
    if h & 3 != 3:
        word, length, raw = insn_rvc.expand(h), 2, f"{h:04x}    "
    elif len(data) < 4:
        return 2, f".half {h:#06x}"
    else:
        word = int.from_bytes(data[:4], "little")
        length, raw = 4, f"{word:08x}"
    insn = DECODER.decode(word) if word else None
    if insn is None:
        return length, f"{raw}  .insn (illegal)"
    ops = _operands(insn.name, _format_name(insn), insn.extract(word), pc)
    return length, f"{raw}  {insn.name:<10} {ops}".rstrip()


def disassemble(pc: int, data: bytes) -> list[tuple[int, str]]:
    out = []
    off = 0
    while off < len(data):
        n, text = disassemble_one(data[off:off + 4], pc + off)
        out.append((n, text))
        off += n
    return out
