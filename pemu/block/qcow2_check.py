"""Consistency check and repair of qcow2 images (``qemu-img check``).

Every reference to a host cluster is counted by walking the metadata (header,
L1/L2 tables of the active state and of every snapshot, compressed ranges,
refcount table and blocks, snapshot table, persistent bitmaps) and compared
with the stored refcounts: stored < counted is a corruption, stored > counted
a leak.  The "copied" flag (bit 63) of active L1/L2 entries must be set
exactly when the refcount is 1 (spec "Cluster mapping").  Messages go to
stderr in QEMU's words.
"""

from __future__ import annotations

import struct
import sys
from array import array
from dataclasses import dataclass

from .errors import BlockError
from .qcow2 import K_COMPRESSED, K_DATA, K_ZERO, Qcow2Node
from .qcow2_format import (
    AUTOCLEAR_BITMAPS,
    EXT_BITMAPS,
    L1E_OFFSET_MASK,
    L2E_OFFSET_MASK,
    OFLAG_COMPRESSED,
    OFLAG_COPIED,
)


@dataclass
class CheckResult:
    corruptions: int = 0
    leaks: int = 0
    check_errors: int = 0
    corruptions_fixed: int = 0
    leaks_fixed: int = 0
    image_end_offset: int = 0
    total_clusters: int = 0
    allocated_clusters: int = 0
    fragmented_clusters: int = 0
    compressed_clusters: int = 0


class _Refs:
    """Counted references: an array for in-file clusters, a dict beyond."""

    def __init__(self, nclusters: int) -> None:
        self.n = nclusters
        self.a = array("L", bytes(4 * nclusters)) if array("L").itemsize == 4 else array(
            "I", bytes(4 * nclusters))
        self.extra: dict[int, int] = {}

    def inc(self, c: int, k: int = 1) -> None:
        if c < self.n:
            self.a[c] += k
        else:
            self.extra[c] = self.extra.get(c, 0) + k

    def get(self, c: int) -> int:
        return self.a[c] if c < self.n else self.extra.get(c, 0)


def _say(quiet: bool, msg: str) -> None:
    if not quiet:
        print(msg, file=sys.stderr)


def _count_range(refs: _Refs, node: Qcow2Node, off: int, length: int) -> None:
    if length <= 0:
        return
    for c in range(off >> node.cbits, ((off + length - 1) >> node.cbits) + 1):
        refs.inc(c)


def _walk_l1(node: Qcow2Node, refs: _Refs, res: CheckResult, l1: list[int],
             active: bool, quiet: bool) -> None:
    cs = node.cs
    next_contig = 0
    for e in l1:
        off = e & L1E_OFFSET_MASK
        if not off:
            continue
        if off % cs:
            _say(quiet, f"ERROR l2_offset={off:x}: Table is not cluster aligned; "
                        "L1 entry corrupted")
            res.corruptions += 1
            continue
        refs.inc(off >> node.cbits)
        try:
            t = node.l2_table(off)
        except BlockError:
            _say(quiet, f"ERROR l2_offset={off:x}: L2 table is past the end of the file")
            res.corruptions += 1
            continue
        for le in t:
            if not le:
                continue
            k = node.classify(le)
            if k == K_COMPRESSED:
                if le & OFLAG_COPIED:
                    _say(quiet, f"ERROR: coffset={le & node.coff_mask:#x}: Compressed "
                                "cluster has copied flag set")
                    res.corruptions += 1
                for c in node.compressed_clusters(le):
                    refs.inc(c)
                if active:
                    res.allocated_clusters += 1
                    res.compressed_clusters += 1
                    res.fragmented_clusters += 1
                continue
            host = le & L2E_OFFSET_MASK
            if k in (K_DATA, K_ZERO) and host:
                if host % cs:
                    _say(quiet, f"ERROR offset={host:x}: Cluster is not properly aligned; "
                                "L2 entry corrupted.")
                    res.corruptions += 1
                    continue
                if node.data_file is None:
                    refs.inc(host >> node.cbits)
                if active:
                    res.allocated_clusters += 1
                    if next_contig and host != next_contig:
                        res.fragmented_clusters += 1
                    next_contig = host + cs


def _count_bitmaps(node: Qcow2Node, refs: _Refs, res: CheckResult, quiet: bool) -> None:
    """Persistent bitmaps (spec "Bitmaps extension"): directory, tables, data."""
    ext = node.hdr.ext(EXT_BITMAPS)
    if ext is None or not node.hdr.autoclear_features & AUTOCLEAR_BITMAPS or len(ext.data) < 24:
        return
    nb, _res, dsize, doff = struct.unpack_from(">IIQQ", ext.data)
    if dsize > (64 << 20) or doff % node.cs:
        _say(quiet, "ERROR bitmap directory is invalid")
        res.corruptions += 1
        return
    _count_range(refs, node, doff, dsize)
    d = node.file.pread(doff, dsize)
    pos = 0
    for _ in range(nb):
        if pos + 24 > len(d):
            break
        toff, tsize, _flags, _typ, _gran, nlen, xlen = struct.unpack_from(">QIIBBHI", d, pos)
        pos = (pos + 24 + xlen + nlen + 7) & ~7
        if tsize > (1 << 22):
            continue
        _count_range(refs, node, toff, tsize * 8)
        raw = node.file.pread(toff, tsize * 8)
        for be in struct.unpack(f">{tsize}Q", raw):
            o = be & L2E_OFFSET_MASK
            if o:
                refs.inc(o >> node.cbits)


