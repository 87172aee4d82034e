"""Differential testing of A64 data-processing instructions: random encodings
of every integer data-processing line in pemu's decode tables, run on random
register values under pemu-aarch64 and qemu-aarch64 (the oracle); X0..X7 and
NZCV after each instruction must agree.

    python tests/linux_user/a64diff.py [--cases N] [--seed S]

builds one static program (aarch64-linux-gnu-gcc) holding the cases as
`.inst` words, each between loads of its inputs and stores of its outputs,
and prints the first differing case with its disassembly (objdump). Register
fields are limited to X0..X7 so that no case touches SP or the harness's
own registers. Encodings pemu refuses as UNDEFINED are left out (a missing
instruction shows up as SIGILL in the C tests instead).
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from pemu.target.arm import insn_dp_imm, insn_dp_reg  # noqa: E402
from pemu.target.arm.decode import parse_table  # noqa: E402
from pemu.target.arm.translate import H_RAISE, H_UNIMP, TransCtx  # noqa: E402

M64 = (1 << 64) - 1
REG_FIELDS = {"rd", "rn", "rm", "ra"}
INTERESTING = [0, 1, 2, 0x7F, 0x80, 0xFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 1 << 32,
               0x7FFFFFFFFFFFFFFF, 1 << 63, M64, 0xFFFFFFFF00000000]
CC = shutil.which("aarch64-linux-gnu-gcc")
OBJDUMP = shutil.which("aarch64-linux-gnu-objdump")
QEMU = shutil.which("qemu-aarch64")


def _implemented(insn, word: int) -> bool:
    """Whether pemu's handler accepts the encoding (emits no UNDEF trap)."""
    ctx = TransCtx(0x1000)
    ctx.word = word
    insn.trans(ctx, insn.extract(word))
    return not any(op.name == "call" and op.aux in (H_RAISE, H_UNIMP) for op in ctx.ir.ops)


#: flag setters and flag readers: a case may be a setter followed by a reader, so
#: that the reader sees flags computed in the same translation block
SETTERS = ("adds_imm", "subs_imm", "ands_imm", "ands_reg", "bics_reg", "adds_reg",
           "subs_reg", "adds_ext", "subs_ext", "adcs", "sbcs", "ccmn_reg", "ccmp_reg",
           "ccmn_imm", "ccmp_imm")
READERS = ("csel", "csinc", "csinv", "csneg", "ccmn_reg", "ccmp_reg", "ccmn_imm",
           "ccmp_imm", "adc", "sbc", "adcs", "sbcs")


def _random_word(rng: random.Random, insn) -> int:
    word = insn.match | (rng.getrandbits(32) & ~insn.mask)
    for name, shift, width in insn.fields:
        if name in REG_FIELDS:
            word = (word & ~(((1 << width) - 1) << shift)) | (rng.randrange(8) << shift)
    return word


def random_cases(seed: int, count: int) -> list[tuple[tuple[int, ...], list[int], int]]:
    """(instruction words, X0..X7, NZCV) for `count` cases: one instruction, or
    (a third of them) a flag-setting one then one that reads the flags."""
    rng = random.Random(seed)
    insns = parse_table(insn_dp_imm.TABLE, insn_dp_imm, "dp_imm") + \
        parse_table(insn_dp_reg.TABLE, insn_dp_reg, "dp_reg")
    setters = [i for i in insns if i.name in SETTERS]
    readers = [i for i in insns if i.name in READERS]
    cases = []
    while len(cases) < count:
        pair = rng.random() < 0.33
        chosen = [rng.choice(setters), rng.choice(readers)] if pair else [rng.choice(insns)]
        words = tuple(_random_word(rng, insn) for insn in chosen)
        if not all(_implemented(i, w) for i, w in zip(chosen, words, strict=True)):
            continue
        regs = [rng.choice(INTERESTING) if rng.random() < 0.4 else rng.getrandbits(64)
                for _ in range(8)]
        cases.append((words, regs, rng.randrange(16) << 28))
    return cases


CASE_ASM = """\
    ldr x9, [x19, #64]
    msr nzcv, x9
    ldp x0, x1, [x19]
    ldp x2, x3, [x19, #16]
    ldp x4, x5, [x19, #32]
    ldp x6, x7, [x19, #48]
{insts}
    stp x0, x1, [x20]
    stp x2, x3, [x20, #16]
    stp x4, x5, [x20, #32]
    stp x6, x7, [x20, #48]
    mrs x9, nzcv
    str x9, [x20, #64]
    add x19, x19, #72
    add x20, x20, #72
"""

