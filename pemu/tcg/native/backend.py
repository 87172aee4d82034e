"""IR -> x86-64 machine code: backend 2 of pemu's translator.

A block's code has no prologue. The runtime's `enter` stub (codebuf.py) has
saved the callee-saved registers, put the env pointer in rbx and reserved the
frame; blocks jump to each other within that frame and leave with
`jmp qword [rbx + LEAVE]`, rax holding the next guest pc and env.STATUS saying
why. Code refers to nothing but rbx and rsp, so it is position-independent
and can be kept as bytes (the persistent code cache) and placed anywhere.

Registers (alloc.py): rbx env; rbp, r12-r15, r8 the block's most used guest
globals; r9-r11 and any of those left over hold temps (then frame slots at
[rsp]); rax, rcx, rdx, rsi, rdi scratch.

Layout of a block's code:

    entry:   load the globals kept in registers
    body:    the ops, in order; brcond/br jump forward to labels
    exits:   (inline, at each `exit` op) write back the register globals the
             code before it may have written; ICOUNT += instructions retired;
             if ICOUNT < LIMIT and EXIT_REQ == 0 and JC[jc_index(pc)].pc == pc:
             jmp JC[...].host, else STATUS = CHAIN, rax = pc, leave
    stubs:   (after the body) one per instruction with a load or store: the
             TLB miss path, which records the address in MISS, writes back,
             adds the instructions before it to ICOUNT, sets STATUS = PYTHON
             and leaves with its pc (a cut leaves the same way, MISS = -1)

Loads and stores look up the inline TLB (env.py): vpn = vaddr >> 12; the entry
at vpn & TLB_MASK hits when its tag is vpn and the access does not cross the
page, and the host address is vaddr + addend. Blocks are cut where an
instruction could otherwise leave half done (cut.py).
"""
from __future__ import annotations

import functools
import hashlib
import os
import platform
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pemu.tcg import env as env_module
from pemu.tcg.env import (
    JC_MASK,
    STATUS_CHAIN,
    STATUS_PYTHON,
    TLB_MASK,
    Env,
    EnvLayout,
    jc_index,
)
from pemu.tcg.ir import PURE_OPS, Block, Const, Global, MemOp, Op
from pemu.tcg.native import cut
from pemu.tcg.native.alloc import Allocation, TooManyTemps
from pemu.tcg.native.codebuf import ENV_REG, CodeBuffer
from pemu.tcg.native.lower import Lowerer
from pemu.tcg.native.x86_64_asm import Asm, Label, Mem, Reg

RAX, RCX, RDX, RSI, RDI = Reg.RAX, Reg.RCX, Reg.RDX, Reg.RSI, Reg.RDI
_CPU_FLAGS = {"lzcnt": "abm", "tzcnt": "bmi1", "popcnt": "popcnt"}


@functools.cache
def available() -> bool:
    """Whether this host runs the native backend's code: x86-64 Linux where executable
    memory can be made (checked once by running a two-instruction block)."""
    if platform.machine().lower() not in ("x86_64", "amd64") or platform.system() != "Linux":
        return False
    try:
        layout = EnvLayout({})
        env, buf = Env(layout), CodeBuffer(4096)
        buf.install(env)
        a = Asm()
        a.mov_imm(RAX, 0x5EC0DE)
        a.jmp_rm(Mem(ENV_REG, layout.LEAVE))
        return buf.run(env.addr, buf.add(a.finish())) == 0x5EC0DE
    except OSError:
        return False


