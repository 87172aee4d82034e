"""Per-instruction tests of tricky A64 encodings, against the Arm ARM's
pseudocode (written out below: AddWithCarry, ExtendReg, ShiftReg,
DecodeBitMasks, the bitfield operations) and, for logical immediates,
against GNU as (aarch64-linux-gnu-as) as the encoder.

Each case runs real instruction words through pemu's translator on an
AArch64 user-mode CPU, with random register values (seeded)."""
from __future__ import annotations

import random
import shutil
import subprocess

import pytest

from pemu.accel.tcg.cpu_exec import TbStore, cpu_exec
from pemu.linux_user.aarch64.cpu import ArmUserCpu
from pemu.linux_user.memory import PROT_EXEC, PROT_READ, PROT_WRITE, GuestMemory
from pemu.target.arm.insn_dp_imm import decode_bit_masks
from pemu.target.arm.translator import Translator
from pemu.target.arm.trap import BRK

M64 = (1 << 64) - 1
CODE = 0x10000
BRK0 = 0xD4200000


class _Stop(Exception):
    pass


class _Thread:
    """Ends the run at the BRK after the instruction under test."""

    def on_trap(self, cpu, t) -> None:
        if t.ec != BRK:
            raise AssertionError(f"unexpected trap {t}")
        raise _Stop()

    def deliver_signals(self, cpu) -> bool:
        return False


@pytest.fixture(scope="module")
def cpu():
    mem = GuestMemory()
    mem.map(CODE, 0x1000, PROT_READ | PROT_WRITE | PROT_EXEC)
    c = ArmUserCpu(mem, _Thread())
    c.translator = Translator(mem.buf, 1)
    c.tbs = TbStore(mem)  # type: ignore[arg-type]
    mem.tbs = c.tbs
    return c


def run(cpu, words: list[int], regs: dict[int, int], nzcv: int = 0) -> None:
    """Run instruction words (then BRK) with the given X registers and NZCV (4 bits)."""
    buf = cpu.mem.buf
    for i, w in enumerate([*words, BRK0]):
        cpu.store_slow(CODE + 4 * i, 4, w)  # stores invalidate older blocks
    for n, v in regs.items():
        cpu.x[n] = v & M64
    cpu.nzcv = nzcv << 28
    cpu.pc = CODE
    cpu.jc.clear()
    with pytest.raises(_Stop):
        cpu_exec(cpu, 1000)
    assert buf is cpu.mem.buf


# --- Arm ARM shared pseudocode -----------------------------------------------------------
def sint(x: int, n: int) -> int:
    return x - (1 << n) if x >> (n - 1) & 1 else x


def add_with_carry(x: int, y: int, carry: int, n: int) -> tuple[int, int]:
    """AddWithCarry(x, y, carry_in): (result, NZCV)."""
    usum = x + y + carry
    ssum = sint(x, n) + sint(y, n) + carry
    result = usum & ((1 << n) - 1)
    nf, zf = result >> (n - 1), int(result == 0)
    cf, vf = int(result != usum), int(sint(result, n) != ssum)
    return result, (nf << 3) | (zf << 2) | (cf << 1) | vf


def extend_reg(value: int, option: int, shift: int, n: int) -> int:
    """ExtendReg: extract 8/16/32/64 bits, sign- or zero-extend, shift left."""
    size = 8 << (option & 3)
    v = value & ((1 << size) - 1)
    if option & 4:
        v = sint(v, size)
    return (v << shift) & ((1 << n) - 1)


def shift_reg(value: int, kind: int, amount: int, n: int) -> int:
    """ShiftReg: LSL, LSR, ASR, ROR of an n-bit value."""
    mask = (1 << n) - 1
    v = value & mask
    if kind == 0:
        return (v << amount) & mask
    if kind == 1:
        return v >> amount
    if kind == 2:
        return (sint(v, n) >> amount) & mask
    return ((v >> amount) | (v << (n - amount))) & mask


def ror(x: int, r: int, n: int) -> int:
    return ((x >> r) | (x << (n - r))) & ((1 << n) - 1) if r else x


def decode_masks_ref(nbit: int, imms: int, immr: int, n: int) -> tuple[int, int]:
    """DecodeBitMasks(immN, imms, immr, immediate=FALSE): (wmask, tmask)."""
    length = ((nbit << 6) | (~imms & 63)).bit_length() - 1
    levels = (1 << length) - 1
    s, r = imms & levels, immr & levels
    diff = (s - r) & levels
    esize = 1 << length
    welem = ror((1 << (s + 1)) - 1, r, esize)
    telem = (1 << (diff + 1)) - 1
    wmask = tmask = 0
    for i in range(0, n, esize):
        wmask |= welem << i
        tmask |= telem << i
    return wmask, tmask


