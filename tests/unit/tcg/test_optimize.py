"""The optimiser keeps what a guest can observe (pemu/tcg/optimize.py)."""
from pemu.tcg.ir import Builder, Const, Global, MemOp
from pemu.tcg.optimize import optimize

A = Global("x5", "X", 5)
B = Global("x6", "X", 6)


def names(block):
    return [str(op) for op in block.ops]


def test_a_write_before_a_load_that_may_fault_is_kept():
    # li x5, 0x77; ld x5, 0(x6): if the load faults, the trap handler sees x5 = 0x77
    b = Builder(0x1000)
    b.insn_start(0x1000)
    b.mov(A, 0x77)
    b.insn_start(0x1004)
    b.ld(A, B, MemOp(8))
    b.exit(0x1008)
    ops = names(optimize(b.block))
    assert "mov x5, $0x77" in ops
    assert any(o.startswith("ld_u64 x5") for o in ops)


def test_a_write_overwritten_by_a_pure_op_is_dropped():
    b = Builder(0x1000)
    b.insn_start(0x1000)
    b.mov(A, 1)
    b.insn_start(0x1004)
    b.add(A, B, 2)
    b.exit(0x1008)
    ops = names(optimize(b.block))
    assert "mov x5, $0x1" not in ops
    assert "add x5, x6, $0x2" in ops


def test_constants_fold_through_temps():
    b = Builder(0x1000)
    t = b.temp()
    b.insn_start(0x1000)
    b.mov(t, 40)
    b.add(A, t, 2)
    b.exit(0x1004)
    block = optimize(b.block)
    assert [op.args for op in block.ops if op.out == A] == [(Const(42),)]


def test_a_global_a_helper_writes_is_not_copy_propagated_past_it():
    # mov x5, 7; helper writes x5 in its storage; st x5: the store must read the
    # helper's value, not the constant 7
    from pemu.tcg.ir import Helper
    h = Helper("H", lambda c: None, writes=(A,))
    b = Builder(0x1000)
    b.insn_start(0x1000)
    b.mov(A, 7)
    b.insn_start(0x1004)
    b.call(h, None)
    b.insn_start(0x1008)
    b.st(A, B, MemOp(8))
    b.exit(0x100C)
    ops = names(optimize(b.block))
    assert "st_u64 x5, x6" in ops, ops


def test_a_write_before_an_instruction_that_calls_a_helper_is_kept():
    # cmp (writes the flag), then fccmp: sets the flag itself, then calls a pure
    # helper. The native backend hands fccmp to Python whole, which reads the
    # flag at fccmp's start: the cmp's write must survive.
    from pemu.tcg.ir import Helper
    flag = Global("zf", "SYS", 1)
    h = Helper("PURE", lambda a: a, cpu_arg=False, pure=True, raises=False)
    b = Builder(0x1000)
    b.insn_start(0x1000)
    b.mov(flag, B)
    b.insn_start(0x1004)
    b.mov(flag, 0)
    t = b.temp()
    b.call(h, t, flag)
    b.mov(A, t)
    b.exit(0x1008)
    ops = names(optimize(b.block))
    assert "mov zf, x6" in ops
