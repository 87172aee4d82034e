"""IR -> Python source: the backend that is always available.

A block becomes one function `tb(X, c, R, W)`: X is the target's main
register list, c the CPU, R/W the softmmu TLB dicts (virtual page -> delta
such that the RAM index is vaddr + delta). Guest globals live in Python
locals for the whole block, loaded at entry and stored back at every exit
and when a guest fault unwinds the block (which then carries `k`, the index
of the faulting instruction). Every exit adds the instructions it retired
to `c.icount`.

Speed comes from few bytecodes: a temp read once is folded into the
expression that reads it, and values are masked to 64 bits only where it
matters (Python ints are unbounded: add, sub, mul, shl, and, or, xor give
the right low 64 bits from unmasked inputs, so masks are applied when a
value is stored, compared, shifted right or divided). A block that exits to
its own start runs as a bounded `while` loop.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

from pemu.tcg.ir import CONDS, Block, Const, Global, Helper, MemOp, Op, Temp, Value
from pemu.tcg.semantics import EVAL, M64, SB

LOOP_LIMIT = 256  # passes of a self-loop before it returns, so interrupts are seen


def _unpack(fmt: str):
    return struct.Struct(fmt).unpack_from


def _pack(fmt: str):
    return struct.Struct(fmt).pack_into


_SIZE_CODE = {1: "B", 2: "H", 4: "I", 8: "Q"}
#: names the generated code sees besides the block's arguments
RUNTIME: dict = {"M": M64, "SB": SB}
for _size, _code in _SIZE_CODE.items():
    for _end, _tag in (("<", ""), (">", "BE")):
        RUNTIME[f"L{_size}{_tag}"] = _unpack(_end + _code)
        RUNTIME[f"LS{_size}{_tag}"] = _unpack(_end + _code.lower())
        RUNTIME[f"S{_size}{_tag}"] = _pack(_end + _code)
for _name in ("divs", "rems", "rotl", "rotr", "ctz", "bswap64"):
    RUNTIME["OP_" + _name] = EVAL[_name]

_CMP = {"eq": "==", "ne": "!=", "lt": "<", "ge": ">=", "le": "<=", "gt": ">",
        "ltu": "<", "geu": ">=", "leu": "<=", "gtu": ">"}
_RESERVED = {"X", "c", "R", "W", "M", "SB", "RAM", "k", "it", "a", "d", "e", "F"}


@dataclass(frozen=True)
class TargetInfo:
    """What the backend needs to know of a target: where each global space is
    stored (`"X"` is the block's first argument; other spaces are expressions
    over `c`) and the base class of its guest faults (a name in the namespace)."""

    spaces: dict[str, str]
    fault_class: str = "GuestTrap"


@dataclass
class _Expr:
    text: str
    canon: bool  # the value is already in [0, 2**64)
    deps: frozenset[Global] = frozenset()


def _atom(v: Value) -> bool:
    return not isinstance(v, Temp)


class PythonBackend:
    """Generates the source of one block function."""

    def __init__(self, target: TargetInfo, block: Block, loops: bool = True) -> None:
        self.target = target
        self.block = block
        self.lines: list[str] = []
        self.indent = 0
        self.pending: dict[Temp, _Expr] = {}
        self.locals: dict[Temp, bool] = {}  # materialised temps (all canonical)
        self.uses: dict[Temp, int] = {}
        self.written: list[Global] = []
        self.insn = -1
        self.k_set = -1
        self.n = block.ninsns
        self.regions: list[object] = []
        self.loop = loops and self.loops_to_start(block)
        self.all_written = self.globals_written(block)
        self.helpers: dict[str, Helper] = {}

    @staticmethod
    def loops_to_start(block: Block) -> bool:
        """Whether the block's last instruction may exit to the block's own start."""
        insn = -1
        for op in block.ops:
            insn += op.name == "insn_start"
            if op.name == "exit" and op.args[0] == Const(block.pc) and insn == block.ninsns - 1:
                return True
        return False

    # --- operands ---------------------------------------------------------------------------
    def ref(self, v: Value) -> _Expr:
        if isinstance(v, Const):
            return _Expr(str(v.value), True)
        if isinstance(v, Global):
            return _Expr(v.name, True, frozenset((v,)))
        e = self.pending.pop(v, None)
        if e is not None:
            return e
        return _Expr(f"t{v.id}", True)

    def canon(self, v: Value) -> str:
        e = self.ref(v)
        return e.text if e.canon else f"({e.text} & M)"

    def emit(self, line: str) -> None:
        self.lines.append("    " * self.indent + line)

    def materialise(self, pred=lambda e: True) -> None:
        for t in [t for t, e in self.pending.items() if pred(e)]:
            e = self.pending.pop(t)
            self.emit(f"t{t.id} = {e.text if e.canon else f'{e.text} & M'}")

    def define(self, d: Value, e: _Expr) -> None:
        """Give op output d the value of expression e."""
        if isinstance(d, Temp):
            if self.uses.get(d, 0) == 1:
                self.pending[d] = e
            elif self.uses.get(d, 0) > 1:
                self.emit(f"t{d.id} = {e.text if e.canon else f'{e.text} & M'}")
            return
        self.write_global(d, e.text if e.canon else f"{e.text} & M")

    def write_global(self, g: Global, text: str) -> None:
        self.materialise(lambda e: g in e.deps)
        self.emit(f"{g.name} = {text}")
        if g not in self.written:
            self.written.append(g)

    def fault_point(self) -> None:
        if self.k_set != self.insn:
            self.emit(f"k = {self.insn}")
            self.k_set = self.insn

    # --- pure ops ------------------------------------------------------------------------------
    def cond_text(self, cond: str, a: Value, b: Value) -> str:
        x, y = self.canon(a), self.canon(b)
        if cond in ("lt", "ge", "le", "gt"):
            x = str(int(x) ^ SB) if x.isdigit() else f"({x} ^ SB)"
            y = str(int(y) ^ SB) if y.isdigit() else f"({y} ^ SB)"
        return f"{x} {_CMP[cond]} {y}"

    def pure(self, op: Op) -> _Expr:
        name, args = op.name, op.args
        deps = frozenset(g for a in args for g in self._deps(a))
        if name == "setcond":
            return _Expr(f"(1 if {self.cond_text(op.aux, *args)} else 0)", True, deps)
        if name == "movcond":
            cond = self.cond_text(op.aux, args[0], args[1])
            t, f = self.canon(args[2]), self.canon(args[3])
            return _Expr(f"({t} if {cond} else {f})", True, deps)
        if name == "mov":
            e = self.ref(args[0])
            return _Expr(e.text, e.canon, deps)
        if name in ("add", "sub", "mul", "and", "or", "xor"):
            x, y = self.ref(args[0]), self.ref(args[1])
            sym = {"add": "+", "sub": "-", "mul": "*", "and": "&", "or": "|", "xor": "^"}[name]
            canon = (name == "and" and (x.canon or y.canon)) or (
                name in ("or", "xor") and x.canon and y.canon)
            return _Expr(f"({x.text} {sym} {y.text})", canon, deps)
        if name == "shl":
            return _Expr(f"({self.ref(args[0]).text} << {self.canon(args[1])})", False, deps)
        if name == "shr":
            return _Expr(f"({self.canon(args[0])} >> {self.canon(args[1])})", True, deps)
        if name == "sar":
            return _Expr(f"((({self.canon(args[0])} ^ SB) - SB) >> {self.canon(args[1])})",
                         False, deps)
        if name == "not":
            e = self.ref(args[0])
            return _Expr(f"({e.text} ^ M)", e.canon, deps)
        if name == "neg":
            return _Expr(f"(-{self.ref(args[0]).text})", False, deps)
        if name == "andc":
            x, y = self.ref(args[0]), self.ref(args[1])
            return _Expr(f"({x.text} & ~{y.text})", x.canon, deps)
        if name == "orc":
            x, y = self.ref(args[0]), self.ref(args[1])
            return _Expr(f"({x.text} | ~{y.text})", False, deps)
        if name == "eqv":
            return _Expr(f"({self.canon(args[0])} ^ {self.canon(args[1])} ^ M)", True, deps)
        if name in ("ext8s", "ext16s", "ext32s"):
            bits = int(name[3:-1])
            x = self.ref(args[0]).text
            top = 1 << (bits - 1)
            return _Expr(f"((({x} & {(1 << bits) - 1}) ^ {top}) - {top})", False, deps)
        if name in ("ext8u", "ext16u", "ext32u"):
            return _Expr(f"({self.ref(args[0]).text} & {(1 << int(name[3:-1])) - 1})", True,
                         deps)
        if name == "mulsh":
            x, y = self.canon(args[0]), self.canon(args[1])
            return _Expr(f"(((({x} ^ SB) - SB) * (({y} ^ SB) - SB)) >> 64)", False, deps)
        if name == "mulsuh":
            x, y = self.canon(args[0]), self.canon(args[1])
            return _Expr(f"(((({x} ^ SB) - SB) * {y}) >> 64)", False, deps)
        if name == "muluh":
            return _Expr(f"(({self.canon(args[0])} * {self.canon(args[1])}) >> 64)", True, deps)
        if name == "divu":
            return _Expr(f"({self.canon(args[0])} // {self.canon(args[1])})", True, deps)
        if name == "remu":
            return _Expr(f"({self.canon(args[0])} % {self.canon(args[1])})", True, deps)
        if name == "clz":
            return _Expr(f"(64 - {self.canon(args[0])}.bit_length())", True, deps)
        if name == "ctpop":
            return _Expr(f"{self.canon(args[0])}.bit_count()", True, deps)
        if name in ("rotl", "rotr") and isinstance(args[1], Const):
            x = self.canon(args[0])
            n = args[1].value if name == "rotl" else -args[1].value & 63
            return _Expr(f"((({x} << {n}) | ({x} >> {64 - n})) & M)", True, deps)
        # the rest through the reference functions
        texts = ", ".join(self.canon(a) for a in args)
        return _Expr(f"OP_{name}({texts})", True, deps)

    def _deps(self, v: Value):
        if isinstance(v, Global):
            return (v,)
        if isinstance(v, Temp) and v in self.pending:
            return self.pending[v].deps
        return ()

    # --- side effects ---------------------------------------------------------------------------
    def load(self, op: Op) -> None:
        mo: MemOp = op.aux
        addr = self.canon(op.args[0])
        self.fault_point()
        self.emit(f"a = {addr}")
        size, tag = mo.size, "BE" if mo.big_endian else ""
        slow = f"c.load_slow(a, {size}, {int(mo.signed)})"
        if size == 1:
            fast = "((RAM[a + d] ^ 128) - 128) & M" if mo.signed else "RAM[a + d]"
            expr = f"{slow} if (d := R.get(a >> 12)) is None else {fast}"
        else:
            fast = f"L{'S' if mo.signed else ''}{size}{tag}(RAM, a + d)[0]"
            if mo.signed and size < 8:
                fast += " & M"
            expr = (f"{slow} if (d := R.get(a >> 12)) is None or (a & 4095) > {4096 - size}"
                    f" else {fast}")
        self.result(op.out, expr)

    def result(self, d: Value | None, text: str) -> None:
        """Assign the (canonical) result of a side-effecting op."""
        if d is None:
            self.emit(text)
        elif isinstance(d, Global):
            self.write_global(d, text)
        elif self.uses.get(d, 0):
            self.emit(f"t{d.id} = {text}")
        else:
            self.emit(text)

    def store(self, op: Op) -> None:
        mo: MemOp = op.aux
        value, addr = op.args
        size, tag = mo.size, "BE" if mo.big_endian else ""
        if isinstance(value, Const):
            v = str(value.value & ((1 << (8 * size)) - 1))
        elif size == 8:
            v = self.canon(value)
        else:
            v = f"({self.ref(value).text} & {(1 << (8 * size)) - 1})"
        a = self.canon(addr)
        self.fault_point()
        self.emit(f"a = {a}")
        if size == 1:
            self.emit(f"if (d := W.get(a >> 12)) is None: c.store_slow(a, 1, {v})")
            self.emit(f"else: RAM[a + d] = {v}")
        else:
            self.emit(f"if (d := W.get(a >> 12)) is None or (a & 4095) > {4096 - size}:"
                      f" c.store_slow(a, {size}, {v})")
            self.emit(f"else: S{size}{tag}(RAM, a + d, {v})")

    def call(self, op: Op) -> None:
        h: Helper = op.aux
        args = [self.canon(a) for a in op.args]
        if h.raises:
            self.fault_point()
        for g in h.reads:
            self.emit(f"{self.storage(g)} = {g.name}")
        if h.method:
            text = f"c.{h.method}({', '.join(args)})"
        else:
            self.helpers[h.name] = h
            text = f"{h.name}({', '.join((['c'] if h.cpu_arg else []) + args)})"
        self.result(op.out, text)
        for g in h.writes:
            self.write_global(g, self.storage(g))

    def storage(self, g: Global) -> str:
        # spaces other than X are bound to a local of their name at entry (see generate)
        return f"{'X' if g.space == 'X' else g.space}[{g.index}]"

    def writeback(self, regs) -> list[str]:
        return [f"{self.storage(g)} = {g.name}" for g in regs]

    def exit(self, op: Op) -> None:
        target = op.args[0]
        count = self.insn + 1
        dest = self.canon(target)
        if self.loop and target == Const(self.block.pc) and count == self.n:
            self.emit(f"if it < {LOOP_LIMIT - 1}:")
            self.emit("    it += 1")
            self.emit("    continue")
        wb = self.writeback(self.all_written if self.loop else self.written)
        if wb:
            self.emit("; ".join(wb))
        passes = f"it * {self.n} + " if self.loop else ""
        self.emit(f"c.icount += {passes}{count}")
        self.emit(f"return {dest}")

    @staticmethod
    def globals_written(block: Block) -> list[Global]:
        seen: list[Global] = []
        for op in block.ops:
            gs = [op.out] if isinstance(op.out, Global) else []
            if op.name == "call":
                gs += list(op.aux.writes)
            for g in gs:
                if g not in seen:
                    seen.append(g)
        return seen

    # --- the whole block ------------------------------------------------------------------------
    def generate(self, name: str = "tb") -> str:
        ops = self.block.ops
        for op in ops:
            for a in op.args:
                if isinstance(a, Temp):
                    self.uses[a] = self.uses.get(a, 0) + 1
        used: list[Global] = []
        faults = False
        for op in ops:
            vals = list(op.args) + ([op.out] if op.out is not None else [])
            if op.name == "call":
                vals += list(op.aux.reads) + list(op.aux.writes)
                faults |= op.aux.raises
            faults |= op.name in ("ld", "st")
            for v in vals:
                if isinstance(v, Global) and v not in used:
                    used.append(v)
        for g in used:
            assert g.name not in _RESERVED, g.name
        head = [f"def {name}(X, c, R, W):"]
        for space, expr in self.target.spaces.items():
            if space != "X" and any(g.space == space for g in used):
                head.append(f"    {space} = {expr}")
        if used:
            head.append("    " + "; ".join(f"{g.name} = {self.storage(g)}"
                                           for g in sorted(used, key=lambda g: (g.space, g.index))))
        init = (["k = 0"] if faults else []) + (["it = 0"] if self.loop else [])
        if init:
            head.append("    " + "; ".join(init))
        self.indent = 1 + faults + self.loop
        for op in ops:
            self.op(op)
        body = self.lines
        out = head
        if faults:
            out.append("    try:")
        if self.loop:
            out.append("    " * (1 + faults) + "while True:")
        out += body
        if faults:
            out.append(f"    except {self.target.fault_class} as e:")
            wb = self.writeback(self.all_written)
            if wb:
                out.append("        " + "; ".join(wb))
            if self.loop:
                out.append(f"        c.icount += it * {self.n}")
            out.append("        e.k = k")
            out.append("        raise")
        return "\n".join(out) + "\n"

    def op(self, op: Op) -> None:
        name = op.name
        if name == "insn_start":
            self.insn += 1
        elif name == "set_label":
            self.close_region(op.label)
        elif name == "brcond":
            cond = self.cond_text(CONDS[op.aux], *op.args)
            self.materialise()
            self.emit(f"if {cond}:")
            self.open_region(op.label)
        elif name == "br":
            self.materialise()
            self.emit("if False:")
            self.open_region(op.label)
        elif name == "ld":
            self.load(op)
        elif name == "st":
            self.store(op)
        elif name == "call":
            self.call(op)
        elif name == "exit":
            self.exit(op)
        else:
            self.define(op.out, self.pure(op))

    def open_region(self, label) -> None:
        self.regions.append((label, len(self.lines)))
        self.indent += 1
        self.k_set = -1  # code in the region may not run: k must be set again

    def close_region(self, label) -> None:
        if all(lb != label for lb, _ in self.regions):
            return  # no branch goes there (the optimiser removed it)
        if self.regions[-1][0] != label:
            raise ValueError(f"IR label {label} does not close the innermost branch region")
        _, start = self.regions.pop()
        self.materialise()
        if len(self.lines) == start:
            self.emit("pass")
        self.indent -= 1
        self.k_set = -1


def generate(target: TargetInfo, block: Block, loops: bool = True) -> tuple[str, dict]:
    """Python source of `block` and the helper functions its namespace needs."""
    be = PythonBackend(target, block, loops)
    src = be.generate()
    return src, {h.name: h.fn for h in be.helpers.values()}
