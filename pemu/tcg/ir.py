"""The translator's intermediate form, shared by every guest ISA and host backend.

A target frontend turns the guest instructions of one translation block into
a list of `Op`s over three kinds of value (the shape of QEMU's TCG ops):

- `Const`: a 64-bit constant;
- `Global`: a named piece of guest state the target declares (RISC-V: x1..x31,
  f0..f31), kept in a backend's fastest storage for the whole block and
  written back at every exit and when a fault unwinds the block;
- `Temp`: a temporary of the block. A temp is written before it is read and is
  dead at the end of the block; backends may keep it in an expression.

Every value is an unsigned 64-bit integer; 32-bit guest arithmetic is written
with explicit extensions (ext32s/ext32u). Semantics of the ops are listed in
`OPS`; a frontend expresses its ISA's corner cases (division by zero, shift
counts, signed overflow) with the ops themselves or with helpers.

Control flow inside a block is forward only: `brcond` jumps to a label set
later in the block, and labels nest (a branch inside the region between
another branch and its label targets a label inside that region). A block
leaves through `exit` (the next guest pc, a constant for a direct jump —
chainable — or a value for an indirect one). `insn_start` marks each guest
instruction, so backends can count retired instructions exactly and name the
instruction that faulted.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

M64 = (1 << 64) - 1


@dataclass(frozen=True, slots=True)
class Const:
    value: int

    def __str__(self) -> str:
        return f"${self.value:#x}"


@dataclass(frozen=True, slots=True)
class Global:
    """Guest state: `space` names the target's storage (e.g. "X"), `index` the slot."""

    name: str
    space: str
    index: int

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class Temp:
    id: int

    def __str__(self) -> str:
        return f"t{self.id}"


Value = Const | Global | Temp


@dataclass(frozen=True, slots=True)
class Label:
    id: int

    def __str__(self) -> str:
        return f"L{self.id}"


@dataclass(frozen=True, slots=True)
class MemOp:
    """A guest memory access: size in bytes, sign extension, byte order."""

    size: int
    signed: bool = False
    big_endian: bool = False

    def __str__(self) -> str:
        return f"{'s' if self.signed else 'u'}{self.size * 8}{'be' if self.big_endian else ''}"


@dataclass(frozen=True, slots=True)
class Helper:
    """A function a block may call: the backend passes the CPU first when
    `cpu_arg`; `method` calls a method of the CPU object instead of a function.

    `pure`: no side effects and never raises (may be folded or dropped);
    `raises`: may raise a guest fault; `noreturn`: always raises;
    `reads`/`writes`: guest globals the helper accesses in their storage, which
    the backend writes back before and reloads after the call.
    """

    name: str
    fn: Callable | None = None
    method: str | None = None
    cpu_arg: bool = True
    pure: bool = False
    raises: bool = True
    noreturn: bool = False
    reads: tuple[Global, ...] = ()
    writes: tuple[Global, ...] = ()

    def __str__(self) -> str:
        return self.name


#: conditions of setcond/movcond/brcond and their inverses
CONDS = {
    "eq": "ne", "ne": "eq", "lt": "ge", "ge": "lt", "le": "gt", "gt": "le",
    "ltu": "geu", "geu": "ltu", "leu": "gtu", "gtu": "leu",
}

#: op name -> (number of outputs, number of value inputs, description)
OPS: dict[str, tuple[int, int, str]] = {
    "mov": (1, 1, "d = a"),
    "add": (1, 2, "d = a + b"), "sub": (1, 2, "d = a - b"), "mul": (1, 2, "d = a * b"),
    "mulsh": (1, 2, "d = high 64 bits of signed a * signed b"),
    "muluh": (1, 2, "d = high 64 bits of unsigned a * unsigned b"),
    "mulsuh": (1, 2, "d = high 64 bits of signed a * unsigned b"),
    "divs": (1, 2, "d = signed a / b, toward zero (b != 0, no overflow)"),
    "divu": (1, 2, "d = unsigned a / b (b != 0)"),
    "rems": (1, 2, "d = signed remainder, sign of a (b != 0, no overflow)"),
    "remu": (1, 2, "d = unsigned remainder (b != 0)"),
    "and": (1, 2, "d = a & b"), "or": (1, 2, "d = a | b"), "xor": (1, 2, "d = a ^ b"),
    "andc": (1, 2, "d = a & ~b"), "orc": (1, 2, "d = a | ~b"), "eqv": (1, 2, "d = ~(a ^ b)"),
    "not": (1, 1, "d = ~a"), "neg": (1, 1, "d = -a"),
    "shl": (1, 2, "d = a << b (b < 64)"), "shr": (1, 2, "d = a >> b, logical (b < 64)"),
    "sar": (1, 2, "d = a >> b, arithmetic (b < 64)"),
    "rotl": (1, 2, "d = a rotated left by b (b < 64)"),
    "rotr": (1, 2, "d = a rotated right by b (b < 64)"),
    "ext8s": (1, 1, "sign-extend bits 7:0"), "ext8u": (1, 1, "zero-extend bits 7:0"),
    "ext16s": (1, 1, "sign-extend bits 15:0"), "ext16u": (1, 1, "zero-extend bits 15:0"),
    "ext32s": (1, 1, "sign-extend bits 31:0"), "ext32u": (1, 1, "zero-extend bits 31:0"),
    "clz": (1, 1, "leading zeros (64 for 0)"), "ctz": (1, 1, "trailing zeros (64 for 0)"),
    "ctpop": (1, 1, "number of set bits"), "bswap64": (1, 1, "reverse the 8 bytes"),
    "setcond": (1, 2, "d = 1 if a <cond> b else 0"),
    "movcond": (1, 4, "d = c if a <cond> b else e"),
    "brcond": (0, 2, "jump forward to label if a <cond> b"),
    "br": (0, 0, "jump forward to label"),
    "set_label": (0, 0, "a label"),
    "ld": (1, 1, "d = guest memory[a] (MemOp)"),
    "st": (0, 2, "guest memory[b] = a (MemOp)"),
    "call": (-1, -1, "d = helper(args...) (d may be absent)"),
    "exit": (0, 1, "leave the block; the next guest pc is a"),
    "insn_start": (0, 0, "a guest instruction begins (its pc in aux)"),
}

