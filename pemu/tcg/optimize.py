"""Optimiser passes over one block's IR, shared by every backend.

- `fold`: constant folding, algebraic identities and copy propagation, in one
  forward pass. What is known about globals is forgotten at labels (a label
  joins paths); temps are written once, so what is known about them holds.
- `retarget`: `op t, ...; mov g, t` with t used once becomes `op g, ...`.
- `eliminate_dead`: pure ops whose temp output is never read are dropped, and
  so are writes to a global that is written again before anything can see it
  (a read, an exit, a possible fault, a helper, a branch or label, or the start
  of an instruction that calls a helper or accesses memory: the native backend
  hands such an instruction to the Python tier whole, from its start).
"""
from __future__ import annotations

from pemu.tcg.ir import PURE_OPS, Block, Const, Global, Op, Temp, Value
from pemu.tcg.semantics import COMPARE, M64, evaluate

# identities: (op, constant operand position, constant) -> result is the other operand
_IDENTITY = {
    ("add", 1, 0), ("add", 0, 0), ("sub", 1, 0), ("or", 1, 0), ("or", 0, 0),
    ("xor", 1, 0), ("xor", 0, 0), ("shl", 1, 0), ("shr", 1, 0), ("sar", 1, 0),
    ("rotl", 1, 0), ("rotr", 1, 0), ("and", 1, M64), ("and", 0, M64),
    ("mul", 1, 1), ("mul", 0, 1), ("andc", 1, 0),
}
# annihilators: (op, constant operand position, constant) -> result is that constant
_ZERO = {("and", 1, 0), ("and", 0, 0), ("mul", 1, 0), ("mul", 0, 0), ("shl", 0, 0),
         ("shr", 0, 0)}


def fold(block: Block) -> None:
    known: dict[Value, Value] = {}  # temp or global -> the constant or temp it equals
    copies: dict[Value, set[Value]] = {}  # value -> the entries of `known` naming it
    out_ops: list[Op] = []

    def forget(v: Value) -> None:
        known.pop(v, None)
        for k in copies.pop(v, ()):
            if known.get(k) == v:
                del known[k]

    def learn(d: Value, v: Value) -> None:
        known[d] = v
        if not isinstance(v, Const):
            copies.setdefault(v, set()).add(d)

    for op in block.ops:
        if op.args:
            op.args = tuple(known.get(a, a) for a in op.args)
        name = op.name
        if name == "set_label":
            for g in [k for k in known if isinstance(k, Global)]:
                forget(g)
            out_ops.append(op)
            continue
        if name in PURE_OPS:
            _simplify(op)
        elif name == "brcond" and all(isinstance(a, Const) for a in op.args):
            if not COMPARE[op.aux](op.args[0].value, op.args[1].value):
                continue
            op.name, op.args, op.aux = "br", (), None
        d = op.out
        if d is not None:
            forget(d)
            if op.name == "mov" and op.args[0] != d:
                learn(d, op.args[0])
        if name == "call":
            for g in op.aux.writes:  # a helper wrote these in their storage
                forget(g)
        out_ops.append(op)
    block.ops[:] = out_ops


def _simplify(op: Op) -> None:
    args = op.args
    if all(isinstance(a, Const) for a in args):
        value = evaluate(op.name, tuple(a.value for a in args), op.aux)
        op.name, op.args, op.aux = "mov", (Const(value),), None
        return
    name = op.name
    if name == "movcond":
        a, b, t, f = args
        if isinstance(a, Const) and isinstance(b, Const):
            taken = COMPARE[op.aux](a.value, b.value)
            op.name, op.args, op.aux = "mov", (t if taken else f,), None
        elif t == f:
            op.name, op.args, op.aux = "mov", (t,), None
        return
    if len(args) != 2:
        return
    for pos in (0, 1):
        c = args[pos]
        if isinstance(c, Const):
            if (name, pos, c.value) in _IDENTITY:
                op.name, op.args = "mov", (args[1 - pos],)
                return
            if (name, pos, c.value) in _ZERO:
                op.name, op.args = "mov", (Const(0),)
                return
    if name in ("sub", "xor") and args[0] == args[1]:
        op.name, op.args = "mov", (Const(0),)


def _uses(block: Block) -> dict[Temp, int]:
    n: dict[Temp, int] = {}
    for op in block.ops:
        for a in op.args:
            if isinstance(a, Temp):
                n[a] = n.get(a, 0) + 1
    return n


def retarget(block: Block) -> None:
    uses = _uses(block)
    ops = block.ops
    out: list[Op] = []
    i = 0
    while i < len(ops):
        op = ops[i]
        nxt = ops[i + 1] if i + 1 < len(ops) else None
        if (isinstance(op.out, Temp) and nxt is not None and nxt.name == "mov"
                and nxt.args[0] == op.out and uses.get(op.out) == 1
                and isinstance(nxt.out, Global)):
            op.out = nxt.out
            out.append(op)
            i += 2
            continue
        out.append(op)
        i += 1
    ops[:] = out


def eliminate_dead(block: Block) -> None:
    live: set[Temp] = set()
    overwritten: set[Global] = set()  # globals written later before anything sees them
    handed_over = False  # the instruction being walked may be re-run whole by Python
    kept: list[Op] = []
    for op in reversed(block.ops):
        d = op.out
        name = op.name
        if name == "insn_start":
            # An instruction with a helper call or a memory access may be handed to
            # the Python tier whole (the native backend leaves before it, or its
            # access faults): every global must hold its value at its start.
            if handed_over:
                overwritten.clear()
            handed_over = False
            kept.append(op)
            continue
        pure = name in PURE_OPS or (name == "call" and op.aux.pure)
        if pure and (d in overwritten or isinstance(d, Temp) and d not in live):
            continue
        if name == "mov" and op.args[0] == d:
            continue
        if name in ("call", "ld", "st"):
            handed_over = True
        if not pure:
            overwritten.clear()
        elif isinstance(d, Global):
            overwritten.add(d)  # (an op that may fault may also leave d as it was)
        for a in op.args:
            if isinstance(a, Temp):
                live.add(a)
            elif isinstance(a, Global):
                overwritten.discard(a)
        kept.append(op)
    kept.reverse()
    block.ops[:] = kept


def optimize(block: Block) -> Block:
    fold(block)
    eliminate_dead(block)
    retarget(block)
    return block