def check_image(node: Qcow2Node, fix: str | None = None, quiet: bool = False) -> CheckResult:
    """Check (and with ``fix`` = "leaks" or "all", repair) a qcow2 image."""
    res = CheckResult()
    cs = node.cs
    h = node.hdr
    fsize = node.file.size()
    res.total_clusters = -(-h.size // cs)
    refs = _Refs(-(-fsize // cs))
    refs.inc(0)  # header
    _count_range(refs, node, h.l1_table_offset, h.l1_size * 8)
    _walk_l1(node, refs, res, node.l1, True, quiet)
    for sn in node.snapshots:
        _count_range(refs, node, sn.l1_table_offset, sn.l1_size * 8)
        raw = node.file.pread(sn.l1_table_offset, sn.l1_size * 8)
        _walk_l1(node, refs, res, list(struct.unpack(f">{sn.l1_size}Q", raw)), False, quiet)
    if h.nb_snapshots:
        _count_range(refs, node, h.snapshots_offset, node.snapshot_table_bytes)
    rc = node.refcounts
    _count_range(refs, node, h.refcount_table_offset, h.refcount_table_clusters * cs)
    for off in rc.table:
        if off:
            refs.inc(off >> node.cbits)
    _count_bitmaps(node, refs, res, quiet)

    # compare stored refcounts with counted references
    # in-file clusters, plus clusters referenced beyond the end (never a
    # range up to a hostile offset: that could be 2^47 iterations)
    candidates = list(range(refs.n)) + sorted(refs.extra)
    fixes: list[tuple[int, int]] = []
    highest = 0
    for c in candidates:
        stored = rc.get(c)
        counted = refs.get(c)
        if stored or counted:
            highest = c
        if stored == counted:
            continue
        if stored < counted:
            can = fix == "all"
            _say(quiet, f"{'Repairing' if can else 'ERROR'} cluster {c} refcount={stored} "
                        f"reference={counted}")
            if can:
                fixes.append((c, counted))
                res.corruptions_fixed += 1
            else:
                res.corruptions += 1
        else:
            can = fix in ("leaks", "all")
            _say(quiet, f"{'Repairing' if can else 'Leaked'} cluster {c} refcount={stored} "
                        f"reference={counted}")
            if can:
                fixes.append((c, counted))
                res.leaks_fixed += 1
            else:
                res.leaks += 1
    if fixes:
        _apply_fixes(node, refs, fixes)
    res.image_end_offset = (highest + 1) * cs
    _check_copied(node, res, fix == "all", quiet)
    return res


def _apply_fixes(node: Qcow2Node, refs: _Refs, fixes: list[tuple[int, int]]) -> None:
    rc = node.refcounts
    rc.reserved = lambda c: refs.get(c) > 0
    try:
        # raise too-low counts first, then lower leaked ones: never lose a reference
        for c, v in sorted(fixes, key=lambda f: rc.get(f[0]) > f[1]):
            while rc._ensure_blocks(c, 1):
                pass
            rc.set_range(c, [v])
    finally:
        rc.reserved = None
        rc.free_hint = 0


def _check_copied(node: Qcow2Node, res: CheckResult, repair: bool, quiet: bool) -> None:
    rc = node.refcounts
    for i, e in enumerate(node.l1):
        off = e & L1E_OFFSET_MASK
        if not off or off % node.cs:
            continue
        want = rc.get(off >> node.cbits) == 1
        if bool(e & OFLAG_COPIED) != want:
            _say(quiet, f"{'Repairing' if repair else 'ERROR'} OFLAG_COPIED L2 cluster: "
                        f"l1_index={i} l1_entry={e:x} refcount={rc.get(off >> node.cbits)}")
            if repair:
                node._write_l1_entry(i, e | OFLAG_COPIED if want else e & ~OFLAG_COPIED)
                res.corruptions_fixed += 1
            else:
                res.corruptions += 1
        try:
            t = node.l2_table(off)
        except BlockError:
            continue
        dirty = False
        for j, le in enumerate(t):
            if le & OFLAG_COMPRESSED or not le & L2E_OFFSET_MASK:
                continue
            host = le & L2E_OFFSET_MASK
            if host % node.cs:
                continue
            r = rc.get(host >> node.cbits)
            want = r == 1
            if bool(le & OFLAG_COPIED) != want:
                _say(quiet, f"{'Repairing' if repair else 'ERROR'} OFLAG_COPIED data cluster: "
                            f"l2_entry={le:x} refcount={r}")
                if repair:
                    t[j] = le | OFLAG_COPIED if want else le & ~OFLAG_COPIED
                    dirty = True
                    res.corruptions_fixed += 1
                else:
                    res.corruptions += 1
        if dirty:
            node._write_l2_slice(off, t, 0, len(t))
