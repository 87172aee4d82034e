"""Backend 2 of pemu's translator: IR -> x86-64 machine code, emitted by Python at run time.

Files, one job each:

    x86_64_asm.py  the assembler: encodings as tables, labels and rel8/rel32 fixups
    codebuf.py     executable memory (RWX, or W^X via mprotect), the enter/leave stubs,
                   the ctypes entry point
    cut.py         where a block must end so no instruction is left half done
    alloc.py       where each global and temp lives (host register, env, frame slot)
    lower.py       the pure ops
    backend.py     blocks: exits and chaining, the inline TLB, `NativeBackend`
    harness.py     runs a block natively and through pemu.tcg.interp on the same state

Use (the contract of pemu/tcg/env.py):

    backend = NativeBackend(layout, on_reset=flush_jump_caches)
    if backend.available():
        backend.buffer.install(env)          # env.LEAVE -> the epilogue
        nb = backend.compile(block)          # None: run this block in Python
        env.jc_set(block.pc, nb.addr)        # lets other blocks chain to it
        pc = backend.buffer.enter(env.addr, nb.addr)
        # env.STATUS: STATUS_CHAIN (pc is the next pc) or STATUS_PYTHON (run the
        # instruction at pc in Python; nb.cut_pc when the block was cut there)

`nb.code` is position-independent: `backend.place(code)` puts bytes from a
persistent cache back (keyed with `backend.fingerprint()`).
"""
