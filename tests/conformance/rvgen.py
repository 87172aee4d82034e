"""Seeded random RV64GC (+Zba/Zbb/Zbs) instruction streams for the
differential harness.

A program is a list of *items*; an item is one or a few assembly lines that
must stay together (a branch with the instructions it skips and its label,
an address computation with the AMO that uses it). Removing whole items
always leaves a program that assembles, which is what shrinking needs.

Register conventions inside the stream: gp (x3) points at the data area,
tp (x4) at the trap handler's save area and t6 (x31) at the result log; no
item writes them. Every other x register and every f register is fair game.
After every instruction that writes a register, `logged` appends the value
to the result log (the epilogue checksums it), so an intermediate result
that is overwritten later still counts.
"""
from __future__ import annotations

import random

DATA_SIZE = 1024  # bytes of data area reachable from gp (first half: value pool)
XREGS = [r for r in range(1, 31) if r not in (3, 4)]
# no destination to log: stores, branches, traps, CSR writes without rd
_NO_RD = set("sb sh sw sd fsw fsd c.sw c.sd beq bne blt bge bltu bgeu bnez csrwi ecall "
             "ebreak c.ebreak .word .hword j".split())
#: most passes a generated loop makes (the result log is sized for it)
LOOP_MAX = 6

# interesting 64-bit integers
INT_SPECIALS = [0, 1, 2, 3, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x7FFFFFFF,
                0x80000000, 0xFFFFFFFF, 0x100000000, 0x7FFFFFFFFFFFFFFF,
                0x8000000000000000, 0xFFFFFFFFFFFFFFFF, 0xFFFFFFFF80000000,
                0x5555555555555555, 0xAAAAAAAAAAAAAAAA, 0x0123456789ABCDEF]
# doubles: zeros, ones, infs, NaNs (quiet, signalling, with payload), subnormals,
# min/max normal, values near rounding and conversion boundaries
D_SPECIALS = [0, 1 << 63, 0x3FF0000000000000, 0xBFF0000000000000, 0x7FF0000000000000,
              0xFFF0000000000000, 0x7FF8000000000000, 0x7FF0000000000001,
              0xFFF8000000000123, 0x7FF4000000000000, 0x0000000000000001,
              0x000FFFFFFFFFFFFF, 0x0010000000000000, 0x8010000000000000,
              0x7FEFFFFFFFFFFFFF, 0xFFEFFFFFFFFFFFFF, 0x3FE0000000000000,
              0x3FF8000000000000, 0xC004000000000000, 0x41DFFFFFFFC00000,
              0x41E0000000000000, 0xC1E0000000000000, 0x43E0000000000000,
              0xC3E0000000000000, 0x43F0000000000000, 0x3CA0000000000000,
              0x3FF0000000000001, 0x47EFFFFFE0000000, 0x36A0000000000000,
              0x3810000000000000, 0x380FFFFFF0000000, 0x37A0000000000000]
S_SPECIALS = [0, 0x80000000, 0x3F800000, 0xBF800000, 0x7F800000, 0xFF800000,
              0x7FC00000, 0x7F800001, 0xFFC00123, 0x7FA00000, 0x00000001, 0x007FFFFF,
              0x00800000, 0x80800000, 0x7F7FFFFF, 0xFF7FFFFF, 0x3F000000, 0x3FC00000,
              0x4EFFFFFF, 0x4F000000, 0xCF000000, 0x5F000000, 0xDF000000, 0x5F800000,
              0x33800000, 0x3F800001, 0x0C000000]

R_INT = ("add sub sll slt sltu xor srl sra or and addw subw sllw srlw sraw "
         "mul mulh mulhsu mulhu div divu rem remu mulw divw divuw remw remuw").split()
R_ZBA = "sh1add sh2add sh3add add.uw sh1add.uw sh2add.uw sh3add.uw".split()
R_ZBB = "andn orn xnor max maxu min minu rol rolw ror rorw".split()
R_ZBS = "bclr bext binv bset".split()
U_ZBB = "clz clzw ctz ctzw cpop cpopw sext.b sext.h zext.h orc.b rev8".split()
I_INT = "addi slti sltiu xori ori andi addiw".split()
SH64 = "slli srli srai slli.uw rori bclri bexti binvi bseti".split()
SH32 = "slliw srliw sraiw roriw".split()
BRANCH = "beq bne blt bge bltu bgeu".split()
AMO = "swap add xor and or min max minu maxu".split()
F_BIN = "fadd fsub fmul fdiv".split()
F_NORM = "fsgnj fsgnjn fsgnjx fmin fmax".split()
F_FMA = "fmadd fmsub fnmsub fnmadd".split()
F_CMP = "feq flt fle".split()
RMS = ["rne", "rtz", "rdn", "rup", "rmm", "dyn"]
# reserved or illegal 16-bit encodings (RVC table "reserved"/"HINT" notes)
# all-zero, c.addi4spn imm 0, c.lui imm 0, c.addi16sp imm 0, c.lwsp/c.ldsp rd 0,
# c.jr rs1 0, c.addiw rd 0, the two reserved CA encodings after c.subw/c.addw
C_ILLEGAL = [0x0000, 0x0004, 0x6081, 0x6101, 0x4002, 0x6002, 0x8002, 0x2001, 0x9C41, 0x9C61]


