"""A64 frontend: guest instructions -> the IR of pemu/tcg.

A `TransCtx` is handed to each `trans_<insn>(ctx, a)` handler, which emits
IR through `ctx.ir` (a `pemu.tcg.ir.Builder`) and the A64-shaped helpers
below: register operands (register 31 is XZR or SP depending on the
instruction, so there are two readers and two writers), 32-bit results
zero-extended, the NZCV flags, condition codes, memory, branches and traps.

Guest state the IR names (state.py): x0..x30 and sp (space "X"), the flags
nf/zf/cf/vf and tpidr_el0/fpcr/fpsr (space "SYS"), and the halves of the
SIMD&FP registers (space "V"). The program counter is a translation-time
constant.
"""
from __future__ import annotations

from pemu.target.arm import state
from pemu.target.arm.trap import BRK, SVC, UNDEF, ArmTrap
from pemu.tcg.ir import CONDS, Builder, Const, Global, Helper, MemOp, Value
from pemu.tcg.python_backend import TargetInfo

M64 = (1 << 64) - 1
M32 = (1 << 32) - 1

X_REGS = [Global(f"x{n}", "X", n) for n in range(31)] + [Global("sp", "X", state.SP)]
NF = Global("nf", "SYS", state.NF)
ZF = Global("zf", "SYS", state.ZF)
CF = Global("cf", "SYS", state.CF)
VF = Global("vf", "SYS", state.VF)
TPIDR_EL0 = Global("tpidr_el0", "SYS", state.TPIDR_EL0)
FPCR = Global("fpcr", "SYS", state.FPCR)
FPSR = Global("fpsr", "SYS", state.FPSR)
V_LO = [Global(f"v{n}l", "V", 2 * n) for n in range(32)]
V_HI = [Global(f"v{n}h", "V", 2 * n + 1) for n in range(32)]
TARGET = TargetInfo(spaces={"X": "X", "SYS": "c.sys", "V": "c.v"}, fault_class="ArmTrap")


def _raise(ec: int, value: int) -> None:
    raise ArmTrap(ec, value)


def _unimplemented(c, word: int, pc: int) -> None:
    c.report_unimplemented(word, pc)
    raise ArmTrap(UNDEF, word)


def method(name: str, raises: bool = True, reads: tuple[Global, ...] = (),
           writes: tuple[Global, ...] = ()) -> Helper:
    """A helper that is a method of the CPU object."""
    return Helper(name, method=name, raises=raises, reads=reads, writes=writes)


def pure(name: str, fn) -> Helper:
    """A side-effect-free function of its arguments (bit manipulation)."""
    return Helper(name, fn, cpu_arg=False, pure=True, raises=False)


H_RAISE = Helper("RAISE", _raise, cpu_arg=False, noreturn=True)
H_UNIMP = Helper("UNIMPLEMENTED", _unimplemented, noreturn=True)


