"""Where a block must be cut so that native code never leaves half an instruction done.

Native code leaves to Python in the middle of a block in two ways: a load or
store misses the inline TLB, or the block reaches an instruction it does not
compile. Either way the Python tier then runs *that* instruction from its
start, so nothing of it may have happened yet. An instruction is therefore
compiled only when

- every op of it is one the backend lowers (`call` never is, for now) over
  globals the env layout has, and
- no global write or store of it comes before a later load or store of it
  (the later access could miss after the earlier effect is visible).

The block is cut at the first instruction that fails (everything before it is
compiled and the instruction becomes an exit to Python), moved back to an
instruction boundary that no forward branch spans, since code after the cut
does not exist. `plan` returns None when not even the first instruction can
be compiled.
"""
from __future__ import annotations

from dataclasses import dataclass

from pemu.tcg.env import EnvLayout
from pemu.tcg.ir import OPS, Block, Global, Op

#: ops that may leave to the Python tier before their instruction has run
PYTHON_EXITS = frozenset(("ld", "st"))
#: ops the native backend lowers
SUPPORTED = frozenset(OPS) - {"call"}


@dataclass(frozen=True)
class Plan:
    """Compile ops[:end]; then, when `cut_pc` is set, exit to Python at that pc,
    having retired `ninsns` instructions."""

    end: int
    ninsns: int
    cut_pc: int | None


def _compilable(ops: list[Op], layout: EnvLayout) -> bool:
    effect = False
    for op in ops:
        if op.name not in SUPPORTED:
            return False
        for v in (*op.args, op.out):
            if isinstance(v, Global) and (v.space not in layout.spaces
                                          or not 0 <= v.index < layout.counts[v.space]):
                return False
        if op.name in PYTHON_EXITS and effect:
            return False
        effect |= op.name == "st" or isinstance(op.out, Global)
    return True


def plan(block: Block, layout: EnvLayout) -> Plan | None:
    ops = block.ops
    # instruction boundaries: (op index, pc, labels still to be bound there)
    starts: list[tuple[int, int, bool]] = []
    pending: set = set()
    bound: set = set()
    for i, op in enumerate(ops):
        if op.name == "insn_start":
            starts.append((i, op.aux, bool(pending)))
        elif op.name in ("brcond", "br"):
            if op.label in bound:
                return None  # a backward branch: not IR this backend accepts
            pending.add(op.label)
        elif op.name == "set_label":
            pending.discard(op.label)
            bound.add(op.label)
    if pending or not ops or ops[-1].name != "exit":
        return None  # a branch to nowhere, or a path that runs off the end
    if not starts:
        return Plan(len(ops), 0, None) if _compilable(ops, layout) else None
    bounds = [0] + [s[0] for s in starts[1:]] + [len(ops)]
    cut = None
    for k in range(len(starts)):
        if not _compilable(ops[bounds[k]:bounds[k + 1]], layout):
            cut = k
            break
    if cut is None:
        return Plan(len(ops), len(starts), None)
    while cut > 0 and starts[cut][2]:  # a branch region spans this boundary
        cut -= 1
    if cut == 0:
        return None
    return Plan(bounds[cut], cut, starts[cut][1])
