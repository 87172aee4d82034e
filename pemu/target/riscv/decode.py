"""Table-driven RISC-V decoding: encodings are data, handlers are small.

Each extension module declares a TABLE of lines "name format pattern" where
the pattern is the 32 instruction bits, most significant first, written as
0/1 for fixed bits and '-' for operand bits (as the ISA manual's opcode
maps), and a `trans_<name>(ctx, a)` handler per mnemonic. `Decoder` builds
mask/match entries from the tables and looks them up by major opcode.

Formats (ISA manual, "Base Instruction Formats") say how operands are
extracted; `Args` carries them to the handler.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType


def sext(value: int, bits: int) -> int:
    sign = 1 << (bits - 1)
    return (value & (sign - 1)) - (value & sign)


@dataclass(slots=True)
class Args:
    rd: int = 0
    rs1: int = 0
    rs2: int = 0
    rs3: int = 0
    imm: int = 0
    csr: int = 0
    rm: int = 0
    aq: int = 0
    rl: int = 0
    pred: int = 0
    succ: int = 0


def _r(w: int) -> Args:
    return Args(rd=(w >> 7) & 31, rs1=(w >> 15) & 31, rs2=(w >> 20) & 31, rm=(w >> 12) & 7)


def _i(w: int) -> Args:
    return Args(rd=(w >> 7) & 31, rs1=(w >> 15) & 31, imm=sext(w >> 20, 12), rm=(w >> 12) & 7)


def _s(w: int) -> Args:
    return Args(rs1=(w >> 15) & 31, rs2=(w >> 20) & 31,
                imm=sext(((w >> 25) << 5) | ((w >> 7) & 31), 12))


def _b(w: int) -> Args:
    imm = (((w >> 31) & 1) << 12) | (((w >> 7) & 1) << 11) | (((w >> 25) & 63) << 5) \
        | (((w >> 8) & 15) << 1)
    return Args(rs1=(w >> 15) & 31, rs2=(w >> 20) & 31, imm=sext(imm, 13))


def _u(w: int) -> Args:
    return Args(rd=(w >> 7) & 31, imm=sext(w & 0xFFFFF000, 32))


def _j(w: int) -> Args:
    imm = (((w >> 31) & 1) << 20) | (((w >> 12) & 255) << 12) | (((w >> 20) & 1) << 11) \
        | (((w >> 21) & 1023) << 1)
    return Args(rd=(w >> 7) & 31, imm=sext(imm, 21))


def _sh(w: int) -> Args:  # shift by immediate: shamt in imm
    return Args(rd=(w >> 7) & 31, rs1=(w >> 15) & 31, imm=(w >> 20) & 63)


def _csr(w: int) -> Args:  # rs1 doubles as uimm for the *i forms
    return Args(rd=(w >> 7) & 31, rs1=(w >> 15) & 31, csr=(w >> 20) & 0xFFF)


def _r4(w: int) -> Args:
    return Args(rd=(w >> 7) & 31, rs1=(w >> 15) & 31, rs2=(w >> 20) & 31,
                rs3=(w >> 27) & 31, rm=(w >> 12) & 7)


def _atom(w: int) -> Args:
    return Args(rd=(w >> 7) & 31, rs1=(w >> 15) & 31, rs2=(w >> 20) & 31,
                aq=(w >> 26) & 1, rl=(w >> 25) & 1)


def _fence(w: int) -> Args:
    return Args(pred=(w >> 24) & 15, succ=(w >> 20) & 15)


FORMATS: dict[str, Callable[[int], Args]] = {
    "R": _r, "I": _i, "S": _s, "B": _b, "U": _u, "J": _j, "SH": _sh,
    "CSR": _csr, "R4": _r4, "ATOM": _atom, "FENCE": _fence, "N": lambda w: Args(),
}


@dataclass(slots=True)
class Insn:
    name: str
    mask: int
    match: int
    extract: Callable[[int], Args]
    trans: Callable
    ext: str


def parse_table(text: str, module: ModuleType, ext: str) -> list[Insn]:
    out = []
    for line in text.strip().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, fmt, pattern = line.split(None, 2)
        bits = pattern.replace(" ", "")
        if len(bits) != 32:
            raise ValueError(f"{ext}: pattern of {name} has {len(bits)} bits")
        mask = int("".join("0" if b == "-" else "1" for b in bits), 2)
        match = int("".join("1" if b == "1" else "0" for b in bits), 2)
        trans = getattr(module, "trans_" + name.replace(".", "_"))
        out.append(Insn(name, mask, match, FORMATS[fmt], trans, ext))
    return out


class Decoder:
    """Mask/match lookup grouped by major opcode, most specific pattern first."""

    def __init__(self, insns: list[Insn]) -> None:
        self.by_opcode: dict[int, list[Insn]] = {}
        for insn in insns:
            if insn.mask & 0x7F != 0x7F:
                raise ValueError(f"{insn.name}: opcode bits must be fixed")
            self.by_opcode.setdefault(insn.match & 0x7F, []).append(insn)
        for lst in self.by_opcode.values():
            lst.sort(key=lambda i: -bin(i.mask).count("1"))

    def decode(self, word: int) -> Insn | None:
        for insn in self.by_opcode.get(word & 0x7F, ()):
            if word & insn.mask == insn.match:
                return insn
        return None
