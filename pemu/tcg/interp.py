"""A reference interpreter of the IR: slow, simple, and the oracle backends are tested against.

`run` executes one block's ops in order over guest globals held in sequences
(one per space, e.g. an `Env.space()` view or a list) and a `Memory`. It
follows the native tier's contract for leaving early: when a memory access
is refused (the fast path would miss) or an op is a helper call the caller
does not run, the block stops before that instruction with STATUS_PYTHON,
the result is the instruction's pc, only the instructions before it count
as retired, and what that instruction already did (global writes, stores) is
undone: it runs again, whole, in the Python tier. Instruction counts are
positions in the block, as in every backend. Pure ops use
`semantics.evaluate`, so this file defines only control flow and memory.
"""
from __future__ import annotations

from collections.abc import Callable, MutableSequence
from dataclasses import dataclass
from typing import Protocol

from pemu.tcg.env import STATUS_CHAIN, STATUS_PYTHON
from pemu.tcg.ir import PURE_OPS, Block, Const, Global, MemOp, Op, Temp, Value
from pemu.tcg.semantics import COMPARE, M64, evaluate


class Memory(Protocol):
    def load(self, addr: int, size: int) -> bytes | None:
        """The bytes at addr, or None when the fast path would refuse the access."""

    def store(self, addr: int, data: bytes) -> bytes | None:
        """Write data at addr and return the bytes it replaced; None (and nothing
        written) when refused."""


@dataclass(frozen=True)
class Result:
    status: int  # STATUS_CHAIN: `pc` is the next pc; STATUS_PYTHON: the pc to run in Python
    pc: int
    retired: int  # instructions completed


class _Stop(Exception):
    pass


def decode(data: bytes, mo: MemOp) -> int:
    return int.from_bytes(data, "big" if mo.big_endian else "little", signed=mo.signed) & M64


def encode(value: int, mo: MemOp) -> bytes:
    return (value & ((1 << (8 * mo.size)) - 1)).to_bytes(mo.size,
                                                         "big" if mo.big_endian else "little")


def run(block: Block, spaces: dict[str, MutableSequence[int]], mem: Memory,
        call: Callable[[Op, list[int]], int | None] | None = None) -> Result:
    """Run `block` once. `call(op, args)`, if given, runs a helper call op and
    returns its result; without it a call leaves to Python."""
    temps: dict[Temp, int] = {}
    labels = {op.label: i for i, op in enumerate(block.ops) if op.name == "set_label"}

    def get(v: Value) -> int:
        if isinstance(v, Const):
            return v.value
        if isinstance(v, Global):
            return spaces[v.space][v.index]
        return temps[v]

    def put(d: Value | None, value: int) -> None:
        if isinstance(d, Global):
            spaces[d.space][d.index] = value & M64
        elif isinstance(d, Temp):
            temps[d] = value & M64

    # the instruction each op belongs to, by position: as in every backend, a count is
    # the instruction's place in the block (frontends do not branch over insn_starts)
    ops, where = block.ops, []
    insn, pc = -1, block.pc
    for op in ops:
        if op.name == "insn_start":
            insn, pc = insn + 1, op.aux
        where.append((insn, pc))
    journal: list[tuple] = []  # what the current instruction changed, to undo

    def leave(insn: int, pc: int) -> Result:
        for kind, where_, old in reversed(journal):
            if kind == "g":
                spaces[where_.space][where_.index] = old
            else:
                mem.store(where_, old)
        return Result(STATUS_PYTHON, pc, max(insn, 0))

    i, current = 0, -1
    while i < len(ops):
        op = ops[i]
        insn, pc = where[i]
        if insn != current:  # (a branch may land past an insn_start)
            current = insn
            journal.clear()
        i += 1
        name = op.name
        if isinstance(op.out, Global):
            journal.append(("g", op.out, get(op.out)))
        if name in PURE_OPS:
            put(op.out, evaluate(name, tuple(get(a) for a in op.args), op.aux))
        elif name == "br" or name == "brcond" and COMPARE[op.aux](*map(get, op.args)):
            i = labels[op.label]
        elif name == "exit":
            return Result(STATUS_CHAIN, get(op.args[0]), insn + 1)
        elif name == "ld":
            data = mem.load(get(op.args[0]), op.aux.size)
            if data is None:
                return leave(insn, pc)
            put(op.out, decode(data, op.aux))
        elif name == "st":
            addr = get(op.args[1])
            old = mem.store(addr, encode(get(op.args[0]), op.aux))
            if old is None:
                return leave(insn, pc)
            journal.append(("m", addr, old))
        elif name == "call":
            if call is None:
                return leave(insn, pc)
            put(op.out, call(op, [get(a) for a in op.args]) or 0)
    raise ValueError("block ran off its end without an exit")


__all__ = ["Memory", "Result", "decode", "encode", "run"]
