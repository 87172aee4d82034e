"""Differential testing of pemu's RISC-V CPU against qemu-system-riscv64.

Each image is a bare-metal program (`-M virt -bios none -kernel img.elf`):
a prologue loads random x/f registers, frm and a data area full of special
values; a random instruction stream from `rvgen` runs; an epilogue dumps
x1..x31, f0..f31, fcsr, mstatus, the data area and a log of every trap
(mcause, mtval) as hex lines on the ns16550 UART and exits through the
sifive_test device. Both emulators must print the same lines.

On a mismatch the stream is shrunk (shortest failing prefix, then removing
items while the mismatch persists) and the smallest failing program is
printed with the differing values.

    python tests/conformance/rvdiff.py --insns 1000000 --seed 1
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rvgen import (  # noqa: E402
    D_SPECIALS,
    DATA_SIZE,
    INT_SPECIALS,
    LOOP_MAX,
    S_SPECIALS,
    Gen,
    count,
)

AS = "riscv64-linux-gnu-as"
LD = "riscv64-linux-gnu-ld"
QEMU = "qemu-system-riscv64"
MARCH = "rv64gc_zba_zbb_zbs"
# QEMU 7.2's rv64 also has Zbc and H on by default; pemu implements neither
QEMU_CPU = "rv64,zbc=false,h=false"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NAMES = ([f"x{i}" for i in range(32)] + [f"f{i}" for i in range(32)]
         + ["fcsr", "mstatus", "log_checksum", "log_bytes"] + [f"pad{i}" for i in range(4)]
         + [f"mem{i * 8:#x}" for i in range(DATA_SIZE // 8)]
         + [f"trap{i // 2}.{'mtval' if i & 1 else 'mcause'}" for i in range(128)])
MSTATUS_MASK = (3 << 13) | (1 << 63)  # FS and SD: what the harness compares

PROLOGUE = """\
.option norelax
.text
.globl _start
_start:
    la t0, trap
    csrw mtvec, t0
    li t0, 0x2000
    csrs mstatus, t0          # FS = Initial
    la tp, save
    la t0, tlog
    sd t0, 16(tp)
    addi t0, t0, 1024
    sd t0, 24(tp)
    la t0, init_f
{floads}
    li t0, 0x6000
    csrc mstatus, t0
    li t0, 0x2000
    csrs mstatus, t0          # FS back to Initial: the stream must dirty it
    li t0, {fcsr}
    csrw fcsr, t0
    la gp, data
    la x31, resultlog
    la t0, init_x
{xloads}
    ld t0, 40(t0)
    # ---- random stream ----
"""
EPILOGUE = """\
    # ---- dump ----
    csrw mscratch, x1
    la x1, dump
{xstores}
    csrr x2, mscratch
    sd x2, 8(x1)
    csrr x2, mstatus
    sd x2, 520(x1)
    csrr x2, fcsr
    sd x2, 512(x1)
{fstores}
    la s0, resultlog          # checksum of the result log
    ld s1, 248(x1)
    li s2, 0
    li s4, 0x100000001b3
1:  bgeu s0, s1, 2f
    ld t0, 0(s0)
    xor s2, s2, t0
    mul s2, s2, s4
    srli t0, s2, 29
    xor s2, s2, t0
    addi s0, s0, 8
    j 1b
2:  sd s2, 528(x1)
    la s0, resultlog
    sub s1, s1, s0
    sd s1, 536(x1)
    la s0, dump
    li s1, {ndw}
    li s2, 0x10000000
    la s3, hexdigits
1:  ld t0, 0(s0)
    li t1, 60
2:  srl t2, t0, t1
    andi t2, t2, 15
    add t2, t2, s3
    lbu t2, 0(t2)
    sb t2, 0(s2)
    addi t1, t1, -4
    bgez t1, 2b
    li t2, 10
    sb t2, 0(s2)
    addi s0, s0, 8
    addi s1, s1, -1
    bnez s1, 1b
    li t0, 0x100000
    li t1, 0x5555
    sw t1, 0(t0)
3:  j 3b

    .align 2
trap:                         # log (mcause, mtval), skip the instruction
    sd t0, 0(tp)
    sd t1, 8(tp)
    ld t1, 16(tp)
    ld t0, 24(tp)
    bgeu t1, t0, 5f           # log full: keep running, the counts differ anyway
    csrr t0, mcause
    sd t0, 0(t1)
    csrr t0, mtval
    sd t0, 8(t1)
    addi t1, t1, 16
    sd t1, 16(tp)
5:  csrr t0, mepc
    lhu t1, 0(t0)
    andi t1, t1, 3
    addi t0, t0, 2
    xori t1, t1, 3
    bnez t1, 4f
    addi t0, t0, 2
