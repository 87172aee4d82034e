"""A small x86-64 assembler: the instructions the native backend emits, as tables.

Encoding is done once, in `_rm` (REX prefix, ModRM, SIB and displacement for a
register or memory operand); every instruction is then a table row of opcode
bytes and the ModRM `reg` field or opcode extension. Sources: Intel SDM vol. 2,
chapter 2 (instruction format) and the opcode maps of appendix A.

Operands are `Reg` (a 64-bit general register; the operand size is chosen by
the method: `w=True` is 64-bit, otherwise 32-bit, `size=1/2` for byte/word
forms) and `Mem` (base + index*scale + disp32). Jumps go to `Label`s: a jump
to a label already bound uses rel8 when it fits; a forward jump uses rel32
unless the caller asks for `short=True` (it then knows the distance is small;
`finish` checks it).
"""
from __future__ import annotations

import struct
from enum import IntEnum
from typing import NamedTuple


class Reg(IntEnum):
    RAX = 0
    RCX = 1
    RDX = 2
    RBX = 3
    RSP = 4
    RBP = 5
    RSI = 6
    RDI = 7
    R8 = 8
    R9 = 9
    R10 = 10
    R11 = 11
    R12 = 12
    R13 = 13
    R14 = 14
    R15 = 15


class Mem(NamedTuple):
    """A memory operand [base + index*scale + disp] (a tuple: hashed in C, as the
    encoding cache keys on it)."""

    base: Reg
    disp: int = 0
    index: Reg | None = None
    scale: int = 1


class Label:
    __slots__ = ("pos",)

    def __init__(self) -> None:
        self.pos: int | None = None


#: condition codes (the low nibble of Jcc/SETcc/CMOVcc), by the IR's condition names
CC = {"eq": 0x4, "ne": 0x5, "lt": 0xC, "ge": 0xD, "le": 0xE, "gt": 0xF,
      "ltu": 0x2, "geu": 0x3, "leu": 0x6, "gtu": 0x7, "s": 0x8, "ns": 0x9}

#: two-operand ALU group: name -> (op r/m,r ; op r,r/m ; /digit of the 0x81/0x83 imm forms)
ALU = {"add": (0x01, 0x03, 0), "or": (0x09, 0x0B, 1), "adc": (0x11, 0x13, 2),
       "sbb": (0x19, 0x1B, 3), "and": (0x21, 0x23, 4), "sub": (0x29, 0x2B, 5),
       "xor": (0x31, 0x33, 6), "cmp": (0x39, 0x3B, 7)}
#: shift/rotate group 2: name -> /digit (0xD3 by cl, 0xC1 by imm8)
SHIFT = {"rol": 0, "ror": 1, "shl": 4, "shr": 5, "sar": 7}
#: unary group 3 (0xF7): name -> /digit; mul/imul/div/idiv use rdx:rax
UNARY = {"not": 2, "neg": 3, "mul": 4, "imul1": 5, "div": 6, "idiv": 7}
#: extensions: (signed, source bytes) -> opcode bytes (movsxd for 4 signed)
MOVX = {(False, 1): b"\x0f\xb6", (False, 2): b"\x0f\xb7",
        (True, 1): b"\x0f\xbe", (True, 2): b"\x0f\xbf", (True, 4): b"\x63"}
#: bit counts with an F3 prefix (lzcnt/tzcnt/popcnt) and the plain bsr/bsf
BITS = {"lzcnt": b"\xf3\x0f\xbd", "tzcnt": b"\xf3\x0f\xbc", "popcnt": b"\xf3\x0f\xb8",
        "bsr": b"\x0f\xbd", "bsf": b"\x0f\xbc"}


def _fits8(v: int) -> bool:
    return -128 <= v <= 127


def _fits32(v: int) -> bool:
    return -(1 << 31) <= v < (1 << 31)