class Gen:
    """Random item generator; `fp`, `amo`, `bitmanip`, `traps` select families."""

    def __init__(self, seed: int, bitmanip: bool = True, traps: bool = True) -> None:
        self.r = random.Random(seed)
        self.bitmanip = bitmanip
        self.traps = traps
        self.label = 0
        self.ntraps = 0

    # --- operands ------------------------------------------------------------
    def x(self) -> str:
        return f"x{self.r.choice(XREGS)}"

    def xs(self) -> str:  # source: may be x0, gp, tp
        return f"x{self.r.randrange(32)}"

    def f(self) -> str:
        return f"f{self.r.randrange(32)}"

    def imm12(self) -> int:
        return self.r.choice([0, 1, -1, 2047, -2048, self.r.randint(-2048, 2047)])

    def int64(self) -> int:
        if self.r.random() < 0.5:
            v = self.r.choice(INT_SPECIALS)
            return (v + self.r.choice([0, 0, 1, -1])) & ((1 << 64) - 1)
        return self.r.getrandbits(self.r.choice([8, 16, 32, 33, 63, 64]))

    def _lbl(self) -> str:
        self.label += 1
        return f".L{self.label}"

    # --- families --------------------------------------------------------------
    def item(self) -> str:
        r = self.r.random()
        if r < 0.30:
            return self.int_op()
        if r < 0.55:
            return self.fp_op()
        if r < 0.67:
            return self.mem_op()
        if r < 0.72:
            return self.amo_op()
        if r < 0.76:
            return self.branch()
        if r < 0.78:
            return self.loop()
        if r < 0.86:
            return self.csr_op()
        if r < 0.91:
            return f"li {self.x()}, {self.int64():#x}"
        if r < 0.97:
            return self.compressed()
        if self.traps and self.ntraps < 56:
            return self.trap_op()
        return self.int_op()

    def int_op(self) -> str:
        r = self.r.random()
        ops = R_INT + (R_ZBA + R_ZBB + R_ZBS if self.bitmanip else [])
        if r < 0.55:
            return f"{self.r.choice(ops)} {self.x()}, {self.xs()}, {self.xs()}"
        if r < 0.70:
            return f"{self.r.choice(I_INT)} {self.x()}, {self.xs()}, {self.imm12()}"
        if r < 0.80:
            sh = SH64 if self.bitmanip else SH64[:3]
            return f"{self.r.choice(sh)} {self.x()}, {self.xs()}, {self.r.randrange(64)}"
        if r < 0.87:
            sh = SH32 if self.bitmanip else SH32[:3]
            return f"{self.r.choice(sh)} {self.x()}, {self.xs()}, {self.r.randrange(32)}"
        if r < 0.95 and self.bitmanip:
            op, rd = self.r.choice(U_ZBB), self.x()
            if op == "ctzw":  # QEMU 7.2 counts past bit 31 when the low word is 0
                return f"bseti {rd}, {self.xs()}, {self.r.randrange(32)}\nctzw {rd}, {rd}"
            return f"{op} {rd}, {self.xs()}"
        return f"{self.r.choice(['lui', 'auipc'])} {self.x()}, {self.r.randrange(1 << 20):#x}"

    def _fbits(self, w: str, e: int, frac: int, sign: int = 0) -> int:
        fb, bias = (23, 127) if w == "s" else (52, 1023)
        return (sign << (fb + (8 if w == "s" else 11))) | ((e + bias) << fb) | frac

    def fp_directed(self) -> str:
        """Operands built to hit rounding ties, sticky bits and the underflow
        and overflow thresholds, for every rounding mode."""
        w = self.r.choice("sd")
        fb, emin, emax = (23, -126, 127) if w == "s" else (52, -1022, 1023)
        r = self.r
        frac = r.choice([0, 1, 2, 3, (1 << fb) - 1, (1 << fb) - 2, r.getrandbits(fb)])
        kind = r.random()
        if kind < 0.5:  # a + half an ulp of a (+ a sticky bit), either sign
            e = r.randint(-3, 3)
            a = self._fbits(w, e, frac, r.getrandbits(1))
            tail = r.choice([0, 0, 1, (1 << fb) - 1])
            b = self._fbits(w, e - fb - 1 + r.choice([0, 0, -1, 1]), tail, r.getrandbits(1))
            op = r.choice(["fadd", "fsub"])
        elif kind < 0.8:  # products near the smallest normal or the largest finite
            e = r.choice([emin + r.randint(0, 3), emax - r.randint(0, 3)])
            a = self._fbits(w, e, frac, r.getrandbits(1))
            f2 = r.choice([0, 1, (1 << fb) - 1, (1 << fb) - 2, 1 << (fb - 1)])
            b = self._fbits(w, r.choice([-1, 0, 1, -2]), f2, r.getrandbits(1))
            op = r.choice(["fmul", "fdiv", "fmadd"])
        else:  # halfway values for conversions to integer
            a = self._fbits(w, r.randint(-1, 20), r.choice([1 << (fb - 1), 3 << (fb - 2),
                                                             1 << (fb - 2)]), r.getrandbits(1))
            b = a
            op = "fcvt"
        fa, fbr, fd = self.f(), self.f(), self.f()
        t = self.x()
        mv = "fmv.w.x" if w == "s" else "fmv.d.x"
        rm = r.choice(RMS[:5])
        lines = [f"li {t}, {a:#x}", f"{mv} {fa}, {t}", f"li {t}, {b:#x}", f"{mv} {fbr}, {t}"]
        if op == "fcvt":
            lines.append(f"fcvt.{r.choice(['w', 'wu', 'l', 'lu'])}.{w} {t}, {fa}, {rm}")
        elif op == "fmadd":
            lines.append(f"{r.choice(F_FMA)}.{w} {fd}, {fa}, {fbr}, {fa}, {rm}")
        else:
            lines.append(f"{op}.{w} {fd}, {fa}, {fbr}, {rm}")
        lines.append(f"csrrw {self.x()}, fflags, x0")
        return "\n".join(lines)

    def fp_op(self) -> str:
        if self.r.random() < 0.3:
            return self.fp_directed()
        w = self.r.choice("sd")
        rm = self.r.choice(RMS)
        r = self.r.random()
        if r < 0.30:
            s = f"{self.r.choice(F_BIN)}.{w} {self.f()}, {self.f()}, {self.f()}, {rm}"
        elif r < 0.40:
            s = f"{self.r.choice(F_FMA)}.{w} {self.f()}, {self.f()}, {self.f()}, {self.f()}, {rm}"
        elif r < 0.45:
            s = f"fsqrt.{w} {self.f()}, {self.f()}, {rm}"
        elif r < 0.55:
            s = f"{self.r.choice(F_NORM)}.{w} {self.f()}, {self.f()}, {self.f()}"
        elif r < 0.62:
            s = f"{self.r.choice(F_CMP)}.{w} {self.x()}, {self.f()}, {self.f()}"
        elif r < 0.65:
            s = f"fclass.{w} {self.x()}, {self.f()}"
        elif r < 0.75:
            it = self.r.choice(["w", "wu", "l", "lu"])
            s = f"fcvt.{it}.{w} {self.x()}, {self.f()}, {rm}"
        elif r < 0.83:
            it = self.r.choice(["w", "wu", "l", "lu"])
            exact = w == "d" and it in ("w", "wu")  # binutils takes no rm there
            s = f"fcvt.{w}.{it} {self.f()}, {self.xs()}" + ("" if exact else f", {rm}")
        elif r < 0.88:
            s = (f"fcvt.s.d {self.f()}, {self.f()}, {rm}" if w == "s"
                 else f"fcvt.d.s {self.f()}, {self.f()}")
        elif r < 0.96:
            off = self.r.randrange(0, DATA_SIZE // 2, 8 if w == "d" else 4)
            s = f"fl{'w' if w == 's' else 'd'} {self.f()}, {off}(gp)"
        else:
            s = (f"fmv.{w if w == 'd' else 'w'}.x {self.f()}, {self.xs()}"
                 if self.r.random() < 0.5 else
                 f"fmv.x.{w if w == 'd' else 'w'} {self.x()}, {self.f()}")
        if r < 0.45:  # arithmetic: often on fresh values from the pool
            ops = s.split(", ")[1:]
            loads = [f"fl{'w' if w == 's' else 'd'} {src.split()[0]}, "
                     f"{self.r.randrange(0, DATA_SIZE // 2, 8)}(gp)"
                     for src in ops if src.startswith("f") and self.r.random() < 0.6]
            s = "\n".join(loads + [s])
        if self.r.random() < 0.4:  # collect this instruction's flags
            s += f"\ncsrrw {self.x()}, fflags, x0"
        return s

    def mem_op(self) -> str:
        size = self.r.choice([1, 2, 4, 8])
        misaligned = self.r.random() < 0.1
        off = self.r.randrange(0, DATA_SIZE - 8, 1 if misaligned else size)
        if self.r.random() < 0.55:
            op = {1: ["lb", "lbu"], 2: ["lh", "lhu"], 4: ["lw", "lwu"], 8: ["ld"]}[size]
            return f"{self.r.choice(op)} {self.x()}, {off}(gp)"
        off = max(off, DATA_SIZE // 2) & ~(0 if misaligned else size - 1)
        if size >= 4 and self.r.random() < 0.3:
            w = "w" if size == 4 else "d"
            return f"fs{w} {self.f()}, {off}(gp)"
        op = {1: "sb", 2: "sh", 4: "sw", 8: "sd"}[size]
        return f"{op} {self.xs()}, {off}(gp)"

    def amo_op(self) -> str:
        w = self.r.choice("wd")
        size = 4 if w == "w" else 8
        a = self.x()
        off = self.r.randrange(DATA_SIZE // 2, DATA_SIZE - 8, size)
        rd, rs = self.x(), self.xs()
        while rs == a:
            rs = self.xs()
        if self.r.random() < 0.3:  # an LR/SC pair, maybe to another address
            off2 = off if self.r.random() < 0.8 else off ^ size * 2
            mid = "\n".join(self.int_op() for _ in range(self.r.randrange(3)))
            rd2 = self.x()
            while rd2 == a:
                rd2 = self.x()
            lines = [f"addi {a}, gp, {off}", f"lr.{w} {rd if rd != a else rd2}, ({a})"]
            mid_lines = [ln for ln in mid.splitlines() if f" {a}," not in ln]
            if off2 != off:
                lines.append(f"addi {a}, gp, {off2}")
            return "\n".join(lines + mid_lines + [f"sc.{w} {rd2}, {rs}, ({a})"])
        aqrl = self.r.choice(["", ".aq", ".rl", ".aqrl"])
        op = self.r.choice(AMO)
        return f"addi {a}, gp, {off}\namo{op}.{w}{aqrl} {rd}, {rs}, ({a})"

    def branch(self) -> str:
        lbl = self._lbl()
        body = "\n".join(self.int_op() for _ in range(self.r.randint(1, 3)))
        if self.r.random() < 0.15:
            return f"jal {self.x()}, {lbl}\n{body}\n{lbl}:"
        return f"{self.r.choice(BRANCH)} {self.xs()}, {self.xs()}, {lbl}\n{body}\n{lbl}:"

    def loop(self) -> str:
        """A counted backward loop of a few passes; sometimes a load in it walks
        a pointer by 64 MiB a pass, so a later pass leaves RAM and faults."""
        c, p, s = self.r.sample(XREGS, 3)
        reserved = {c, p, s}
        lbl = self._lbl()
        body: list[str] = []
        while len(body) < self.r.randint(1, 4):
            it = self.int_op() if self.r.random() < 0.7 else self.mem_op()
            words = {w for ln in it.splitlines()
                     for w in ln.replace(",", " ").replace("(", " ").replace(")", " ").split()}
            if not words & {f"x{n}" for n in reserved}:
                body.append(it)
        head = [f"li x{c}, {self.r.randint(2, LOOP_MAX)}"]
        if self.r.random() < 0.3:
            head += [f"mv x{p}, gp", f"li x{s}, 0x4000000"]
            body.append(f"ld x{self.r.choice([r for r in XREGS if r not in reserved])}, 0(x{p})"
                        f"\nadd x{p}, x{p}, x{s}")
        return "\n".join(head + [f"{lbl}:"] + body + [f"addi x{c}, x{c}, -1",
                                                      f"bnez x{c}, {lbl}"])

    def csr_op(self) -> str:
        r = self.r.random()
        csr = self.r.choice(["fflags", "frm", "fcsr"])
        if r < 0.35:
            return f"csrr {self.x()}, {csr}"
        if r < 0.65:
            return f"csrwi frm, {self.r.randrange(5)}"
        if r < 0.80:
            return f"csrwi fflags, {self.r.randrange(32)}"
        op = self.r.choice(["csrrs", "csrrc", "csrrw"])
        if csr == "fcsr" or csr == "frm":  # keep frm valid: only set flag bits
            return f"csrrsi {self.x()}, fflags, {self.r.randrange(32)}"
        return f"{op} {self.x()}, {csr}, {self.xs()}"

    def compressed(self) -> str:
        r = self.r.random()
        rc = f"x{self.r.randrange(8, 16)}"
        if r < 0.3:
            op = self.r.choice(["c.add", "c.mv"])
            return f"{op} {self.x()}, x{self.r.choice(XREGS)}"
        if r < 0.5:
            op = self.r.choice(["c.and", "c.or", "c.xor", "c.sub", "c.addw", "c.subw"])
            return f"{op} {rc}, x{self.r.randrange(8, 16)}"
        if r < 0.65:
            op = self.r.choice(["c.srli", "c.srai", "c.slli"])
            reg = rc if op != "c.slli" else self.x()
            return f"{op} {reg}, {self.r.randrange(1, 64)}"
        if r < 0.8:
            op = self.r.choice(["c.addi", "c.addiw", "c.li", "c.andi"])
            reg = rc if op == "c.andi" else self.x()
            imm = self.r.randint(-32, 31)
            if op in ("c.addi",) and imm == 0:
                imm = 1
            return f"{op} {reg}, {imm}"
        if r < 0.9:
            rd = self.r.choice([n for n in XREGS if n != 2])
            return f"c.lui x{rd}, {self.r.choice([1, 2, 0x1F, 0xFFFE0, 0xFFFFF]):#x}"
        # loads/stores through a data pointer in a compressed register
        w = self.r.choice(["w", "d"])
        size = 4 if w == "w" else 8
        off = self.r.randrange(32) * size
        rs = f"x{self.r.randrange(8, 16)}"
        if self.r.random() < 0.5:
            return f"addi {rc}, gp, {DATA_SIZE // 2}\nc.s{w} {rs}, {off}({rc})"
        return f"addi {rc}, gp, {DATA_SIZE // 2}\nc.l{w} {rs}, {off}({rc})"

    def trap_op(self) -> str:
        self.ntraps += 1
        r = self.r.random()
        if r < 0.25:
            return f".hword {self.r.choice(C_ILLEGAL):#06x}"
        if r < 0.45:  # dynamic rounding with a reserved frm value
            return (f"csrwi frm, {self.r.randrange(5, 8)}\n"
                    f"fadd.d {self.f()}, {self.f()}, {self.f()}, dyn\ncsrwi frm, 0")
        if r < 0.6:  # misaligned LR (QEMU 7.2 reports misaligned AMOs as loads)
            a = self.x()
            return f"addi {a}, gp, {DATA_SIZE // 2 + 2}\nlr.w {self.x()}, ({a})"
        if r < 0.7:
            return self.r.choice(["ecall", "ebreak", "c.ebreak"])
        # random words in the OP, OP-32, OP-IMM, OP-FP spaces: decoder coverage
        opc = self.r.choice([0x33, 0x3B, 0x13, 0x1B, 0x53, 0x43])
        w = (self.r.getrandbits(25) << 7) | opc
        if (w >> 7) & 31 in (3, 4, 31):
            w &= ~(31 << 7)
        return f".word {w:#010x}"

    def program(self, n: int) -> list[str]:
        """Items for about n instructions (not counting the logging)."""
        items, count = [], 0
        while count < n:
            it = self.item()
            count += sum(1 for ln in it.splitlines() if not ln.endswith(":"))
            items.append(logged(it))
        return items


def logged(item: str) -> str:
    """The item with a store of each written register to the result log."""
    out = []
    for ln in item.splitlines():
        out.append(ln)
        parts = ln.replace(",", " ").split()
        if not parts or ln.endswith(":") or parts[0] in _NO_RD or len(parts) < 2:
            continue
        rd = parts[1]
        if rd.startswith("x") and rd != "x0":
            out.append(f"sd {rd}, 0(x31)\naddi x31, x31, 8")
        elif rd.startswith("f") and rd[1:].isdigit():
            out.append(f"fsd {rd}, 0(x31)\naddi x31, x31, 8")
    return "\n".join(out)


def count(items: list[str]) -> int:
    """Random instructions in a program, without the logging stores."""
    n = 0
    for it in items:
        for ln in it.splitlines():
            if not ln.endswith(":") and not ln.endswith("0(x31)") and ln != "addi x31, x31, 8":
                n += 1
    return n
