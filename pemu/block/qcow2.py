"""The qcow2 format driver: open, read, write, discard, resize.

Spec "Cluster mapping": guest offsets map through a two-level table.  The L1
table (u64 entries: bits 9-55 L2 offset, bit 63 "copied" = refcount 1) points
at L2 tables of one cluster each; an L2 entry is either a standard descriptor
(bit 0 "reads as zero" in v3, bits 9-55 host offset, bit 63 copied) or, with
bit 62 set, a compressed descriptor (see :mod:`compress`).

Write ordering (crash consistency, spec "Host cluster management"):
data cluster written -> refcounts raised (before, in :meth:`Refcounts.alloc`)
-> L2 entries -> L1 entry; references are dropped before refcounts are
lowered.  Any interruption therefore leaves at worst leaked clusters.
"""

from __future__ import annotations

import struct
import sys
from array import array
from bisect import bisect_right

from .compress import compress_many, decompress
from .errors import BlockError, ImageCorrupt
from .file import FileExtent, FileProtocol
from .l2scan import run_length, table_runs
from .node import STATUS_ALLOCATED, STATUS_COMPRESSED, STATUS_DATA, STATUS_ZERO, BlockNode
from .qcow2_format import (
    AUTOCLEAR_BITMAPS,
    COMPAT_LAZY_REFCOUNTS,
    INCOMPAT_CORRUPT,
    INCOMPAT_DATA_FILE,
    INCOMPAT_DIRTY,
    L1E_OFFSET_MASK,
    L2E_OFFSET_MASK,
    MAX_L1_BYTES,
    OFLAG_COMPRESSED,
    OFLAG_COPIED,
    OFLAG_ZERO,
    Header,
    compressed_geometry,
)
from .qcow2_refcount import Refcounts
from .qcow2_snapshot import parse_table

_LITTLE = sys.byteorder == "little"

# kinds of guest cluster (the run classifier below)
K_UNALLOC, K_ZERO, K_DATA, K_COMPRESSED = range(4)
_L2_CACHE_MAX = 4096


def _be_array(raw: bytes) -> array:
    a = array("Q")
    a.frombytes(raw)
    if _LITTLE:
        a.byteswap()
    return a


def _to_be(a: array) -> bytes:
    b = array("Q", a)
    if _LITTLE:
        b.byteswap()
    return b.tobytes()