MAIN_C = """\
#include <stdio.h>
extern void run_cases(const unsigned long *in, unsigned long *out);
extern const unsigned long cases_in[];
extern const unsigned long ncases;
static unsigned long out[%(words)d];
int main(void) {
    run_cases(cases_in, out);
    for (unsigned long i = 0; i < ncases; i++) {
        for (int r = 0; r < 9; r++)
            printf("%%016lx%%c", out[i * 9 + r], r == 8 ? '\\n' : ' ');
    }
    return 0;
}
"""


def build(cases, d: Path) -> Path:
    asm = [".text", ".global run_cases", "run_cases:",
           "    stp x19, x20, [sp, #-16]!", "    mov x19, x0", "    mov x20, x1"]
    asm += [CASE_ASM.format(insts="\n".join(f"    .inst {w:#010x}" for w in words))
            for words, _, _ in cases]
    asm += ["    ldp x19, x20, [sp], #16", "    ret", ".data", ".global cases_in",
            ".balign 8", "cases_in:"]
    for _, regs, nzcv in cases:
        asm.append("    .quad " + ", ".join(f"{v:#x}" for v in [*regs, nzcv]))
    asm += [".global ncases", "ncases:", f"    .quad {len(cases)}"]
    (d / "cases.S").write_text("\n".join(asm) + "\n")
    (d / "main.c").write_text(MAIN_C % {"words": 9 * len(cases)})
    exe = d / "a64diff"
    subprocess.run([CC, "-O1", "-static", "-o", str(exe), str(d / "main.c"),
                    str(d / "cases.S")], check=True, capture_output=True)
    return exe


def run_both(exe: Path, cwd: str) -> tuple[subprocess.CompletedProcess, ...]:
    q = subprocess.run([QEMU, str(exe)], capture_output=True, timeout=300, cwd=cwd, check=False)
    boot = "from pemu.cli.user import main_aarch64; main_aarch64()"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    p = subprocess.run([sys.executable, "-c", boot, str(exe)], capture_output=True,
                       timeout=1800, cwd=cwd, env=env, check=False)
    return q, p


def first_difference(cases, q_out: bytes, p_out: bytes) -> str | None:
    """A description of the first differing case, or None if all agree."""
    ql, pl = q_out.decode().splitlines(), p_out.decode().splitlines()
    for i, (words, regs, nzcv) in enumerate(cases):
        a = ql[i] if i < len(ql) else "(missing)"
        b = pl[i] if i < len(pl) else "(missing)"
        if a != b:
            names = [f"x{r}" for r in range(8)] + ["nzcv"]
            inputs = " ".join(f"{n}={v:#x}" for n, v in zip(names, [*regs, nzcv], strict=True))
            code = "; ".join(_disassemble(w) for w in words)
            return (f"case {i}: {code}\n  inputs  {inputs}\n"
                    f"  qemu    {a}\n  pemu    {b}")
    if len(ql) != len(pl):
        return f"qemu printed {len(ql)} lines, pemu {len(pl)}"
    return None


def _disassemble(word: int) -> str:
    if OBJDUMP is None:
        return f"{word:#010x}"
    with tempfile.TemporaryDirectory() as d:
        raw = Path(d) / "w.bin"
        raw.write_bytes(word.to_bytes(4, "little"))
        r = subprocess.run([OBJDUMP, "-D", "-b", "binary", "-m", "aarch64", str(raw)],
                           capture_output=True, text=True, check=False)
    lines = [ln for ln in r.stdout.splitlines() if ln.strip().startswith("0:")]
    return lines[0].split(":", 1)[1].strip() if lines else f"{word:#010x}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    if CC is None or QEMU is None:
        print("needs aarch64-linux-gnu-gcc and qemu-aarch64")
        return 1
    cases = random_cases(args.seed, args.cases)
    with tempfile.TemporaryDirectory() as d:
        exe = build(cases, Path(d))
        q, p = run_both(exe, d)
    if q.returncode or p.returncode:
        print(f"exit status: qemu {q.returncode}, pemu {p.returncode}\n{p.stderr.decode()}")
        return 1
    diff = first_difference(cases, q.stdout, p.stdout)
    print(diff or f"{len(cases)} cases, 0 divergences")
    return 1 if diff else 0


if __name__ == "__main__":
    raise SystemExit(main())
