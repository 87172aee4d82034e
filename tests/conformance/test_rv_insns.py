"""Per-instruction RISC-V tests: each case is a few lines of assembly and the
register values the ISA manual (or IEEE 754) says they must produce. The
expected values are worked out by hand from the specification text cited in
each group, never taken from pemu. Every case runs in both tiers.
"""
from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "unit", "riscv"))
from rvasm import BareMachine, assemble, needs_as  # noqa: E402

M = (1 << 64) - 1
pytestmark = needs_as

QNAN_D, QNAN_S = 0x7FF8000000000000, 0xFFFFFFFF7FC00000
NV, DZ, OF, UF, NX = 16, 8, 4, 2, 1
ONE_D, ONE_S = 0x3FF0000000000000, 0xFFFFFFFF3F800000


def run(src: str, tier: int, march: str = "rv64gc_zba_zbb_zbs"):
    code = assemble("li t6, 0x6000\ncsrs mstatus, t6\n" + src + "\nwfi_loop: j wfi_loop",
                    march=march)
    m = BareMachine(code, tier)
    cpu = m.run(2000)
    return cpu


def li(reg: str, v: int) -> str:
    return f"li {reg}, {v:#x}"


# (name, source, {register: expected}) -------------------------------------------
# M extension: "Division Operations" table (division by zero, overflow)
CASES = [
    ("div_by_zero", "li a0, 7\ndiv a1, a0, x0\ndivu a2, a0, x0\nrem a3, a0, x0\nremu a4, a0, x0",
     {"a1": M, "a2": M, "a3": 7, "a4": 7}),
    ("div_overflow", f"{li('a0', 1 << 63)}\nli a5, -1\ndiv a1, a0, a5\nrem a2, a0, a5",
     {"a1": 1 << 63, "a2": 0}),
    ("divw_overflow", "li a0, -0x80000000\nli a5, -1\ndivw a1, a0, a5\nremw a2, a0, a5\n"
     "divuw a3, a0, x0\nremuw a4, a0, x0",
     {"a1": 0xFFFFFFFF80000000, "a2": 0, "a3": M, "a4": 0xFFFFFFFF80000000}),
    ("div_signs", "li a0, -7\nli a5, 2\ndiv a1, a0, a5\nrem a2, a0, a5",
     {"a1": (-3) & M, "a2": (-1) & M}),  # truncating division, remainder sign of dividend
    ("mulh_signs", "li a0, -1\nli a5, -1\nmulh a1, a0, a5\nmulhu a2, a0, a5\nmulhsu a3, a0, a5",
     {"a1": 0, "a2": M - 1, "a3": M}),
    ("mulw_sext", "li a0, 0x10000\nmulw a1, a0, a0\nli a0, 0x8000\nli a5, 0x10000\n"
     "mulw a2, a0, a5", {"a1": 0, "a2": 0xFFFFFFFF80000000}),
    # I: W forms sign-extend bit 31; shifts use the low 5/6 bits
    ("addw_sext", "li a0, 0x7fffffff\naddiw a1, a0, 1\nsllw a2, a0, a0",
     {"a1": 0xFFFFFFFF80000000, "a2": 0xFFFFFFFF80000000}),
    ("sraw", "li a0, 0x80000000\nli a5, 33\nsraw a1, a0, a5", {"a1": 0xFFFFFFFFC0000000}),
    # Zba
    ("sh3add_uw", f"{li('a0', 0xFFFFFFFF00000001)}\nli a5, 2\nsh3add.uw a1, a0, a5\n"
     "add.uw a2, a0, a5\nslli.uw a3, a0, 4", {"a1": 10, "a2": 3, "a3": 16}),
    # Zbb
    ("clz_ctz_cpop", "li a0, 0x100\nclz a1, a0\nctz a2, a0\ncpop a3, a0\nclz a4, x0\n"
     "ctzw a5, x0\nclzw a6, a0", {"a1": 55, "a2": 8, "a3": 1, "a4": 64, "a5": 32, "a6": 23}),
    ("minmax", "li a0, -1\nli a5, 1\nmin a1, a0, a5\nminu a2, a0, a5\nmax a3, a0, a5\n"
     "maxu a4, a0, a5", {"a1": M, "a2": 1, "a3": 1, "a4": M}),
    ("rotates", f"{li('a0', 0x8000000000000001)}\nrori a1, a0, 1\nli a5, 1\nrol a2, a0, a5\n"
     "li a0, 0x80000001\nroriw a3, a0, 1\nrolw a4, a0, a5",
     {"a1": 0xC000000000000000, "a2": 3, "a3": 0xFFFFFFFFC0000000, "a4": 3}),
    ("orc_rev8", f"{li('a0', 0x0102000000300004)}\norc.b a1, a0\nrev8 a2, a0",
     {"a1": 0xFFFF000000FF00FF, "a2": 0x0400300000000201}),
    ("sext_zext", "li a0, 0x1ff80\nsext.b a1, a0\nsext.h a2, a0\nzext.h a3, a0\n"
     "andn a4, a0, a0\norn a5, x0, x0\nxnor a6, x0, x0",
     {"a1": (-128) & M, "a2": (-128) & M, "a3": 0xFF80, "a4": 0, "a5": M, "a6": M}),
    # Zbs
    ("bits", "li a0, 0\nbseti a1, a0, 63\nbinvi a2, a1, 0\nbclri a3, a2, 63\nbexti a4, a1, 63\n"
     "li a5, 65\nbset a6, x0, a5", {"a1": 1 << 63, "a2": (1 << 63) | 1, "a3": 1,
                                    "a4": 1, "a6": 2}),
    # F/D (IEEE 754-2008 with the RISC-V choices; "F" chapter)
    ("fdiv_dz", f"{li('a0', ONE_D)}\nfmv.d.x f1, a0\nfmv.d.x f2, x0\nfdiv.d f3, f1, f2\n"
     "fmv.x.d a1, f3\nfrflags a2", {"a1": 0x7FF0000000000000, "a2": DZ}),
    ("f_0_div_0", "fmv.d.x f2, x0\nfdiv.d f3, f2, f2\nfmv.x.d a1, f3\nfrflags a2",
     {"a1": QNAN_D, "a2": NV}),
    ("fsqrt_neg", f"{li('a0', 0xBFF0000000000000)}\nfmv.d.x f1, a0\nfsqrt.d f2, f1\n"
     "fmv.x.d a1, f2\nfrflags a2", {"a1": QNAN_D, "a2": NV}),
    ("fadd_inexact_rm", f"{li('a0', ONE_D)}\n{li('a5', 0x3CA0000000000000)}\n"  # 1 + 2**-53
     "fmv.d.x f1, a0\nfmv.d.x f2, a5\nfadd.d f3, f1, f2, rne\nfadd.d f4, f1, f2, rup\n"
     "fmv.x.d a1, f3\nfmv.x.d a2, f4\nfrflags a3",
     {"a1": ONE_D, "a2": ONE_D + 1, "a3": NX}),
    ("fmul_overflow", f"{li('a0', 0x7FEFFFFFFFFFFFFF)}\nfmv.d.x f1, a0\n"
     "fmul.d f2, f1, f1, rne\nfmul.d f3, f1, f1, rtz\nfmv.x.d a1, f2\nfmv.x.d a2, f3\n"
     "frflags a3", {"a1": 0x7FF0000000000000, "a2": 0x7FEFFFFFFFFFFFFF, "a3": OF | NX}),
    # (1 - 2**-52) * 2**-1022 * (1 + 2**-52) = 2**-1022 * (1 - 2**-104): below 2**-1022,
    # but rounding to 53 bits with unbounded exponent gives 2**-1022: not tiny, no UF
    ("underflow_after_rounding",
     f"{li('a0', 0x3FEFFFFFFFFFFFFE)}\n{li('a5', 0x0010000000000001)}\n"
     "fmv.d.x f1, a0\nfmv.d.x f2, a5\nfmul.d f3, f1, f2, rne\nfmv.x.d a1, f3\nfrflags a2",
     {"a1": 0x0010000000000000, "a2": NX}),
    ("underflow_tiny", f"{li('a0', 0x0010000000000001)}\n{li('a5', 0x3FE0000000000000)}\n"
     "fmv.d.x f1, a0\nfmv.d.x f2, a5\nfmul.d f3, f1, f2, rne\nfmv.x.d a1, f3\nfrflags a2",
     {"a1": 0x0008000000000000, "a2": UF | NX}),  # halfway, ties to even
    # 2**-1022 * (1 - 2**-53) is exact at 53 bits (so tiny) but not as a subnormal
    ("underflow_tiny_rounds_up", f"{li('a0', 0x3FEFFFFFFFFFFFFF)}\n"
     f"{li('a5', 0x0010000000000000)}\nfmv.d.x f1, a0\nfmv.d.x f2, a5\n"
     "fmul.d f3, f1, f2, rne\nfmv.x.d a1, f3\nfrflags a2",
     {"a1": 0x0010000000000000, "a2": UF | NX}),
    ("fma_single_rounding",  # (1+2**-52)*(1-2**-52) - 1 = -2**-104 exactly
     f"{li('a0', 0x3FF0000000000001)}\n{li('a5', 0x3FEFFFFFFFFFFFFE)}\n{li('a4', ONE_D)}\n"
     "fmv.d.x f1, a0\nfmv.d.x f2, a5\nfmv.d.x f3, a4\nfmsub.d f4, f1, f2, f3\n"
     "fmv.x.d a1, f4\nfrflags a2", {"a1": 0xB970000000000000, "a2": 0}),
    ("fma_inf_zero_qnan", f"{li('a0', 0x7FF0000000000000)}\n{li('a5', QNAN_D)}\n"
     "fmv.d.x f1, a0\nfmv.d.x f2, x0\nfmv.d.x f3, a5\nfmadd.d f4, f1, f2, f3\n"
     "fmv.x.d a1, f4\nfrflags a2", {"a1": QNAN_D, "a2": NV}),
    ("nan_boxing", f"{li('a0', 0x3F800000)}\nfmv.d.x f1, a0\nfadd.s f2, f1, f1\n"
     "fmv.x.d a1, f2\nfclass.s a2, f1\nfsgnj.s f3, f1, f1\nfmv.x.d a3, f3",
     {"a1": QNAN_S, "a2": 1 << 9, "a3": QNAN_S}),  # improperly boxed reads as canonical NaN
    ("fmin_snan", f"{li('a0', 0x7FF0000000000001)}\n{li('a5', ONE_D)}\nfmv.d.x f1, a0\n"
     "fmv.d.x f2, a5\nfmin.d f3, f1, f2\nfmax.d f4, f1, f1\nfmv.x.d a1, f3\nfmv.x.d a2, f4\n"
     "frflags a3", {"a1": ONE_D, "a2": QNAN_D, "a3": NV}),
    ("fmin_zeros", f"{li('a0', 1 << 63)}\nfmv.d.x f1, a0\nfmv.d.x f2, x0\nfmin.d f3, f2, f1\n"
     "fmax.d f4, f1, f2\nfmv.x.d a1, f3\nfmv.x.d a2, f4", {"a1": 1 << 63, "a2": 0}),
    ("fcvt_saturate", f"{li('a0', QNAN_D)}\n{li('a5', 0xC3E0000000000001)}\n"
     "fmv.d.x f1, a0\nfmv.d.x f2, a5\nfcvt.w.d a1, f1\nfcvt.l.d a2, f2\nfcvt.wu.d a3, f2\n"
     "fcvt.lu.d a4, f1\nfrflags a6",
     {"a1": 0x7FFFFFFF, "a2": 1 << 63, "a3": 0, "a4": M, "a6": NV}),
    ("fcvt_wu_sext", f"{li('a0', 0x41EFFFFFFFE00000)}\nfmv.d.x f1, a0\nfcvt.wu.d a1, f1\n"
     "frflags a2", {"a1": M, "a2": 0}),  # 2**32-1 is representable; sign-extended
    ("fcvt_rounding", f"{li('a0', 0xC004000000000000)}\nfmv.d.x f1, a0\n"  # -2.5
     "fcvt.l.d a1, f1, rne\nfcvt.l.d a2, f1, rmm\nfcvt.l.d a3, f1, rdn\nfcvt.l.d a4, f1, rup\n"
     "fcvt.l.d a5, f1, rtz\nfcvt.wu.d a6, f1, rtz\nfrflags a7",
     {"a1": (-2) & M, "a2": (-3) & M, "a3": (-3) & M, "a4": (-2) & M, "a5": (-2) & M,
      "a6": 0, "a7": NV | NX}),
    ("fclass_all", f"{li('a0', 0xFFF0000000000000)}\nfmv.d.x f1, a0\nfclass.d a1, f1\n"
     f"{li('a0', 0x8000000000000001)}\nfmv.d.x f1, a0\nfclass.d a2, f1\n"
     f"{li('a0', 0x7FF4000000000000)}\nfmv.d.x f1, a0\nfclass.d a3, f1\n"
     "fmv.d.x f1, x0\nfclass.d a4, f1", {"a1": 1, "a2": 4, "a3": 1 << 8, "a4": 1 << 4}),
    ("feq_quiet_flt_signals", f"{li('a0', QNAN_D)}\nfmv.d.x f1, a0\nfeq.d a1, f1, f1\n"
     "frflags a2\nflt.d a3, f1, f1\nfrflags a4", {"a1": 0, "a2": 0, "a3": 0, "a4": NV}),
    ("fcvt_s_d_round", f"{li('a0', 0x3FF0000010000000)}\nfmv.d.x f1, a0\n"  # 1 + 2**-24: tie
     "fcvt.s.d f2, f1, rne\nfcvt.s.d f3, f1, rmm\nfmv.x.d a1, f2\nfmv.x.d a2, f3\nfrflags a3",
     {"a1": ONE_S, "a2": ONE_S + 1, "a3": NX}),
    ("fs_dirty", "li t0, 0x6000\ncsrc mstatus, t0\nli t0, 0x2000\ncsrs mstatus, t0\n"
     "fmv.d.x f1, x0\ncsrr a1, mstatus\nsrli a1, a1, 13\nandi a1, a1, 3", {"a1": 3}),
]
REG = {f"a{i}": 10 + i for i in range(8)}