4:  csrw mepc, t0
    ld t0, 0(tp)
    ld t1, 8(tp)
    mret

.data
.align 4
dump: .space 576
data:
{data}
tlog: .space 1024
save: .space 32
init_x:
{init_x}
init_f:
{init_f}
hexdigits: .ascii "0123456789abcdef"
.bss
.align 4
resultlog: .space {logsize}
"""


def _float_bits(r: random.Random, ebits: int, fbits: int) -> int:
    """A finite or special value of an IEEE format, biased towards values whose
    sums and products round in interesting ways (ties, boundaries)."""
    bias = (1 << (ebits - 1)) - 1
    sign = r.getrandbits(1) << (ebits + fbits)
    k = r.random()
    if k < 0.45:  # few significant bits, moderate exponent: exact ties happen
        m = r.getrandbits(r.randint(1, 8)) | 1
        e = r.choice([0, 0, 1, -1, fbits, fbits + 1, -fbits - 1, -fbits - 2, r.randint(-9, 9)])
        frac = (m << fbits) >> (m.bit_length() - 1) & ((1 << fbits) - 1)
        return sign | ((e + bias) << fbits) | frac
    if k < 0.6:  # all-ones or one-ulp significands
        frac = r.choice([(1 << fbits) - 1, (1 << fbits) - 2, 1, 2, 1 << (fbits - 1)])
        return sign | ((r.randint(-4, 4) + bias) << fbits) | frac
    if k < 0.8:  # near the underflow and overflow thresholds
        e = r.choice([0, 1, 2, r.randint(0, fbits), (1 << ebits) - 2, (1 << ebits) - 3])
        return sign | (e << fbits) | r.getrandbits(fbits)
    return sign | (r.randint(1, (1 << ebits) - 2) << fbits) | r.getrandbits(fbits)


def _value_pool(r: random.Random) -> int:
    k = r.random()
    if k < 0.2:
        return r.choice(D_SPECIALS)
    if k < 0.4:
        return _float_bits(r, 11, 52)
    if k < 0.5:
        return (0xFFFFFFFF << 32) | r.choice(S_SPECIALS)
    if k < 0.7:
        return (0xFFFFFFFF << 32) | _float_bits(r, 8, 23)
    if k < 0.75:
        return (_float_bits(r, 8, 23) << 32) | r.choice(S_SPECIALS)  # not NaN-boxed
    if k < 0.9:
        return r.choice(INT_SPECIALS)
    return r.getrandbits(64)


def source(items: list[str], seed: int) -> str:
    """The whole image's assembly for a stream (state derived from seed)."""
    r = random.Random(seed ^ 0x5EED)
    dwords = lambda n: "\n".join(f"    .dword {_value_pool(r):#x}" for _ in range(n))  # noqa: E731
    data, init_x, init_f = dwords(DATA_SIZE // 8), dwords(32), dwords(32)
    frm = r.randrange(5)
    src = "\n".join(items)
    return (PROLOGUE.format(
        floads="\n".join(f"    fld f{i}, {8 * i}(t0)" for i in range(32)),
        xloads="\n".join(f"    ld x{i}, {8 * i}(t0)" for i in range(1, 31) if i not in (3, 4, 5)),
        fcsr=frm << 5)
        + "\n".join(items) + "\n"
        + EPILOGUE.format(
            xstores="\n".join(f"    sd x{i}, {8 * i}(x1)" for i in range(2, 32)),
            fstores="\n".join(f"    fsd f{i}, {256 + 8 * i}(x1)" for i in range(32)),
            ndw=len(NAMES), data=data, init_x=init_x, init_f=init_f,
            logsize=8 * (src.count("\n") * LOOP_MAX + 16)))


def build(src: str, d: str) -> str:
    s, o, elf = (os.path.join(d, n) for n in ("t.S", "t.o", "t.elf"))
    with open(s, "w") as f:
        f.write(src)
    p = subprocess.run([AS, f"-march={MARCH}", "-o", o, s], capture_output=True, text=True)
    if p.returncode:
        raise RuntimeError("assembler: " + p.stderr[:2000])
    subprocess.run([LD, "-N", "-Ttext=0x80000000", "-o", elf, o], check=True, capture_output=True)
    return elf


def run(cmd: list[str], timeout: float = 240) -> list[int]:
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, errors="replace",
                       stdin=subprocess.DEVNULL)
    vals = []
    for line in p.stdout.splitlines():
        line = line.strip()
        if len(line) == 16:
            try:
                vals.append(int(line, 16))
            except ValueError:
                pass
    if len(vals) != len(NAMES):
        raise RuntimeError(f"{cmd[0]}: {len(vals)} values (rc {p.returncode}):"
                           f" {p.stderr[-1500:]}")
    vals[NAMES.index("mstatus")] &= MSTATUS_MASK
    return vals


