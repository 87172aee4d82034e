"""Native loads and stores through the inline TLB: hits, misses and what a miss leaves behind."""
import struct

import pytest

from pemu.tcg.env import STATUS_CHAIN, STATUS_PYTHON, TLB_ENTRIES
from pemu.tcg.ir import Builder, Global, MemOp
from pemu.tcg.native.backend import available

pytestmark = pytest.mark.skipif(not available(), reason="the native backend needs an x86-64 "
                                "Linux host")

X = [Global(f"x{i}", "X", i) for i in range(32)]
BASE = 0x8000_0000
MEMOPS = [MemOp(s, sg, be) for s in (1, 2, 4, 8) for sg in (False, True) for be in (False, True)
          if not (s == 8 and sg)]


def harness():
    from pemu.tcg.native.harness import Harness
    h = Harness()
    h.map_all()
    return h


def load_block(mo):
    b = Builder(0x1000)
    b.insn_start(0x1000)
    b.add(X[9], X[9], 1)  # an earlier instruction whose effect must stay on a miss
    b.add(X[9], X[9], 1)
    b.insn_start(0x1004)
    b.ld(X[5], X[6], mo)
    b.insn_start(0x1008)
    b.exit(0x100C)
    return b.block


@pytest.mark.parametrize("mo", MEMOPS, ids=str)
def test_load_hits_read_guest_memory(mo):
    h = harness()
    h.ram[0x100:0x108] = bytes([0x81, 0x92, 0xA3, 0xB4, 0xC5, 0xD6, 0xE7, 0xF8])
    h.env.space("X")[6] = BASE + 0x100
    native, ref = h.compare(load_block(mo))
    assert native == ref
    assert native.status == STATUS_CHAIN and native.pc == 0x100C and native.icount == 3
    raw = bytes(h.ram[0x100:0x100 + mo.size])
    want = int.from_bytes(raw, "big" if mo.big_endian else "little", signed=mo.signed)
    assert native.spaces["X"][5] == want & (2**64 - 1)


@pytest.mark.parametrize("mo", MEMOPS, ids=str)
def test_store_hits_write_guest_memory(mo):
    h = harness()
    b = Builder(0x1000)
    b.insn_start(0x1000)
    b.st(X[5], X[6], mo)
    b.exit(0x1004)
    h.env.space("X")[5] = 0x1122334455667788
    h.env.space("X")[6] = BASE + 0x2FF8
    native, ref = h.compare(b.block)
    assert native == ref and native.status == STATUS_CHAIN
    want = (0x1122334455667788 & ((1 << 8 * mo.size) - 1)).to_bytes(
        mo.size, "big" if mo.big_endian else "little")
    assert native.ram[0x2FF8:0x2FF8 + mo.size] == want


@pytest.mark.parametrize("size", [2, 4, 8])
def test_access_crossing_the_page_end_goes_to_python(size):
    h = harness()
    for off in range(4096 - size - 1, 4096):
        h.env.space("X")[6] = BASE + off
        h.env.space("X")[9] = 40
        h.env.icount = 0
        native, ref = h.compare(load_block(MemOp(size)))
        assert native == ref
        if off <= 4096 - size:
            assert native.status == STATUS_CHAIN
        else:  # pc of the load, one instruction retired, x9 written back, x5 untouched
            assert (native.status, native.pc, native.icount) == (STATUS_PYTHON, 0x1004, 1)
            assert native.spaces["X"][9] == 42 and native.spaces["X"][5] == 0


def test_misses_on_empty_entries_tags_and_read_only_pages():
    h = harness()
    h.env.tlb_flush()
    h.map(0, write=False)  # page 0 read-only, page 1 not mapped at all
    b = Builder(0x1000)
    b.insn_start(0x1000)
    b.ld(X[5], X[6], MemOp(4))
    b.insn_start(0x1004)
    b.st(X[5], X[7], MemOp(4))
    b.exit(0x1008)
    h.env.space("X")[6] = BASE + 0x10
    h.env.space("X")[7] = BASE + 0x10
    native, ref = h.compare(b.block)
    assert native == ref and (native.status, native.pc, native.icount) == (STATUS_PYTHON,
                                                                          0x1004, 1)
    h.env.icount = 0
    h.env.space("X")[6] = BASE + 0x1010  # empty entry
    native, ref = h.compare(b.block)
    assert native == ref and (native.status, native.pc, native.icount) == (STATUS_PYTHON,
                                                                          0x1000, 0)
    # same TLB index, other tag: an alias of page 0 TLB_ENTRIES pages further
    h.env.icount = 0
    h.env.space("X")[6] = BASE + TLB_ENTRIES * 4096 + 0x10
    native, ref = h.compare(b.block)
    assert native == ref and (native.status, native.pc) == (STATUS_PYTHON, 0x1000)


def test_a_miss_writes_back_every_register_global_written_before():
    h = harness()
    b = Builder(0x1000)
    for i in range(8):  # eight instructions each writing a (register-pinned) global
        b.insn_start(0x1000 + 4 * i)
        b.add(X[10 + i], X[10 + i], X[10 + i])
    b.insn_start(0x1020)
    b.ld(X[20], X[6], MemOp(8))
    b.exit(0x1024)
    for i in range(8):
        h.env.space("X")[10 + i] = i + 1
    h.env.space("X")[6] = 0x1234  # unmapped
    native, ref = h.compare(b.block)
    assert native == ref
    assert native.spaces["X"][10:18] == [2 * (i + 1) for i in range(8)]
    assert (native.status, native.pc, native.icount) == (STATUS_PYTHON, 0x1020, 8)


def test_the_miss_stub_of_an_instruction_inside_a_branch_region():
    h = harness()
    b = Builder(0x1000)
    skip = b.label()
    b.insn_start(0x1000)
    b.brcond("eq", X[7], 0, skip)
    b.insn_start(0x1004)
    b.mov(X[8], 5)
    b.insn_start(0x1008)
    b.st(X[8], X[6], MemOp(8))
    b.set_label(skip)
    b.insn_start(0x100C)
    b.exit(0x1010)
    for x7 in (0, 1):
        for addr in (BASE + 8, 0x40):
            h.env.space("X")[7], h.env.space("X")[6], h.env.space("X")[8] = x7, addr, 0
            h.env.icount = 0
            native, ref = h.compare(b.block)
            assert native == ref, (x7, addr)
    assert struct.unpack_from("<Q", h.ram, 8)[0] == 5