VALUES = [0, 1, 2, 0x7F, 0x80, 0xFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 1 << 32,
          0x7FFFFFFFFFFFFFFF, 1 << 63, M64, 0x123456789ABCDEF0]


def _pairs(seed: int, count: int):
    rng = random.Random(seed)
    out = [(a, b) for a in VALUES for b in VALUES]
    out += [(rng.getrandbits(64), rng.getrandbits(64)) for _ in range(count)]
    return out


# --- add/sub with flags -------------------------------------------------------------------
@pytest.mark.parametrize("sf", [1, 0])
@pytest.mark.parametrize("op", ["adds", "subs", "adcs", "sbcs"])
def test_flag_setting_add_sub(cpu, sf, op):
    n = 64 if sf else 32
    sub, carry_op = op in ("subs", "sbcs"), op in ("adcs", "sbcs")
    # ADDS/SUBS (shifted register, LSL #0) and ADCS/SBCS: Xd=0, Xn=1, Xm=2
    base = (0x2B000000 if not carry_op else 0x3A000000) | (sub << 30) | (sf << 31)
    word = base | (2 << 16) | (1 << 5)
    for a, b in _pairs(1, 40):
        for cin in ((0, 1) if carry_op else (None,)):
            run(cpu, [word], {1: a, 2: b}, nzcv=(cin or 0) << 1)
            x, y = a & ((1 << n) - 1), b & ((1 << n) - 1)
            if sub:
                y = ~y & ((1 << n) - 1)
            c = cin if carry_op else int(sub)
            want = add_with_carry(x, y, c, n)
            assert (cpu.x[0], cpu.nzcv >> 28) == want, (op, sf, hex(a), hex(b), cin)


# --- add/sub (extended register) ---------------------------------------------------------
@pytest.mark.parametrize("option", range(8))
def test_add_sub_extended_register(cpu, option):
    """ADD/SUB/ADDS Xd|SP, Xn|SP, Rm, <extend> #0..4, on SP too."""
    rng = random.Random(option)
    for sf in (1, 0):
        n = 64 if sf else 32
        for shift in range(5):
            for op, s in (("add", 0), ("sub", 0), ("adds", 1)):
                sub = op == "sub"
                # rd = 31 (SP) for ADD/SUB, XZR for ADDS (then read NZCV); rn = SP
                word = (sf << 31) | (sub << 30) | (s << 29) | 0x0B200000 | (2 << 16) \
                    | (option << 13) | (shift << 10) | (31 << 5) | (31 if not s else 3)
                a, b = rng.getrandbits(64), rng.getrandbits(64)
                run(cpu, [word], {31: a, 2: b, 3: 0})
                x = a & ((1 << n) - 1)
                y = extend_reg(b, option, shift, n)
                if s:
                    want = add_with_carry(x, y, 0, n)
                    assert (cpu.x[3], cpu.nzcv >> 28) == want
                else:
                    r = (x - y if sub else x + y) & ((1 << n) - 1)
                    assert cpu.x[31] == r, (op, sf, option, shift)


# --- shifts --------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", range(4))
def test_shift_by_register_and_shifted_operand(cpu, kind):
    rng = random.Random(10 + kind)
    for sf in (1, 0):
        n = 64 if sf else 32
        for _ in range(30):
            a, amt = rng.getrandbits(64), rng.getrandbits(64)
            # LSLV/LSRV/ASRV/RORV Xd=0, Xn=1, Xm=2: amount is Xm mod datasize
            run(cpu, [(sf << 31) | 0x1AC02000 | (2 << 16) | (kind << 10) | (1 << 5)],
                {1: a, 2: amt})
            assert cpu.x[0] == shift_reg(a, kind, amt % n, n), (kind, sf, hex(a), amt)
            # ORR Xd, XZR, Xm, <shift> #imm (ROR allowed for logical ops)
            imm = rng.randrange(n)
            run(cpu, [(sf << 31) | 0x2A0003E0 | (kind << 22) | (2 << 16) | (imm << 10)],
                {2: a})
            assert cpu.x[0] == shift_reg(a, kind, imm, n), (kind, sf, hex(a), imm)


