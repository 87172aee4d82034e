"""qcow2 reference counts: the refcount table, refcount blocks, allocation.

Spec "Host cluster management": a two-level structure maps each host
cluster to a reference count.  The refcount table (big-endian u64 offsets
of refcount blocks, bits 9-63) is contiguous; each refcount block is one
cluster of ``refcount_bits``-wide big-endian entries (for sub-byte widths the
first entry is in the least significant bits of the byte).

Crash consistency: a cluster's refcount is always raised (and written) before
anything refers to it, and lowered only after the last reference is gone, so
an interrupted update can only leak clusters.  A new refcount block is
written before the table entry that points at it; a grown table is written
completely before the header switches to it.
"""

from __future__ import annotations

import struct
import sys
from array import array
from collections.abc import Callable

from .errors import BlockError, ImageCorrupt
from .file import FileProtocol
from .qcow2_format import MAX_REFTABLE_BYTES, REFT_OFFSET_MASK, Header

_LITTLE = sys.byteorder == "little"
_TYPECODE = {8: "B", 16: "H", 32: "I", 64: "Q"}


def _decode(raw: bytes, bits: int) -> array:
    """Decode a refcount block into an array of integers."""
    if bits >= 8:
        a = array(_TYPECODE[bits])
        a.frombytes(raw)
        if _LITTLE and bits > 8:
            a.byteswap()
        return a
    per, mask = 8 // bits, (1 << bits) - 1
    return array("B", [(b >> (k * bits)) & mask for b in raw for k in range(per)])


