"""Extensions and CSRs of QEMU 7.2's default rv64 beyond RV64GC: Sstc,
menvcfg/senvcfg, Sdtrig triggers, Svinval, Svpbmt/Svnapot, Zihintpause and
the Zicbop hints, and the riscv,isa that announces them.

Every program runs on qemu-system-riscv64 and on pemu (both tiers) through
rvprobe.py; the values it records and every trap it takes (mcause, mtval,
mepc) must be the same: QEMU is the oracle, no expected value is written
here. Each test also checks the program did what it is about (it recorded
values, it took the traps it provokes), so a probe that runs nothing
cannot pass.
"""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import rvprobe  # noqa: E402

pytestmark = pytest.mark.skipif(rvprobe.available() is not None,
                                reason=str(rvprobe.available()))
TIERS = {"tier1": (), "tier0": ("-accel", "tcg,one-insn-per-tb=on")}

TO_S = """
to_s:                           # continue at the caller in S-mode
    li t0, 0x1800
    csrc mstatus, t0
    li t0, 0x0800
    csrs mstatus, t0
    csrw mepc, ra
    mret
"""


def same(body: str, cpu: str = "rv64", tier: str = "tier1") -> rvprobe.Result:
    """Run body on both; assert pemu recorded what QEMU did; QEMU's result."""
    q, p = rvprobe.both(body + TO_S, cpu, TIERS[tier])
    assert p.values == q.values, "\n".join(
        f"value {i}: qemu {a:#x} pemu {b:#x}"
        for i, (a, b) in enumerate(zip(q.values, p.values, strict=False)) if a != b) or \
        f"{len(q.values)} values from qemu, {len(p.values)} from pemu"
    assert (p.ntraps, p.traps) == (q.ntraps, q.traps), \
        f"traps: qemu {q.ntraps} {q.traps}\n       pemu {p.ntraps} {p.traps}"
    return q


def causes(r: rvprobe.Result) -> list[int]:
    return [c for c, _, _ in r.traps]


ENVCFG = """
    csrr t0, menvcfg
    REC t0
    li t0, -1
    csrw menvcfg, t0            # WARL: FIOM, CBIE, CBCFE, CBZE, PBMTE, STCE stick
    csrr t0, menvcfg
    REC t0
    li t0, 0x20
    csrw menvcfg, t0            # CBIE = 10b (reserved)
    csrr t0, menvcfg
    REC t0
    csrw menvcfg, zero
    csrr t0, menvcfg
    REC t0
    csrr t0, senvcfg
    REC t0
    li t0, -1
    csrw senvcfg, t0
    csrr t0, senvcfg
    REC t0
    la a0, 1f
    call to_s
    li t0, 0x11
    csrw senvcfg, t0            # S-mode may write senvcfg ...
    csrr t0, senvcfg
    REC t0
    csrr t0, menvcfg            # ... not menvcfg
    ecall
1:  j done
"""


@pytest.mark.parametrize("tier", TIERS)
def test_envcfg_warl_fields(tier):
    r = same(ENVCFG, tier=tier)
    assert len(r.values) == 7 and causes(r) == [2, 9]