# --- bitfield moves ------------------------------------------------------------------------
@pytest.mark.parametrize("opc", [0, 1, 2])
def test_bitfield_against_pseudocode(cpu, opc):
    """SBFM (0), BFM (1), UBFM (2) for random immr/imms, as the Arm ARM computes them."""
    rng = random.Random(20 + opc)
    for sf in (1, 0):
        n = 64 if sf else 32
        mask = (1 << n) - 1
        for _ in range(120):
            immr, imms = rng.randrange(n), rng.randrange(n)
            src, dst = rng.getrandbits(64), rng.getrandbits(64)
            word = (sf << 31) | (opc << 29) | 0x13000000 | (sf << 22) | (immr << 16) \
                | (imms << 10) | (1 << 5)
            run(cpu, [word], {0: dst, 1: src})
            wmask, tmask = decode_masks_ref(sf, imms, immr, n)
            s, d = src & mask, dst & mask
            bot = ror(s, immr, n) & wmask
            if opc == 1:
                bot = (d & ~wmask) | bot
                want = (d & ~tmask) | (bot & tmask)
            elif opc == 2:
                want = bot & tmask
            else:
                top = mask if (s >> imms) & 1 else 0
                want = (top & ~tmask) | (bot & tmask)
            assert cpu.x[0] == want & mask, (opc, sf, immr, imms, hex(src), hex(dst))


# --- logical immediates ----------------------------------------------------------------------
def _valid_bitmasks():
    """Canonical encodings (immr below the element size: the assembler's choice)."""
    out = []
    for sf, ns in ((1, (0, 1)), (0, (0,))):
        for nbit in ns:
            for immr in range(64 if sf else 32):
                for imms in range(64):
                    v = decode_bit_masks(nbit, imms, immr, 64 if sf else 32)
                    if v is None:
                        continue
                    esize = 1 << (((nbit << 6) | (~imms & 63)).bit_length() - 1)
                    if immr < esize:
                        out.append((sf, nbit, immr, imms, v))
    return out


@pytest.mark.skipif(shutil.which("aarch64-linux-gnu-as") is None,
                    reason="aarch64-linux-gnu-as missing "
                           "(apt-get install binutils-aarch64-linux-gnu)")
def test_logical_immediates_match_gnu_as(tmp_path):
    """Every valid (N, immr, imms) pemu decodes gives the value GNU as encodes
    back to the same fields (5334 64-bit and 1302 32-bit immediates)."""
    cases = _valid_bitmasks()
    assert sum(1 for c in cases if c[0]) == 5334 and sum(1 for c in cases if not c[0]) == 1302
    src = tmp_path / "imm.s"
    src.write_text("".join(f"and {'x0, x1' if sf else 'w0, w1'}, #{v:#x}\n"
                           for sf, _, _, _, v in cases))
    obj = tmp_path / "imm.o"
    subprocess.run(["aarch64-linux-gnu-as", "-o", str(obj), str(src)], check=True)
    dump = subprocess.run(["aarch64-linux-gnu-objcopy", "-O", "binary", "-j", ".text",
                           str(obj), str(tmp_path / "imm.bin")], check=True)
    assert dump.returncode == 0
    data = (tmp_path / "imm.bin").read_bytes()
    for i, (_, nbit, immr, imms, v) in enumerate(cases):
        w = int.from_bytes(data[4 * i:4 * i + 4], "little")
        assert ((w >> 22) & 1, (w >> 16) & 63, (w >> 10) & 63) == (nbit, immr, imms), hex(v)


def test_reserved_logical_immediates_are_refused():
    assert decode_bit_masks(0, 0b111111, 0, 64) is None  # length < 1
    assert decode_bit_masks(1, 0b111111, 0, 64) is None  # all ones
    assert decode_bit_masks(0, 0b111101, 0, 32) is None  # 2-bit element of all ones
    assert decode_bit_masks(1, 0, 0, 32) is None  # a 64-bit element in a 32-bit op


# --- random data-processing instructions against qemu-aarch64 ----------------------------------
@pytest.mark.skipif(shutil.which("qemu-aarch64") is None
                    or shutil.which("aarch64-linux-gnu-gcc") is None,
                    reason="qemu-aarch64 or aarch64-linux-gnu-gcc missing "
                           "(apt-get install qemu-user gcc-aarch64-linux-gnu)")
def test_random_data_processing_same_as_qemu(tmp_path):
    """1500 random encodings of the integer data-processing tables (a64diff.py;
    run it directly for longer runs) give the same X0..X7 and NZCV as qemu."""
    import a64diff
    cases = a64diff.random_cases(12, 1500)
    exe = a64diff.build(cases, tmp_path)
    q, p = a64diff.run_both(exe, str(tmp_path))
    assert q.returncode == 0 and p.returncode == 0, p.stderr.decode()[-2000:]
    assert a64diff.first_difference(cases, q.stdout, p.stdout) is None, \
        a64diff.first_difference(cases, q.stdout, p.stdout)
