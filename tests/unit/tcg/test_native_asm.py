"""The x86-64 assembler's encodings, disassembled by GNU objdump (the peer oracle)."""
import re
import shutil
import subprocess

import pytest

from pemu.tcg.native.x86_64_asm import Asm, Mem, Reg

R = Reg
# (emit, objdump's Intel syntax); the cases cover REX.R/X/B, SIB for rsp/r12 bases,
# the disp forms rbp/r13 need, byte registers that need REX, and every imm width
CASES = [
    (lambda a: a.mov(R.RAX, R.R15), "mov rax,r15"),
    (lambda a: a.mov(R.R9, Mem(R.RBX, 0x108)), "mov r9,QWORD PTR [rbx+0x108]"),
    (lambda a: a.mov(Mem(R.RSP, 8), R.R11), "mov QWORD PTR [rsp+0x8],r11"),
    (lambda a: a.mov(Mem(R.RSP, 0), R.RAX), "mov QWORD PTR [rsp],rax"),
    (lambda a: a.mov(R.RAX, Mem(R.R12, 0)), "mov rax,QWORD PTR [r12]"),
    (lambda a: a.mov(R.RAX, Mem(R.RBP, 0)), "mov rax,QWORD PTR [rbp+0x0]"),
    (lambda a: a.mov(R.RAX, Mem(R.R13, -8)), "mov rax,QWORD PTR [r13-0x8]"),
    (lambda a: a.mov(R.RCX, Mem(R.RBX, 0x2140, R.RDX)), "mov rcx,QWORD PTR [rbx+rdx*1+0x2140]"),
    (lambda a: a.mov(R.RCX, Mem(R.RBX, 0, R.R10, 8)), "mov rcx,QWORD PTR [rbx+r10*8]"),
    (lambda a: a.mov(R.RDI, R.RSI, w=False), "mov edi,esi"),
    (lambda a: a.mov_imm(R.RAX, 5), "mov eax,0x5"),
    (lambda a: a.mov_imm(R.R10, 0xFFFFFFFF), "mov r10d,0xffffffff"),
    (lambda a: a.mov_imm(R.RAX, (1 << 64) - 2), "mov rax,0xfffffffffffffffe"),
    (lambda a: a.mov_imm(R.R8, 1 << 40), "movabs r8,0x10000000000"),
    (lambda a: a.mov_mem_imm(Mem(R.RBX, 0x118), 1), "mov QWORD PTR [rbx+0x118],0x1"),
    (lambda a: a.alu("add", R.RAX, 1), "add rax,0x1"),
    (lambda a: a.alu("sub", R.R9, 0x1000), "sub r9,0x1000"),
    (lambda a: a.alu("cmp", R.RAX, Mem(R.RBX, 16)), "cmp rax,QWORD PTR [rbx+0x10]"),
    (lambda a: a.alu("xor", R.R14, R.RBP), "xor r14,rbp"),
    (lambda a: a.alu("and", R.RDX, 255, w=False), "and edx,0xff"),
    (lambda a: a.alu("cmp", Mem(R.RBX, 0x110), 0), "cmp QWORD PTR [rbx+0x110],0x0"),
    (lambda a: a.alu("add", Mem(R.RBX, 0x100), 300), "add QWORD PTR [rbx+0x100],0x12c"),
    (lambda a: a.imul(R.RAX, R.R12), "imul rax,r12"),
    (lambda a: a.unary("neg", R.RAX), "neg rax"),
    (lambda a: a.unary("idiv", R.RCX), "idiv rcx"),
    (lambda a: a.unary("mul", R.R8), "mul r8"),
    (lambda a: a.shift("sar", R.RAX), "sar rax,cl"),
    (lambda a: a.shift("rol", R.RAX, 8, size=2), "rol ax,0x8"),
    (lambda a: a.shift("shl", R.RDX, 4, size=4), "shl edx,0x4"),
    (lambda a: a.bswap(R.RAX), "bswap rax"),
    (lambda a: a.bswap(R.R9, w=False), "bswap r9d"),
    (lambda a: a.movx(R.RAX, R.RSI, False, 1), "movzx eax,sil"),
    (lambda a: a.movx(R.RAX, R.RBP, True, 1), "movsx rax,bpl"),
    (lambda a: a.movx(R.RAX, R.R9, True, 2), "movsx rax,r9w"),
    (lambda a: a.movx(R.RAX, R.R9, True, 4), "movsxd rax,r9d"),
    (lambda a: a.movx(R.RAX, Mem(R.RSI), True, 4), "movsxd rax,DWORD PTR [rsi]"),
    (lambda a: a.movx(R.RAX, Mem(R.RSP, 16), False, 2), "movzx eax,WORD PTR [rsp+0x10]"),
    (lambda a: a.store(Mem(R.RSI), R.RAX, 1), "mov BYTE PTR [rsi],al"),
    (lambda a: a.store(Mem(R.RSI), R.RDI, 1), "mov BYTE PTR [rsi],dil"),
    (lambda a: a.store(Mem(R.RSI), R.RAX, 2), "mov WORD PTR [rsi],ax"),
    (lambda a: a.store(Mem(R.R13), R.RAX, 4), "mov DWORD PTR [r13+0x0],eax"),
    (lambda a: a.setcc("ltu", R.RAX), "setb al"),
    (lambda a: a.cmov("gt", R.RAX, R.RCX), "cmovg rax,rcx"),
    (lambda a: a.bits("lzcnt", R.RAX, R.RAX), "lzcnt rax,rax"),
    (lambda a: a.bits("bsf", R.RAX, R.R10), "bsf rax,r10"),
    (lambda a: a.jmp_rm(Mem(R.RBX, 0x120)), "jmp QWORD PTR [rbx+0x120]"),
    (lambda a: a.jmp_rm(R.RSI), "jmp rsi"),
    (lambda a: a.push(R.R12), "push r12"),
    (lambda a: a.pop(R.RBX), "pop rbx"),
    (lambda a: a.cqo(), "cqo"),
]


