"""``pemu-img convert``: copy guest data between images, skipping zeros.

The source chain is walked in runs (``chain_status``): runs that read as
zeros are skipped on a fresh target (or written as zeroes otherwise); data
runs are read in large chunks, scanned for zero blocks at the sparse
granularity (``-S``, or the target cluster size if larger) and written in
contiguous pieces so the target allocates clusters in batches.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from ..node import BlockNode, chain_status

CHUNK = 8 << 20


class Progress:
    """qemu-img's ``-p``: "    (x.xx/100%)\\r" on stdout."""

    def __init__(self, enabled: bool, total: int) -> None:
        self.enabled = enabled
        self.total = max(total, 1)
        self.last = -1.0
        if enabled:
            self._show(0.0)

    def _show(self, pct: float) -> None:
        sys.stdout.write(f"    ({pct:3.2f}/100%)\r")
        sys.stdout.flush()

    def update(self, done: int) -> None:
        if not self.enabled:
            return
        pct = done * 100.0 / self.total
        if pct - self.last >= 1.0 or pct >= 100.0:
            self.last = pct
            self._show(pct)

    def finish(self) -> None:
        if self.enabled:
            self._show(100.0)
            sys.stdout.write("\n")
            sys.stdout.flush()


def convert(sources: list[BlockNode], dst: BlockNode, *, compressed: bool = False,
            sparse_size: int = 4096, target_fresh: bool = True,
            progress: Callable[[int], None] | None = None) -> None:
    """Copy the concatenation of ``sources`` into ``dst``."""
    base = 0
    gran = max(sparse_size, dst.cluster_size or 0) if sparse_size else 0
    if compressed:
        gran = dst.cluster_size
    zero = bytes(CHUNK)
    buf = bytearray(CHUNK)
    mv = memoryview(buf)
    skip_zero = target_fresh and dst.backing is None
    for src in sources:
        if compressed:
            _convert_compressed(src, dst, base, buf, zero, skip_zero, progress)
            base += src.size
            continue
        pos = 0
        while pos < src.size:
            want = min(CHUNK, src.size - pos)
            is_zero, n, _depth = chain_status(src, pos, want)
            if is_zero:
                if not skip_zero:
                    dst.write_zeroes(base + pos, n)
                pos += n
                if progress:
                    progress(base + pos)
                continue
            # extend the data run to fill the chunk when the next runs are data too
            end = pos + n
            while end - pos < want:
                z, m, _ = chain_status(src, end, pos + want - end)
                if z:
                    break
                end += m
            n = end - pos
            part = mv[:n]
            if hasattr(src, "read_into"):
                src.read_into(pos, part)
            else:
                part[:] = src.read(pos, n)
            if gran:
                _write_sparse(dst, base + pos, buf, n, gran, zero, skip_zero)
            else:
                dst.write(base + pos, part)
            pos += n
            if progress:
                progress(base + pos)
        base += src.size


def _write_sparse(dst: BlockNode, off: int, buf: bytearray, n: int, gran: int,
                  zero: bytes, skip_zero: bool) -> None:
    mv = memoryview(buf)
    if buf[:n] == zero[:n]:
        if not skip_zero:
            dst.write_zeroes(off, n)
        return
    i = 0
    run_start = 0
    in_data = False
    # granules aligned to the guest offset
    first = min(n, gran - (off % gran)) if off % gran else min(n, gran)
    bounds = [0, first]
    while bounds[-1] < n:
        bounds.append(min(n, bounds[-1] + gran))
    for i in range(len(bounds) - 1):
        a, b = bounds[i], bounds[i + 1]
        z = buf[a:b] == zero[: b - a]
        if not z and not in_data:
            run_start, in_data = a, True
        elif z and in_data:
            dst.write(off + run_start, mv[run_start:a])
            in_data = False
        if z and not skip_zero:
            dst.write_zeroes(off + a, b - a)
    if in_data:
        dst.write(off + run_start, mv[run_start:n])


def _convert_compressed(src: BlockNode, dst: BlockNode, base: int, buf: bytearray,
                        zero: bytes, skip_zero: bool,
                        progress: Callable[[int], None] | None) -> None:
    """Cluster-aligned chunks, each compressed cluster by cluster."""
    cs = dst.cluster_size
    mv = memoryview(buf)
    pos = 0
    while pos < src.size:
        n = min(CHUNK, src.size - pos)
        is_zero, m, _ = chain_status(src, pos, n)
        if is_zero and m == n:
            if not skip_zero:
                dst.write_zeroes(base + pos, n)
        else:
            part = mv[:n]
            if hasattr(src, "read_into"):
                src.read_into(pos, part)
            else:
                part[:] = src.read(pos, n)
            _write_compressed(dst, base + pos, buf, n, cs, zero, skip_zero)
        pos += n
        if progress:
            progress(base + pos)


def _write_compressed(dst: BlockNode, off: int, buf: bytearray, n: int, cs: int,
                      zero: bytes, skip_zero: bool) -> None:
    """Whole clusters compressed (the last one zero-padded), zero clusters skipped."""
    batch: list[bytes] = []
    batch_off = off
    for a in range(0, n, cs):
        piece = bytes(buf[a:min(n, a + cs)])
        if len(piece) < cs:
            piece += bytes(cs - len(piece))
        if piece == zero[:cs]:
            if batch:
                dst.write_compressed(batch_off, batch)  # type: ignore[attr-defined]
                batch = []
            if not skip_zero:
                dst.write_zeroes(off + a, min(cs, n - a))
            batch_off = off + a + cs
            continue
        batch.append(piece)
    if batch:
        dst.write_compressed(batch_off, batch)  # type: ignore[attr-defined]
