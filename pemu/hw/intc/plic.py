"""SiFive Platform-Level Interrupt Controller, as QEMU's virt board uses it.

Register map from the RISC-V PLIC Specification v1.0.0, section "Memory Map"
(the SiFive layout):

    0x000000 + 4*id          source priority (id 1..num_sources-1; id 0 reserved)
    0x001000 + 4*w           pending bits, word w (read-only)
    0x002000 + 0x80*ctx      enable bits of context ctx
    0x200000 + 0x1000*ctx    priority threshold of context ctx
    0x200004 + 0x1000*ctx    claim (read) / complete (write) of context ctx

Sources are level-triggered through a gateway (spec "Interrupt Gateways"):
an asserted line makes the source pending unless a request from it is
already in flight (claimed, not yet completed); completion re-arms the
gateway, so a line still asserted becomes pending again. As in QEMU, a line
that drops before being claimed clears its pending bit. Claim returns the
pending, enabled source with the highest priority above the context's
threshold, the lowest id on ties (spec "Interrupt Priorities"), or 0.

Contexts: `hart_config` lists per-hart privilege modes, QEMU style ("MS"
per hart, comma separated: "MS,MS"); with the default it is "MS" repeated
`num_harts` times, so context 2h is hart h M-mode and 2h+1 its S-mode.
`outputs[ctx]` is the context's external-interrupt line (MEIP or SEIP).
"""
from __future__ import annotations

from pemu.core.irq import IrqLine, irq_to
from pemu.core.memory import MmioRegion
from pemu.qom import Device, Property

PRIORITY_BASE = 0x0
PENDING_BASE = 0x1000
ENABLE_BASE = 0x2000
ENABLE_STRIDE = 0x80
CONTEXT_BASE = 0x200000
CONTEXT_STRIDE = 0x1000


def plic_size(num_contexts: int) -> int:
    """Aperture covering num_contexts contexts (QEMU's VIRT_PLIC_SIZE)."""
    return CONTEXT_BASE + num_contexts * CONTEXT_STRIDE


