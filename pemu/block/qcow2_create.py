"""Creating qcow2 images (QEMU's layout: header, refcount table, refcount
blocks, L1 table), and preallocation.

Spec "Header" and "Host cluster management": cluster 0 holds the header; the
refcount table and blocks describe every metadata cluster created here.
"""

from __future__ import annotations

import struct
from array import array

from .errors import BlockError
from .file import FileProtocol
from .qcow2_format import (
    COMPAT_LAZY_REFCOUNTS,
    COMPRESSION_NAMES,
    INCOMPAT_COMPRESSION,
    Header,
)
from .qcow2_refcount import _encode


def create_qcow2(filename: str, size: int, *, cluster_size: int = 65536,
                 compat: str = "1.1", lazy_refcounts: bool = False,
                 refcount_bits: int = 16, compression_type: str = "zlib",
                 backing_file: str | None = None, backing_fmt: str | None = None,
                 preallocation: str = "off") -> None:
    """Create a qcow2 image; raises :class:`BlockError` with QEMU's wording."""
    if cluster_size < 512 or cluster_size > (2 << 20) or cluster_size & (cluster_size - 1):
        raise BlockError("Cluster size must be a power of two between 512 and 2048k")
    if compat in ("0.10", "v2"):
        version = 2
    elif compat in ("1.1", "v3"):
        version = 3
    else:
        raise BlockError(f"Invalid compatibility level: '{compat}'")
    if refcount_bits not in (1, 2, 4, 8, 16, 32, 64):
        raise BlockError("Refcount width must be a power of two and may not exceed 64 bits")
    if version == 2 and refcount_bits != 16:
        raise BlockError("Different refcount widths than 16 bits require compatibility "
                         "level 1.1 or above (use compat=1.1 or greater)")
    if version == 2 and lazy_refcounts:
        raise BlockError("Lazy refcounts only supported with compatibility level 1.1 and "
                         "above (use compat=1.1 or greater)")
    ctypes = {v: k for k, v in COMPRESSION_NAMES.items()}
    if compression_type not in ctypes:
        raise BlockError(f"Parameter 'compression_type' does not accept value "
                         f"'{compression_type}'")
    ctype = ctypes[compression_type]
    if version == 2 and ctype:
        raise BlockError("Compression type selection is only supported with compatibility "
                         "level 1.1 and above (use compat=1.1 or greater)")
    if preallocation not in ("off", "metadata", "falloc", "full"):
        raise BlockError(f"Parameter 'preallocation' does not accept value '{preallocation}'")
    if size < 0 or size % 512 and False:
        raise BlockError("Image size must be non-negative")
    cbits = cluster_size.bit_length() - 1
    cs = cluster_size
    l2_entries = cs // 8
    l1_size = -(-size // (cs * l2_entries))
    if l1_size * 8 > (32 << 20):
        raise BlockError("Image size too large")
    order = refcount_bits.bit_length() - 1
    rpb = cs * 8 // refcount_bits
    l1_clusters = max(1, -(-l1_size * 8 // cs))
    t, b = 1, 1
    while True:
        meta = 1 + t + b + l1_clusters
        nb = -(-meta // rpb)
        nt = -(-nb * 8 // cs)
        if (nb, nt) == (b, t):
            break
        b, t = nb, nt
    h = Header(version=version, cluster_bits=cbits, size=size, l1_size=l1_size,
               l1_table_offset=(1 + t + b) * cs, refcount_table_offset=cs,
               refcount_table_clusters=t, refcount_order=order if version == 3 else 4,
               compression_type=ctype, backing_file=backing_file,
               backing_format=backing_fmt if backing_file else None)
    if lazy_refcounts:
        h.compatible_features |= COMPAT_LAZY_REFCOUNTS
    if ctype:
        h.incompatible_features |= INCOMPAT_COMPRESSION
    head = h.pack(cs)
    f = FileProtocol(filename, readonly=False, create=True)
    try:
        # refcount blocks first, then the table, then the header (order matters
        # only for readers racing us; the file is new)
        table = [(1 + t + i) * cs for i in range(b)]
        table += [0] * (t * cs // 8 - len(table))
        for i in range(b):
            blk = array("B", bytes(rpb)) if refcount_bits <= 8 else array(
                {16: "H", 32: "I", 64: "Q"}[refcount_bits], [0] * rpb)
            for k in range(min(rpb, meta - i * rpb)):
                blk[k] = 1
            f.pwrite((1 + t + i) * cs, _encode(blk, refcount_bits))
        f.pwrite(cs, struct.pack(f">{len(table)}Q", *table))
        f.pwrite(0, head + bytes(cs - len(head)))
        f.truncate((meta) * cs)
    finally:
        f.close()
    if preallocation != "off" and size:
        _preallocate(filename, preallocation)


def _preallocate(filename: str, mode: str) -> None:
    from .qcow2 import Qcow2Node
    from .qcow2_format import OFLAG_COPIED

    node = Qcow2Node(FileProtocol(filename, readonly=False))
    try:
        cs = node.cs
        total = -(-node.size // cs)
        for l1i in range(len(node.l1)):
            l2off, t = node.l2_for_write(l1i)
            n = min(node.l2_entries, total - (l1i << node.l2_bits))
            host = node.refcounts.alloc(n)
            end = host + n * cs
            if mode == "full":
                chunk = bytes(1 << 20)
                for p in range(host, end, len(chunk)):
                    node.file.pwrite(p, chunk[: min(len(chunk), end - p)])
            elif mode == "falloc":
                node.file.allocate(host, end - host)
            elif node.file.size() < end:
                node.file.truncate(end)
            for i in range(n):
                t[i] = (host + i * cs) | OFLAG_COPIED
            node._write_l2_slice(l2off, t, 0, n)
    finally:
        node.close()
