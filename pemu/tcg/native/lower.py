"""Lowering of the IR's pure ops to x86-64, one small method per op family.

Each op computes in its output's register when the output has one (and no
input still to be read lives there), else in rax, which is then stored to the
output's location (`alloc.py`); sources are used in place when x86 allows a
register, memory or imm32 operand. An output may share a location with an
input whose life ends at this op, so inputs are read before it is written.

Exact semantics are `pemu/tcg/semantics.py`'s; x86 notes:
- shifts and rotates mask their count to 6 bits, as the IR's b < 64 allows;
- divs/rems by -1 are done without idiv (INT64_MIN / -1 raises #DE on x86;
  the IR result is the wrapped negation and 0), and division by 0, which the
  IR never asks for, gives RISC-V's values instead of a host fault;
- clz/ctz/ctpop use lzcnt/tzcnt/popcnt only when the CPU has them (on older
  CPUs lzcnt and tzcnt silently execute as bsr and bsf), else bsr/bsf with a
  zero test, and a SWAR bit count.
"""
from __future__ import annotations

from pemu.tcg.ir import Const, Op, Value
from pemu.tcg.native.alloc import Allocation, Loc
from pemu.tcg.native.x86_64_asm import Asm, Reg

RAX, RCX, RDX = Reg.RAX, Reg.RCX, Reg.RDX
M64 = (1 << 64) - 1

#: ops that are one x86 ALU instruction on (rax, operand)
ALU_OPS = {"add": "add", "sub": "sub", "and": "and", "or": "or", "xor": "xor"}
#: shift and rotate ops -> the x86 group-2 name
SHIFTS = {"shl": "shl", "shr": "shr", "sar": "sar", "rotl": "rol", "rotr": "ror"}
#: extensions -> (signed, bytes)
EXTS = {"ext8s": (True, 1), "ext8u": (False, 1), "ext16s": (True, 2), "ext16u": (False, 2),
        "ext32s": (True, 4), "ext32u": (False, 4)}
#: high-half multiplies -> the one-operand multiply
MULH = {"mulsh": "imul1", "muluh": "mul", "mulsuh": "mul"}
#: divisions -> (signed, result is the remainder)
DIVS = {"divs": (True, False), "rems": (True, True), "divu": (False, False),
        "remu": (False, True)}
_SWAR = (0x5555555555555555, 0x3333333333333333, 0x0F0F0F0F0F0F0F0F, 0x0101010101010101)


def simm32(v: int) -> int | None:
    """v as a sign-extended imm32, or None when it is not one."""
    v &= M64
    if v < (1 << 31):
        return v
    if v >= (1 << 64) - (1 << 31):
        return v - (1 << 64)
    return None