def _encode(opcode: bytes, reg: int, rm: Reg | Mem, w: bool, prefix: bytes,
            byte_reg: bool) -> bytes:
    """The bytes of prefix, REX, opcode, ModRM (+SIB, disp): computed once per shape."""
    rex = 0x40 | (8 if w else 0) | (4 if reg & 8 else 0)
    if isinstance(rm, Reg):
        rex |= 1 if rm & 8 else 0
        tail = bytes([0xC0 | (reg & 7) << 3 | (rm & 7)])
        # spl/bpl/sil/dil need a REX prefix to be byte registers
        force = byte_reg and (4 <= rm <= 7 or 4 <= reg <= 7)
    else:
        force = byte_reg and 4 <= reg <= 7
        base, idx, disp = rm.base, rm.index, rm.disp
        rex |= (1 if base & 8 else 0) | (2 if idx is not None and idx & 8 else 0)
        if disp == 0 and base & 7 != 5:
            mod, dbytes = 0, b""
        elif _fits8(disp):
            mod, dbytes = 1, struct.pack("<b", disp)
        else:
            mod, dbytes = 2, struct.pack("<i", disp)
        if idx is None and base & 7 != 4:
            tail = bytes([mod << 6 | (reg & 7) << 3 | (base & 7)]) + dbytes
        else:
            assert idx != Reg.RSP, "rsp cannot be an index"
            ss = {1: 0, 2: 1, 4: 2, 8: 3}[rm.scale]
            ix = 4 if idx is None else idx & 7
            tail = bytes([mod << 6 | (reg & 7) << 3 | 4, ss << 6 | ix << 3 | (base & 7)])
            tail += dbytes
    rexb = bytes([rex]) if rex != 0x40 or force else b""
    return prefix + rexb + opcode + tail


#: encodings of (opcode, reg, operand, w, prefix, byte_reg) already computed
_ENCODED: dict[tuple, bytes] = {}