@pytest.mark.parametrize("tier", [0, 1])
@pytest.mark.parametrize("name,src,expect", CASES, ids=[c[0] for c in CASES])
def test_insn(name: str, src: str, expect: dict[str, int], tier: int) -> None:
    cpu = run(src, tier)
    got = {r: cpu.x[REG[r]] for r in expect}
    assert got == expect


C_ILLEGAL = [0x0000, 0x0004, 0x6081, 0x6101, 0x4002, 0x6002, 0x8002, 0x2001, 0x9C41, 0x9C61]


@pytest.mark.parametrize("half", C_ILLEGAL, ids=[f"{h:#06x}" for h in C_ILLEGAL])
def test_reserved_compressed_traps(half: int) -> None:
    """RVC reserved encodings raise illegal instruction with the bits in mtval."""
    cpu = run(f"la t0, 1f\ncsrw mtvec, t0\n.hword {half:#06x}\nnop\n.align 2\n1: nop", 1)
    assert (cpu.mcause, cpu.mtval) == (2, half)


def test_zba_off_is_illegal() -> None:
    from pemu.target.riscv.translator import Translator
    code = assemble("la t0, 1f\ncsrw mtvec, t0\nsh1add a0, a0, a0\n.align 2\n1: j 1b",
                    march="rv64gc_zba")
    m = BareMachine(code, 1)
    m.cpu.translator = Translator(m.ram.buf, 1, frozenset({"zba"}))
    cpu = m.run(200)
    assert cpu.mcause == 2


def test_misaligned_amo_store_fault() -> None:
    """Misaligned AMOs raise store/AMO address misaligned with the address."""
    cpu = run("la t0, 1f\ncsrw mtvec, t0\nli a0, 0x80001001\namoadd.w a1, a1, (a0)\n"
              ".align 2\n1: nop", 1)
    assert (cpu.mcause, cpu.mtval) == (6, 0x80001001)


def test_sc_fails_after_trap() -> None:
    """A trap between LR and SC drops the reservation (take_trap clears it)."""
    cpu = run("la t0, 1f\ncsrw mtvec, t0\nli a0, 0x80001000\nlr.d a1, (a0)\necall\n"
              ".align 2\n1: sc.d a2, a1, (a0)", 1)
    assert cpu.x[12] == 1
