"""Run one small bare-metal program on qemu-system-riscv64 and on pemu and
collect what it recorded: the peer is the oracle for directed tests.

A probe is the assembly of a body that runs in M-mode after a prologue. The
body records values with `REC reg` (appended to a result list) and may take
traps: the default handler logs (mcause, mtval, mepc - _start) and resumes
after the faulting instruction (for an interrupt: at mepc, with mie cleared
so it is taken once). `TRAPS` in a body is where S-mode code can return to
M-mode: `ecall` from S or U jumps to the address in a0 in M-mode.

The epilogue prints every recorded value, then the trap count and log, as
16-digit hex lines on the UART and stops the machine through sifive_test.

    python tests/conformance/rvprobe.py body.S      # prints both result lists
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass

AS = "riscv64-linux-gnu-as"
LD = "riscv64-linux-gnu-ld"
QEMU = "qemu-system-riscv64"
MARCH = "rv64gc_zicbom_zicboz_zicbop_zihintpause_svinval"

PROLOGUE = """\
.option norelax
.macro REC reg
    sd \\reg, 0(s11)
    addi s11, s11, 8
.endm
.text
.globl _start
_start:
    la t0, trap
    csrw mtvec, t0
    li t0, -1                 # one PMP entry granting everything: QEMU 7.2's mret
    csrw pmpaddr0, t0         # to a lower privilege is illegal while no PMP rule is set
    li t0, 0x1f
    csrw pmpcfg0, t0
    li t0, 0x2004000          # CLINT mtimecmp of hart 0: no machine timer
    li t1, -1                 # interrupt (QEMU resets it to 0, pemu to all ones)
    sd t1, 0(t0)
    la s11, results
    la s10, tlog
    la s8, tsave              # the handler's save area
    li s9, 0                  # trap count
    j body

    .align 2
trap:                         # log (mcause, mtval, mepc - _start)
    sd t0, 0(s8)
    sd t1, 8(s8)
    addi s9, s9, 1
    li t0, 48
    bgeu s9, t0, 6f           # log full: count only
    csrr t0, mcause
    sd t0, 0(s10)
    csrr t0, mtval
    sd t0, 8(s10)
    csrr t0, mepc
    sd t0, 16(s10)
    la t0, _start
    ld t1, 16(s10)
    sub t1, t1, t0
    sd t1, 16(s10)
    addi s10, s10, 24
6:  csrr t0, mcause
    bltz t0, 7f               # interrupt: resume at mepc, once
    li t1, 8                  # ecall from U or S: continue in M-mode at a0
    beq t0, t1, 8f
    li t1, 9
    beq t0, t1, 8f
    csrr t0, mepc
    lhu t1, 0(t0)
    andi t1, t1, 3
    addi t0, t0, 2
    xori t1, t1, 3
    bnez t1, 4f
    addi t0, t0, 2
4:  csrw mepc, t0
    ld t0, 0(s8)
    ld t1, 8(s8)
    mret
7:  csrw mie, zero
    ld t0, 0(s8)
    ld t1, 8(s8)
    mret
8:  li t0, 0x1800
    csrs mstatus, t0          # MPP = M
    csrw mepc, a0
    ld t0, 0(s8)
    ld t1, 8(s8)
    mret

body:
"""

EPILOGUE = """
done:
    la s0, results            # print the count and results, then the trap count and log
    sub t0, s11, s0
    srli t0, t0, 3
    REC t0
    addi s0, s11, -8
    mv s1, s11
    call dump
    la s0, results
    addi s1, s11, -8
    call dump
    REC s9
    addi s0, s11, -8
    mv s1, s11
    call dump
    la s0, tlog
    mv s1, s10
    call dump
    li t0, 0x100000
    li t1, 0x5555
    sw t1, 0(t0)
1:  j 1b

dump:                         # hex lines for the dwords in [s0, s1)
    li s2, 0x10000000
    la s3, hexdigits
1:  bgeu s0, s1, 3f
    ld t0, 0(s0)
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
    j 1b
3:  ret

.data
.align 6
hexdigits: .ascii "0123456789abcdef"
.align 12
page: .space 4096
results: .space 2048
tlog: .space 1200
tsave: .space 16
"""


@dataclass
class Result:
    """What a probe recorded: its values, the number of traps, the trap log
    (mcause, mtval, mepc offset from _start) of the first 47."""

    values: list[int]
    ntraps: int
    traps: list[tuple[int, int, int]]


def available() -> str | None:
    """None if the tools are present, else what is missing."""
    for tool in (AS, LD, QEMU):
        if shutil.which(tool) is None:
            return f"{tool} missing (Debian: binutils-riscv64-linux-gnu, qemu-system-misc)"
    return None


def build(body: str, d: str) -> str:
    s, o, elf = (os.path.join(d, n) for n in ("p.S", "p.o", "p.elf"))
    with open(s, "w") as f:
        f.write(PROLOGUE + body + EPILOGUE)
    p = subprocess.run([AS, f"-march={MARCH}", "-o", o, s], capture_output=True, text=True)
    if p.returncode:
        raise RuntimeError("assembler: " + p.stderr[:2000])
    subprocess.run([LD, "-N", "-Ttext=0x80000000", "-o", elf, o], check=True,
                   capture_output=True)
    return elf


def _parse(out: str, err: str, who: str) -> Result:
    vals = []
    for line in out.splitlines():
        line = line.strip()
        if len(line) == 16:
            try:
                vals.append(int(line, 16))
            except ValueError:
                pass
    # the count of values, the values, the trap count n, min(n, 47) triples
    if vals and len(vals) >= vals[0] + 2:
        nv = vals[0]
        n = vals[nv + 1]
        log = vals[nv + 2:]
        if len(log) == 3 * min(n, 47):
            return Result(vals[1:nv + 1], n,
                          [tuple(log[j:j + 3]) for j in range(0, len(log), 3)])
    raise RuntimeError(f"{who}: unparsable output {out[-800:]!r} {err[-800:]!r}")


def run(cmd: list[str], who: str, timeout: float = 60) -> Result:
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, errors="replace",
                       stdin=subprocess.DEVNULL)
    return _parse(p.stdout, p.stderr, who)


def run_qemu(elf: str, cpu: str = "rv64") -> Result:
    return run([QEMU, "-M", "virt", "-cpu", cpu, "-bios", "none", "-kernel", elf,
                "-nographic", "-monitor", "none", "-serial", "stdio"], "qemu")


def run_pemu(elf: str, cpu: str = "rv64", extra: tuple[str, ...] = ()) -> Result:
    return run([sys.executable, "-m", "pemu.cli.system", "-M", "virt", "-cpu", cpu,
                "-bios", "none", "-kernel", elf, "-nographic", *extra], "pemu")


def both(body: str, cpu: str = "rv64", extra: tuple[str, ...] = (),
         qemu_cpu: str | None = None) -> tuple[Result, Result]:
    """(qemu's result, pemu's result) for one body."""
    with tempfile.TemporaryDirectory() as d:
        elf = build(body, d)
        return run_qemu(elf, qemu_cpu or cpu), run_pemu(elf, cpu, extra)


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        q, p = both(f.read(), *(sys.argv[2:3] or ["rv64"]))
    print("qemu", q)
    print("pemu", p)
