"""qcow2 internal snapshot table (spec "Snapshots").

Each entry: u64 L1 table offset, u32 L1 size, u16 id length, u16 name length,
u32 date seconds, u32 date nanoseconds, u64 VM clock nanoseconds, u32 VM state
size, u32 extra data size, extra data, id string, name, padding to 8 bytes.
Extra data (version 3 requires at least 16 bytes): u64 VM state size (large),
u64 virtual disk size, u64 icount (QEMU 5.2+, -1 if unused).  Unknown extra
bytes are preserved.  The VM state itself (for savevm) lives in the image's
"vmstate area" after the virtual disk end; ``vm_state_size`` records it.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from .errors import ImageCorrupt
from .file import FileProtocol
from .qcow2_format import L1E_OFFSET_MASK, MAX_L1_BYTES, MAX_SNAPSHOTS

_ENTRY = struct.Struct(">QIHHIIQII")
MAX_SNAPSHOT_TABLE_BYTES = 64 << 20
MAX_EXTRA = 1024


@dataclass
class Snapshot:
    l1_table_offset: int
    l1_size: int
    id_str: str
    name: str
    date_sec: int = 0
    date_nsec: int = 0
    vm_clock_nsec: int = 0
    vm_state_size: int = 0
    disk_size: int = 0
    icount: int = -1
    extra_tail: bytes = b""  # extra data beyond the fields above, kept verbatim

    def pack(self) -> bytes:
        extra = struct.pack(">QQq", self.vm_state_size, self.disk_size, self.icount)
        extra += self.extra_tail
        idb, nameb = self.id_str.encode(), self.name.encode()
        out = _ENTRY.pack(self.l1_table_offset, self.l1_size, len(idb), len(nameb),
                          self.date_sec, self.date_nsec, self.vm_clock_nsec,
                          min(self.vm_state_size, 0xFFFFFFFF), len(extra))
        out += extra + idb + nameb
        return out + bytes((-len(out)) % 8)


def parse_table(f: FileProtocol, offset: int, count: int, cluster_size: int,
                file_size: int) -> tuple[list[Snapshot], int]:
    """Read ``count`` entries at ``offset``; returns (snapshots, table bytes)."""
    if count == 0:
        return [], 0
    if count > MAX_SNAPSHOTS:
        raise ImageCorrupt("Snapshot table too large")
    if offset % cluster_size or offset >= file_size:
        raise ImageCorrupt("Snapshot table offset invalid")
    # Read incrementally, bounded by the file size and a global cap.
    limit = min(file_size - offset, MAX_SNAPSHOT_TABLE_BYTES)
    buf = f.pread(offset, min(limit, max(4096, count * 64)))
    snaps: list[Snapshot] = []
    pos = 0
    for _ in range(count):
        need = pos + _ENTRY.size
        buf = _ensure(f, offset, buf, need, limit)
        (l1off, l1size, idlen, namelen, dsec, dnsec, vmclock, vmsize,
         extra_size) = _ENTRY.unpack_from(buf, pos)
        if extra_size > MAX_EXTRA:
            raise ImageCorrupt("Too much extra metadata in snapshot table entry")
        pos += _ENTRY.size
        buf = _ensure(f, offset, buf, pos + extra_size + idlen + namelen, limit)
        extra = buf[pos:pos + extra_size]
        pos += extra_size
        sn = Snapshot(l1off, l1size, buf[pos:pos + idlen].decode("utf-8", "replace"),
                      buf[pos + idlen:pos + idlen + namelen].decode("utf-8", "replace"),
                      dsec, dnsec, vmclock, vmsize)
        pos += idlen + namelen
        pos = (pos + 7) & ~7
        if len(extra) >= 8:
            sn.vm_state_size = struct.unpack_from(">Q", extra, 0)[0]
        if len(extra) >= 16:
            sn.disk_size = struct.unpack_from(">Q", extra, 8)[0]
        if len(extra) >= 24:
            sn.icount = struct.unpack_from(">q", extra, 16)[0]
        sn.extra_tail = bytes(extra[24:])
        if sn.l1_size * 8 > MAX_L1_BYTES:
            raise ImageCorrupt(f"Snapshot L1 table too large ({sn.l1_size} entries)")
        if sn.l1_table_offset & ~L1E_OFFSET_MASK or sn.l1_table_offset % cluster_size or (
                sn.l1_size and sn.l1_table_offset + sn.l1_size * 8 > file_size):
            raise ImageCorrupt("Snapshot L1 table offset invalid")
        snaps.append(sn)
    return snaps, pos


def _ensure(f: FileProtocol, offset: int, buf: bytes, need: int, limit: int) -> bytes:
    if need > limit:
        raise ImageCorrupt("Snapshot table exceeds the image file")
    if need > len(buf):
        buf = f.pread(offset, min(limit, max(need, 2 * len(buf))))
    return buf


def pack_table(snaps: list[Snapshot]) -> bytes:
    return b"".join(s.pack() for s in snaps)
