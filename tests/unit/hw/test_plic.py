"""PLIC poked through an AddressSpace, qtest style."""
from __future__ import annotations

import pytest

from pemu.core.memory import AddressSpace, BusError
from pemu.hw.intc.plic import Plic, plic_size

BASE = 0xC000000


@pytest.fixture
def rig():
    mem = AddressSpace()
    plic = Plic(num_harts=2)
    mem.map(BASE, plic.region)
    return mem, plic


def prio(mem, i, v):
    mem.write(BASE + 4 * i, 4, v)


def enable(mem, ctx, *ids):
    words = [0, 0, 0]
    for i in ids:
        words[i >> 5] |= 1 << (i & 31)
    for w, v in enumerate(words):
        mem.write(BASE + 0x2000 + 0x80 * ctx + 4 * w, 4, v)


def threshold(mem, ctx, v):
    mem.write(BASE + 0x200000 + 0x1000 * ctx, 4, v)


def claim(mem, ctx):
    return mem.read(BASE + 0x200004 + 0x1000 * ctx, 4)


def complete(mem, ctx, i):
    mem.write(BASE + 0x200004 + 0x1000 * ctx, 4, i)


def test_layout() -> None:
    plic = Plic(num_harts=2)
    assert plic.contexts == [(0, "M"), (0, "S"), (1, "M"), (1, "S")]
    assert plic.context_index(1, "S") == 3
    assert plic.region.size == plic_size(4) == 0x204000
    assert Plic(num_harts=1, size=0x600000).region.size == 0x600000
    assert len(Plic(hart_config="MS,MS,MS").outputs) == 6
    with pytest.raises(ValueError):
        Plic().input(0)
    with pytest.raises(ValueError):
        Plic().input(96)


def test_priority_registers(rig) -> None:
    mem, _ = rig
    prio(mem, 10, 5)
    assert mem.read(BASE + 40, 4) == 5
    prio(mem, 10, 0xF)  # WARL: masked to 3 bits for 7 priorities
    assert mem.read(BASE + 40, 4) == 7
    prio(mem, 0, 3)  # id 0 reserved
    assert mem.read(BASE, 4) == 0
    with pytest.raises(BusError):
        mem.read(BASE + 40, 1)


def test_enable_masks_reserved_bits(rig) -> None:
    mem, _ = rig
    mem.write(BASE + 0x2000, 4, 0xFFFFFFFF)
    assert mem.read(BASE + 0x2000, 4) == 0xFFFFFFFE
    mem.write(BASE + 0x2000 + 8, 4, 0xFFFFFFFF)
    assert mem.read(BASE + 0x2000 + 8, 4) == 0xFFFFFFFF  # 96 ids: word 2 full
    assert mem.read(BASE + 0x2000 + 12, 4) == 0


def test_claim_complete_flow(rig) -> None:
    mem, plic = rig
    out = plic.outputs
    prio(mem, 10, 1)
    enable(mem, 1, 10)  # hart 0 S-mode
    plic.input(10).raise_()
    assert mem.read(BASE + 0x1000, 4) == 1 << 10
    assert out[1].level == 1 and out[0].level == 0
    assert claim(mem, 1) == 10
    assert out[1].level == 0
    assert mem.read(BASE + 0x1000, 4) == 0
    assert claim(mem, 1) == 0  # in flight: nothing to claim
    plic.input(10).lower()
    complete(mem, 1, 10)
    assert out[1].level == 0 and claim(mem, 1) == 0


def test_completion_re_raises_level_source(rig) -> None:
    mem, plic = rig
    prio(mem, 7, 2)
    enable(mem, 0, 7)
    plic.input(7).raise_()
    assert claim(mem, 0) == 7
    assert plic.outputs[0].level == 0
    complete(mem, 0, 7)  # device still asserts its line
    assert plic.outputs[0].level == 1
    assert claim(mem, 0) == 7


def test_claim_order_priority_then_lowest_id(rig) -> None:
    mem, plic = rig
    for i, p in ((3, 2), (5, 6), (9, 6), (40, 1)):
        prio(mem, i, p)
        plic.input(i).raise_()
    enable(mem, 2, 3, 5, 9, 40)
    assert [claim(mem, 2) for _ in range(5)] == [5, 9, 3, 40, 0]


def test_threshold_and_zero_priority(rig) -> None:
    mem, plic = rig
    prio(mem, 4, 3)
    enable(mem, 0, 4, 6)
    plic.input(6).raise_()  # priority 0: never interrupts
    plic.input(4).raise_()
    threshold(mem, 0, 3)
    assert plic.outputs[0].level == 0 and claim(mem, 0) == 0
    threshold(mem, 0, 2)
    assert plic.outputs[0].level == 1
    assert mem.read(BASE + 0x200000, 4) == 2
    threshold(mem, 0, 99)  # out of range: ignored
    assert mem.read(BASE + 0x200000, 4) == 2
    assert claim(mem, 0) == 4


def test_disabled_source_and_lowered_line(rig) -> None:
    mem, plic = rig
    prio(mem, 12, 1)
    plic.input(12).raise_()
    assert plic.outputs[0].level == 0  # not enabled anywhere
    enable(mem, 0, 12)
    assert plic.outputs[0].level == 1
    plic.input(12).lower()  # dropped before claim: no longer pending (as QEMU)
    assert plic.outputs[0].level == 0
    assert mem.read(BASE + 0x1000, 4) == 0


def test_completion_needs_enable(rig) -> None:
    mem, plic = rig
    prio(mem, 2, 1)
    enable(mem, 0, 2)
    plic.input(2).raise_()
    assert claim(mem, 0) == 2
    complete(mem, 1, 2)  # context 1 does not enable source 2: ignored
    assert plic.outputs[0].level == 0
    complete(mem, 0, 2)
    assert plic.outputs[0].level == 1


def test_reset_keeps_asserted_lines_pending(rig) -> None:
    mem, plic = rig
    prio(mem, 1, 1)
    enable(mem, 0, 1)
    plic.input(1).raise_()
    plic.reset()
    assert mem.read(BASE + 0x1000, 4) == 2
    assert mem.read(BASE + 4, 4) == 0
    assert plic.outputs[0].level == 0