def host_features() -> frozenset[str]:
    """The optional instructions this CPU has (from /proc/cpuinfo's flags)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return frozenset(i for i, flag in _CPU_FLAGS.items() if flag in flags)
    except OSError:
        pass
    return frozenset()


@dataclass(frozen=True)
class NativeBlock:
    """A compiled block: `addr` of its code in the buffer, `code` (position-
    independent bytes), `ninsns` guest instructions it runs when not cut, and
    `cut_pc`: the pc of the instruction it hands to Python at its end, if any."""

    addr: int
    code: bytes
    ninsns: int
    cut_pc: int | None = None

    @property
    def cut(self) -> bool:
        return self.cut_pc is not None


class _BlockCompiler:
    def __init__(self, layout: EnvLayout, ops: list[Op], features: frozenset[str],
                 use_regs: bool) -> None:
        self.lay = layout
        self.ops = ops
        self.a = Asm()
        self.alloc = Allocation(ops, layout, use_regs)
        self.low = Lowerer(self.a, self.alloc, features)
        self.labels: dict[object, Label] = {}
        self.written: set[Global] = set()  # pinned globals written so far
        self.stubs: list[tuple[Label, int, int, tuple[Global, ...]]] = []
        self.insn = -1
        self.pc = 0
        self.stub: Label | None = None

    def compile(self, plan: cut.Plan) -> bytes:
        a = self.a
        for g, r in self.alloc.pinned.items():
            a.mov(r, Mem(ENV_REG, self.lay.global_offset(g.space, g.index)))
        for op in self.ops[:plan.end]:
            self.op(op)
        if plan.cut_pc is not None:
            a.mov_mem_imm(Mem(ENV_REG, self.lay.MISS), -1)  # not a TLB miss
            self.leave_python(plan.ninsns, plan.cut_pc)
        for label, k, pc, wb in self.stubs:
            a.bind(label)
            a.mov(Mem(ENV_REG, self.lay.MISS), RSI)  # the address that missed
            self.writeback(wb)
            self.leave_python(k, pc, writeback=False)
        return a.finish()

    # --- block-level ops ----------------------------------------------------------------
    def op(self, op: Op) -> None:
        name = op.name
        if name == "insn_start":
            self.insn += 1
            self.pc = op.aux
            self.stub = None
        elif name == "set_label":
            self.a.bind(self.label(op))
        elif name == "br":
            self.a.jmp(self.label(op))
        elif name == "brcond":
            self.low.compare(op.args[0], op.args[1])
            self.a.jcc(op.aux, self.label(op))
        elif name == "exit":
            self.exit(op.args[0])
        elif name in ("ld", "st"):
            self.memory(op)
        else:
            assert name in PURE_OPS, name
            self.low.pure(op)
        if isinstance(op.out, Global) and op.out in self.alloc.pinned:
            self.written.add(op.out)

    def label(self, op: Op) -> Label:
        lb = self.labels.get(op.label)
        if lb is None:
            lb = self.labels[op.label] = self.a.label()
        return lb

    def writeback(self, globals_: tuple[Global, ...] | set[Global]) -> None:
        for g in sorted(globals_, key=lambda g: (g.space, g.index)):
            self.a.mov(Mem(ENV_REG, self.lay.global_offset(g.space, g.index)),
                       self.alloc.pinned[g])

    def add_icount(self, n: int) -> None:
        if n:
            self.a.alu("add", Mem(ENV_REG, self.lay.ICOUNT), n)

    def leave_python(self, k: int, pc: int, writeback: bool = True) -> None:
        """Leave before instruction k (at pc): it has not run; Python runs it."""
        if writeback:
            self.writeback(self.written)
        self.add_icount(k)
        self.a.mov_mem_imm(Mem(ENV_REG, self.lay.STATUS), STATUS_PYTHON)
        self.a.mov_imm(RAX, pc)
        self.a.jmp_rm(Mem(ENV_REG, self.lay.LEAVE))

    def exit(self, target) -> None:
        a, lay = self.a, self.lay
        self.writeback(self.written)
        self.add_icount(self.insn + 1)
        self.low.get(RAX, target)
        leave = a.label()
        a.mov(RCX, Mem(ENV_REG, lay.ICOUNT))
        a.alu("cmp", RCX, Mem(ENV_REG, lay.LIMIT))
        a.jcc("geu", leave, short=True)
        a.alu("cmp", Mem(ENV_REG, lay.EXIT_REQ), 0)
        a.jcc("ne", leave, short=True)
        if isinstance(target, Const):
            slot = Mem(ENV_REG, lay.JC + 16 * jc_index(target.value))
            host = Mem(ENV_REG, lay.JC + 16 * jc_index(target.value) + 8)
        else:
            a.mov(RCX, RAX)
            a.shift("shr", RCX, 1)
            a.alu("and", RCX, JC_MASK, w=False)
            a.shift("shl", RCX, 4, size=4)
            slot = Mem(ENV_REG, lay.JC, RCX)
            host = Mem(ENV_REG, lay.JC + 8, RCX)
        a.alu("cmp", RAX, slot)
        a.jcc("ne", leave, short=True)
        a.jmp_rm(host)
        a.bind(leave)
        a.mov_mem_imm(Mem(ENV_REG, lay.STATUS), STATUS_CHAIN)
        a.jmp_rm(Mem(ENV_REG, lay.LEAVE))

    def memory(self, op: Op) -> None:
        """An inline-TLB load or store; a miss goes to this instruction's stub."""
        a, mo = self.a, op.aux
        assert isinstance(mo, MemOp)
        store = op.name == "st"
        if self.stub is None:
            self.stub = a.label()
            self.stubs.append((self.stub, max(self.insn, 0), self.pc, tuple(self.written)))
        self.low.get(RSI, op.args[1] if store else op.args[0])
        table = self.lay.TLB_W if store else self.lay.TLB_R
        a.mov(RDI, RSI)
        a.shift("shr", RDI, 12)
        a.mov(RDX, RDI, w=False)
        a.alu("and", RDX, TLB_MASK, w=False)
        a.shift("shl", RDX, 4, size=4)
        a.alu("cmp", RDI, Mem(ENV_REG, table, RDX))
        a.jcc("ne", self.stub)
        if mo.size > 1:
            a.mov(RDI, RSI, w=False)
            a.alu("and", RDI, 0xFFF, w=False)
            a.alu("cmp", RDI, 4096 - mo.size, w=False)
            a.jcc("gtu", self.stub)
        a.alu("add", RSI, Mem(ENV_REG, table + 8, RDX))
        if store:
            value = op.args[0]
            src = self.alloc.loc.get(value)
            if not isinstance(src, Reg) or mo.big_endian and mo.size > 1:
                self.low.get(RAX, value)
                src = RAX
            if mo.big_endian and mo.size > 1:
                if mo.size == 2:
                    a.shift("rol", RAX, 8, size=2)
                else:
                    a.bswap(RAX, w=mo.size == 8)
            a.store(Mem(RSI), src, mo.size)
            return
        d = self.low.dest(op)
        if mo.big_endian and mo.size > 1:
            a.movx(d, Mem(RSI), False, mo.size)
            a.bswap(d, w=mo.size == 8)
            if mo.size == 2:
                a.shift("shr", d, 16, size=4)
            a.movx(d, d, mo.signed, mo.size)
        else:
            a.movx(d, Mem(RSI), mo.signed, mo.size)
        self.low.put(op.out, d)