SSTC = """
    csrr t0, mip
    REC t0
    csrw stimecmp, zero         # STCE clear: still drives STIP (QEMU 7.2)
    csrr t0, mip
    REC t0
    li t0, -1
    csrw stimecmp, t0
    csrr t0, mip
    REC t0
    li t0, 0x20
    csrs mip, t0                # STIP is a software bit while STCE is clear
    csrr t0, mip
    REC t0
    li t0, 0x20
    csrc mip, t0
    li t0, 1 << 63
    csrs menvcfg, t0            # STCE
    li t0, 0x20
    csrs mip, t0                # now read-only
    csrr t0, mip
    REC t0
    csrw stimecmp, zero
    csrr t0, mip
    REC t0
    li t0, 0x20
    csrc mip, t0
    csrr t0, mip
    REC t0
    li t0, -1
    csrw stimecmp, t0
    csrr t0, mip
    REC t0
    # S-mode access needs mcounteren.TM and menvcfg.STCE
    csrw mcounteren, zero
    la a0, 1f
    call to_s
    li t1, 1
    csrr t1, stimecmp           # TM = 0: illegal
    REC t1
    ecall
1:  li t0, 2
    csrw mcounteren, t0
    li t0, 1 << 63
    csrc menvcfg, t0
    la a0, 1f
    call to_s
    li t1, 2
    csrr t1, stimecmp           # STCE = 0: illegal
    REC t1
    ecall
1:  li t0, 1 << 63
    csrs menvcfg, t0
    la a0, 1f
    call to_s
    csrr t1, stimecmp
    REC t1
    li t1, 0x55
    csrw stimecmp, t1
    csrr t1, stimecmp
    REC t1
    csrr t1, sip
    REC t1
    li t1, -1
    csrw stimecmp, t1
    ecall
1:  # the timer interrupt, not delegated. The waits are timing-proof: each
    # wfi runs with the interrupt pending-but-masked as the outcome, and the
    # interrupt is taken at a fixed instruction once it is unmasked.
    li t0, 0x20
    csrs mie, t0
    csrr t0, time
    addi t0, t0, 1000
    csrw stimecmp, t0
2:  wfi                         # M-mode, mstatus.MIE = 0: wakes, no trap
    csrr t0, mip
    andi t0, t0, 0x20
    beqz t0, 2b
    REC t0
    la a0, 1f
    call to_s                   # taken on entering S (M interrupts are on there)
    ecall
1:  csrr t0, mip
    REC t0
    li t0, -1
    csrw stimecmp, t0
    csrr t0, mip
    REC t0
    # delegated to S: the S handler sees scause 5 and silences the timer
    li t0, 0x20
    csrs mideleg, t0
    la t0, strap
    csrw stvec, t0
    csrr t0, time
    addi t0, t0, 1000
    csrw stimecmp, t0
    li t0, 0x20
    csrs mie, t0
    la a0, 1f
    call to_s
2:  wfi                         # S-mode, sstatus.SIE = 0: wakes, no trap
    csrr t0, sip
    andi t0, t0, 0x20
    beqz t0, 2b
    csrsi sstatus, 2
3:  j 3b
    .align 2
strap:
    csrr t0, scause
    REC t0
    csrr t0, sepc
    la t1, 3b
    sub t0, t0, t1
    REC t0
    li t0, -1
    csrw stimecmp, t0
    csrr t0, sip
    REC t0
    ecall
1:  j done
"""


@pytest.mark.parametrize("tier", TIERS)
def test_sstc_stimecmp_and_its_interrupt(tier):
    r = same(SSTC, tier=tier)
    assert (1 << 63) | 5 in causes(r)  # the supervisor timer interrupt was taken
    assert r.values[-3] == (1 << 63) | 5  # and delegated: scause in the S handler


def test_sstc_off_removes_stimecmp():
    r = same("""
    csrr t0, stimecmp
    li t0, 0x20
    csrs mip, t0
    csrr t0, mip
    REC t0
    j done
""", cpu="rv64,sstc=off")
    assert causes(r) == [2]


TRIGGER_CSRS = """
    csrr t0, tselect
    REC t0
    csrr t0, tinfo
    REC t0
    csrr t0, tdata1
    REC t0
    li t0, 7
    csrw tselect, t0            # only triggers 0 and 1 exist
    csrr t0, tselect
    REC t0
    csrwi tselect, 1
    csrr t0, tselect
    REC t0
    li t0, 0x2FFFFFFFFFFFFFFF   # mcontrol, every bit
    csrw tdata1, t0
    csrr t0, tdata1
    REC t0
    li t0, 0x6FFFFFFFFFFFFFFF   # mcontrol6, every bit
    csrw tdata1, t0
    csrr t0, tdata1
    REC t0
    li t0, 0x3FFFFFFFFFFFFFFF   # icount: not implemented in 7.2, ignored
    csrw tdata1, t0
    csrr t0, tdata1
    REC t0
    csrw tdata1, zero           # type 0: ignored too
    csrr t0, tdata1
    REC t0
    li t0, -1
    csrw tdata2, t0
    csrr t0, tdata2
    REC t0
    csrw tdata3, t0
    csrr t0, tdata3
    REC t0
    csrw tinfo, t0
    csrr t0, tinfo
    REC t0
    .irp size, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
    li t0, (2 << 60) | ((\\size & 3) << 16) | ((\\size >> 2) << 21) | 7
    csrw tdata1, t0
    csrr t0, tdata1
    REC t0
    li t0, (6 << 60) | (\\size << 16) | 7
    csrw tdata1, t0
    csrr t0, tdata1
    REC t0
    .endr
    csrwi tselect, 0
    csrr t0, tdata2             # per trigger
    REC t0
    csrr t0, 0x7a5              # tcontrol, mcontext, scontext: absent in 7.2
    csrr t0, 0x7a8
    csrr t0, 0x5a8
    la a0, 1f
    call to_s
    csrr t0, tselect            # M-mode only
    ecall
1:  j done
"""


@pytest.mark.parametrize("tier", TIERS)
def test_trigger_csrs(tier):
    r = same(TRIGGER_CSRS, tier=tier)
    assert len(r.values) == 12 + 32 + 1 and causes(r) == [2, 2, 2, 2, 9]


def test_debug_off_removes_the_trigger_csrs():
    r = same("""
    csrr t0, tselect
    csrr t0, tinfo
    csrw tdata1, zero
    j done
""", cpu="rv64,debug=off")
    assert causes(r) == [2, 2, 2]


