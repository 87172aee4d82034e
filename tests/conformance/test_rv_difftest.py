"""The differential harness as a test: seeded random RV64GC+Zba/Zbb/Zbs
streams on pemu (every tier: one-instruction, Python, native) and qemu-system-riscv64
must end in the same state (rvdiff.py; run it directly for longer campaigns)."""
from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import rvdiff  # noqa: E402

pytestmark = pytest.mark.skipif(rvdiff.available() is not None,
                                reason=str(rvdiff.available()))


def _campaign(insns: int, seed: int, extra: tuple[str, ...] = ()) -> None:
    nimg = insns // 12_500
    failures = []
    total = 0
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(os.cpu_count() or 2) as ex:
        for seed_i, (count, d, items) in zip(
                range(nimg), ex.map(lambda i: rvdiff.check_image(seed * 100_003 + i, 12_500,
                                                                 extra), range(nimg)),
                strict=True):
            total += count
            if d:
                failures.append(rvdiff.report(seed * 100_003 + seed_i, items, extra))
    assert total >= insns
    assert not failures, "\n\n".join(failures)


def test_difftest_tier1() -> None:
    """10**5 random instructions, translation blocks in the Python tier."""
    _campaign(100_000, seed=1, extra=("-accel", "tcg,native=off"))


def test_difftest_native(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every block compiled to native code before its first run (loops,
    faults on later passes, TLB misses and cuts to Python included)."""
    monkeypatch.setenv("PEMU_NATIVE_HOT", "0")
    _campaign(50_000, seed=3, extra=("-accel", "tcg,native=on"))


def test_difftest_tier0() -> None:
    """A shorter run on the one-instruction reference tier."""
    _campaign(25_000, seed=2, extra=("-accel", "tcg,one-insn-per-tb=on"))