class NativeBackend:
    """Compiles IR blocks to native code in a `CodeBuffer`.

    When the buffer is full, `on_reset` is called (the caller must flush every
    env's jump cache and forget its NativeBlocks), the buffer is reset and the
    block is placed again.
    """

    def __init__(self, layout: EnvLayout, buffer: CodeBuffer | None = None,
                 features: frozenset[str] | None = None, use_regs: bool = True,
                 on_reset: Callable[[], None] | None = None) -> None:
        self.layout = layout
        self.buffer = buffer if buffer is not None else CodeBuffer()
        self.features = host_features() if features is None else features
        self.use_regs = use_regs
        self.on_reset = on_reset
        # A W^X buffer is a shared memfd mapping: a forked child (user mode) would
        # compile into its parent's code. The child forgets its blocks and takes a
        # buffer of its own instead (an RWX buffer is private already).
        ref = weakref.ref(self)
        os.register_at_fork(after_in_child=lambda: (b := ref()) and b._forked())

    def _forked(self) -> None:
        if not self.buffer.wx:
            return
        if self.on_reset is not None:
            self.on_reset()
        self.buffer.fresh_region()

    @staticmethod
    def available() -> bool:
        return available()

    def fingerprint(self) -> str:
        """What native code bytes depend on: this generator's source, the CPU features
        it used and the env layout. A persistent code cache keys native code with it."""
        h = hashlib.sha256()
        for path in sorted(Path(__file__).parent.glob("*.py")):
            h.update(path.read_bytes())
        h.update(Path(env_module.__file__).read_bytes())  # the layout's offsets
        h.update(repr((sorted(self.features), self.use_regs, self.layout.counts,
                       self.layout.size)).encode())
        return h.hexdigest()[:32]

    def assemble(self, block: Block) -> tuple[bytes, cut.Plan] | None:
        """The position-independent code of `block` and its cut plan (None: not even
        its first instruction compiles)."""
        p = cut.plan(block, self.layout)
        if p is None:
            return None
        try:
            bc = _BlockCompiler(self.layout, block.ops[:p.end], self.features, self.use_regs)
        except TooManyTemps:
            return None
        return bc.compile(p), p

    def place(self, code: bytes) -> int:
        """Copy code into the buffer (resetting it when full); its host address."""
        addr = self.buffer.add(code)
        if addr is None:
            if self.on_reset is not None:
                self.on_reset()
            self.buffer.reset()
            addr = self.buffer.add(code)
            if addr is None:
                raise MemoryError("native block larger than the whole code buffer")
        return addr

    def compile(self, block: Block) -> NativeBlock | None:
        got = self.assemble(block)
        if got is None:
            return None
        code, p = got
        return NativeBlock(self.place(code), code, p.ninsns, p.cut_pc)


__all__ = ["NativeBackend", "NativeBlock", "available", "host_features"]