TRIGGERS_FIRE = """
    la t1, page
    addi t2, t1, 16
    li t0, 0x2000
    csrs mstatus, t0            # FS on, for fld/fsd
    # execute trigger in M-mode
    la t0, bp1
    csrw tdata2, t0
    li t0, (2 << 60) | (1 << 6) | 4
    csrw tdata1, t0
    li a5, 1
bp1:
    li a5, 2                    # breakpoint before it runs: the handler skips it
    REC a5
    # load trigger (size any: 8 bytes from page + 16)
    csrw tdata2, t2
    li t0, (2 << 60) | (1 << 6) | 1
    csrw tdata1, t0
    li a5, 7
    ld a5, 16(t1)
    REC a5
    lbu a5, 23(t1)
    REC a5
    lbu a5, 24(t1)
    REC a5
    lw a5, 12(t1)
    REC a5
    fld fa0, 20(t1)
    sd a5, 16(t1)               # a store: no match
    amoadd.d a3, a5, (t2)       # AMOs match load triggers
    lr.d a3, (t2)
    sc.d a3, a3, (t2)
    REC a3
    # store trigger of 4 bytes at page + 16
    li t0, (2 << 60) | (1 << 6) | (3 << 16) | 2
    csrw tdata1, t0
    li a5, 0x55
    sd a5, 16(t1)
    sb a5, 19(t1)
    sb a5, 20(t1)               # outside the 4 bytes
    sw a5, 12(t1)
    fsd fa0, 16(t1)
    amoor.d a3, a5, (t2)
    lr.d a3, (t2)
    REC a3
    sc.d a3, a5, (t2)
    ld a4, 16(t1)               # what the suppressed stores left
    REC a4
    # mode bits: a U-only trigger does not fire in M or S
    li t0, (2 << 60) | (1 << 3) | 3
    csrw tdata1, t0
    ld a3, 16(t1)
    REC a3
    # trigger 1: execute in S-mode, as mcontrol6
    csrwi tselect, 1
    la t0, sbp
    csrw tdata2, t0
    li t0, (6 << 60) | (1 << 4) | 4
    csrw tdata1, t0
    la a0, 1f
    call to_s
    li a4, 1
sbp:
    li a4, 2
    REC a4
    ld a3, 16(t1)
    REC a3
    ecall
1:  li t0, 6 << 60              # switch trigger 1 off (type 6, no match bits)
    csrw tdata1, t0
    la a0, 1f
    call to_s
    j sbp
1:  csrwi tselect, 0
    li t0, 2 << 60
    csrw tdata1, t0
    j done
"""


@pytest.mark.parametrize("tier", TIERS)
def test_triggers_raise_breakpoints(tier):
    r = same(TRIGGERS_FIRE, tier=tier)
    assert causes(r).count(3) >= 10 and {t for _, t, _ in r.traps} == {0}


def loop_trigger(tier):
    """An execute trigger inside a loop translated as one block."""
    return same("""
    li a5, 0
    li a4, 0
    la t0, 2f
    csrw tdata2, t0
    li t0, (2 << 60) | (1 << 6) | 4
    csrw tdata1, t0
1:  addi a4, a4, 1
2:  addi a5, a5, 1              # skipped by the handler on every pass
    li t0, 20
    blt a4, t0, 1b
    REC a4
    REC a5
    li t0, 2 << 60
    csrw tdata1, t0
    j done
""", tier=tier)


@pytest.mark.parametrize("tier", TIERS)
def test_execute_trigger_in_a_loop(tier):
    r = loop_trigger(tier)
    assert r.ntraps == 20 and r.values == [20, 0]


SVINVAL = """
    la a1, page
    sinval.vma a1, zero
    sfence.w.inval
    sfence.inval.ir
    sinval.vma zero, zero
    li t0, 1 << 20
    csrs mstatus, t0            # TVM
    la a0, 1f
    call to_s
    sinval.vma a1, zero         # illegal with TVM, like sfence.vma
    sfence.w.inval
    sfence.inval.ir
    sfence.vma
    ecall
1:  li t0, 1 << 20
    csrc mstatus, t0
    la a0, 1f
    call to_s
    sinval.vma a1, zero
    ecall
1:  la a0, 1f
    li t0, 0x1800
    csrc mstatus, t0            # MPP = U
    la t0, 2f
    csrw mepc, t0
    mret
2:  sinval.vma a1, zero         # illegal in U
    sfence.w.inval
    sfence.inval.ir
    ecall
1:  li a5, 1
    REC a5
    j done
"""


@pytest.mark.parametrize("cpu", ["rv64", "rv64,svinval=on"])
def test_svinval(cpu):
    r = same(SVINVAL, cpu=cpu)
    assert causes(r).count(2) == (3 if "svinval" in cpu else 12)