class Asm:
    """Appends machine code to `code`; `finish()` resolves label fixups."""

    def __init__(self) -> None:
        self.code = bytearray()
        self.fixups: list[tuple[int, int, Label]] = []  # (position, width, label)

    # --- encoding core -------------------------------------------------------------------
    def _rm(self, opcode: bytes, reg: int, rm: Reg | Mem, w: bool = False,
            prefix: bytes = b"", byte_reg: bool = False, imm: bytes = b"") -> None:
        """prefix, REX, opcode, ModRM (+SIB, disp) for reg field `reg` and operand `rm`."""
        key = (opcode, reg, rm, w, prefix, byte_reg)
        enc = _ENCODED.get(key)
        if enc is None:
            enc = _ENCODED[key] = _encode(opcode, reg, rm, w, prefix, byte_reg)
        self.code += enc
        if imm:
            self.code += imm

    # --- moves -----------------------------------------------------------------------------
    def mov(self, dst: Reg | Mem, src: Reg | Mem, w: bool = True) -> None:
        if isinstance(src, Mem):
            assert isinstance(dst, Reg)
            self._rm(b"\x8b", dst, src, w)
        else:
            self._rm(b"\x89", src, dst, w)

    def mov_imm(self, dst: Reg, value: int) -> None:
        """dst = value (a 64-bit constant), in the shortest form."""
        value &= (1 << 64) - 1
        if value < (1 << 32):  # mov r32, imm32 zero-extends
            self.code += (b"\x41" if dst & 8 else b"") + bytes([0xB8 | (dst & 7)])
            self.code += struct.pack("<I", value)
        elif value >= (1 << 64) - (1 << 31):  # mov r/m64, simm32
            self._rm(b"\xc7", 0, dst, True, imm=struct.pack("<i", value - (1 << 64)))
        else:
            self.code += bytes([0x48 | (1 if dst & 8 else 0), 0xB8 | (dst & 7)])
            self.code += struct.pack("<Q", value)

    def mov_mem_imm(self, dst: Mem, value: int) -> None:
        """qword [dst] = sign-extended imm32."""
        assert _fits32(value)
        self._rm(b"\xc7", 0, dst, True, imm=struct.pack("<i", value))

    def store(self, dst: Mem, src: Reg, size: int) -> None:
        """Store the low `size` bytes of src."""
        if size == 1:
            self._rm(b"\x88", src, dst, byte_reg=True)
        elif size == 2:
            self._rm(b"\x89", src, dst, prefix=b"\x66")
        else:
            self._rm(b"\x89", src, dst, size == 8)

    def movx(self, dst: Reg, src: Reg | Mem, signed: bool, size: int) -> None:
        """dst = src's low `size` bytes, sign- or zero-extended to 64 bits."""
        if size == 8:
            if dst != src:
                self.mov(dst, src)
        elif not signed and size == 4:
            self.mov(dst, src, w=False)  # 32-bit writes zero the upper half
        else:
            self._rm(MOVX[signed, size], dst, src, w=signed,
                     byte_reg=size == 1 and isinstance(src, Reg))

    def lea(self, dst: Reg, src: Mem) -> None:
        self._rm(b"\x8d", dst, src, True)

    # --- arithmetic ------------------------------------------------------------------------
    def alu(self, name: str, dst: Reg | Mem, src: Reg | Mem | int, w: bool = True) -> None:
        op_mr, op_rm, digit = ALU[name]
        if isinstance(src, Reg):  # (before int: a Reg is an IntEnum)
            self._rm(bytes([op_mr]), src, dst, w)
        elif isinstance(src, int):
            if _fits8(src):
                self._rm(b"\x83", digit, dst, w, imm=struct.pack("<b", src))
            else:
                self._rm(b"\x81", digit, dst, w, imm=struct.pack("<i", src))
        elif isinstance(src, Mem):
            assert isinstance(dst, Reg)
            self._rm(bytes([op_rm]), dst, src, w)
        else:
            raise TypeError(f"bad ALU operand {src!r}")

    def test(self, a: Reg, b: Reg, w: bool = True) -> None:
        self._rm(b"\x85", b, a, w)

    def imul(self, dst: Reg, src: Reg | Mem) -> None:
        """dst = dst * src (low 64 bits)."""
        self._rm(b"\x0f\xaf", dst, src, True)

    def unary(self, name: str, rm: Reg | Mem, w: bool = True) -> None:
        self._rm(b"\xf7", UNARY[name], rm, w)

    def shift(self, name: str, rm: Reg, count: int | None = None, size: int = 8) -> None:
        """Shift or rotate rm by `count`, or by cl when count is None."""
        prefix = b"\x66" if size == 2 else b""
        if count is None:
            self._rm(b"\xd3", SHIFT[name], rm, size == 8, prefix)
        else:
            self._rm(b"\xc1", SHIFT[name], rm, size == 8, prefix, imm=bytes([count & 63]))

    def bswap(self, r: Reg, w: bool = True) -> None:
        self.code += bytes([0x40 | (8 if w else 0) | (1 if r & 8 else 0)]) if w or r & 8 else b""
        self.code += bytes([0x0F, 0xC8 | (r & 7)])

    def bits(self, name: str, dst: Reg, src: Reg) -> None:
        op = BITS[name]
        prefix, opcode = (op[:1], op[1:]) if op[0] == 0xF3 else (b"", op)
        self._rm(opcode, dst, src, True, prefix)

    def setcc(self, cond: str, dst: Reg) -> None:
        self._rm(bytes([0x0F, 0x90 | CC[cond]]), 0, dst, byte_reg=True)

    def cmov(self, cond: str, dst: Reg, src: Reg | Mem) -> None:
        self._rm(bytes([0x0F, 0x40 | CC[cond]]), dst, src, True)

    def cqo(self) -> None:
        self.code += b"\x48\x99"

    # --- stack and control -------------------------------------------------------------------
    def push(self, r: Reg) -> None:
        self.code += (b"\x41" if r & 8 else b"") + bytes([0x50 | (r & 7)])

    def pop(self, r: Reg) -> None:
        self.code += (b"\x41" if r & 8 else b"") + bytes([0x58 | (r & 7)])

    def ret(self) -> None:
        self.code += b"\xc3"

    def jmp_rm(self, target: Reg | Mem) -> None:
        """jmp to the address in a register or in memory (no REX.W needed: 64-bit)."""
        self._rm(b"\xff", 4, target)

    def label(self) -> Label:
        return Label()

    def bind(self, label: Label) -> None:
        assert label.pos is None, "label bound twice"
        label.pos = len(self.code)

    def _branch(self, short_op: bytes, near_op: bytes, label: Label, short: bool) -> None:
        if label.pos is not None:  # backward: the distance is known
            rel = label.pos - (len(self.code) + len(short_op) + 1)
            if _fits8(rel):
                self.code += short_op + struct.pack("<b", rel)
                return
            self.code += near_op + struct.pack("<i", label.pos - (len(self.code)
                                                                   + len(near_op) + 4))
            return
        op, width = (short_op, 1) if short else (near_op, 4)
        self.code += op + bytes(width)
        self.fixups.append((len(self.code), width, label))

    def jmp(self, label: Label, short: bool = False) -> None:
        self._branch(b"\xeb", b"\xe9", label, short)

    def jcc(self, cond: str, label: Label, short: bool = False) -> None:
        self._branch(bytes([0x70 | CC[cond]]), bytes([0x0F, 0x80 | CC[cond]]), label, short)

    def finish(self) -> bytes:
        """The code with every forward jump resolved."""
        for end, width, label in self.fixups:
            assert label.pos is not None, "jump to a label never bound"
            rel = label.pos - end
            if width == 1:
                assert _fits8(rel), "short jump out of range"
                self.code[end - 1] = rel & 0xFF
            else:
                self.code[end - 4:end] = struct.pack("<i", rel)
        self.fixups.clear()
        return bytes(self.code)
