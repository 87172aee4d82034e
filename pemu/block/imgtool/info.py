"""``pemu-img info``: ImageInfo as QEMU's QAPI lays it out, and its human form."""

from __future__ import annotations

import time
from typing import Any

from ..node import BlockNode
from ..open import resolve_backing
from ..qcow2_format import (
    COMPAT_LAZY_REFCOUNTS,
    COMPRESSION_NAMES,
    INCOMPAT_CORRUPT,
    INCOMPAT_DIRTY,
)
from .units import size_to_str


def snapshot_info(sn: Any) -> dict[str, Any]:
    d = {"id": sn.id_str, "name": sn.name, "vm-state-size": sn.vm_state_size,
         "date-sec": sn.date_sec, "date-nsec": sn.date_nsec,
         "vm-clock-sec": sn.vm_clock_nsec // 10**9, "vm-clock-nsec": sn.vm_clock_nsec % 10**9}
    if sn.icount != -1:
        d["icount"] = sn.icount
    return d


def image_info(node: BlockNode) -> dict[str, Any]:
    """ImageInfo fields in QAPI schema order (qjson reorders like QEMU)."""
    d: dict[str, Any] = {"filename": node.filename, "format": node.format_name}
    hdr = getattr(node, "hdr", None)
    d["dirty-flag"] = bool(hdr and hdr.incompatible_features & INCOMPAT_DIRTY)
    d["actual-size"] = node.allocated_size()
    d["virtual-size"] = node.size
    if hdr is not None:
        d["cluster-size"] = node.cluster_size
        if hdr.backing_file:
            d["backing-filename"] = hdr.backing_file
            d["full-backing-filename"] = resolve_backing(node.filename, hdr.backing_file)
            if hdr.backing_format:
                d["backing-filename-format"] = hdr.backing_format
        if node.snapshots:  # type: ignore[attr-defined]
            d["snapshots"] = [snapshot_info(s) for s in node.snapshots]  # type: ignore
        data: dict[str, Any] = {"compat": "1.1" if hdr.version >= 3 else "0.10"}
        if hdr.data_file:
            data["data-file"] = hdr.data_file
            data["data-file-raw"] = bool(hdr.autoclear_features & 2)
        if hdr.version >= 3:
            data["extended-l2"] = False
            data["lazy-refcounts"] = bool(hdr.compatible_features & COMPAT_LAZY_REFCOUNTS)
            data["corrupt"] = bool(hdr.incompatible_features & INCOMPAT_CORRUPT)
        data["refcount-bits"] = hdr.refcount_bits
        data["compression-type"] = COMPRESSION_NAMES[hdr.compression_type]
        d["format-specific"] = {"type": "qcow2", "data": data}
    return d


def snapshot_header() -> str:
    return f"{'ID':<10}{'TAG':<17}{'VM SIZE':>8}{'DATE':>20}{'VM CLOCK':>13}{'ICOUNT':>11}"


def snapshot_line(s: dict[str, Any]) -> str:
    date = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(s["date-sec"]))
    secs = s["vm-clock-sec"]
    clock = (f"{secs // 3600:02d}:{(secs // 60) % 60:02d}:{secs % 60:02d}."
             f"{s['vm-clock-nsec'] // 1000000 % 1000:03d}")
    icount = str(s["icount"]) if "icount" in s else ""
    return (f"{s['id']:<9} {s['name']:<16} {size_to_str(s['vm-state-size']):>8}"
            f"{date:>20}{clock:>13}{icount:>11}")


def human_info(d: dict[str, Any]) -> str:
    from .qjson import qdict_order

    out = [f"image: {d['filename']}", f"file format: {d['format']}",
           f"virtual size: {size_to_str(d['virtual-size'])} ({d['virtual-size']} bytes)",
           f"disk size: {size_to_str(d['actual-size'])}"]
    if "cluster-size" in d:
        out.append(f"cluster_size: {d['cluster-size']}")
    if d.get("dirty-flag"):
        out.append("cleanly shut down: no")
    if "backing-filename" in d:
        line = f"backing file: {d['backing-filename']}"
        if d["full-backing-filename"] != d["backing-filename"]:
            line += f" (actual path: {d['full-backing-filename']})"
        out.append(line)
        if "backing-filename-format" in d:
            out.append(f"backing file format: {d['backing-filename-format']}")
    if "snapshots" in d:
        out.append("Snapshot list:")
        out.append(snapshot_header())
        out += [snapshot_line(s) for s in d["snapshots"]]
    if "format-specific" in d:
        out.append("Format specific information:")
        data = d["format-specific"]["data"]
        for k in qdict_order(data):
            v = data[k]
            v = ("true" if v else "false") if isinstance(v, bool) else v
            out.append(f"    {k.replace('-', ' ')}: {v}")
    return "\n".join(out) + "\n"