HINTS = """
    la a1, page
    li a5, 1
    pause                       # Zihintpause: a fence hint
    prefetch.r 0(a1)            # Zicbop: ori x0 hints
    prefetch.w 64(a1)
    prefetch.i 128(a1)
    ori x0, a5, 0x7ff
    REC a5
    cbo.zero (a1)               # QEMU 7.2 has no Zicbom/Zicboz: illegal
    cbo.clean (a1)
    cbo.flush (a1)
    cbo.inval (a1)
    j done
"""


def test_hints_and_cache_block_operations():
    r = same(HINTS)
    assert r.values == [1] and causes(r) == [2, 2, 2, 2]


PTE_CASE = """
    la t0, page
    srli t0, t0, 12
    andi t1, t0, 15
    andi t0, t0, -16
    ori t0, t0, 8               # ppn of a 64 KiB NAPOT range holding `page`
    slli t0, t0, 10
    ori t0, t0, 0xcf            # D A X W R V
    li t2, {leaf}
    or t0, t0, t2
    la t2, l0
    addi t3, t1, 16
    slli t3, t3, 3
    add t2, t2, t3
    sd t0, 0(t2)
    la t0, l0
    srli t0, t0, 12
    slli t0, t0, 10
    ori t0, t0, 1
    li t2, {nonleaf}
    or t0, t0, t2
    la t2, l1
    sd t0, 0(t2)
    sfence.vma
    addi t1, t1, 16
    slli a1, t1, 12
    la a0, 1f
    call to_s
    li a2, 0x77
    ld a2, 0(a1)
    REC a2
    ecall
1:
"""
PTE_BITS = [(0, 0), (1 << 55, 0), (1 << 61, 0), (2 << 61, 0), (3 << 61, 0), (1 << 63, 0),
            ((1 << 63) | (1 << 61), 0), (0, 1 << 63), (0, 1 << 61), (0, 1 << 55)]
PAGING = """
.section .data
.align 12
root: .space 4096
l1: .space 4096
l0: .space 4096
.text
    la t1, page
    li t0, 0x1122334455667788
    sd t0, 0(t1)
    la t0, l1                   # root[0] -> l1; root[2]: RAM as a gigapage
    srli t0, t0, 12
    slli t0, t0, 10
    ori t0, t0, 1
    la t1, root
    sd t0, 0(t1)
    li t0, (0x80000000 >> 12 << 10) | 0xcf
    sd t0, 16(t1)
    srli t1, t1, 12
    li t0, 8 << 60
    or t0, t0, t1
    csrw satp, t0
""" + "".join(PTE_CASE.format(leaf=a, nonleaf=b) for a, b in PTE_BITS) + """
    li t0, 1 << 62
    csrs menvcfg, t0            # PBMTE: QEMU 7.2's walk does not look at it
""" + "".join(PTE_CASE.format(leaf=a, nonleaf=b) for a, b in PTE_BITS) + """
    csrw satp, zero
    j done
"""


@pytest.mark.parametrize("cpu", ["rv64", "rv64,svnapot=on", "rv64,svpbmt=on",
                                 "rv64,svpbmt=on,svnapot=on"])
def test_pte_bits_of_svpbmt_and_svnapot(cpu):
    r = same(PAGING, cpu=cpu)
    assert len(r.values) == 2 * len(PTE_BITS) and 13 in causes(r)
    if "svnapot" in cpu:  # the NAPOT leaf reached `page`
        assert 0x1122334455667788 in r.values


def isa_of(cmd: list[str], tmp_path, name: str) -> str:
    dtb = tmp_path / f"{name}.dtb"
    subprocess.run(cmd + ["-M", f"virt,dumpdtb={dtb}", "-nographic"], capture_output=True,
                   check=True, timeout=60)
    dts = subprocess.run(["dtc", "-I", "dtb", "-O", "dts", str(dtb)], capture_output=True,
                         text=True, check=True).stdout
    return dts.split('riscv,isa = "', 1)[1].split('"', 1)[0]


@pytest.mark.parametrize("switches", ["", ",svinval=on,svnapot=on,svpbmt=on", ",sstc=off",
                                      ",zba=off,svpbmt=on", ",debug=off"])
def test_riscv_isa_is_qemus(tmp_path, switches):
    """QEMU's string without what pemu lacks (H and Zbc, switched off there)."""
    import shutil
    if shutil.which("dtc") is None:
        pytest.skip("dtc missing (Debian package device-tree-compiler)")
    cpu = "rv64" + switches
    q = isa_of([rvprobe.QEMU, "-cpu", cpu + ",h=false,zbc=false"], tmp_path, "q")
    p = isa_of([sys.executable, "-m", "pemu.cli.system", "-cpu", cpu], tmp_path, "p")
    assert p == q
