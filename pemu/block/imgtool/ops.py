"""``pemu-img`` commit, rebase, compare, map and measure."""

from __future__ import annotations

import mmap
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..buffers import aligned_buffer
from ..errors import BlockError
from ..node import STATUS_ALLOCATED, STATUS_DATA, STATUS_ZERO, BlockNode, chain_status

CHUNK = 4 << 20


def _layers(node: BlockNode) -> list[BlockNode]:
    out = []
    cur: BlockNode | None = node
    while cur is not None:
        out.append(cur)
        cur = cur.backing
    return out


def copy_allocated(top: BlockNode, stop: BlockNode | None, dst: BlockNode,
                   only_top: bool = False) -> None:
    """Copy ranges allocated in the layers above ``stop`` (from ``top``) into ``dst``."""
    layers = _layers(top)
    limit = layers.index(stop) if stop in layers else len(layers)
    buf = aligned_buffer(CHUNK)
    pos = 0
    while pos < top.size:
        n = min(CHUNK, top.size - pos)
        is_zero, m, depth = chain_status(top, pos, n)
        if depth < limit and (not only_top or depth == 0):
            if pos + m > dst.size:
                raise BlockError("Base image is too small")
            if is_zero:
                dst.write_zeroes(pos, m)
            else:
                view = memoryview(buf)[:m]
                _read_into(top, pos, view)
                dst.write(pos, view)
        pos += m


def commit(top: BlockNode, base: BlockNode, dst: BlockNode, empty_top: bool) -> None:
    """Write the data of ``top`` and the layers above ``base`` (a node of its
    chain) into ``dst``, a writable opening of ``base``."""
    if dst.size < top.size:
        dst.truncate(top.size)
    copy_allocated(top, base, dst)
    dst.flush()
    if empty_top:
        top.discard_all()  # type: ignore[attr-defined]


def rebase_safe(top: BlockNode, old: BlockNode | None, new: BlockNode | None) -> None:
    """Copy into ``top`` every range it does not allocate where old and new backing differ."""
    pos = 0
    while pos < top.size:
        n = min(CHUNK, top.size - pos)
        flags, m, _ = top.block_status(pos, n)
        if not flags & STATUS_ALLOCATED:
            a = _read_or_zero(old, pos, m)
            b = _read_or_zero(new, pos, m)
            if a != b:
                cs = top.cluster_size or 65536
                for i in range(0, m, cs):
                    if a[i:i + cs] != b[i:i + cs]:
                        top.write(pos + i, a[i:i + cs])
        pos += m


def _read_or_zero(node: BlockNode | None, pos: int, n: int) -> bytes:
    if node is None or pos >= node.size:
        return bytes(n)
    m = min(n, node.size - pos)
    data = node.read(pos, m)
    return data + bytes(n - m)


def _read_into(node: BlockNode, pos: int, mv: memoryview) -> None:
    if hasattr(node, "read_into"):
        node.read_into(pos, mv)
    else:
        mv[:] = node.read(pos, len(mv))


def _same(a: mmap.mmap, b: mmap.mmap, n: int) -> bool:
    """``a[:n] == b[:n]`` as one memcmp: a find whose window is exactly the needle."""
    return n == 0 or a.find(memoryview(b)[:n], 0, n) == 0