PURE_OPS = frozenset(n for n in OPS if n not in (
    "brcond", "br", "set_label", "ld", "st", "call", "exit", "insn_start"))
#: ops that may raise a guest fault
FAULTING = frozenset(("ld", "st"))


@dataclass(slots=True)
class Op:
    """One IR operation: `name`, outputs `out` (0 or 1 value), inputs `args`,
    and an op-specific `aux` (condition, MemOp, Helper, Label, pc)."""

    name: str
    out: Value | None = None
    args: tuple[Value, ...] = ()
    aux: object = None
    label: Label | None = None

    def __str__(self) -> str:
        parts = [self.name]
        if isinstance(self.aux, str | MemOp | Helper):
            parts[0] += f"_{self.aux}"
        elif self.name == "insn_start":
            parts.append(f"{self.aux:#x}")
        operands = ([str(self.out)] if self.out is not None else []) + [str(a) for a in self.args]
        if self.label is not None:
            operands.append(str(self.label))
        return (parts[0] + " " + ", ".join(operands) + "".join(" " + p for p in parts[1:])).strip()


@dataclass
class Block:
    """The IR of one translation block."""

    pc: int
    ops: list[Op] = field(default_factory=list)
    ntemps: int = 0
    nlabels: int = 0
    ninsns: int = 0

    def dump(self) -> str:
        out = []
        for op in self.ops:
            if op.name == "insn_start":
                out.append(f" ---- {op.aux:016x}")
            elif op.name == "set_label":
                out.append(f" {op.label}:")
            else:
                out.append(f" {op}")
        return "\n".join(out)


class Builder:
    """Appends ops to a block: the API every frontend writes against.

    Each op method takes the output first (a Global or Temp), then inputs;
    inputs may be ints, which become constants.
    """

    def __init__(self, pc: int) -> None:
        self.block = Block(pc)
        self.ops = self.block.ops

    # --- values -------------------------------------------------------------------------
    def temp(self) -> Temp:
        t = Temp(self.block.ntemps)
        self.block.ntemps += 1
        return t

    def label(self) -> Label:
        lb = Label(self.block.nlabels)
        self.block.nlabels += 1
        return lb

    @staticmethod
    def val(v: Value | int) -> Value:
        return Const(v & M64) if isinstance(v, int) else v

    def _op(self, name: str, out: Value | None, *args: Value | int, aux: object = None,
            label: Label | None = None) -> None:
        self.ops.append(Op(name, out, tuple(self.val(a) for a in args), aux, label))

    # --- arithmetic (generated below from OPS) ----------------------------------------
    def setcond(self, cond: str, d: Value, a: Value | int, b: Value | int) -> None:
        self._op("setcond", d, a, b, aux=cond)

    def movcond(self, cond: str, d: Value, a: Value | int, b: Value | int,
                t: Value | int, f: Value | int) -> None:
        self._op("movcond", d, a, b, t, f, aux=cond)

    # --- control ------------------------------------------------------------------------
    def brcond(self, cond: str, a: Value | int, b: Value | int, label: Label) -> None:
        self._op("brcond", None, a, b, aux=cond, label=label)

    def br(self, label: Label) -> None:
        self._op("br", None, label=label)

    def set_label(self, label: Label) -> None:
        self._op("set_label", None, label=label)

    def exit(self, pc: Value | int) -> None:
        self._op("exit", None, pc)

    def insn_start(self, pc: int) -> None:
        self._op("insn_start", None, aux=pc)
        self.block.ninsns += 1

    # --- memory and helpers -------------------------------------------------------------
    def ld(self, d: Value, addr: Value | int, memop: MemOp) -> None:
        self._op("ld", d, addr, aux=memop)

    def st(self, value: Value | int, addr: Value | int, memop: MemOp) -> None:
        self._op("st", None, value, addr, aux=memop)

    def call(self, helper: Helper, d: Value | None, *args: Value | int) -> None:
        self._op("call", d, *args, aux=helper)


def _make_op_method(name: str) -> Callable:
    def method(self: Builder, d: Value, *args: Value | int) -> None:
        self._op(name, d, *args)
    method.__name__ = name
    method.__doc__ = OPS[name][2]
    return method


for _name, (_nout, _nin, _) in OPS.items():
    if _nout == 1 and _name not in ("setcond", "movcond", "ld", "call"):
        setattr(Builder, _name if _name not in ("and", "or", "not") else _name + "_",
                _make_op_method(_name))