def _encode(vals: array, bits: int) -> bytes:
    if bits >= 8:
        a = array(vals.typecode, vals)
        if _LITTLE and bits > 8:
            a.byteswap()
        return a.tobytes()
    per = 8 // bits
    out = bytearray(len(vals) // per)
    for i in range(len(out)):
        v = 0
        for k in range(per):
            v |= vals[i * per + k] << (k * bits)
        out[i] = v
    return bytes(out)


class Refcounts:
    """In-memory view of the refcount structures, written through on change."""

    def __init__(self, f: FileProtocol, hdr: Header,
                 header_update: Callable[[int, bytes], None]) -> None:
        self.f = f
        self.hdr = hdr
        self.cs = hdr.cluster_size
        self.cbits = hdr.cluster_bits
        self.bits = hdr.refcount_bits
        self.max = (1 << self.bits) - 1
        self.rpb = self.cs * 8 // self.bits  # refcount entries per block
        self.header_update = header_update
        self.blocks: dict[int, array] = {}
        self.free_hint = 0
        # while repairing: clusters in use per the computed references
        self.reserved: Callable[[int], bool] | None = None
        self._load_table()

    # -- loading -------------------------------------------------------------
    def _load_table(self) -> None:
        h = self.hdr
        nbytes = h.refcount_table_clusters * self.cs
        if h.refcount_table_clusters == 0:
            raise ImageCorrupt("Image does not contain a reference count table")
        if nbytes > MAX_REFTABLE_BYTES:
            raise ImageCorrupt("Reference count table too large")
        if h.refcount_table_offset % self.cs:
            raise ImageCorrupt("Reference count table offset invalid")
        fsize = self.f.size()
        if h.refcount_table_offset + nbytes > fsize:
            raise ImageCorrupt("Reference count table offset past the end of the image file")
        raw = self.f.pread(h.refcount_table_offset, nbytes)
        n = nbytes // 8
        table = list(struct.unpack(f">{n}Q", raw))
        for i, e in enumerate(table):
            if e & ~REFT_OFFSET_MASK & 0x1FF:
                raise ImageCorrupt(f"Reference count block {i} has reserved bits set")
            e &= REFT_OFFSET_MASK
            if e and (e % self.cs or e + self.cs > fsize):
                raise ImageCorrupt(f"Refblock offset {e:#x} at reftable index {i} is "
                                   "invalid or past the end of the image file")
            table[i] = e
        self.table = table

    def block(self, idx: int) -> array:
        blk = self.blocks.get(idx)
        if blk is None:
            blk = _decode(self.f.pread(self.table[idx], self.cs), self.bits)
            self.blocks[idx] = blk
        return blk

    # -- queries ---------------------------------------------------------------
    def get(self, cluster: int) -> int:
        idx = cluster // self.rpb
        if idx >= len(self.table) or not self.table[idx]:
            return 0
        return self.block(idx)[cluster % self.rpb]

    def covered_clusters(self) -> int:
        return len(self.table) * self.rpb

    def _is_free(self, c: int) -> bool:
        return self.get(c) == 0 and not (self.reserved and self.reserved(c))

    def _find_free(self, n: int) -> int:
        """First-fit search for ``n`` consecutive free clusters."""
        c = max(self.free_hint, 1)
        run_start, run = c, 0
        first_free = None
        rpb = self.rpb
        while True:
            idx = c // rpb
            if (idx >= len(self.table) or not self.table[idx]) and self.reserved is None:
                if run == 0:
                    run_start = c
                if first_free is None:
                    first_free = c
                run += (idx + 1) * rpb - c
                c = (idx + 1) * rpb
                if run >= n:
                    break
                continue
            if self._is_free(c):
                if run == 0:
                    run_start = c
                if first_free is None:
                    first_free = c
                run += 1
                if run >= n:
                    break
            else:
                run = 0
            c += 1
        self.free_hint = first_free if first_free < run_start else run_start + n
        return run_start

    # -- allocation ------------------------------------------------------------
    def alloc(self, n: int) -> int:
        """Allocate ``n`` contiguous clusters with refcount 1; return the host offset."""
        return self.alloc_values([1] * n)

    def alloc_values(self, values: list[int]) -> int:
        """Allocate ``len(values)`` contiguous clusters with the given refcounts."""
        n = len(values)
        while True:
            c = self._find_free(n)
            if self._ensure_blocks(c, n):
                self.free_hint = min(self.free_hint, c)
                continue
            self.set_range(c, values)
            return c << self.cbits

    def _ensure_blocks(self, c: int, n: int) -> bool:
        """Create refcount blocks covering [c, c+n); True if anything changed."""
        first, last = c // self.rpb, (c + n - 1) // self.rpb
        if last >= len(self.table):
            self._grow_table(last)
            return True
        for idx in range(first, last + 1):
            if not self.table[idx]:
                self._new_block(idx)
                return True
        return False

    def _new_block(self, idx: int) -> None:
        """A refcount block placed at the first cluster it covers, counting itself."""
        if idx == 0:
            raise ImageCorrupt("Refcount block 0 is missing")
        cluster = idx * self.rpb
        blk = array(_TYPECODE[self.bits] if self.bits >= 8 else "B", bytes(self.rpb)
                    if self.bits <= 8 else [0] * self.rpb)
        blk[0] = 1
        off = cluster << self.cbits
        self.f.pwrite(off, _encode(blk, self.bits))          # 1. the block
        self.f.pwrite(self.hdr.refcount_table_offset + idx * 8, struct.pack(">Q", off))
        self.table[idx] = off                                 # 2. the table entry
        self.blocks[idx] = blk

    def _grow_table(self, need_idx: int) -> None:
        """Move the refcount table to the end, with blocks describing itself."""
        old_len = len(self.table)
        start = old_len * self.rpb  # first uncovered cluster: all free
        entries_per_cluster = self.cs // 8
        new_entries = max(need_idx + 1, old_len + old_len // 2 + 1)
        nblocks = 1
        while True:
            tclusters = -(-max(new_entries, old_len + nblocks) // entries_per_cluster)
            need = -(-(nblocks + tclusters) // self.rpb)
            if need <= nblocks:
                break
            nblocks = need
        new_entries = tclusters * entries_per_cluster
        if tclusters * self.cs > MAX_REFTABLE_BYTES:
            raise BlockError("Image too large: reference count table would exceed limit")
        used = nblocks + tclusters
        new_table = self.table + [0] * (new_entries - old_len)
        # 1. the new refcount blocks, counting themselves and the new table
        for j in range(nblocks):
            idx = old_len + j
            blk = array(_TYPECODE[self.bits] if self.bits >= 8 else "B",
                        bytes(self.rpb) if self.bits <= 8 else [0] * self.rpb)
            for k in range(min(self.rpb, used - j * self.rpb)):
                blk[k] = 1
            off = (start + j) << self.cbits
            self.f.pwrite(off, _encode(blk, self.bits))
            new_table[idx] = off
            self.blocks[idx] = blk
        # 2. the new table
        toff = (start + nblocks) << self.cbits
        self.f.pwrite(toff, struct.pack(f">{new_entries}Q", *new_table))
        # 3. the header switches to it (one write of offset + cluster count)
        old_off, old_clusters = self.hdr.refcount_table_offset, self.hdr.refcount_table_clusters
        self.header_update(48, struct.pack(">QI", toff, tclusters))
        self.hdr.refcount_table_offset, self.hdr.refcount_table_clusters = toff, tclusters
        self.table = new_table
        # 4. the old table's clusters are free
        self.update(old_off >> self.cbits, old_clusters, -1)

    # -- updates ---------------------------------------------------------------
    def set_range(self, c: int, values: list[int]) -> None:
        """Set refcounts of clusters c.. to ``values`` (blocks must exist)."""
        i = 0
        n = len(values)
        while i < n:
            cl = c + i
            idx, pos = divmod(cl, self.rpb)
            cnt = min(self.rpb - pos, n - i)
            if idx >= len(self.table) or not self.table[idx]:
                if all(v == 0 for v in values[i:i + cnt]):
                    i += cnt
                    continue
                raise ImageCorrupt(f"No refcount block for cluster {cl}")
            blk = self.block(idx)
            for k in range(cnt):
                v = values[i + k]
                if v < 0 or v > self.max:
                    raise BlockError(f"Refcount overflow/underflow for cluster {cl + k}")
                blk[pos + k] = v
            self._write_slice(idx, pos, cnt)
            i += cnt

    def update(self, c: int, n: int, delta: int) -> list[int]:
        """Add ``delta`` to clusters [c, c+n); return clusters that became free."""
        freed = []
        i = 0
        while i < n:
            cl = c + i
            idx, pos = divmod(cl, self.rpb)
            cnt = min(self.rpb - pos, n - i)
            if idx >= len(self.table) or not self.table[idx]:
                raise ImageCorrupt(f"Refcount update for unallocated cluster {cl}")
            blk = self.block(idx)
            for k in range(cnt):
                v = blk[pos + k] + delta
                if v < 0:
                    raise ImageCorrupt(f"Refcount underflow for cluster {cl + k}")
                if v > self.max:
                    raise BlockError(f"Refcount overflow for cluster {cl + k}")
                blk[pos + k] = v
                if v == 0:
                    freed.append(cl + k)
            self._write_slice(idx, pos, cnt)
            i += cnt
        if freed:
            self.free_hint = min(self.free_hint, freed[0])
        return freed

    def update_list(self, clusters: list[int], delta: int) -> list[int]:
        """``update`` for scattered clusters, merging consecutive ones."""
        freed: list[int] = []
        clusters = sorted(clusters)
        i = 0
        while i < len(clusters):
            j = i + 1
            while j < len(clusters) and clusters[j] == clusters[j - 1]:
                j += 1
            if j - i > 1:  # duplicates: apply the multiplicity at once
                freed += self.update(clusters[i], 1, delta * (j - i))
                i = j
                continue
            while j < len(clusters) and clusters[j] == clusters[j - 1] + 1 and (
                    j + 1 >= len(clusters) or clusters[j + 1] != clusters[j]):
                j += 1
            freed += self.update(clusters[i], j - i, delta)
            i = j
        return freed

    def _write_slice(self, idx: int, pos: int, cnt: int) -> None:
        blk = self.blocks[idx]
        if self.bits >= 8:
            nb = self.bits // 8
            self.f.pwrite(self.table[idx] + pos * nb, _encode(blk[pos:pos + cnt], self.bits))
        else:
            self.f.pwrite(self.table[idx], _encode(blk, self.bits))
