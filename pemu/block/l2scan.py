"""Runs of alike entries in an L2 table, found at C speed.

A guest range maps cluster by cluster through the L2 table; classifying
every entry in Python costs about a microsecond each, which dominates
``convert``, ``compare`` and ``map`` on big images.  Entries of one run
follow a progression: unallocated or zero clusters repeat one value, and
host-contiguous data clusters grow by the cluster size (flags included, so
a run never mixes kinds).  :func:`run_length` checks windows of the table
against that progression with ``array`` comparisons, growing the window
while it matches and bisecting the window where it does not.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable

from .qcow2_format import L2E_OFFSET_MASK


def _matches(t: array, i: int, a: int, b: int, e0: int, step: int) -> bool:
    """Do entries ``t[i+a:i+b]`` continue the progression ``e0 + j*step``?"""
    if step:
        want = array("Q", range(e0 + a * step, e0 + b * step, step))
    else:
        want = array("Q", (e0,)) * (b - a)
    return t[i + a:i + b] == want


def run_length(t: array, i: int, iend: int, step: int) -> int:
    """How many entries from ``t[i]`` (at least 1, at most ``iend - i``) equal
    ``t[i] + j*step`` for j = 0, 1, ..."""
    e0 = t[i]
    n = iend - i
    if step:  # a progression that would run out of offset bits is no run
        n = min(n, (L2E_OFFSET_MASK - (e0 & L2E_OFFSET_MASK)) // step + 1)
    good, k = 1, 8
    while True:
        k = min(k, n)
        if k <= good:
            return good
        if not _matches(t, i, good, k, e0, step):
            break
        good = k
        k *= 4
    lo, hi = good, k  # entries [0, lo) match; one in [lo, hi) does not
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _matches(t, i, lo, mid, e0, step):
            lo = mid
        else:
            hi = mid
    return lo


def table_runs(t: array, classify: Callable[[int], int], cs: int,
               data_kind: int, single_kind: int) -> tuple[list[int], list[tuple[int, int, int]]]:
    """Split a whole L2 table into runs: ``(starts, [(kind, count, first entry)])``.

    ``data_kind`` entries run while host-contiguous, ``single_kind`` ones
    (compressed clusters) stand alone, every other kind runs while equal.
    ``starts`` is sorted, for :func:`bisect.bisect_right` lookups.
    """
    starts: list[int] = []
    runs: list[tuple[int, int, int]] = []
    i, n = 0, len(t)
    while i < n:
        e = t[i]
        kind = classify(e)
        count = 1 if kind == single_kind else run_length(
            t, i, n, cs if kind == data_kind else 0)
        starts.append(i)
        runs.append((kind, count, e))
        i += count
    return starts, runs