class Plic(Device):
    """The PLIC: `input(n)` per source, `outputs[ctx]` per context, `region` for MMIO."""

    type_name = "riscv.sifive.plic"
    description = "SiFive PLIC"
    num_sources = Property(int, 96, "number of interrupt IDs, including the reserved ID 0")
    num_priorities = Property(int, 7, "highest priority level")
    num_harts = Property(int, 1, "harts served (when hart-config is not given)")
    hart_config = Property(str, "", "per-hart modes, comma separated (default MS per hart)")
    size = Property(int, 0, "MMIO aperture size (default: just covers the contexts)")
    vmstate_fields = ("priority", "pending", "claimed", "enable", "threshold", "levels")

    def __init__(self, name: str = "plic", **props: object) -> None:
        super().__init__(**props)
        config = self.hart_config or ",".join(["MS"] * self.num_harts)
        #: (hart, mode letter) of each context, in context order.
        self.contexts: list[tuple[int, str]] = [
            (hart, mode) for hart, modes in enumerate(config.split(",")) for mode in modes]
        n = len(self.contexts)
        self.words = (self.num_sources + 31) // 32
        size = self.size or plic_size(n)
        if size < plic_size(n):
            raise ValueError(f"PLIC size {size:#x} too small for {n} contexts")
        self.region = MmioRegion(name, size, self.read, self.write, sizes=(4,))
        self.outputs: list[IrqLine] = [
            IrqLine(name=f"{name}.{hart}{mode}") for hart, mode in self.contexts]
        self._inputs = [irq_to(self._set_level, i, f"{name}.in{i}")
                        for i in range(self.num_sources)]
        self.levels = [0] * self.num_sources
        self.reset()

    def context_index(self, hart: int, mode: str) -> int:
        """The context serving hart `hart` in mode 'M' or 'S'."""
        return self.contexts.index((hart, mode))

    def input(self, n: int) -> IrqLine:
        """The line of source n (1 <= n < num_sources)."""
        if not 0 < n < self.num_sources:
            raise ValueError(f"PLIC has no source {n}")
        return self._inputs[n]

    def reset(self) -> None:
        n = len(self.contexts)
        self.priority = [0] * self.num_sources
        self.pending = [0] * self.words
        self.claimed = [0] * self.words
        self.enable = [[0] * self.words for _ in range(n)]
        self.threshold = [0] * n
        for i, level in enumerate(self.levels):
            if level:
                self._set_pending(i, True)
        self._update()

    # --- gateway --------------------------------------------------------------
    def _set_pending(self, i: int, on: bool) -> None:
        w, bit = i >> 5, 1 << (i & 31)
        if on:
            self.pending[w] |= bit
        else:
            self.pending[w] &= ~bit

    def _set_level(self, i: int, level: int) -> None:
        self.levels[i] = level
        if level and not self.claimed[i >> 5] & (1 << (i & 31)):
            self._set_pending(i, True)
        elif not level:
            self._set_pending(i, False)
        self._update()

    # --- selection --------------------------------------------------------------
    def _best(self, ctx: int) -> int:
        """Highest-priority pending enabled source above threshold (lowest id on ties)."""
        best, best_prio = 0, self.threshold[ctx]
        en = self.enable[ctx]
        for w in range(self.words):
            bits = self.pending[w] & en[w]
            while bits:
                low = bits & -bits
                i = (w << 5) + low.bit_length() - 1
                bits ^= low
                if self.priority[i] > best_prio:
                    best, best_prio = i, self.priority[i]
        return best

    def _update(self) -> None:
        for ctx, line in enumerate(self.outputs):
            line.set(self._best(ctx) != 0)

    def _claim(self, ctx: int) -> int:
        i = self._best(ctx)
        if i:
            self._set_pending(i, False)
            self.claimed[i >> 5] |= 1 << (i & 31)
            self._update()
        return i

    def _complete(self, ctx: int, i: int) -> None:
        # Completion of an id not enabled for this context is ignored (spec "Interrupt
        # Completion"); QEMU does the same.
        if not 0 < i < self.num_sources or not self.enable[ctx][i >> 5] & (1 << (i & 31)):
            return
        self.claimed[i >> 5] &= ~(1 << (i & 31))
        if self.levels[i]:
            self._set_pending(i, True)
        self._update()

    def _prio_value(self, value: int) -> int | None:
        # WARL: QEMU masks when num_priorities+1 is a power of two, else rejects large values.
        n = self.num_priorities
        if (n + 1) & n == 0:
            return value & n
        return value if value <= n else None

    # --- registers ----------------------------------------------------------------
    def read(self, offset: int, size: int) -> int:
        if offset < PENDING_BASE:
            i = offset >> 2
            return self.priority[i] if 0 < i < self.num_sources else 0
        if offset < ENABLE_BASE:
            w = (offset - PENDING_BASE) >> 2
            return self.pending[w] if w < self.words else 0
        if offset < CONTEXT_BASE:
            ctx, rel = divmod(offset - ENABLE_BASE, ENABLE_STRIDE)
            w = rel >> 2
            if ctx < len(self.contexts) and w < self.words:
                return self.enable[ctx][w]
            return 0
        ctx, rel = divmod(offset - CONTEXT_BASE, CONTEXT_STRIDE)
        if ctx >= len(self.contexts):
            return 0
        if rel == 0:
            return self.threshold[ctx]
        if rel == 4:
            return self._claim(ctx)
        return 0

    def write(self, offset: int, size: int, value: int) -> None:
        value &= 0xFFFFFFFF
        if offset < PENDING_BASE:
            i = offset >> 2
            v = self._prio_value(value)
            if 0 < i < self.num_sources and v is not None:
                self.priority[i] = v
                self._update()
            return
        if offset < ENABLE_BASE:
            return  # pending bits are read-only
        if offset < CONTEXT_BASE:
            ctx, rel = divmod(offset - ENABLE_BASE, ENABLE_STRIDE)
            w = rel >> 2
            if ctx < len(self.contexts) and w < self.words:
                if w == 0:
                    value &= ~1  # source 0 does not exist
                if w == self.words - 1 and self.num_sources & 31:
                    value &= (1 << (self.num_sources & 31)) - 1
                self.enable[ctx][w] = value
                self._update()
            return
        ctx, rel = divmod(offset - CONTEXT_BASE, CONTEXT_STRIDE)
        if ctx >= len(self.contexts):
            return
        if rel == 0:
            if value <= self.num_priorities:
                self.threshold[ctx] = value
                self._update()
        elif rel == 4:
            self._complete(ctx, value)
