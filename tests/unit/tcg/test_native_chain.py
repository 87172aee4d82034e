"""Native blocks chain through the jump cache, stop at LIMIT and EXIT_REQ, and are cut
before instructions they must not half run."""
import threading

import pytest

from pemu.tcg.env import STATUS_CHAIN, STATUS_PYTHON, jc_index
from pemu.tcg.ir import Builder, Global, Helper, MemOp
from pemu.tcg.native.backend import available

pytestmark = pytest.mark.skipif(not available(), reason="the native backend needs an x86-64 "
                                "Linux host")

X = [Global(f"x{i}", "X", i) for i in range(32)]
HELPER = Helper("h", lambda c: 0)


def harness():
    from pemu.tcg.native.harness import Harness
    h = Harness()
    h.map_all()
    return h


def counting_block(pc, reg, target, n=2):
    """n instructions adding 1 to reg, then an exit to target (a constant or a value)."""
    b = Builder(pc)
    for i in range(n):
        b.insn_start(pc + 4 * i)
        b.add(X[reg], X[reg], 1)
    b.exit(target)
    return b.block


def two_block_loop(h, target_b=0x2000):
    a = h.backend.compile(counting_block(0x1000, 5, target_b))
    b = h.backend.compile(counting_block(0x2000, 6, 0x1000, n=3))
    h.env.jc_set(0x1000, a.addr)
    h.env.jc_set(0x2000, b.addr)
    return a, b


def test_blocks_chain_until_the_limit():
    h = harness()
    a, _ = two_block_loop(h)
    h.env.limit = 100
    pc = h.backend.buffer.run(h.env.addr, a.addr)
    # each round retires 5; chaining stops at the first exit with ICOUNT >= 100
    assert h.env.status == STATUS_CHAIN
    assert h.env.icount == 100 and pc == 0x1000
    assert list(h.env.space("X")[5:7]) == [40, 60]


def test_limit_already_reached_runs_one_block():
    h = harness()
    a, _ = two_block_loop(h)
    h.env.limit = 1
    assert h.backend.buffer.run(h.env.addr, a.addr) == 0x2000
    assert h.env.icount == 2 and list(h.env.space("X")[5:7]) == [2, 0]


def test_exit_request_stops_chaining():
    h = harness()
    a, _ = two_block_loop(h)
    h.env.limit = 1 << 40
    h.env.exit_req = 1
    assert h.backend.buffer.run(h.env.addr, a.addr) == 0x2000
    assert h.env.icount == 2 and h.env.status == STATUS_CHAIN


def test_exit_request_from_another_thread_stops_a_running_loop():
    h = harness()
    a, _ = two_block_loop(h)
    h.env.limit = 1 << 36  # tens of seconds of chaining: the thread must stop it first
    timer = threading.Timer(0.05, lambda: setattr(h.env, "exit_req", 1))
    timer.start()
    pc = h.backend.buffer.run(h.env.addr, a.addr)  # the GIL is released meanwhile
    timer.join()
    assert pc in (0x1000, 0x2000) and 0 < h.env.icount < 1 << 36
    assert h.env.icount % 5 in (0, 2)


def test_a_jump_cache_slot_holding_another_pc_is_not_followed():
    h = harness()
    a, b = two_block_loop(h)
    h.env.jc_set(0x2000 + 2 * 4096 * 2, b.addr)  # same slot, other pc
    assert jc_index(0x2000 + 2 * 4096 * 2) == jc_index(0x2000)
    h.env.limit = 100
    assert h.backend.buffer.run(h.env.addr, a.addr) == 0x2000 and h.env.icount == 2


def test_indirect_exits_chain_through_the_jump_cache():
    h = harness()
    b = Builder(0x1000)
    b.insn_start(0x1000)
    b.add(X[5], X[5], 1)
    b.exit(X[7])  # the next pc is a value
    a = h.backend.compile(b.block)
    other = h.backend.compile(counting_block(0x3100, 6, 0x1000, n=1))
    h.env.jc_set(0x1000, a.addr)
    h.env.jc_set(0x3100, other.addr)
    h.env.space("X")[7] = 0x3100
    h.env.limit = 10
    assert h.backend.buffer.run(h.env.addr, a.addr) == 0x1000  # the 10th block is `other`
    assert h.env.icount == 10 and list(h.env.space("X")[5:7]) == [5, 5]
    h.env.space("X")[7] = 0x5000  # not in the jump cache
    h.env.icount, h.env.limit = 0, 10
    assert h.backend.buffer.run(h.env.addr, a.addr) == 0x5000 and h.env.icount == 1