def _first_difference(a: mmap.mmap, b: mmap.mmap, n: int) -> int:
    """Offset of the first 512-byte sector where ``a`` and ``b`` differ (they do)."""
    lo, hi = 0, -(-n // 512)  # sectors; the answer is in [lo, hi)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _same(a, b, mid * 512):
            lo = mid
        else:
            hi = mid
    return lo * 512


def compare(a: BlockNode, b: BlockNode, strict: bool = False) -> tuple[int, str]:
    """Return (exit status, message) as ``qemu-img compare``.

    Ranges both chains report as zeros are skipped; everything else is read
    into two page-aligned buffers and compared with one memcmp (a range
    only one side reads as zeros is compared against a zero buffer).
    """
    common = min(a.size, b.size)
    msgs = []
    if a.size != b.size:
        if strict:
            return 1, "Strict mode: Image size mismatch!"
        msgs.append("Warning: Image size mismatch!")
    with ThreadPoolExecutor(max_workers=1) as reader:
        return _compare(a, b, common, msgs, reader, strict)


# QEMU's block status bits as ``qemu-img compare -s`` compares them, and the
# size of its read buffer (IO_BUF_SIZE), which splits its walk where it reads
_S_DATA, _S_ZERO, _S_OFFSET_VALID, _S_ALLOCATED, _S_EOF = 0x1, 0x2, 0x4, 0x10, 0x20
_IO_BUF_SIZE = 2 << 20


def _status_above(node: BlockNode, pos: int) -> tuple[int, int]:
    """(status, length) of the run at ``pos`` through the whole chain, in QEMU's
    terms: allocated in some layer, data or zero, whether a host offset is
    known (raw files and qcow2 data clusters, not zero flags or compressed),
    and whether the run reaches the end of the image."""
    n = node.size - pos
    st = _S_ZERO
    cur: BlockNode | None = node
    while cur is not None:
        if pos >= cur.size:
            break
        flags, n, host = cur.block_status(pos, min(n, cur.size - pos))
        if flags & STATUS_ALLOCATED:
            st = _S_ALLOCATED
            st |= _S_DATA if flags & STATUS_DATA else 0
            st |= _S_ZERO if flags & STATUS_ZERO else 0
            st |= _S_OFFSET_VALID if host is not None else 0
            break
        cur = cur.backing
    return st | (_S_EOF if pos + n == node.size else 0), n


def _compare(a: BlockNode, b: BlockNode, common: int, msgs: list[str],
             reader: ThreadPoolExecutor, strict: bool) -> tuple[int, str]:
    bufa, bufb, zero = aligned_buffer(CHUNK), aligned_buffer(CHUNK), aligned_buffer(CHUNK)
    pos = 0
    while pos < common:
        n = min(CHUNK, common - pos)
        if strict:  # -s: the status must match too, walked in QEMU's steps
            sa, na = _status_above(a, pos)
            sb, nb = _status_above(b, pos)
            if sa != sb:
                return 1, f"Strict mode: Offset {pos} block status mismatch!"
            n = min(na, nb, common - pos)
            if not (sa & sb & _S_ZERO):
                n = min(n, _IO_BUF_SIZE)
        za, ma, _ = chain_status(a, pos, n)
        zb, mb, _ = chain_status(b, pos, n)
        m = min(ma, mb)
        if not (za and zb):
            left = zero if za else bufa
            right = zero if zb else bufb
            if not za and not zb and a is not b:  # the two reads in flight together
                other = reader.submit(_read_into, b, pos, memoryview(bufb)[:m])
                _read_into(a, pos, memoryview(bufa)[:m])
                other.result()
            else:  # (one node is never read from two threads at once)
                if not za:
                    _read_into(a, pos, memoryview(bufa)[:m])
                if not zb:
                    _read_into(b, pos, memoryview(bufb)[:m])
            if not _same(left, right, m):
                i = _first_difference(left, right, m)
                return 1, "\n".join(msgs + [f"Content mismatch at offset {pos + i}!"])
        pos += m
    big = a if a.size > b.size else b
    pos = common
    while pos < big.size:
        n = min(CHUNK, big.size - pos)
        z, m, _ = chain_status(big, pos, n)
        if not z:
            _read_into(big, pos, memoryview(bufa)[:m])
            if not _same(bufa, zero, m):
                i = _first_difference(bufa, zero, m)
                return 1, "\n".join(msgs + [f"Content mismatch at offset {pos + i}!"])
        pos += m
    return 0, "\n".join(msgs + ["Images are identical."])


def map_entries(node: BlockNode) -> list[dict[str, Any]]:
    """``qemu-img map`` extents: start, length, depth, present, zero, data, offset."""
    layers = _layers(node)
    out: list[dict[str, Any]] = []
    pos = 0
    while pos < node.size:
        n = min(1 << 30, node.size - pos)
        depth, cur = 0, node
        while True:
            if pos >= cur.size:
                flags, m, host = STATUS_ZERO | STATUS_ALLOCATED, n, None
                break
            flags, m, host = cur.block_status(pos, min(n, cur.size - pos))
            n = m
            if flags & STATUS_ALLOCATED or cur.backing is None:
                break
            cur = cur.backing
            depth += 1
        e: dict[str, Any] = {"start": pos, "length": m, "depth": depth,
                             "present": bool(flags & STATUS_ALLOCATED) or (
                                 cur.format_name == "raw"),
                             "zero": bool(flags & STATUS_ZERO) or not flags & STATUS_ALLOCATED,
                             "data": bool(flags & STATUS_DATA)}
        if cur.format_name == "raw" and cur is not node and not flags:
            e["present"] = False
        if host is not None:
            e["offset"] = host
        e["_file"] = layers[depth].filename
        prev = out[-1] if out else None
        if prev and all(prev[k] == e[k] for k in ("depth", "present", "zero", "data")) and (
                ("offset" in prev) == ("offset" in e)) and (
                "offset" not in e or prev["offset"] + prev["length"] == e["offset"]):
            prev["length"] += m
        else:
            out.append(e)
        pos += m
    return out


def measure(size: int, out_fmt: str, cluster_size: int = 65536, refcount_bits: int = 16,
            src: BlockNode | None = None, prealloc: str = "off") -> dict[str, int]:
    """``qemu-img measure``: required and fully-allocated sizes of an output image."""
    data = 0
    if src is not None:
        gran = cluster_size if out_fmt == "qcow2" else 1
        pos = 0
        last_end = 0
        while pos < src.size:
            z, m, _ = chain_status(src, pos, min(1 << 30, src.size - pos))
            if not z:
                a = max(pos // gran * gran, last_end)
                b = -(-(pos + m) // gran) * gran
                data += max(0, b - a)
                last_end = b
            pos += m
    elif prealloc != "off":
        data = size
    if out_fmt == "raw":
        return {"required": size, "fully-allocated": size}
    full = qcow2_prealloc_size(size, cluster_size, refcount_bits.bit_length() - 1)
    aligned = -(-size // cluster_size) * cluster_size
    return {"required": full - aligned + min(data, aligned), "fully-allocated": full}


def _refcount_metadata_size(clusters: int, cs: int, order: int) -> int:
    per_table_cluster = cs // 8
    per_block = cs * 8 // (1 << order)
    table = blocks = 0
    n = 0
    while True:
        last = n
        blocks = -(-(clusters + table + blocks) // per_block)
        table = -(-blocks // per_table_cluster)
        n = clusters + blocks + table
        if n == last:
            break
    return (blocks + table) * cs


def qcow2_prealloc_size(size: int, cs: int, order: int) -> int:
    """Image size with every cluster allocated (QEMU's calculation)."""
    aligned = -(-size // cs) * cs
    l2e = cs // 8
    meta = cs
    nl2e = -(-aligned // cs)
    nl2e = -(-nl2e // l2e) * l2e
    meta += nl2e * 8
    nl1e = -(-nl2e // l2e)
    meta += -(-nl1e * 8 // cs) * cs
    meta += _refcount_metadata_size(-(-(meta + aligned) // cs), cs, order)
    return meta + aligned
