"""Internal snapshot operations on an open qcow2 node (spec "Snapshots").

A snapshot is a copy of the active L1 table; creating one raises the
refcount of every L2 table and data cluster reachable from it, so the active
image copies clusters on write (the "copied" flag, bit 63, marks entries
whose refcount is exactly 1).  Order: new L1 copy written -> refcounts raised
-> copied flags cleared -> snapshot table written -> header switched -> old
table freed.  Deleting reverses it: table first, refcounts after.
"""

from __future__ import annotations

import struct
import time

from .errors import BlockError
from .qcow2 import Qcow2Node
from .qcow2_format import L1E_OFFSET_MASK, L2E_OFFSET_MASK, OFLAG_COPIED
from .qcow2_snapshot import Snapshot, pack_table


def find_snapshot(node: Qcow2Node, name: str) -> Snapshot | None:
    """Look a snapshot up by ID first, then by name (as QEMU does)."""
    for sn in node.snapshots:
        if sn.id_str == name:
            return sn
    for sn in node.snapshots:
        if sn.name == name:
            return sn
    return None


def parse_snapshot_param(text: str) -> tuple[str | None, str | None]:
    """convert -l: `snapshot.id=ID[,snapshot.name=NAME]`, `snapshot.name=NAME`, or
    a bare ID-or-name -> (id, name); (x, x) means "ID, else name"."""
    if not text.startswith("snapshot."):
        return text, text
    sid = name = None
    for item in text.split(","):
        key, _, value = item.partition("=")
        if key == "snapshot.id":
            sid = value
        elif key == "snapshot.name":
            name = value
        else:
            raise BlockError(f"Failed in parsing snapshot param '{text}'")
    return sid, name