# --- cutting ---------------------------------------------------------------------------

def test_a_helper_call_cuts_the_block_before_its_instruction():
    h = harness()
    b = Builder(0x1000)
    b.insn_start(0x1000)
    b.add(X[5], X[5], 1)
    b.insn_start(0x1004)
    b.add(X[5], X[5], 1)
    b.insn_start(0x1008)
    b.mov(X[6], 3)  # written before the call: this instruction must not start natively
    b.call(HELPER, None)
    b.insn_start(0x100C)
    b.exit(0x1010)
    nb = h.backend.compile(b.block)
    assert nb.cut and nb.cut_pc == 0x1008 and nb.ninsns == 2
    native, ref = h.compare(b.block)
    assert native == ref
    assert (native.status, native.pc, native.icount) == (STATUS_PYTHON, 0x1008, 2)
    assert native.spaces["X"][5:7] == [2, 0]


def test_a_block_whose_first_instruction_cannot_be_compiled_is_refused():
    h = harness()
    b = Builder(0x1000)
    b.insn_start(0x1000)
    b.call(HELPER, None)
    b.exit(0x1004)
    assert h.backend.compile(b.block) is None


@pytest.mark.parametrize("shape", ["store-then-load", "write-then-load", "store-then-store"])
def test_an_effect_before_a_possible_miss_in_one_instruction_cuts(shape):
    h = harness()
    b = Builder(0x1000)
    b.insn_start(0x1000)
    b.mov(X[9], 1)
    b.insn_start(0x1004)
    if shape == "store-then-load":
        b.st(X[5], X[6], MemOp(8))
        b.ld(X[7], X[6], MemOp(8))
    elif shape == "write-then-load":
        b.mov(X[7], 1)
        b.ld(X[8], X[6], MemOp(8))
    else:
        b.st(X[5], X[6], MemOp(8))
        b.st(X[5], X[7], MemOp(8))
    b.exit(0x1008)
    nb = h.backend.compile(b.block)
    assert nb.cut_pc == 0x1004 and nb.ninsns == 1


def test_a_load_then_a_write_in_one_instruction_compiles():
    # an AMO's shape: load, compute, store, then write the destination
    h = harness()
    b = Builder(0x1000)
    b.insn_start(0x1000)
    t, u = b.temp(), b.temp()
    b.ld(t, X[6], MemOp(8))
    b.add(u, t, X[5])
    b.st(u, X[6], MemOp(8))
    b.mov(X[7], t)
    b.exit(0x1004)
    nb = h.backend.compile(b.block)
    assert nb is not None and not nb.cut


def test_the_cut_moves_before_a_branch_region_that_spans_it():
    h = harness()
    b = Builder(0x1000)
    skip = b.label()
    b.insn_start(0x1000)
    b.add(X[5], X[5], 1)
    b.insn_start(0x1004)
    b.brcond("eq", X[7], 0, skip)
    b.insn_start(0x1008)
    b.call(HELPER, None)
    b.set_label(skip)
    b.insn_start(0x100C)
    b.exit(0x1010)
    nb = h.backend.compile(b.block)
    assert nb.cut_pc == 0x1004 and nb.ninsns == 1


def test_globals_outside_the_layout_cut():
    h = harness()
    b = Builder(0x1000)
    b.insn_start(0x1000)
    b.mov(X[5], 1)
    b.insn_start(0x1004)
    b.mov(Global("csr", "CSR", 3), 1)
    b.exit(0x1008)
    assert h.backend.compile(b.block).cut_pc == 0x1004


def test_malformed_blocks_are_refused_not_crashed_on():
    h = harness()
    b = Builder(0x1000)
    b.insn_start(0x1000)
    b.brcond("eq", X[5], 0, b.label())  # a label never set
    b.exit(0x1004)
    assert h.backend.compile(b.block) is None
    b = Builder(0x1000)
    b.insn_start(0x1000)
    b.mov(X[5], 1)  # runs off the end
    assert h.backend.compile(b.block) is None
