"""Tiering: hot blocks get native code (ISA-independent).

Every block starts in the Python tier. When the Python tier has run a block
`hot` times, the block is translated again to IR (the guest bytes are the
same: a write to them would have dropped the block) and handed to the native
backend; its code address goes on the `Tb` and into the CPU's native jump
cache, so other native blocks chain to it directly. From then on
`cpu_exec` enters native code for it (pemu/accel/tcg/cpu_exec.py).

A block the backend cannot compile at all (its first instruction calls a
helper, say) stays in the Python tier and is not tried again. Native code
is position-independent bytes, so it goes into the persistent code cache
beside the block's Python code (keyed by address, checked against the guest
bytes): a second boot places it without building IR or compiling.
"""
from __future__ import annotations

import os
import sys
import traceback
from typing import Any

from pemu.accel.tcg.cpu_exec import Tb

#: runs in the Python tier before a block is compiled natively (0: every block is
#: compiled before it first runs, which the differential tests use to check native code)
HOT = int(os.environ.get("PEMU_NATIVE_HOT", "16"))


class NativeTier:
    """Owns the native backend and promotes hot blocks to it."""

    def __init__(self, backend: Any, store: Any, hot: int = HOT) -> None:
        self.backend = backend
        self.store = store
        self.hot = max(0, hot)
        self.enter = backend.buffer.run
        self.compiled = 0
        self.refused = 0
        self.cached = 0  # of the compiled ones, found in the persistent cache
        self.bug_reported = False
        self.fingerprint = backend.fingerprint()
        backend.on_reset = self._forget_all

    def attach(self, cpu: Any) -> None:
        """Make a CPU's env usable by native code."""
        self.backend.buffer.install(cpu.env)

    def promote(self, cpu: Any, tb: Tb) -> None:
        """Compile tb natively (its IR built again from the same guest bytes), or
        take its code from the persistent cache."""
        tr = cpu.translator
        code = tr.cached_native(cpu, tb.key, tb.pcs, self.fingerprint)
        if code is None:
            block = cpu.tb_ir(tb.key)  # (a guest fault here is the guest's)
            try:
                nb = self.backend.compile(block)
            except Exception:  # a bug in pemu: keep the Python tier for this block
                self._report_bug()
                nb = None
            code = nb.code if nb is not None else b""
            tr.remember_native(cpu, tb.key, tb.pcs, code, self.fingerprint)
            addr = nb.addr if nb is not None else 0
        else:
            self.cached += 1
            addr = self.backend.place(code) if code else 0
        if not addr:
            self.refused += 1
            tb.hits = -(1 << 62)  # never again
            return
        self.compiled += 1
        tb.native = addr
        cpu.env.jc_set(tb.pcs[0], addr)

    def _report_bug(self) -> None:
        if not self.bug_reported:
            self.bug_reported = True
            sys.stderr.write("pemu: the native code generator failed (a pemu bug; the block "
                             "stays in the Python tier):\n" + traceback.format_exc())

    def _forget_all(self) -> None:
        """The code buffer is about to be reused: no address may survive."""
        for tb in self.store.blocks.values():
            tb.native = 0
        for c in self.store.cpus:
            c.env.jc_flush()


def make_native_tier(store: Any, layout: Any) -> NativeTier | None:
    """The native tier for a store, or None where this host has no backend."""
    from pemu.tcg.native.backend import NativeBackend, available
    if not available():
        return None
    return NativeTier(NativeBackend(layout), store)


__all__ = ["HOT", "NativeTier", "make_native_tier"]
