"""Table-driven A64 decoding: encodings are data, handlers are small.

Each instruction-class module declares a TABLE of lines "name pattern": the
pattern is the 32 instruction bits, most significant first (spaces are
ignored), written as the Arm ARM's encoding diagrams are: 0/1 for fixed bits
and a letter for each operand field. The letters of one field must be
adjacent; the LEGEND names the field each letter becomes on `Args`
(`a.rd`, `a.imm`, ...). A line's handler is `trans_<name>(ctx, a)` in the
same module; several lines may share a name.

`Decoder` builds mask/match entries from the tables and looks them up by
the four "op0" bits 28:25 that the Arm ARM's top-level decode uses
(C4.1, "A64 instruction set encoding"), most specific pattern first.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType, SimpleNamespace

#: pattern letter -> field name on Args
LEGEND = {
    "d": "rd", "n": "rn", "m": "rm", "t": "rt", "T": "rt2", "a": "ra", "e": "rs",
    "s": "sf", "i": "imm", "l": "immlo", "h": "shift", "r": "immr", "x": "imms",
    "N": "N", "w": "hw", "c": "cond", "o": "option", "S": "S", "z": "size",
    "p": "opc", "k": "idx", "q": "Q", "u": "U", "b": "b5", "B": "b40", "y": "sysreg",
    "L": "L", "R": "o0", "f": "nzcv", "v": "op2", "j": "imm2", "g": "crm", "A": "abc",
    "D": "defgh", "C": "cmode", "E": "immh", "F": "immb", "P": "op", "O": "o3",
    "M": "M", "H": "H",
}


def sext(value: int, bits: int) -> int:
    sign = 1 << (bits - 1)
    return (value & (sign - 1)) - (value & sign)


class Args(SimpleNamespace):
    """The operand fields of one instruction, named by LEGEND."""


@dataclass(slots=True)
class Insn:
    name: str
    mask: int
    match: int
    fields: tuple[tuple[str, int, int], ...]  # (name, shift, width)
    trans: Callable
    cls: str

    def extract(self, word: int) -> Args:
        return Args(**{n: (word >> sh) & ((1 << w) - 1) for n, sh, w in self.fields})


def parse_pattern(bits: str, where: str) -> tuple[int, int, tuple[tuple[str, int, int], ...]]:
    """(mask, match, fields) of one 32-character pattern."""
    if len(bits) != 32:
        raise ValueError(f"{where}: pattern has {len(bits)} bits")
    mask = match = 0
    spans: dict[str, list[int]] = {}
    for i, ch in enumerate(bits):
        pos = 31 - i
        if ch in "01":
            mask |= 1 << pos
            match |= int(ch) << pos
        elif ch in LEGEND:
            spans.setdefault(ch, []).append(pos)
        else:
            raise ValueError(f"{where}: unknown pattern letter {ch!r}")
    fields = []
    for ch, positions in spans.items():
        lo, hi = min(positions), max(positions)
        if hi - lo + 1 != len(positions):
            raise ValueError(f"{where}: field {ch!r} is not contiguous")
        fields.append((LEGEND[ch], lo, hi - lo + 1))
    return mask, match, tuple(fields)


def parse_table(text: str, module: ModuleType, cls: str) -> list[Insn]:
    out = []
    for line in text.strip().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, pattern = line.split(None, 1)
        mask, match, fields = parse_pattern(pattern.replace(" ", ""), f"{cls}: {name}")
        trans = getattr(module, "trans_" + name)
        out.append(Insn(name, mask, match, fields, trans, cls))
    return out


def _op0(word: int) -> int:
    return (word >> 25) & 15


class Decoder:
    """Mask/match lookup grouped by bits 28:25, most specific pattern first."""

    def __init__(self, insns: list[Insn]) -> None:
        self.by_op0: dict[int, list[Insn]] = {k: [] for k in range(16)}
        for insn in insns:
            fixed = (insn.mask >> 25) & 15
            for k in range(16):  # an entry goes wherever its fixed op0 bits allow
                if k & fixed == _op0(insn.match) & fixed:
                    self.by_op0[k].append(insn)
        for lst in self.by_op0.values():
            lst.sort(key=lambda i: -i.mask.bit_count())

    def decode(self, word: int) -> Insn | None:
        for insn in self.by_op0[_op0(word)]:
            if word & insn.mask == insn.match:
                return insn
        return None