def run_qemu(elf: str) -> list[int]:
    return run([QEMU, "-M", "virt", "-cpu", QEMU_CPU, "-bios", "none", "-kernel", elf,
                "-nographic", "-monitor", "none", "-serial", "stdio"])


def run_pemu(elf: str, extra: tuple[str, ...] = ()) -> list[int]:
    return run([sys.executable, "-m", "pemu.cli.system", "-M", "virt", "-bios", "none",
                "-kernel", elf, "-nographic", *extra])


def diff(items: list[str], seed: int, extra: tuple[str, ...] = ()) -> list[str]:
    """Differences between QEMU and pemu for one stream ([] if none)."""
    with tempfile.TemporaryDirectory() as d:
        elf = build(source(items, seed), d)
        q = run_qemu(elf)
        try:
            p = run_pemu(elf, extra)
        except (RuntimeError, subprocess.TimeoutExpired) as e:
            return [f"pemu failed: {str(e)[-600:]}"]
    return [f"{n}: qemu {a:#018x} pemu {b:#018x}"
            for n, a, b in zip(NAMES, q, p, strict=True) if a != b]


def shrink(items: list[str], seed: int, extra: tuple[str, ...] = ()) -> list[str]:
    """Smallest failing stream: shortest failing prefix, then drop items."""
    lo, hi = 0, len(items)  # items[:hi] fails; find the least such hi
    while lo + 1 < hi:
        mid = (lo + hi) // 2
        if diff(items[:mid], seed, extra):
            hi = mid
        else:
            lo = mid
    cur = items[:hi]
    chunk = max(1, len(cur) // 2)
    while chunk >= 1:
        i = 0
        while i < len(cur) - 1:  # the last item is the one that exposes it
            trial = cur[:i] + cur[i + chunk:]
            if trial and trial[-1] == cur[-1] and diff(trial, seed, extra):
                cur = trial
            else:
                i += chunk
        if chunk == 1:
            break
        chunk //= 2
    return cur


def check_image(seed: int, n: int, extra: tuple[str, ...] = (),
                bitmanip: bool = True) -> tuple[int, list[str], list[str]]:
    """Run one image of about n instructions: (count, differences, items)."""
    items = Gen(seed, bitmanip=bitmanip).program(n)
    return count(items), diff(items, seed, extra), items


def report(seed: int, items: list[str], extra: tuple[str, ...] = ()) -> str:
    small = shrink(items, seed, extra)
    lines = [f"seed {seed}: smallest failing stream ({len(small)} items):"]
    lines += ["    " + ln for it in small for ln in it.splitlines()]
    lines += ["differences:"] + ["    " + d for d in diff(small, seed, extra)[:20]]
    return "\n".join(lines)


def available() -> str | None:
    """None if the tools are present, else what is missing."""
    for tool in (AS, LD, QEMU):
        if shutil.which(tool) is None:
            return f"{tool} missing (Debian: binutils-riscv64-linux-gnu, qemu-system-misc)"
    return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--insns", type=int, default=100_000, help="total random instructions")
    ap.add_argument("--per-image", type=int, default=12_500)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    tier = ap.add_mutually_exclusive_group()
    tier.add_argument("--tier0", action="store_true", help="pemu -accel tcg,one-insn-per-tb=on")
    tier.add_argument("--python-tier", action="store_true", help="pemu -accel tcg,native=off")
    tier.add_argument("--native-all", action="store_true",
                      help="every block as native code before its first run (PEMU_NATIVE_HOT=0)")
    ap.add_argument("--no-shrink", action="store_true")
    args = ap.parse_args(argv)
    missing = available()
    if missing:
        print(missing)
        return 2
    extra: tuple[str, ...] = ()
    if args.tier0:
        extra = ("-accel", "tcg,one-insn-per-tb=on")
    elif args.python_tier:
        extra = ("-accel", "tcg,native=off")
    elif args.native_all:
        os.environ["PEMU_NATIVE_HOT"] = "0"
        extra = ("-accel", "tcg,native=on")
    nimg = max(1, -(-args.insns // args.per_image))
    seeds = [args.seed * 100_003 + i for i in range(nimg)]
    t0 = time.time()
    total = bad = 0
    with ThreadPoolExecutor(args.jobs) as ex:
        for seed, (count, d, items) in zip(seeds, ex.map(
                lambda s: check_image(s, args.per_image, extra), seeds), strict=True):
            total += count
            if d:
                bad += 1
                print(f"image seed {seed}: {len(d)} differing values, e.g. {d[0]}")
                if not args.no_shrink:
                    print(report(seed, items, extra))
    print(f"{total} instructions in {nimg} images, {bad} divergent images,"
          f" {time.time() - t0:.0f} s")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
