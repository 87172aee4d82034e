"""``pemu-img amend`` for qcow2: compat level, lazy refcounts, size.

Downgrading to version 2 (compat=0.10) turns zero clusters (a v3-only
feature, spec "Cluster mapping" bit 0) into unallocated clusters when no
backing file could show through, and into allocated zeros otherwise.
"""

from __future__ import annotations

import struct

from .errors import BlockError
from .qcow2 import K_ZERO, Qcow2Node
from .qcow2_format import COMPAT_LAZY_REFCOUNTS, INCOMPAT_DIRTY, L1E_OFFSET_MASK


def amend(node: Qcow2Node, o: dict[str, str]) -> None:
    h = node.hdr
    for key in o:
        if key not in ("compat", "lazy_refcounts", "size", "cluster_size", "refcount_bits",
                       "compression_type", "backing_file", "backing_fmt", "preallocation"):
            raise BlockError(f"Invalid parameter '{key}'")
    if "cluster_size" in o and int(o["cluster_size"]) != node.cs:
        raise BlockError("Changing the cluster size is not supported")
    if "refcount_bits" in o and int(o["refcount_bits"]) != h.refcount_bits:
        raise BlockError("Changing the refcount width is not supported by pemu")
    if "compression_type" in o and o["compression_type"] != (
            "zstd" if h.compression_type else "zlib"):
        raise BlockError("Changing the compression type is not supported")
    lazy = o.get("lazy_refcounts")
    compat = o.get("compat")
    node._before_write()
    if compat in ("1.1", "v3") and h.version == 2:
        h.version = 3
        node.v3 = True
        node.rewrite_header()
    if lazy is not None:
        on = lazy in ("on", "true", "yes")
        if on and h.version == 2 and compat not in ("1.1", "v3"):
            raise BlockError("Lazy refcounts only supported with compatibility level 1.1 "
                             "and above (use compat=1.1 or greater)")
        if on:
            h.compatible_features |= COMPAT_LAZY_REFCOUNTS
        else:
            h.compatible_features &= ~COMPAT_LAZY_REFCOUNTS
        if h.version >= 3:
            node._header_write(80, struct.pack(">Q", h.compatible_features))
    if compat in ("0.10", "v2") and h.version == 3:
        if h.refcount_bits != 16:
            raise BlockError("Cannot downgrade an image with a refcount_bits value other "
                             "than 16")
        if h.compression_type:
            raise BlockError("Cannot downgrade an image with compression type other than zlib")
        if h.compatible_features & COMPAT_LAZY_REFCOUNTS and lazy is None:
            h.compatible_features &= ~COMPAT_LAZY_REFCOUNTS
        _expand_zero_clusters(node)
        node.flush()
        h.incompatible_features &= ~INCOMPAT_DIRTY
        node._dirty_marked = False
        h.version = 2
        h.compatible_features = h.autoclear_features = 0
        node.rewrite_header()
        node.v3 = False
    elif compat is not None and compat not in ("0.10", "v2", "1.1", "v3"):
        raise BlockError(f"Invalid compatibility level: '{compat}'")
    if "size" in o:
        node.truncate(int(o["size"]), shrink=True)


def _expand_zero_clusters(node: Qcow2Node) -> None:
    for l1i, e in enumerate(node.l1):
        if not e & L1E_OFFSET_MASK:
            continue
        t = node.l2_table(e & L1E_OFFSET_MASK)
        for j, le in enumerate(t):
            if node.classify(le) != K_ZERO:
                continue
            off = ((l1i << node.l2_bits) + j) << node.cbits
            n = min(node.cs, node.size - off)
            if n <= 0:
                continue
            if node.backing is None and not node.hdr.backing_file:
                node._zero_clusters(off, node.cs, "unmap")
            else:
                node.write(off, bytes(n))