def view_snapshot(node: Qcow2Node, sid: str | None, name: str | None) -> None:
    """Make a read-only node show a snapshot's disk instead of the active one
    (qemu-img convert -l): its L1 table and size; nothing is written."""
    if not node.readonly:
        raise BlockError("a snapshot can only be viewed read-only")
    sn = None
    if sid is not None and sid == name:  # a bare word: the ID first, then the name
        sn = find_snapshot(node, sid)
    else:
        for cand in node.snapshots:
            if (sid is None or cand.id_str == sid) and (name is None or cand.name == name):
                sn = cand
                break
    if sn is None:
        raise BlockError("Failed to load snapshot: Can't find snapshot")
    l1 = _read_l1(node, sn)
    size = sn.disk_size or node.size
    need = -(-size // (node.cs * node.l2_entries))
    node.l1 = l1 + [0] * max(0, need - len(l1))
    node.size = size
    node.l2_cache.clear()
    node._runs_cache.clear()


def _tree_clusters(node: Qcow2Node, l1: list[int]) -> tuple[list[int], list[int]]:
    """(L2 table clusters, data clusters) reachable from an L1 table."""
    l2s, data = [], []
    for e in l1:
        off = e & L1E_OFFSET_MASK
        if not off:
            continue
        l2s.append(off >> node.cbits)
        for le in node.l2_table(off):
            if le:
                data.extend(node._entry_clusters(le))
    return l2s, data


def _read_l1(node: Qcow2Node, sn: Snapshot) -> list[int]:
    if not sn.l1_size:
        return []
    raw = node.file.pread(sn.l1_table_offset, sn.l1_size * 8)
    return list(struct.unpack(f">{sn.l1_size}Q", raw))


def update_copied_flags(node: Qcow2Node) -> None:
    """Set bit 63 on active L1/L2 entries exactly where the refcount is 1."""
    rc = node.refcounts
    for i, e in enumerate(node.l1):
        off = e & L1E_OFFSET_MASK
        if not off:
            continue
        t = node.l2_table(off)
        changed = False
        for j, le in enumerate(t):
            if not le or node.classify(le) != 2:  # only standard data entries
                continue
            want = rc.get((le & L2E_OFFSET_MASK) >> node.cbits) == 1
            if bool(le & OFLAG_COPIED) != want:
                t[j] = le | OFLAG_COPIED if want else le & ~OFLAG_COPIED
                changed = True
        if changed:
            node._write_l2_slice(off, t, 0, len(t))
        want = rc.get(off >> node.cbits) == 1
        if bool(e & OFLAG_COPIED) != want:
            node._write_l1_entry(i, e | OFLAG_COPIED if want else e & ~OFLAG_COPIED)


def _write_table(node: Qcow2Node, snaps: list[Snapshot]) -> None:
    """Write a new snapshot table, switch the header to it, free the old one."""
    data = pack_table(snaps)
    h = node.hdr
    off = 0
    if snaps:
        ncl = -(-len(data) // node.cs)
        off = node.refcounts.alloc(ncl)
        node.file.pwrite(off, data)
    old_off, old_len = h.snapshots_offset, node.snapshot_table_bytes
    node._header_write(60, struct.pack(">IQ", len(snaps), off))
    h.nb_snapshots, h.snapshots_offset = len(snaps), off
    node.snapshots, node.snapshot_table_bytes = snaps, len(data)
    if old_len and old_off:
        first = old_off >> node.cbits
        node._free_clusters(list(range(first, first + -(-old_len // node.cs))))


def create_snapshot(node: Qcow2Node, name: str, vm_state_size: int = 0,
                    vm_clock_nsec: int = 0, icount: int = -1) -> Snapshot:
    """``qemu-img snapshot -c``: snapshot the active disk state."""
    node._before_write()
    ids = [int(s.id_str) for s in node.snapshots if s.id_str.isdigit()]
    sid = str(max(ids, default=0) + 1)
    l1 = list(node.l1)
    ncl = max(1, -(-len(l1) * 8 // node.cs))
    l1off = node.refcounts.alloc(ncl)
    raw = struct.pack(f">{len(l1)}Q", *[e & ~OFLAG_COPIED for e in l1])
    node.file.pwrite(l1off, raw)                                # 1. L1 copy
    l2s, data = _tree_clusters(node, l1)
    node.refcounts.update_list(data, +1)                        # 2. refcounts
    node.refcounts.update_list(l2s, +1)
    update_copied_flags(node)                                   # 3. copied flags
    now = time.time_ns()
    sn = Snapshot(l1off, len(l1), sid, name, now // 10**9, now % 10**9, vm_clock_nsec,
                  vm_state_size, node.size, icount)
    _write_table(node, node.snapshots + [sn])                   # 4. table + header
    return sn


def delete_snapshot(node: Qcow2Node, name: str) -> None:
    """``qemu-img snapshot -d``."""
    sn = find_snapshot(node, name)
    if sn is None:
        raise BlockError(f"Could not delete snapshot '{name}': snapshot not found")
    node._before_write()
    l1 = _read_l1(node, sn)
    _write_table(node, [s for s in node.snapshots if s is not sn])   # 1. unlink
    l2s, data = _tree_clusters(node, l1)
    node._free_clusters(data)                                   # 2. refcounts
    node._free_clusters(l2s)
    first = sn.l1_table_offset >> node.cbits
    node._free_clusters(list(range(first, first + max(1, -(-sn.l1_size * 8 // node.cs)))))
    update_copied_flags(node)


def apply_snapshot(node: Qcow2Node, name: str) -> None:
    """``qemu-img snapshot -a``: make the active disk equal to the snapshot."""
    sn = find_snapshot(node, name)
    if sn is None:
        raise BlockError(f"Could not apply snapshot '{name}': snapshot not found")
    node._before_write()
    new_l1 = _read_l1(node, sn)
    node._grow_l1(len(new_l1))
    new_l1 = [e & ~OFLAG_COPIED for e in new_l1] + [0] * (len(node.l1) - len(new_l1))
    l2s, data = _tree_clusters(node, new_l1)
    node.refcounts.update_list(data, +1)                        # 1. raise new refs
    node.refcounts.update_list(l2s, +1)
    old_l1 = list(node.l1)
    raw = struct.pack(f">{len(new_l1)}Q", *new_l1)
    node.file.pwrite(node.hdr.l1_table_offset, raw)             # 2. switch L1
    node.l1 = new_l1
    old_l2s, old_data = _tree_clusters(node, old_l1)
    node._free_clusters(old_data)                               # 3. drop old refs
    node._free_clusters(old_l2s)
    if sn.disk_size and sn.disk_size != node.size:
        node._header_write(24, struct.pack(">Q", sn.disk_size))
        node.size = node.hdr.size = sn.disk_size
    update_copied_flags(node)
