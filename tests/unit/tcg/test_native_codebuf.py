"""The code buffer: position-independent blocks, the W^X way, resets when full, and the
generator fingerprint a persistent cache keys native code with."""
import pytest

from pemu.tcg.env import STATUS_CHAIN
from pemu.tcg.ir import Builder, Global, MemOp
from pemu.tcg.native.backend import NativeBackend, available

pytestmark = pytest.mark.skipif(not available(), reason="the native backend needs an x86-64 "
                                "Linux host")

X = [Global(f"x{i}", "X", i) for i in range(32)]


def sample_block():
    b = Builder(0x1000)
    skip = b.label()
    b.insn_start(0x1000)
    b.ld(X[5], X[6], MemOp(4, signed=True))
    b.insn_start(0x1004)
    b.brcond("lt", X[5], 0, skip)
    b.add(X[7], X[5], X[5])
    b.set_label(skip)
    b.exit(X[8])
    return b.block


def run_at(h, addr):
    h.env.space("X")[5:9] = memoryview(bytearray(32)).cast("Q")
    h.env.space("X")[6] = 0x8000_0010
    h.env.space("X")[8] = 0x4444
    h.env.icount = 0
    h.env.limit = 0
    return h.backend.buffer.run(h.env.addr, addr), list(h.env.space("X")[5:9]), h.env.icount


def test_block_code_runs_the_same_at_any_address():
    from pemu.tcg.native.harness import Harness
    h = Harness()
    h.map_all()
    h.ram[0x10:0x14] = (12345).to_bytes(4, "little")
    nb = h.backend.compile(sample_block())
    first = run_at(h, nb.addr)
    moved = h.backend.place(b"\x90" * 13 + nb.code)  # misaligned copy elsewhere
    assert run_at(h, moved + 13) == first
    assert first == (0x4444, [12345, 0x8000_0010, 24690, 0x4444], 2)
    assert h.env.status == STATUS_CHAIN


def test_the_wx_way_and_a_full_buffer():
    from pemu.tcg.env import Env, EnvLayout
    from pemu.tcg.native.codebuf import CodeBuffer
    layout = EnvLayout({"X": 32})
    env = Env(layout)
    buf = CodeBuffer(4096, wx=True)
    assert buf.wx
    resets = []
    be = NativeBackend(layout, buf, on_reset=lambda: resets.append(buf.used))
    buf.install(env)
    b = Builder(0x1000)
    b.insn_start(0x1000)
    b.add(X[5], X[5], 3)
    b.exit(0x2000)
    addrs = [be.compile(b.block).addr for _ in range(60)]
    assert resets and buf.resets == len(resets)
    assert addrs[-1] in addrs[:-1]  # space was reused after the reset
    env.limit = 0
    assert buf.run(env.addr, addrs[-1]) == 0x2000 and env.space("X")[5] == 3


def test_fingerprint_follows_features_and_layout():
    from pemu.tcg.env import EnvLayout
    a = NativeBackend(EnvLayout({"X": 32, "F": 32}), features=frozenset({"lzcnt"}))
    b = NativeBackend(EnvLayout({"X": 32, "F": 32}), a.buffer, features=frozenset())
    c = NativeBackend(EnvLayout({"X": 16}), a.buffer, features=frozenset({"lzcnt"}))
    assert len({a.fingerprint(), b.fingerprint(), c.fingerprint()}) == 3
    assert a.fingerprint() == NativeBackend(EnvLayout({"X": 32, "F": 32}), a.buffer,
                                            features=frozenset({"lzcnt"})).fingerprint()


def test_out_asm_text():
    import shutil

    from pemu.tcg.env import EnvLayout
    from pemu.tcg.native.disas import disassemble
    code, _ = NativeBackend(EnvLayout({"X": 32})).assemble(sample_block())
    lines = disassemble(code, 0x1000)
    assert lines[0].startswith("0x0000000000001000:")
    if shutil.which("objdump"):
        assert any("jmp QWORD PTR [rbx+" in line for line in lines)
    else:
        assert ".byte" in lines[0]


def test_a_forked_child_compiles_into_a_buffer_of_its_own():
    """A W^X buffer is a shared memfd mapping: after fork() the child (a user-mode
    guest process) must not write code into its parent's buffer."""
    import os

    from pemu.tcg.env import Env, EnvLayout
    from pemu.tcg.native.codebuf import CodeBuffer
    layout = EnvLayout({"X": 32})
    env = Env(layout)
    buf = CodeBuffer(1 << 16, wx=True)
    forgotten = []
    be = NativeBackend(layout, buf, on_reset=lambda: forgotten.append(True))
    buf.install(env)

    def block(k: int):
        b = Builder(0x1000)
        b.insn_start(0x1000)
        b.add(X[5], X[5], k)
        b.exit(0x2000)
        return b.block

    first = be.compile(block(3))
    before = buf.region.mem[:len(first.code)]
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its blocks are forgotten and it compiles elsewhere
        ok = bool(forgotten) and buf.used == 0
        second = be.compile(block(5))
        env.limit = 0
        ok = ok and buf.run(env.addr, second.addr) == 0x2000 and env.space("X")[5] == 5
        os.write(w, b"1" if ok else b"0")
        os._exit(0)
    os.close(w)
    assert os.read(r, 1) == b"1"
    os.waitpid(pid, 0)
    assert not forgotten and buf.region.mem[:len(first.code)] == before
    env.limit = 0
    assert buf.run(env.addr, first.addr) == 0x2000 and env.space("X")[5] == 3
