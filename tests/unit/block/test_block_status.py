"""Block status from the L2 run index agrees with a cluster-by-cluster walk."""

from __future__ import annotations

import random
from array import array

import pytest

from pemu.block import create_image, open_image
from pemu.block.l2scan import run_length
from pemu.block.node import STATUS_ALLOCATED, STATUS_COMPRESSED, STATUS_DATA, STATUS_ZERO
from pemu.block.qcow2 import K_COMPRESSED, K_DATA, K_ZERO


def _naive_run(t: array, i: int, iend: int, step: int) -> int:
    n = 1
    while i + n < iend and t[i + n] == t[i] + n * step:
        n += 1
    return n


def test_run_length_matches_naive_walk():
    rnd = random.Random(5)
    for _ in range(2000):
        t = array("Q")
        while len(t) < 300:
            k = rnd.randrange(1, 40)
            kind = rnd.randrange(3)
            if kind == 2:
                h = rnd.randrange(1, 1000) * 65536 | 1 << 63
                t.extend(h + j * 65536 for j in range(k))
            else:
                t.extend([kind] * k)
        i = rnd.randrange(len(t))
        iend = rnd.randrange(i + 1, len(t) + 1)
        for step in (0, 65536):
            assert run_length(t, i, iend, step) == _naive_run(t, i, iend, step)


def _walk_status(node, offset: int, length: int) -> tuple[int, int, int | None]:
    """The reference: per-cluster classification, first run only."""
    cs = node.cs
    kinds = []
    pos = offset
    while pos < offset + length:
        n = min(cs - pos % cs, offset + length - pos)
        kind, _, _, host = next(node.runs(pos, n))
        kinds.append((kind, pos, n, host))
        pos += n
    kind, _, total, host = kinds[0]
    for k, _, n, h in kinds[1:]:
        if k != kind or k == K_COMPRESSED or (k == K_DATA and host + total != h):
            break
        total += n
    flags = {K_DATA: STATUS_DATA | STATUS_ALLOCATED, K_ZERO: STATUS_ZERO | STATUS_ALLOCATED,
             K_COMPRESSED: STATUS_DATA | STATUS_ALLOCATED | STATUS_COMPRESSED}.get(kind, 0)
    return flags, total, host if kind == K_DATA else None


@pytest.mark.parametrize("cluster_size", [512, 4096, 65536])
def test_block_status_index_agrees_with_walk(tmp_path, cluster_size):
    path = str(tmp_path / "a.qcow2")
    size = 8 << 20
    create_image(path, "qcow2", size, {"cluster_size": str(cluster_size)})
    rnd = random.Random(cluster_size)
    with open_image(path, readonly=False) as n:
        for i in range(120):
            off = rnd.randrange(0, size - (256 << 10)) // 512 * 512
            ln = rnd.choice([512, cluster_size, 3 * cluster_size, 200000])
            op = rnd.random()
            if op < 0.5:
                n.write(off, bytes([i % 255 + 1]) * ln)
            elif op < 0.65:
                n.write_zeroes(off, ln)
            elif op < 0.8:
                n.discard(off, ln)
            else:
                gc = off // cluster_size * cluster_size
                n.write_compressed(gc, [bytes([i])[:1] * cluster_size] * 2)
            for _ in range(5):  # interleaved with writes: the index must follow them
                a = rnd.randrange(0, size - 1)
                ln2 = rnd.randrange(1, min(size - a, 300 * cluster_size) + 1)
                assert n.block_status(a, ln2) == _walk_status(n, a, ln2), (i, a, ln2)