class Lowerer:
    """Emits pure ops into `asm` using the value locations of `alloc`."""

    def __init__(self, asm: Asm, alloc: Allocation, features: frozenset[str]) -> None:
        self.a = asm
        self.alloc = alloc
        self.features = features

    # --- operands ----------------------------------------------------------------------
    def get(self, r: Reg, v: Value) -> None:
        """Register r = value v."""
        if isinstance(v, Const):
            self.a.mov_imm(r, v.value)
            return
        loc = self.alloc.loc[v]
        if loc != r:
            self.a.mov(r, loc)

    def operand(self, v: Value, scratch: Reg = RDX, imm: bool = True) -> Loc | int:
        """v as an instruction's source operand: an imm32, its register or memory."""
        if isinstance(v, Const):
            s = simm32(v.value)
            if imm and s is not None:
                return s
            self.a.mov_imm(scratch, v.value)
            return scratch
        return self.alloc.loc[v]

    def put(self, d: Value | None, r: Reg) -> None:
        """The op's output d = register r."""
        if d is None:
            return
        loc = self.alloc.loc.get(d)
        if loc is not None and loc != r:
            self.a.mov(loc, r)

    def compare(self, a: Value, b: Value) -> None:
        """Flags = a - b."""
        loc = self.alloc.loc.get(a)
        if not isinstance(loc, Reg):
            self.get(RAX, a)
            loc = RAX
        self.a.alu("cmp", loc, self.operand(b))

    def dest(self, op: Op, avoid: tuple[Value, ...] = ()) -> Reg:
        """The register to compute op's result in: the output's own register, unless an
        input still to be read (`avoid`) lives there; else rax."""
        loc = self.alloc.loc.get(op.out)
        if isinstance(loc, Reg) and all(self.alloc.loc.get(v) != loc for v in avoid):
            return loc
        return RAX

    # --- pure ops ----------------------------------------------------------------------
    def pure(self, op: Op) -> None:
        name, args, a = op.name, op.args, self.a
        d = RAX
        if name == "mov":
            d = self.dest(op)
            self.get(d, args[0])
        elif name in ALU_OPS or name == "mul":
            x, y = args
            out = self.alloc.loc.get(op.out)
            if (name not in ("sub",) and isinstance(out, Reg) and self.alloc.loc.get(y) == out
                    and self.alloc.loc.get(x) != out):
                x, y = y, x  # commutative: compute in place in y's register
            d = self.dest(op, (y,))
            self.get(d, x)
            if name == "mul":
                a.imul(d, self.operand(y, imm=False))
            else:
                a.alu(ALU_OPS[name], d, self.operand(y))
        elif name in ("andc", "orc", "eqv"):
            self.get(RAX, args[0])
            self.get(RCX, args[1])
            if name == "eqv":
                a.alu("xor", RAX, RCX)
                a.unary("not", RAX)
            else:
                a.unary("not", RCX)
                a.alu("and" if name == "andc" else "or", RAX, RCX)
        elif name in ("not", "neg"):
            d = self.dest(op)
            self.get(d, args[0])
            a.unary(name, d)
        elif name in MULH:
            self.mulh(name, args)
        elif name in DIVS:
            self.div(name, args)
        elif name in SHIFTS:
            if not isinstance(args[1], Const):
                self.get(RCX, args[1])  # read first: the output may share its register
            d = self.dest(op)
            self.get(d, args[0])
            if isinstance(args[1], Const):
                a.shift(SHIFTS[name], d, args[1].value & 63)
            else:
                a.shift(SHIFTS[name], d)
        elif name in EXTS:
            signed, size = EXTS[name]
            d = self.dest(op)
            # from memory this reads only the low bytes of the slot (little-endian)
            a.movx(d, self.operand(args[0], RAX, imm=False), signed, size)
        elif name == "bswap64":
            d = self.dest(op)
            self.get(d, args[0])
            a.bswap(d)
        elif name in ("clz", "ctz", "ctpop"):
            self.get(RAX, args[0])
            getattr(self, name)()
        elif name == "setcond":
            self.compare(args[0], args[1])
            a.setcc(op.aux, RAX)
            d = self.dest(op)
            a.movx(d, RAX, False, 1)
        elif name == "movcond":
            t = self.operand(args[2], RCX, imm=False)
            self.compare(args[0], args[1])
            self.get(RAX, args[3])  # mov does not touch the flags
            a.cmov(op.aux, RAX, t)
        else:
            raise NotImplementedError(name)
        self.put(op.out, d)

    def mulh(self, name: str, args: tuple[Value, ...]) -> None:
        self.get(RAX, args[0])
        self.get(RCX, args[1])
        if name == "mulsuh":
            # signed a * unsigned b = unsigned product - (b << 64 when a < 0)
            self.a.mov(Reg.RSI, RAX)
            self.a.shift("sar", Reg.RSI, 63)
            self.a.alu("and", Reg.RSI, RCX)
        self.a.unary(MULH[name], RCX)
        if name == "mulsuh":
            self.a.alu("sub", RDX, Reg.RSI)
        self.a.mov(RAX, RDX)

    def div(self, name: str, args: tuple[Value, ...]) -> None:
        signed, rem = DIVS[name]
        a = self.a
        self.get(RAX, args[0])
        self.get(RCX, args[1])
        done, zero, normal = a.label(), a.label(), a.label()
        a.test(RCX, RCX)
        a.jcc("eq", zero, short=True)
        if signed:
            a.alu("cmp", RCX, -1)
            a.jcc("ne", normal, short=True)
            if rem:
                a.alu("xor", RAX, RAX, w=False)
            else:
                a.unary("neg", RAX)
            a.jmp(done, short=True)
            a.bind(normal)
            a.cqo()
            a.unary("idiv", RCX)
        else:
            a.bind(normal)
            a.alu("xor", RDX, RDX, w=False)
            a.unary("div", RCX)
        if rem:
            a.mov(RAX, RDX)
        a.jmp(done, short=True)
        a.bind(zero)  # RISC-V's results: quotient all ones, remainder the dividend
        if not rem:
            a.mov_imm(RAX, M64)
        a.bind(done)

    def clz(self) -> None:
        a = self.a
        if "lzcnt" in self.features:
            a.bits("lzcnt", RAX, RAX)
            return
        zero, done = a.label(), a.label()
        a.bits("bsr", RAX, RAX)
        a.jcc("eq", zero, short=True)
        a.alu("xor", RAX, 63, w=False)  # 63 - index, index in 0..63
        a.jmp(done, short=True)
        a.bind(zero)
        a.mov_imm(RAX, 64)
        a.bind(done)

    def ctz(self) -> None:
        a = self.a
        if "tzcnt" in self.features:
            a.bits("tzcnt", RAX, RAX)
            return
        done = a.label()
        a.bits("bsf", RAX, RAX)
        a.jcc("ne", done, short=True)
        a.mov_imm(RAX, 64)
        a.bind(done)

    def ctpop(self) -> None:
        a = self.a
        if "popcnt" in self.features:
            a.bits("popcnt", RAX, RAX)
            return
        m1, m2, m4, h01 = _SWAR
        # x -= (x >> 1) & m1
        a.mov(RCX, RAX)
        a.shift("shr", RCX, 1)
        a.mov_imm(RDX, m1)
        a.alu("and", RCX, RDX)
        a.alu("sub", RAX, RCX)
        # x = (x & m2) + ((x >> 2) & m2)
        a.mov_imm(RDX, m2)
        a.mov(RCX, RAX)
        a.shift("shr", RCX, 2)
        a.alu("and", RAX, RDX)
        a.alu("and", RCX, RDX)
        a.alu("add", RAX, RCX)
        # x = (x + (x >> 4)) & m4
        a.mov(RCX, RAX)
        a.shift("shr", RCX, 4)
        a.alu("add", RAX, RCX)
        a.mov_imm(RDX, m4)
        a.alu("and", RAX, RDX)
        # the byte sums add up in the top byte
        a.mov_imm(RDX, h01)
        a.imul(RAX, RDX)
        a.shift("shr", RAX, 56)