def disassemble(code: bytes, tmp_path) -> list[str]:
    f = tmp_path / "code.bin"
    f.write_bytes(code)
    out = subprocess.run(["objdump", "-D", "-b", "binary", "-mi386:x86-64", "-M", "intel",
                          str(f)], capture_output=True, text=True, check=True).stdout
    lines = []
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) >= 3 and re.match(r"\s*[0-9a-f]+:$", parts[0]):
            lines.append(re.sub(r"\s+", " ", parts[2]).strip())
    return lines


@pytest.mark.skipif(shutil.which("objdump") is None, reason="objdump (binutils) is missing")
def test_encodings_match_objdump(tmp_path):
    a = Asm()
    for emit, _ in CASES:
        emit(a)
    got = [re.sub(r"\s*#.*", "", line) for line in disassemble(a.finish(), tmp_path)]
    assert got == [text for _, text in CASES]


@pytest.mark.skipif(shutil.which("objdump") is None, reason="objdump (binutils) is missing")
def test_jumps_resolve_forward_and_backward(tmp_path):
    a = Asm()
    top, fwd, far = a.label(), a.label(), a.label()
    a.bind(top)
    a.jcc("ne", fwd, short=True)  # 0: rel8 forward
    a.jcc("eq", far)  # 2: rel32 forward
    a.bind(fwd)  # 8
    a.jmp(top)  # 8: rel8 backward
    a.code += b"\x90" * 200
    a.jcc("ltu", top)  # 210: backward, too far for rel8
    a.bind(far)  # 216
    got = disassemble(a.finish(), tmp_path)
    assert got[0] == "jne 0x8"
    assert got[1] == "je 0xd8"
    assert got[2] == "jmp 0x0"
    assert got[-1] == "jb 0x0"


def test_short_jump_out_of_range_is_refused():
    a = Asm()
    lb = a.label()
    a.jmp(lb, short=True)
    a.code += b"\x90" * 300
    a.bind(lb)
    with pytest.raises(AssertionError):
        a.finish()