class TransCtx:
    """The state of one block's translation, handed to every handler."""

    def __init__(self, pc: int) -> None:
        self.ir = Builder(pc)
        self.pc = pc
        self.word = 0
        self.stop = False
        self.npc: Value | None = None  # where the block goes when it ends here
        self.taken: int | None = None  # target of a conditional branch just translated
        self.direct: int | None = None  # target of a direct branch (b, bl)
        #: what the flags were last computed from in this block, so a condition can
        #: compare the operands directly: ("sub", sf, a, b) after CMP/SUBS, ("logic",
        #: n) after TST/ANDS (n: the result sign-extended), None if unknown
        self.flag_src: tuple | None = None
        self._last: tuple | None = None  # (flags tuple, its source) just computed

    # --- registers ---------------------------------------------------------------------------
    @staticmethod
    def x(n: int) -> Value:
        """Register n as a source, 31 reading as XZR."""
        return Const(0) if n == 31 else X_REGS[n]

    @staticmethod
    def xsp(n: int) -> Value:
        """Register n as a source, 31 being SP."""
        return X_REGS[n]

    def src(self, n: int, sf: int, sp: bool = False) -> Value:
        """Register n as a datasize operand: the low 32 bits zero-extended when sf is 0."""
        v = self.xsp(n) if sp else self.x(n)
        if sf or isinstance(v, Const):
            return v
        t = self.temp()
        self.ir.ext32u(t, v)
        return t

    def set_reg(self, n: int, sf: int, value: Value | int, sp: bool = False) -> None:
        """Write a result to register n (31 is SP if `sp`, else XZR and discarded);
        32-bit results are zero-extended, as every W-register write is."""
        if n == 31 and not sp:
            return
        d = X_REGS[n]
        if sf:
            self.ir.mov(d, value)
        else:
            self.ir.ext32u(d, value)

    def temp(self):
        return self.ir.temp()

    def op(self, name: str, *args: Value | int) -> Value:
        """A temp holding the result of a pure IR op."""
        t = self.temp()
        if name.startswith("setcond_"):  # setcond_<cond>
            self.ir.setcond(name[8:], t, *args)
        else:
            getattr(self.ir, name if name not in ("and", "or", "not") else name + "_")(t, *args)
        return t

    # --- flags -------------------------------------------------------------------------------
    def add_with_carry(self, sf: int, a: Value, b: Value, sub: bool,
                       carry: Value | int | None = None) -> tuple[Value, tuple]:
        """AddWithCarry (Arm ARM shared pseudocode) of a and b (b inverted for a
        subtraction): the result and the flags it gives, as (nf, zf, cf, vf)
        values in the split form of state.py. `carry` None is the carry-in an
        ADD (0) or SUB (1) has; otherwise a 0/1 value (ADC, SBC)."""
        if not sf:
            a, b = self.op("ext32u", a), self.op("ext32u", b)
        src = None
        if carry is None and sub:  # a - b: carry is "no borrow"
            if isinstance(a, Global):  # a later write to the register must not change it
                a = self.op("mov", a)
            if isinstance(b, Global):
                b = self.op("mov", b)
            src = ("sub", sf, a, b)
            r, c = self.op("sub", a, b), self.op("setcond_geu", a, b)
            v = self.op("and", self.op("xor", a, r), self.op("xor", a, b))
        elif carry is None:
            r = self.op("add", a, b)
            c = self.op("setcond_ltu", r, a) if sf else self.op("shr", r, 32)
            v = self.op("andc", self.op("xor", a, r), self.op("xor", a, b))
        else:  # a + b + C, or a + NOT(b) + C
            bb = self.op("not" if sf else "xor", b, *(() if sf else (M32,))) if sub else b
            t = self.op("add", a, bb)
            r = self.op("add", t, carry)
            if sf:
                c = self.op("or", self.op("setcond_ltu", t, a), self.op("setcond_ltu", r, t))
            else:
                c = self.op("shr", r, 32)
            v = self.op("andc", self.op("xor", a, r), self.op("xor", a, bb))
        if sf:
            flags: tuple = (r, r, c, v)
            self._last = (flags, src)
            return r, flags
        r32 = self.op("ext32u", r)
        flags = (self.op("ext32s", r), r32, c, self.op("ext32s", v))
        self._last = (flags, src)
        return r32, flags

    def logic_flags(self, sf: int, r: Value) -> tuple:
        """N and Z from a logical result; C and V cleared."""
        if isinstance(r, Global):
            r = self.op("mov", r)
        flags = (r, r, Const(0), Const(0)) if sf else \
            (self.op("ext32s", r), self.op("ext32u", r), Const(0), Const(0))
        self._last = (flags, ("logic", flags[0]))
        return flags

    def set_flags(self, flags: tuple) -> None:
        for g, v in zip((NF, ZF, CF, VF), flags, strict=True):
            self.ir.mov(g, v)
        last = self._last
        self.flag_src = last[1] if last is not None and last[0] is flags else None

    def set_nzcv(self, v: Value | int) -> None:
        """PSTATE.NZCV from a value holding the flags in bits 31:28 (MSR, FCMP)."""
        self.ir.shl(NF, v, 32)
        self.ir.xor(ZF, self.op("and", self.op("shr", v, 30), 1), 1)
        self.ir.and_(CF, self.op("shr", v, 29), 1)
        self.ir.shl(VF, v, 35)
        self.flag_src = None

    def cond(self, cc: int) -> tuple[str, Value, Value | int]:
        """ConditionHolds(cc) as an IR comparison (cond, a, b)."""
        base, inv = cc >> 1, cc & 1
        if base == 7:
            return ("eq", Const(0), 0)  # AL and NV: always
        fused = self._fused_cond(base)
        if fused is not None:
            c, a, b = fused
            return (CONDS[c] if inv else c), a, b
        if base == 0:
            c, a = "eq", ZF
        elif base == 1:
            c, a = "ne", CF
        elif base == 2:
            c, a = "lt", NF
        elif base == 3:
            c, a = "lt", VF
        elif base == 4:  # HI: C set and Z clear
            c, a = "ne", self.op("and", self.op("setcond_ne", ZF, 0), CF)
        elif base == 5:  # GE: N == V
            c, a = "ge", self.op("xor", NF, VF)
        else:  # GT: Z clear and N == V
            c = "ne"
            a = self.op("and", self.op("setcond_ne", ZF, 0),
                        self.op("setcond_ge", self.op("xor", NF, VF), 0))
        return (CONDS[c] if inv else c), a, 0

    #: condition base (cc >> 1) -> the comparison of a and b after a subtraction a - b
    SUB_CONDS = {0: "eq", 1: "geu", 4: "gtu", 5: "ge", 6: "gt"}
    #: condition base -> the comparison of the sign-extended result with 0 after a
    #: logical operation (C and V are 0: CS, HI and VS never hold)
    LOGIC_CONDS = {0: "eq", 2: "lt", 5: "ge", 6: "gt"}

    def _fused_cond(self, base: int) -> tuple[str, Value, Value | int] | None:
        """The condition as one comparison of what set the flags, when known."""
        src = self.flag_src
        if src is None:
            return None
        if src[0] == "sub":
            _, sf, a, b = src
            c = self.SUB_CONDS.get(base)
            if c is None:
                return None
            if c in ("ge", "gt") and not sf:  # signed 32-bit: compare sign-extended
                a, b = self.op("ext32s", a), self.op("ext32s", b)
            return c, a, b
        if base in (1, 3, 4):  # CS, VS, HI: never after a logical operation
            return "ne", Const(0), 0
        c = self.LOGIC_CONDS.get(base)
        return None if c is None else (c, src[1], 0)

    def cond_value(self, cc: int) -> Value:
        """1 if the condition holds, else 0."""
        c, a, b = self.cond(cc)
        t = self.temp()
        self.ir.setcond(c, t, a, b)
        return t

    # --- control -----------------------------------------------------------------------------
    @property
    def next_pc(self) -> int:
        return (self.pc + 4) & M64

    def end(self, npc: Value | int) -> None:
        """The block ends after this instruction and goes on at npc."""
        self.npc = Builder.val(npc)
        self.stop = True

    def branch(self, cond: str, a: Value, b: Value | int, target: int) -> None:
        """A conditional branch: the taken path leaves the block; the translator
        either ends the block on the fall-through path or goes on translating it."""
        fall = self.ir.label()
        self.taken = target & M64
        self.ir.brcond(CONDS[cond], a, b, fall)
        self.ir.exit(self.taken)
        self.ir.set_label(fall)
        self.end(self.next_pc)

    def jump(self, target: int) -> None:
        self.direct = target & M64
        self.end(self.direct)

    def trap(self, ec: int, value: int = 0) -> None:
        self.ir.call(H_RAISE, None, ec, value)
        self.end(self.pc)  # not reached; keeps the block well formed

    def undef(self) -> None:
        """An encoding pemu does not implement (or that is UNDEFINED): SIGILL,
        with a one-time message naming the encoding unless it is UDF."""
        if self.word >> 16 == 0:  # UDF #imm16: permanently undefined, no message
            self.trap(UNDEF, self.word)
            return
        self.ir.call(H_UNIMP, None, self.word, self.pc)
        self.end(self.pc)

    def svc(self, imm: int) -> None:
        self.trap(SVC, imm)

    def brk(self, imm: int) -> None:
        self.trap(BRK, imm)

    # --- memory and helpers ------------------------------------------------------------------
    def load(self, d: Value, addr: Value, size: int, signed: bool = False) -> None:
        self.ir.ld(d, addr, MemOp(size, signed))

    def store(self, value: Value | int, addr: Value, size: int) -> None:
        self.ir.st(value, addr, MemOp(size))

    def call(self, helper: Helper, d: Value | None, *args: Value | int) -> None:
        self.ir.call(helper, d, *args)


__all__ = ["CF", "FPCR", "FPSR", "H_RAISE", "M32", "M64", "NF", "TARGET", "TPIDR_EL0",
           "TransCtx", "VF", "V_HI", "V_LO", "X_REGS", "ZF", "method", "pure"]