class Qcow2Node(BlockNode):
    """One qcow2 image file (without its backing chain, attached by the opener)."""

    format_name = "qcow2"

    def __init__(self, file: FileProtocol, check_mode: bool = False) -> None:
        super().__init__(file.filename, file.readonly)
        self.file = file
        self.data_file: FileProtocol | None = None
        fsize = file.size()
        head = file.pread(0, 4096)
        if fsize < 72:
            raise ImageCorrupt("Image is not in qcow2 format")
        cbits = struct.unpack_from(">I", head, 20)[0]
        if 9 <= cbits <= 21 and (1 << cbits) > 4096:
            head = file.pread(0, 1 << cbits)
        elif 9 <= cbits <= 21:
            head = head[: 1 << cbits]
        self.hdr = h = Header.parse(head, fsize)
        self.cs = h.cluster_size
        self.cbits = h.cluster_bits
        self.cluster_size = self.cs
        self.l2_bits = self.cbits - 3
        self.l2_entries = 1 << self.l2_bits
        self.size = h.size
        self.v3 = h.version >= 3
        self.coff_mask, self.csize_shift, self.csize_mask = compressed_geometry(self.cbits)
        self.file_size = fsize
        if h.incompatible_features & INCOMPAT_CORRUPT and not self.readonly and not check_mode:
            raise ImageCorrupt("qcow2: Image is corrupt; cannot be opened read/write")
        self._load_l1()
        self.snapshot_table_bytes = 0
        self._check_overlaps()  # fixed tables first, before reading through them
        self.refcounts = Refcounts(file, h, self._header_write)
        self.snapshots, self.snapshot_table_bytes = parse_table(
            file, h.snapshots_offset, h.nb_snapshots, self.cs, fsize)
        self._check_overlaps()
        self.l2_cache: dict[int, array] = {}
        # L2 offset -> (table, run starts, runs): block_status's index (l2scan.table_runs)
        self._runs_cache: dict[int, tuple[array, list[int], list[tuple[int, int, int]]]] = {}
        self._dirty_marked = False
        self._wrote = False
        self.check_mode = check_mode
        self.backing_file = h.backing_file
        self.backing_format = h.backing_format
        if h.incompatible_features & INCOMPAT_DIRTY and not self.readonly and not check_mode:
            from .qcow2_check import check_image  # repair as QEMU does on open
            check_image(self, fix="all", quiet=True)
            self._set_incompat(h.incompatible_features & ~INCOMPAT_DIRTY)

    # -- open-time validation ------------------------------------------------
    def _load_l1(self) -> None:
        h = self.hdr
        if h.l1_size * 8 > MAX_L1_BYTES:
            raise ImageCorrupt("Active L1 table too large")
        need = -(-h.size // (self.cs * self.l2_entries))
        if h.l1_size < need:
            raise ImageCorrupt("L1 table is too small")
        if h.l1_size and (h.l1_table_offset % self.cs or h.l1_table_offset & ~L1E_OFFSET_MASK
                          or h.l1_table_offset + h.l1_size * 8 > self.file_size):
            raise ImageCorrupt("Active L1 table offset invalid")
        raw = self.file.pread(h.l1_table_offset, h.l1_size * 8) if h.l1_size else b""
        self.l1 = list(struct.unpack(f">{h.l1_size}Q", raw))

    def _check_overlaps(self) -> None:
        h = self.hdr
        regions = [("header", 0, self.cs),
                   ("active L1 table", h.l1_table_offset, h.l1_size * 8),
                   ("refcount table", h.refcount_table_offset, h.refcount_table_clusters * self.cs)]
        if h.nb_snapshots and self.snapshot_table_bytes:
            regions.append(("snapshot table", h.snapshots_offset, self.snapshot_table_bytes))
        regions = [(n, o, (o + ln + self.cs - 1) & ~(self.cs - 1)) for n, o, ln in regions if ln]
        for i, (n1, s1, e1) in enumerate(regions):
            for n2, s2, e2 in regions[i + 1:]:
                if s1 < e2 and s2 < e1:
                    raise ImageCorrupt(f"{n1} overlaps {n2}")
        self._meta_regions = regions

    # -- header helpers ------------------------------------------------------------
    def _header_write(self, offset: int, data: bytes) -> None:
        self.file.pwrite(offset, data)

    def _set_incompat(self, value: int) -> None:
        if self.v3:
            self.hdr.incompatible_features = value
            self._header_write(72, struct.pack(">Q", value))

    def _before_write(self) -> None:
        """First modification: dirty bit (lazy refcounts) and stale bitmaps."""
        self._require_writable()
        if self._wrote:
            return
        self._wrote = True
        h = self.hdr
        if self.v3 and h.compatible_features & COMPAT_LAZY_REFCOUNTS and not (
                h.incompatible_features & INCOMPAT_DIRTY):
            self._set_incompat(h.incompatible_features | INCOMPAT_DIRTY)
            self.file.flush()
            self._dirty_marked = True
        if h.autoclear_features & AUTOCLEAR_BITMAPS:
            # pemu does not update persistent bitmaps: mark them inconsistent as
            # the spec requires of programs lacking bitmap support (the
            # extension and its clusters stay intact).
            h.autoclear_features &= ~AUTOCLEAR_BITMAPS
            self._header_write(88, struct.pack(">Q", h.autoclear_features))

    def rewrite_header(self) -> None:
        """Rewrite cluster 0's header, extensions and backing name in one write."""
        data = self.hdr.pack(self.cs)
        self.file.pwrite(0, data + bytes(min(self.cs, 4096 * ((len(data) + 4095) // 4096))
                                         - len(data)))

    # -- table access ---------------------------------------------------------------
    def _valid_meta_offset(self, off: int, what: str) -> None:
        if off % self.cs or off == 0 or off + self.cs > max(self.file_size, self.file.size()):
            raise ImageCorrupt(f"{what} offset {off:#x} is invalid or past the end of the file")

    def l2_table(self, off: int) -> array:
        t = self.l2_cache.get(off)
        if t is None:
            self._valid_meta_offset(off, "L2 table")
            t = _be_array(self.file.pread(off, self.cs))
            if len(self.l2_cache) >= _L2_CACHE_MAX:
                self.l2_cache.pop(next(iter(self.l2_cache)))
            self.l2_cache[off] = t
        return t

    def _write_l1_entry(self, i: int, value: int) -> None:
        self.file.pwrite(self.hdr.l1_table_offset + 8 * i, struct.pack(">Q", value))
        self.l1[i] = value

    def _write_l2_slice(self, off: int, t: array, start: int, end: int) -> None:
        self._runs_cache.pop(off, None)
        self.file.pwrite(off + 8 * start, _to_be(t[start:end]))

    def classify(self, e: int) -> int:
        if e & OFLAG_COMPRESSED:
            return K_COMPRESSED
        if self.v3 and e & OFLAG_ZERO:
            return K_ZERO
        if e & L2E_OFFSET_MASK:
            return K_DATA
        return K_UNALLOC

    def compressed_range(self, e: int) -> tuple[int, int]:
        """Host byte offset and readable length of a compressed descriptor."""
        coff = e & self.coff_mask
        nsec = ((e >> self.csize_shift) & self.csize_mask) + 1
        return coff, nsec * 512 - (coff & 511)

    def compressed_clusters(self, e: int) -> range:
        coff = e & self.coff_mask
        nsec = ((e >> self.csize_shift) & self.csize_mask) + 1
        start = coff & ~511
        return range(start >> self.cbits, (start + nsec * 512 - 1 >> self.cbits) + 1)

    # -- mapping ------------------------------------------------------------------
    def runs(self, offset: int, length: int):
        """Yield ``(kind, guest_offset, nbytes, host_or_entry)`` runs.

        Consecutive clusters of one kind merge (data only when host-contiguous);
        compressed clusters come one at a time with their L2 entry.
        """
        end = offset + length
        pos = offset
        cs, mask = self.cs, self.cs - 1
        cur = None  # [kind, start, n, host]
        while pos < end:
            gc = pos >> self.cbits
            l1i = gc >> self.l2_bits
            l1e = self.l1[l1i] & L1E_OFFSET_MASK if l1i < len(self.l1) else 0
            stop_table = ((l1i + 1) << (self.l2_bits + self.cbits))
            if not l1e:
                n = min(end, stop_table) - pos
                if cur and cur[0] == K_UNALLOC:
                    cur[2] += n
                else:
                    if cur:
                        yield tuple(cur)
                    cur = [K_UNALLOC, pos, n, 0]
                pos += n
                continue
            t = self.l2_table(l1e)
            idx = gc & (self.l2_entries - 1)
            last = ((min(end, stop_table) - 1) >> self.cbits & (self.l2_entries - 1)) + 1
            while pos < end and pos < stop_table:
                e = t[idx]
                inoff = pos & mask
                k = self.classify(e)
                # a whole run of alike entries at once (compressed ones one by one)
                count = 1 if k == K_COMPRESSED else run_length(
                    t, idx, last, cs if k == K_DATA else 0)
                n = min(count * cs - inoff, end - pos)
                if k == K_DATA:
                    host = (e & L2E_OFFSET_MASK) + inoff
                    if cur and cur[0] == K_DATA and cur[3] + cur[2] == host:
                        cur[2] += n
                    else:
                        if cur:
                            yield tuple(cur)
                        cur = [K_DATA, pos, n, host]
                elif k == K_COMPRESSED:
                    if cur:
                        yield tuple(cur)
                    cur = None
                    yield (K_COMPRESSED, pos, n, e)
                else:
                    if cur and cur[0] == k:
                        cur[2] += n
                    else:
                        if cur:
                            yield tuple(cur)
                        cur = [k, pos, n, 0]
                pos += n
                idx += count
        if cur:
            yield tuple(cur)

    # -- reads ---------------------------------------------------------------------
    def read(self, offset: int, length: int) -> bytes:
        self.check_range(offset, length)
        buf = bytearray(length)
        self.read_into(offset, memoryview(buf))
        return bytes(buf)

    def read_into(self, offset: int, mv: memoryview) -> None:
        """Read guest bytes into ``mv`` (which must be zero-filled or fully overwritten)."""
        length = len(mv)
        dfile = self.data_file or self.file
        for kind, pos, n, host in self.runs(offset, length):
            dst = mv[pos - offset: pos - offset + n]
            if kind == K_DATA:
                dfile.pread_into(dst, host)
            elif kind == K_ZERO:
                dst[:] = bytes(n)
            elif kind == K_UNALLOC:
                self._read_backing(pos, dst)
            else:
                data = self._read_compressed(host)
                inoff = pos & (self.cs - 1)
                dst[:] = data[inoff:inoff + n]

    def _read_backing(self, pos: int, dst: memoryview) -> None:
        b = self.backing
        n = len(dst)
        if b is None or pos >= b.size:
            dst[:] = bytes(n)
            return
        m = min(n, b.size - pos)
        if hasattr(b, "read_into"):
            b.read_into(pos, dst[:m])
        else:
            dst[:m] = b.read(pos, m)
        if m < n:
            dst[m:] = bytes(n - m)

    def _read_compressed(self, e: int) -> bytes:
        if self.data_file is not None:
            raise ImageCorrupt("Compressed cluster in an image with an external data file")
        coff, clen = self.compressed_range(e)
        if coff >= self.file.size():
            raise ImageCorrupt(f"Compressed cluster offset {coff:#x} past the end of the file")
        return decompress(self.file.pread(coff, clen), self.hdr.compression_type, self.cs)

    def _read_cluster(self, gc: int) -> bytearray:
        """Current guest content of one cluster (for partial-cluster copy-on-write)."""
        off = gc << self.cbits
        n = min(self.cs, self.size - off)
        buf = bytearray(self.cs)
        if n > 0:
            self.read_into(off, memoryview(buf)[:n])
        return buf

    # -- allocation helpers -----------------------------------------------------
    def l2_for_write(self, l1i: int) -> tuple[int, array]:
        """The L2 table for ``l1i``, allocated or copied so it is writable."""
        if l1i >= len(self.l1):
            raise BlockError("Write beyond the L1 table")
        l1e = self.l1[l1i]
        off = l1e & L1E_OFFSET_MASK
        if off and l1e & OFLAG_COPIED:
            return off, self.l2_table(off)
        new = self.refcounts.alloc(1)                     # 1. refcount
        t = array("Q", self.l2_table(off)) if off else array("Q", bytes(self.cs))
        self.file.pwrite(new, _to_be(t))                   # 2. the table
        self.l2_cache[new] = t
        self._write_l1_entry(l1i, new | OFLAG_COPIED)       # 3. L1 entry
        if off:                                            # 4. old copy released
            self._free_clusters([off >> self.cbits])
        return new, t

    def _free_clusters(self, clusters: list[int]) -> None:
        freed = self.refcounts.update_list(clusters, -1)
        for c in freed:
            self.l2_cache.pop(c << self.cbits, None)
            self._runs_cache.pop(c << self.cbits, None)
        # give the space back to the host when nothing refers to it any more
        for c in freed:
            if self.data_file is None:
                self.file.punch_hole(c << self.cbits, self.cs)

    def _entry_clusters(self, e: int) -> list[int]:
        """Host clusters referenced by an L2 entry (in this file)."""
        k = self.classify(e)
        if k == K_COMPRESSED:
            return list(self.compressed_clusters(e))
        if e & L2E_OFFSET_MASK and self.data_file is None:
            return [(e & L2E_OFFSET_MASK) >> self.cbits]
        return []

    # -- writes --------------------------------------------------------------
    def write(self, offset: int, data: bytes) -> None:
        self.check_range(offset, len(data))
        self._before_write()
        if self.data_file is not None:
            raise BlockError("Writing to images with an external data file is not supported")
        mv = data if isinstance(data, FileExtent) else memoryview(data)
        pos, end = offset, offset + len(data)
        span = 1 << (self.l2_bits + self.cbits)
        while pos < end:
            stop = min(end, (pos // span + 1) * span)
            self._write_in_table(pos, mv[pos - offset: stop - offset])
            pos = stop

    def _write_in_table(self, offset: int, mv: memoryview) -> None:
        cbits = self.cbits
        gc0 = offset >> cbits
        gc1 = (offset + len(mv) - 1) >> cbits
        l2off, t = self.l2_for_write(gc0 >> self.l2_bits)
        base = (gc0 >> self.l2_bits) << self.l2_bits
        gc = gc0
        while gc <= gc1:
            e = t[gc - base]
            inplace = (self.classify(e) == K_DATA and e & OFLAG_COPIED)
            j = gc + 1
            if inplace:
                host0 = e & L2E_OFFSET_MASK
                while j <= gc1:
                    ej = t[j - base]
                    if not (self.classify(ej) == K_DATA and ej & OFLAG_COPIED and
                            ej & L2E_OFFSET_MASK == host0 + ((j - gc) << cbits)):
                        break
                    j += 1
            else:
                while j <= gc1:
                    ej = t[j - base]
                    if self.classify(ej) == K_DATA and ej & OFLAG_COPIED:
                        break
                    j += 1
            s = max(offset, gc << cbits)
            en = min(offset + len(mv), j << cbits)
            chunk = mv[s - offset: en - offset]
            if inplace:
                self.file.pwrite(host0 + (s - (gc << cbits)), chunk)
            else:
                self._alloc_and_write(t, l2off, base, gc, j, s, chunk)
            gc = j

    def _alloc_and_write(self, t: array, l2off: int, base: int, gc: int, j: int,
                         s: int, chunk: memoryview) -> None:
        """Allocate clusters gc..j-1, write ``chunk`` (guest offset ``s``) with COW fill."""
        cs, cbits = self.cs, self.cbits
        n = j - gc
        head = s - (gc << cbits)
        tail = (j << cbits) - (s + len(chunk))
        if head or tail:
            buf = bytearray(n * cs)
            if head:
                buf[:cs] = self._read_cluster(gc)
            if tail:
                buf[(n - 1) * cs:] = self._read_cluster(j - 1)
            buf[head:head + len(chunk)] = chunk.read() if isinstance(chunk, FileExtent) else chunk
            payload: bytes | bytearray | memoryview = buf
        else:
            payload = chunk
        old = [t[g - base] for g in range(gc, j)]
        host = self.refcounts.alloc(n)                 # 1. refcounts (+ new refblocks)
        self.file.pwrite(host, payload)                # 2. data
        for i in range(n):                             # 3. L2 entries
            t[gc - base + i] = (host + (i << cbits)) | OFLAG_COPIED
        self._write_l2_slice(l2off, t, gc - base, j - base)
        stale = [c for e in old for c in self._entry_clusters(e)]
        if stale:                                      # 4. old clusters released
            self._free_clusters(stale)

    def write_compressed(self, offset: int, clusters: list[bytes]) -> None:
        """Write whole clusters compressed (``convert -c``); ``offset`` is cluster aligned.

        Compressed streams are packed back to back in freshly allocated host
        clusters; a host cluster's refcount is the number of streams touching it.
        Clusters that do not shrink are written uncompressed.
        """
        self._before_write()
        cbits = self.cbits
        ctype = self.hdr.compression_type
        blobs = compress_many([bytes(c) for c in clusters], ctype)
        gc0 = offset >> cbits
        # split at L2 boundaries
        i = 0
        while i < len(clusters):
            l1i = (gc0 + i) >> self.l2_bits
            k = min(len(clusters), ((l1i + 1) << self.l2_bits) - gc0)
            self._write_compressed_batch(gc0 + i, clusters[i:k], blobs[i:k])
            i = k

    def _write_compressed_batch(self, gc: int, clusters: list, blobs: list[bytes]) -> None:
        cs, cbits = self.cs, self.cbits
        l2off, t = self.l2_for_write(gc >> self.l2_bits)
        base = (gc >> self.l2_bits) << self.l2_bits
        plain = [i for i, b in enumerate(blobs) if len(b) >= cs - 512]
        packed = [i for i, b in enumerate(blobs) if len(b) < cs - 512]
        old = [t[gc - base + i] for i in range(len(blobs))]
        if plain:
            for i in plain:
                host = self.refcounts.alloc(1)
                self.file.pwrite(host, clusters[i])
                t[gc - base + i] = host | OFLAG_COPIED
        if packed:
            total = sum(len(blobs[i]) for i in packed)
            ncl = -(-total // cs)
            counts = [0] * ncl
            layout = []
            pos = 0
            for i in packed:
                ln = len(blobs[i])
                first, last = pos >> cbits, (pos + ln - 1) >> cbits
                for c in range(first, last + 1):
                    counts[c] += 1
                layout.append((i, pos, ln))
                pos += ln
            host = self.refcounts.alloc_values(counts)
            self.file.pwrite(host, b"".join(blobs[i] for i in packed))
            for i, p, ln in layout:
                coff = host + p
                nsec = ((coff + ln - 1) >> 9) - (coff >> 9)
                t[gc - base + i] = OFLAG_COMPRESSED | (nsec << self.csize_shift) | coff
        self._write_l2_slice(l2off, t, gc - base, gc - base + len(blobs))
        stale = [c for e in old for c in self._entry_clusters(e)]
        if stale:
            self._free_clusters(stale)

    def _zero_clusters(self, offset: int, length: int, mode: str) -> None:
        """Zero or unmap whole clusters: ``mode`` is "zero" (flag) or "unmap" (entry 0)."""
        pos, end = offset, offset + length
        span = 1 << (self.l2_bits + self.cbits)
        while pos < end:
            stop = min(end, (pos // span + 1) * span)
            l1i = pos // span
            gc0, gc1 = pos >> self.cbits, stop >> self.cbits
            if not self.l1[l1i] & L1E_OFFSET_MASK and (mode == "unmap" or self.backing is None):
                pos = stop
                continue
            l2off, t = self.l2_for_write(l1i)
            base = l1i << self.l2_bits
            new = OFLAG_ZERO if mode == "zero" else 0
            old = [t[g - base] for g in range(gc0, gc1)]
            if any(e != new for e in old):
                for g in range(gc0, gc1):
                    t[g - base] = new
                self._write_l2_slice(l2off, t, gc0 - base, gc1 - base)
                stale = [c for e in old for c in self._entry_clusters(e)]
                if stale:
                    self._free_clusters(stale)
            pos = stop

    def write_zeroes(self, offset: int, length: int, unmap: bool = False) -> None:
        self.check_range(offset, length)
        self._before_write()
        cs = self.cs
        a = -(-offset // cs) * cs
        b = (offset + length) // cs * cs
        if (offset + length) == self.size:
            b = -(-self.size // cs) * cs
        if b <= a or (not self.v3 and self.backing is not None):
            self._write_zero_bytes(offset, length)
            return
        if a > offset:
            self._write_zero_bytes(offset, a - offset)
        self._zero_clusters(a, b - a, "zero" if self.v3 else "unmap")
        if b < offset + length:
            self._write_zero_bytes(b, offset + length - b)

    def _write_zero_bytes(self, offset: int, length: int) -> None:
        step = 1 << 22
        for p in range(offset, offset + length, step):
            self.write(p, bytes(min(step, offset + length - p)))

    def discard(self, offset: int, length: int) -> None:
        self.check_range(offset, length)
        self._before_write()
        cs = self.cs
        a = -(-offset // cs) * cs
        b = (offset + length) // cs * cs
        if offset + length == self.size:
            b = -(-self.size // cs) * cs
        if b <= a:
            return
        if self.backing is not None:
            if self.v3:
                self._zero_clusters(a, b - a, "zero")
            return
        self._zero_clusters(a, b - a, "unmap")

    def discard_all(self) -> None:
        """Make the image empty (``commit`` without ``-d``): every cluster unallocated."""
        self._before_write()
        end = -(-self.size // self.cs) * self.cs
        if end:
            self._zero_clusters(0, end, "unmap")

    # -- status -----------------------------------------------------------------
    def _table_runs(self, off: int, t: array) -> tuple[list[int], list[tuple[int, int, int]]]:
        """The runs of a whole L2 table, kept until the table is written."""
        got = self._runs_cache.get(off)
        if got is None or got[0] is not t:
            got = (t, *table_runs(t, self.classify, self.cs, K_DATA, K_COMPRESSED))
            if len(self._runs_cache) >= _L2_CACHE_MAX:
                self._runs_cache.pop(next(iter(self._runs_cache)))
            self._runs_cache[off] = got
        return got[1], got[2]

    def block_status(self, offset: int, length: int) -> tuple[int, int, int | None]:
        """The first run from ``offset``: a lookup in the table's run index, so a
        caller walking an image in runs pays per run, not per cluster."""
        end, pos = offset + length, offset
        cbits, mask = self.cbits, self.cs - 1
        span_bits = self.l2_bits + cbits
        first_kind, first_host, total = None, None, 0
        while pos < end:
            l1i = pos >> span_bits
            l1e = self.l1[l1i] & L1E_OFFSET_MASK if l1i < len(self.l1) else 0
            table_end = (l1i + 1) << span_bits
            if not l1e:
                kind, host, run_end = K_UNALLOC, None, table_end
            else:
                t = self.l2_table(l1e)
                starts, runs = self._table_runs(l1e, t)
                idx = (pos >> cbits) & (self.l2_entries - 1)
                j = bisect_right(starts, idx) - 1
                kind, count, _ = runs[j]
                run_end = (l1i << span_bits) + ((starts[j] + count) << cbits)
                host = (t[idx] & L2E_OFFSET_MASK) + (pos & mask) if kind == K_DATA else None
            n = min(run_end, end) - pos
            if first_kind is None:
                first_kind, first_host, total = kind, host, n
            elif kind != first_kind or kind == K_COMPRESSED or (
                    kind == K_DATA and first_host + total != host):
                break
            else:
                total += n
            pos += n
            if kind == K_COMPRESSED:
                break
        if first_kind == K_DATA:
            return STATUS_DATA | STATUS_ALLOCATED, total, first_host
        if first_kind == K_ZERO:
            return STATUS_ZERO | STATUS_ALLOCATED, total, None
        if first_kind == K_COMPRESSED:
            return STATUS_DATA | STATUS_ALLOCATED | STATUS_COMPRESSED, total, None
        return 0, total or length, None

    def allocated_size(self) -> int:
        return self.file.allocated_size()

    # -- resize -----------------------------------------------------------------
    def truncate(self, size: int, shrink: bool = False) -> None:
        self._require_writable()
        if size % 512:
            raise BlockError("The new size must be a multiple of 512")
        if size < self.size:
            if not shrink:
                raise BlockError("Use the --shrink option to perform a shrink operation.")
            if self.snapshots:
                raise BlockError("Can't shrink an image which has snapshots")
            a = -(-size // self.cs) * self.cs
            end = -(-self.size // self.cs) * self.cs
            if a < end:
                self._zero_clusters(a, end - a, "unmap")
            if size % self.cs:
                self.size, old = -(-size // self.cs) * self.cs, self.size
                self.write_zeroes(size, self.size - size)
                self.size = old
        else:
            self._grow_l1(-(-size // (self.cs * self.l2_entries)))
        self._header_write(24, struct.pack(">Q", size))
        self.hdr.size = self.size = size

    def _grow_l1(self, need: int) -> None:
        if need <= len(self.l1):
            return
        if need * 8 > MAX_L1_BYTES:
            raise BlockError("Image size too large: L1 table would exceed limit")
        new_l1 = self.l1 + [0] * (need - len(self.l1))
        ncl = -(-need * 8 // self.cs)
        off = self.refcounts.alloc(ncl)                        # 1. refcounts
        raw = struct.pack(f">{need}Q", *new_l1)
        self.file.pwrite(off, raw + bytes(ncl * self.cs - len(raw)))   # 2. table
        old_off, old_size = self.hdr.l1_table_offset, self.hdr.l1_size
        self._header_write(36, struct.pack(">IQ", need, off))  # 3. header switch
        self.hdr.l1_table_offset, self.hdr.l1_size = off, need
        self.l1 = new_l1
        if old_size:                                            # 4. old table freed
            ocl = -(-old_size * 8 // self.cs)
            self._free_clusters(list(range(old_off >> self.cbits, (old_off >> self.cbits) + ocl)))

    # -- life cycle -------------------------------------------------------------
    def flush(self) -> None:
        self.file.flush()

    def close(self) -> None:
        if self.file.closed:
            return
        try:
            if self._dirty_marked:
                self.file.flush()
                self._set_incompat(self.hdr.incompatible_features & ~INCOMPAT_DIRTY)
        finally:
            self.file.close()
            if self.data_file is not None:
                self.data_file.close()
            super().close()

    @property
    def has_data_file(self) -> bool:
        return bool(self.hdr.incompatible_features & INCOMPAT_DATA_FILE)
